// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), following
// torch.optim.Adam / AdamW in PyTorch 2.x:
//   g  <- maximize ? -g : g              (folded into the gradient factor)
//   p  <- p (1 - lr wd)                  (AdamW: decoupled decay first)
//   g  <- g + wd p                       (Adam: L2 decay)
//   m  <- lerp(m, g, 1 - beta1)
//   v  <- beta2 v + (1 - beta2) g^2
//   vmax <- max(vmax, v)                 (AMSGrad, on the uncorrected v)
//   p  <- p - lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
// eps is added after the bias-corrected square root, as torch does.
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

struct AdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  Decay decay = Decay::none;
};

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct AdamCoef {
  T one_minus_beta1;
  T beta2;
  T one_minus_beta2;
  T weight_decay;
  T decay_factor;  // 1 - lr wd, used by decoupled decay
  T step_size;     // lr / (1 - beta1^t)
  T bc2_sqrt;      // sqrt(1 - beta2^t)
  T eps;
};

template <typename T>
FASTOPT_HD AdamCoef<T> adam_coef(const AdamHyper& h, std::int64_t step) {
  const double t = static_cast<double>(step);
  const double bc1 = 1.0 - std::pow(h.beta1, t);
  const double bc2 = 1.0 - std::pow(h.beta2, t);
  AdamCoef<T> c;
  c.one_minus_beta1 = T(1.0 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1.0 - h.beta2);
  c.weight_decay = T(h.weight_decay);
  c.decay_factor = T(1.0 - h.lr * h.weight_decay);
  c.step_size = T(h.lr / bc1);
  c.bc2_sqrt = T(std::sqrt(bc2));
  c.eps = T(h.eps);
  return c;
}

// One element of one step. `vmax` is only touched when Amsgrad is set.
template <typename T, Decay D, bool Amsgrad>
FASTOPT_HD void adam_update(T& p, T g, T& m, T& v, T& vmax, const AdamCoef<T>& c) {
  if constexpr (D == Decay::decoupled) p = p * c.decay_factor;
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  m = lerp(m, g, c.one_minus_beta1);
  // torch's addcmul evaluates value * g * g left to right. The same order
  // keeps the second moment within an ulp of torch's after the first step.
  v = c.beta2 * v + (c.one_minus_beta2 * g) * g;
  T second = v;
  if constexpr (Amsgrad) {
    vmax = vmax >= v ? vmax : v;  // a NaN in v propagates, as in torch.maximum
    second = vmax;
  }
  const T denom = sqrt_(second) / c.bc2_sqrt + c.eps;
  p = p - c.step_size * (m / denom);
}

}  // namespace fastopt
