// LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning:
// Training BERT in 76 minutes", Algorithm 2), per parameter tensor:
//   g   <- maximize ? -g : g                 (folded into the gradient factor)
//   m   <- lerp(m, g, 1 - beta1)
//   v   <- beta2 v + (1 - beta2) g^2
//   u   = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps) + wd p
//         with bc1 = 1 - beta1^t, bc2 = 1 - beta2^t, or both 1 without bias correction
//   ratio = ||p|| / ||u||, or 1 when either norm is 0  (L2 norms over the whole tensor)
//   p   <- p - lr ratio u
// The ratio needs both norms before any element of p changes, so a step
// takes two passes: the first updates m and v and sums p^2 and u^2, the
// second recomputes u from m, v and p and writes p.
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

struct LambHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-6;
  double weight_decay = 0.0;
  bool bias_correction = true;
};

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct LambCoef {
  T one_minus_beta1;
  T beta2;
  T one_minus_beta2;
  T inv_bc1;       // 1 / (1 - beta1^t), or 1
  T inv_bc2_sqrt;  // 1 / sqrt(1 - beta2^t), or 1
  T eps;
  T weight_decay;
};

template <typename T>
FASTOPT_HD LambCoef<T> lamb_coef(const LambHyper& h, std::int64_t step) {
  const double t = static_cast<double>(step);
  LambCoef<T> c;
  c.one_minus_beta1 = T(1.0 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1.0 - h.beta2);
  c.inv_bc1 = h.bias_correction ? T(1.0 / (1.0 - std::pow(h.beta1, t))) : T(1);
  c.inv_bc2_sqrt = h.bias_correction ? T(1.0 / std::sqrt(1.0 - std::pow(h.beta2, t))) : T(1);
  c.eps = T(h.eps);
  c.weight_decay = T(h.weight_decay);
  return c;
}

// The trust ratio from the sums of squares of p and u.
FASTOPT_HD double lamb_trust_ratio(double p_sumsq, double u_sumsq) {
  if (p_sumsq == 0.0 || u_sumsq == 0.0) return 1.0;
  return std::sqrt(p_sumsq) / std::sqrt(u_sumsq);
}

template <typename T>
FASTOPT_HD void lamb_moments(T g, T& m, T& v, const LambCoef<T>& c) {
  m = lerp(m, g, c.one_minus_beta1);
  v = c.beta2 * v + c.one_minus_beta2 * (g * g);
}

// The update direction u of one element from the updated moments. Both passes
// call this same function, so they compute bit-identical u. The bias
// corrections multiply by reciprocals, so each pass does one division per
// element instead of three.
template <typename T, bool Decayed>
FASTOPT_HD T lamb_direction(T p, T m, T v, const LambCoef<T>& c) {
  T u = (m * c.inv_bc1) / (sqrt_(v) * c.inv_bc2_sqrt + c.eps);
  if constexpr (Decayed) u = u + c.weight_decay * p;
  return u;
}

}  // namespace fastopt
