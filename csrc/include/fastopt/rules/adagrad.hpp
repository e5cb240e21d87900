// Adagrad (Duchi, Hazan & Singer 2011), following torch.optim.Adagrad in
// PyTorch 2.x for dense gradients:
//   g   <- maximize ? -g : g              (folded into the gradient factor)
//   g   <- g + wd p                       (L2 decay)
//   clr  = lr / (1 + (t - 1) lr_decay)
//   s   <- s + g^2                        (s starts at initial_accumulator_value)
//   p   <- p - clr g / (sqrt(s) + eps)
#pragma once

#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt {

struct AdagradHyper {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double eps = 1e-10;
};

// Per-tensor scalars of one step, computed in double by the host for the CPU
// kernels and by the device for the CUDA kernels.
template <typename T>
struct AdagradCoef {
  T weight_decay;
  T neg_clr;  // -lr / (1 + (t - 1) lr_decay)
  T eps;
};

template <typename T>
FASTOPT_HD AdagradCoef<T> adagrad_coef(const AdagradHyper& h, std::int64_t step) {
  const double t = static_cast<double>(step);
  AdagradCoef<T> c;
  c.weight_decay = T(h.weight_decay);
  c.neg_clr = T(-(h.lr / (1.0 + (t - 1.0) * h.lr_decay)));
  c.eps = T(h.eps);
  return c;
}

// One element of one step. The products keep torch's rounding order:
// (-clr g) / std, as addcdiv evaluates it.
template <typename T, Decay D>
FASTOPT_HD void adagrad_update(T& p, T g, T& sum, const AdagradCoef<T>& c) {
  if constexpr (D == Decay::l2) g = g + c.weight_decay * p;
  sum = sum + g * g;
  const T std_dev = sqrt_(sum) + c.eps;
  p = p + (c.neg_clr * g) / std_dev;
}

}  // namespace fastopt
