// RAdam (Liu et al. 2020), following torch.optim.RAdam in PyTorch 2.x:
//   g   <- maximize ? -g : g                 (folded into the gradient factor)
//   p   <- p (1 - lr wd)                     (decoupled weight decay)
//   g   <- g + wd p                          (L2 weight decay)
//   m   <- lerp(m, g, 1 - beta1)
//   v   <- beta2 v + (1 - beta2) g^2
//   rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
//   rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
//               p <- p - lr m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
//   otherwise:  p <- p - lr m / (1 - beta1^t)
// rho_t depends only on t and beta2, so the branch is chosen per tensor on the
// host and the element loop is compiled once for each branch.
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

struct RAdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  Decay decay = Decay::none;
};

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct RAdamCoef {
  T one_minus_beta1;
  T beta2;
  T one_minus_beta2;
  T weight_decay;
  T decay_factor;  // 1 - lr wd, used by decoupled decay
  T bc1;           // 1 - beta1^t
  T lr;
  T bc2_sqrt;      // sqrt(1 - beta2^t)
  T rect;          // the variance rectification term r
  T eps;
  bool rectified;  // rho_t > 5
};

template <typename T>
FASTOPT_HD RAdamCoef<T> radam_coef(const RAdamHyper& h, std::int64_t step) {
  const double t = static_cast<double>(step);
  const double beta2_t = std::pow(h.beta2, t);
  const double bc2 = 1.0 - beta2_t;
  const double rho_inf = 2.0 / (1.0 - h.beta2) - 1.0;
  const double rho_t = rho_inf - 2.0 * t * beta2_t / bc2;
  RAdamCoef<T> c;
  c.one_minus_beta1 = T(1.0 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1.0 - h.beta2);
  c.weight_decay = T(h.weight_decay);
  c.decay_factor = T(1.0 - h.lr * h.weight_decay);
  c.bc1 = T(1.0 - std::pow(h.beta1, t));
  c.lr = T(h.lr);
  c.bc2_sqrt = T(std::sqrt(bc2));
  c.eps = T(h.eps);
  c.rectified = rho_t > 5.0;
  c.rect = c.rectified ? T(std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                     ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)))
                       : T(1);
  return c;
}

// One element of one step; Rectified must equal c.rectified.
template <typename T, Decay D, bool Rectified>
FASTOPT_HD void radam_update(T& p, T g, T& m, T& v, const RAdamCoef<T>& c) {
  if constexpr (D == Decay::decoupled) p = p * c.decay_factor;
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  m = lerp(m, g, c.one_minus_beta1);
  v = c.beta2 * v + c.one_minus_beta2 * (g * g);
  T step = (m / c.bc1) * c.lr;
  if constexpr (Rectified) {
    const T adaptive = (T(1) / (sqrt_(v) + c.eps)) * c.bc2_sqrt;
    step = step * adaptive * c.rect;
  }
  p = p - step;
}

}  // namespace fastopt
