// NAdam (Dozat 2016), following torch.optim.NAdam in PyTorch 2.x:
//   g   <- maximize ? -g : g                 (folded into the gradient factor)
//   p   <- p (1 - lr wd)                     (decoupled weight decay)
//   g   <- g + wd p                          (L2 weight decay)
//   mu_t = beta1 (1 - 0.5 * 0.96^(t psi)),   psi = momentum_decay
//   prod_t = prod_{t-1} mu_t                 (the state's mu_product)
//   m   <- lerp(m, g, 1 - beta1)
//   v   <- beta2 v + (1 - beta2) g^2
//   d   = sqrt(v / (1 - beta2^t)) + eps
//   p   <- p - lr (1 - mu_t) / (1 - prod_t) * g / d
//   p   <- p - lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m / d
// The two parameter updates are applied one after the other, as torch does.
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

struct NAdamHyper {
  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum_decay = 4e-3;
  Decay decay = Decay::none;
};

// The momentum coefficient mu_t of step t.
FASTOPT_HD double nadam_mu(const NAdamHyper& h, std::int64_t step) {
  return h.beta1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(step) * h.momentum_decay));
}

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct NAdamCoef {
  T one_minus_beta1;
  T beta2;
  T one_minus_beta2;
  T weight_decay;
  T decay_factor;  // 1 - lr wd, used by decoupled decay
  T bc2;           // 1 - beta2^t
  T eps;
  T grad_coef;     // -lr (1 - mu_t) / (1 - prod_t)
  T avg_coef;      // -lr mu_{t+1} / (1 - prod_t mu_{t+1})
};

// `mu_product` is prod_t: the product of mu_1 .. mu_t, this step included.
template <typename T>
FASTOPT_HD NAdamCoef<T> nadam_coef(const NAdamHyper& h, std::int64_t step, double mu_product) {
  const double mu = nadam_mu(h, step);
  const double mu_next = nadam_mu(h, step + 1);
  NAdamCoef<T> c;
  c.one_minus_beta1 = T(1.0 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1.0 - h.beta2);
  c.weight_decay = T(h.weight_decay);
  c.decay_factor = T(1.0 - h.lr * h.weight_decay);
  c.bc2 = T(1.0 - std::pow(h.beta2, static_cast<double>(step)));
  c.eps = T(h.eps);
  c.grad_coef = T(-h.lr * (1.0 - mu) / (1.0 - mu_product));
  c.avg_coef = T(-h.lr * mu_next / (1.0 - mu_product * mu_next));
  return c;
}

// One element of one step.
template <typename T, Decay D>
FASTOPT_HD void nadam_update(T& p, T g, T& m, T& v, const NAdamCoef<T>& c) {
  if constexpr (D == Decay::decoupled) p = p * c.decay_factor;
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  m = lerp(m, g, c.one_minus_beta1);
  v = c.beta2 * v + c.one_minus_beta2 * (g * g);
  const T denom = sqrt_(v / c.bc2) + c.eps;
  p = p + (c.grad_coef * g) / denom;
  p = p + (c.avg_coef * m) / denom;
}

}  // namespace fastopt
