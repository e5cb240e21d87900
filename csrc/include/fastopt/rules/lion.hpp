// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms",
// Algorithm 2), with decoupled weight decay:
//   g   <- maximize ? -g : g                 (folded into the gradient factor)
//   c   = beta1 m + (1 - beta1) g
//   p   <- p (1 - lr wd) - lr sign(c)        (sign(0) = 0)
//   m   <- beta2 m + (1 - beta2) g
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

struct LionHyper {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double weight_decay = 0.0;
};

// Per-tensor scalars of one step; Lion has no step-dependent terms.
template <typename T>
struct LionCoef {
  T beta1;
  T one_minus_beta1;
  T beta2;
  T one_minus_beta2;
  T lr;
  T decay_factor;  // 1 - lr wd
};

template <typename T>
FASTOPT_HD LionCoef<T> lion_coef(const LionHyper& h) {
  LionCoef<T> c;
  c.beta1 = T(h.beta1);
  c.one_minus_beta1 = T(1.0 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1.0 - h.beta2);
  c.lr = T(h.lr);
  c.decay_factor = T(1.0 - h.lr * h.weight_decay);
  return c;
}

// +1, -1, 0 for +-0, and NaN for NaN, so a NaN gradient reaches the parameter
// instead of vanishing into a zero step. Every comparison is evaluated
// unconditionally because GCC (under its default -ftrapping-math) keeps a
// conditionally evaluated one as a branch, and then the loop does not vectorize.
template <typename T>
FASTOPT_HD T sign_(T x) {
  const T s = T(x > T(0)) - T(x < T(0));
  return x == x ? s : x;
}

// One element of one step. Lion's weight decay is always decoupled.
template <typename T, Decay D>
FASTOPT_HD void lion_update(T& p, T g, T& m, const LionCoef<T>& c) {
  static_assert(D != Decay::l2, "Lion's weight decay is decoupled");
  const T direction = sign_(c.beta1 * m + c.one_minus_beta1 * g);
  if constexpr (D == Decay::decoupled) p = p * c.decay_factor;
  p = p - c.lr * direction;
  m = c.beta2 * m + c.one_minus_beta2 * g;
}

}  // namespace fastopt
