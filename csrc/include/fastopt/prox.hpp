// Scalar proximal maps of the separable penalties, shared by the proximal
// kernels, the coordinate-descent solver and OWL-QN. prox_{t h}(v) is
// argmin_x h(x) t + 1/2 (x - v)^2.
#pragma once

#include "fastopt/common.hpp"

namespace fastopt {

// prox of t |x| for t >= 0: sign(v) max(|v| - t, 0), returning an exact +0
// inside [-t, t] and NaN for NaN. At most one of the two terms is non-zero, so
// the sum is exactly v - t or v + t. Every operation runs unconditionally and
// the choices are selects: compilers vectorize loops over this form, where a
// branch on random signs would mispredict about half the time.
template <typename T>
FASTOPT_HD T soft_threshold(T v, T t) {
  const T above = v - t;
  const T below = v + t;
  const T positive_part = above > T(0) ? above : T(0);
  const T negative_part = below < T(0) ? below : T(0);
  // NaN fails both comparisons above; pass it through so a diverged iterate stays visible
  // instead of turning into an exact zero. A select, so the loops still vectorize.
  return v != v ? v : positive_part + negative_part;
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

// prox of t l2 / 2 x^2: v / (1 + t l2).
template <typename T>
FASTOPT_HD T l2_shrink(T v, T t_l2) {
  return v / (T(1) + t_l2);
}

// Projection on [0, inf). A NaN input stays NaN, so a diverged iterate is
// not hidden behind a valid-looking zero.
template <typename T>
FASTOPT_HD T project_nonneg(T v) {
  return v < T(0) ? T(0) : v;
}

// Factor that block soft-thresholding applies to a block of Euclidean norm
// `norm`: the prox of t lambda ||x||_2 is max(0, 1 - t lambda / ||v||) v.
// A zero block maps to zero (the factor is 0, not NaN), and a NaN norm gives
// a NaN factor.
template <typename T>
FASTOPT_HD T group_shrink_factor(T norm, T t_lambda) {
  return norm <= t_lambda ? T(0) : T(1) - t_lambda / norm;
}

}  // namespace fastopt
