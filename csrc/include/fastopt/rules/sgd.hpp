// Stochastic gradient descent with optional (Nesterov) momentum, following
// torch.optim.SGD in PyTorch 2.x:
//   g <- maximize ? -g : g                (folded into the gradient factor)
//   g <- g + wd p                         (L2 decay)
//   b <- g                                (first step: the buffer starts as g)
//   b <- momentum b + (1 - dampening) g   (later steps)
//   g <- nesterov ? g + momentum b : b    (only with momentum)
//   p <- p - lr g
// Without momentum the update reads p and g only.
#pragma once

#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt {

struct SgdHyper {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// Momentum variant: none (the gradient updates the parameter directly), heavy
// ball (the buffer does), or Nesterov's look-ahead (g + momentum * buffer does).
enum class SgdMomentum : int { none = 0, heavy_ball = 1, nesterov = 2 };

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct SgdCoef {
  T weight_decay;
  T momentum;
  T one_minus_dampening;
  T neg_lr;
  // True on a tensor's first step, when torch creates the buffer as a copy of
  // the gradient: the kernel then writes the buffer without reading it.
  bool first;
};

template <typename T>
FASTOPT_HD SgdCoef<T> sgd_coef(const SgdHyper& h, std::int64_t step) {
  SgdCoef<T> c;
  c.weight_decay = T(h.weight_decay);
  c.momentum = T(h.momentum);
  c.one_minus_dampening = T(1.0 - h.dampening);
  c.neg_lr = T(-h.lr);
  c.first = step == 1;
  return c;
}

// One element of one step. `buf` is only touched when M is not none, and only
// written (not read) when First is set.
template <typename T, Decay D, SgdMomentum M, bool First>
FASTOPT_HD void sgd_update(T& p, T g, T& buf, const SgdCoef<T>& c) {
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  if constexpr (M != SgdMomentum::none) {
    T b;
    if constexpr (First) {
      b = g;
    } else {
      b = buf * c.momentum + c.one_minus_dampening * g;
    }
    buf = b;
    if constexpr (M == SgdMomentum::nesterov) {
      g = g + c.momentum * b;
    } else {
      g = b;
    }
  }
  p = p + c.neg_lr * g;
}

}  // namespace fastopt
