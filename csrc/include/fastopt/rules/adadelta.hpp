// Adadelta (Zeiler 2012), following torch.optim.Adadelta in PyTorch 2.x:
//   g  <- maximize ? -g : g                    (folded into the gradient factor)
//   g  <- g + wd p                             (L2 decay)
//   v  <- rho v + (1 - rho) g^2
//   d   = sqrt(u + eps) / sqrt(v + eps) g
//   u  <- rho u + (1 - rho) d^2
//   p  <- p - lr d
// eps is added inside both square roots, as torch does.
#pragma once

#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt {

struct AdadeltaHyper {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
};

// Per-tensor scalars of one step; Adadelta's do not depend on the step count.
template <typename T>
struct AdadeltaCoef {
  T rho;
  T one_minus_rho;
  T eps;
  T weight_decay;
  T neg_lr;
};

template <typename T>
FASTOPT_HD AdadeltaCoef<T> adadelta_coef(const AdadeltaHyper& h) {
  AdadeltaCoef<T> c;
  c.rho = T(h.rho);
  c.one_minus_rho = T(1.0 - h.rho);
  c.eps = T(h.eps);
  c.weight_decay = T(h.weight_decay);
  c.neg_lr = T(-h.lr);
  return c;
}

// One element of one step, in torch's rounding order: (delta / std) * g.
template <typename T, Decay D>
FASTOPT_HD void adadelta_update(T& p, T g, T& square_avg, T& acc_delta,
                                const AdadeltaCoef<T>& c) {
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  square_avg = square_avg * c.rho + (c.one_minus_rho * g) * g;
  const T std_dev = sqrt_(square_avg + c.eps);
  const T delta = (sqrt_(acc_delta + c.eps) / std_dev) * g;
  acc_delta = acc_delta * c.rho + (c.one_minus_rho * delta) * delta;
  p = p + c.neg_lr * delta;
}

}  // namespace fastopt
