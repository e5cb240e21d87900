// RMSprop (Hinton's lecture notes; centered form from Graves 2013), following
// torch.optim.RMSprop in PyTorch 2.x:
//   g  <- maximize ? -g : g                 (folded into the gradient factor)
//   g  <- g + wd p                          (L2 decay)
//   v  <- alpha v + (1 - alpha) g^2
//   a  <- lerp(a, g, 1 - alpha)             (centered only)
//   d   = sqrt(v - a^2) + eps               (centered)  or  sqrt(v) + eps
//   b  <- momentum b + g / d, p <- p - lr b (momentum > 0)
//   p  <- p - lr g / d                      (momentum = 0)
// eps is added after the square root, as torch does.
#pragma once

#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt {

struct RmspropHyper {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};

// Per-tensor scalars of one step; RMSprop has no bias correction, so they do
// not depend on the step count.
template <typename T>
struct RmspropCoef {
  T alpha;
  T one_minus_alpha;
  T eps;
  T weight_decay;
  T momentum;
  T neg_lr;
};

template <typename T>
FASTOPT_HD RmspropCoef<T> rmsprop_coef(const RmspropHyper& h) {
  RmspropCoef<T> c;
  c.alpha = T(h.alpha);
  c.one_minus_alpha = T(1.0 - h.alpha);
  c.eps = T(h.eps);
  c.weight_decay = T(h.weight_decay);
  c.momentum = T(h.momentum);
  c.neg_lr = T(-h.lr);
  return c;
}

// One element of one step. `grad_avg` is only touched when Centered is set,
// `buf` only when Momentum is set. The products keep torch's rounding order.
template <typename T, Decay D, bool Centered, bool Momentum>
FASTOPT_HD void rmsprop_update(T& p, T g, T& square_avg, T& grad_avg, T& buf,
                               const RmspropCoef<T>& c) {
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  square_avg = square_avg * c.alpha + (c.one_minus_alpha * g) * g;
  T avg;
  if constexpr (Centered) {
    grad_avg = lerp(grad_avg, g, c.one_minus_alpha);
    avg = sqrt_(square_avg - grad_avg * grad_avg);
  } else {
    avg = sqrt_(square_avg);
  }
  avg = avg + c.eps;
  if constexpr (Momentum) {
    buf = buf * c.momentum + g / avg;
    p = p + c.neg_lr * buf;
  } else {
    p = p + (c.neg_lr * g) / avg;
  }
}

}  // namespace fastopt
