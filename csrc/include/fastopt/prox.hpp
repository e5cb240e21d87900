// Scalar proximal maps of the separable penalties, shared by the proximal
// kernels, the coordinate-descent solver and OWL-QN. prox_{t h}(v) is
// argmin_x h(x) t + 1/2 (x - v)^2.
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

// prox of t |x|: sign(v) max(|v| - t, 0), returning an exact zero inside
// [-t, t].
template <typename T>
FASTOPT_HD T soft_threshold(T v, T t) {
  if (v > t) return v - t;
  if (v < -t) return v + t;
  return T(0);
}

// prox of t (l1 |x| + l2 / 2 x^2): soft-threshold by t l1, then shrink by
// 1 / (1 + t l2).
template <typename T>
FASTOPT_HD T elastic_net_prox(T v, T t_l1, T t_l2) {
  return soft_threshold(v, t_l1) / (T(1) + t_l2);
}

// Projection on [lo, hi].
template <typename T>
FASTOPT_HD T clamp_to(T v, T lo, T hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

}  // namespace fastopt
