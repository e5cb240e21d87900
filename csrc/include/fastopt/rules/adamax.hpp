// Adamax (Kingma & Ba 2015, section 7.1), following torch.optim.Adamax in
// PyTorch 2.x:
//   g  <- maximize ? -g : g                (folded into the gradient factor)
//   g  <- g + wd p                         (L2 decay)
//   m  <- lerp(m, g, 1 - beta1)
//   u  <- max(beta2 u, |g| + eps)          (NaN in either argument propagates)
//   p  <- p - lr / (1 - beta1^t) * m / u
// eps is added to |g| inside the maximum, as torch does.
#pragma once

#include <cmath>
#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt {

struct AdamaxHyper {
  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct AdamaxCoef {
  T one_minus_beta1;
  T beta2;
  T eps;
  T weight_decay;
  T neg_step_size;  // -lr / (1 - beta1^t)
};

template <typename T>
FASTOPT_HD AdamaxCoef<T> adamax_coef(const AdamaxHyper& h, std::int64_t step) {
  const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
  AdamaxCoef<T> c;
  c.one_minus_beta1 = T(1.0 - h.beta1);
  c.beta2 = T(h.beta2);
  c.eps = T(h.eps);
  c.weight_decay = T(h.weight_decay);
  c.neg_step_size = T(-(h.lr / bc1));
  return c;
}

// The larger of a and b, NaN when either is NaN, as torch.maximum returns.
template <typename T>
FASTOPT_HD T maximum_nan(T a, T b) {
  return (a >= b || a != a) ? a : b;
}

// One element of one step, in torch's rounding order: (-step_size m) / u.
template <typename T, Decay D>
FASTOPT_HD void adamax_update(T& p, T g, T& exp_avg, T& exp_inf, const AdamaxCoef<T>& c) {
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  exp_avg = lerp(exp_avg, g, c.one_minus_beta1);
  exp_inf = maximum_nan(exp_inf * c.beta2, std::fabs(g) + c.eps);
  p = p + (c.neg_step_size * exp_avg) / exp_inf;
}

}  // namespace fastopt
