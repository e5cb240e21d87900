// Per-sample losses of the generalized linear models, as functions of the
// margin z = x . coef + intercept: value, first and second derivative in z.
// Compiled by the host compiler and by nvcc. Every formula stays finite for
// any finite margin, including |z| in the thousands, where the naive forms
// overflow exp() or cancel to zero.
#pragma once

#include <cmath>
#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt::glm {

enum class Loss : int { logistic = 0, squared = 1, huber = 2, multinomial = 3 };

// Value, first and second derivative of one sample's loss at its margin.
template <typename T>
struct LossTerms {
  T value;
  T d1;
  T d2;
};

// log(1 + exp(t)) without overflow for large t or loss of digits for very
// negative t.
template <typename T>
FASTOPT_HD T log1pexp(T t) {
  return t > T(0) ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
}

// 1 / (1 + exp(-t)), evaluated on the side where exp() cannot overflow.
template <typename T>
FASTOPT_HD T sigmoid(T t) {
  if (t >= T(0)) return T(1) / (T(1) + std::exp(-t));
  T e = std::exp(t);
  return e / (T(1) + e);
}

// Binary logistic loss with labels y in {-1, +1}: log(1 + exp(-y z)).
// d/dz = -y sigmoid(-y z); d2/dz2 = sigmoid(y z) sigmoid(-y z).
// All three come from e = exp(-|y z|), which lies in (0, 1]: one exp and one
// log1p per sample, the cost that dominates a pass over sparse rows.
template <typename T>
FASTOPT_HD LossTerms<T> logistic_terms(T y, T z) {
  T m = y * z;
  T e = std::exp(m < T(0) ? m : -m);
  T one_plus = T(1) + e;
  T p_wrong = (m >= T(0) ? e : T(1)) / one_plus;  // sigmoid(-m)
  T value = (m < T(0) ? -m : T(0)) + std::log1p(e);
  return {value, -y * p_wrong, e / (one_plus * one_plus)};
}

// Squared error 1/2 (z - y)^2: the 1/2 makes alpha mean the same as in
// scikit-learn's Lasso and ElasticNet.
template <typename T>
FASTOPT_HD LossTerms<T> squared_terms(T y, T z) {
  T r = z - y;
  return {T(0.5) * r * r, r, T(1)};
}

// Huber loss with threshold delta: quadratic for |r| <= delta, linear
// beyond, continuous with its first derivative at the join. The second
// derivative is 0 on the linear part; Newton solvers add a floor to it.
template <typename T>
FASTOPT_HD LossTerms<T> huber_terms(T y, T z, T delta) {
  T r = z - y;
  T a = r < T(0) ? -r : r;
  if (a <= delta) return {T(0.5) * r * r, r, T(1)};
  return {delta * (a - T(0.5) * delta), r < T(0) ? -delta : delta, T(0)};
}

// One binary or regression loss chosen at run time; multinomial has its own
// vector form below.
template <typename T>
FASTOPT_HD LossTerms<T> loss_terms(Loss loss, T y, T z, T huber_delta) {
  switch (loss) {
    case Loss::logistic: return logistic_terms(y, z);
    case Loss::huber: return huber_terms(y, z, huber_delta);
    default: return squared_terms(y, z);
  }
}

// Multinomial (softmax) cross-entropy of one sample with K margins z and
// class index label: log(sum_k exp(z_k)) - z_label. Writes the class
// probabilities softmax(z) into prob (the gradient in z is prob - onehot)
// and returns the loss. Shifting by max(z) keeps exp() in range.
template <typename T>
FASTOPT_HD T multinomial_terms(const T* z, std::int64_t num_classes, std::int64_t label,
                               T* prob) {
  T zmax = z[0];
  for (std::int64_t k = 1; k < num_classes; ++k) zmax = z[k] > zmax ? z[k] : zmax;
  T total = T(0);
  for (std::int64_t k = 0; k < num_classes; ++k) {
    prob[k] = std::exp(z[k] - zmax);
    total += prob[k];
  }
  T inv = T(1) / total;
  for (std::int64_t k = 0; k < num_classes; ++k) prob[k] *= inv;
  return std::log(total) + zmax - z[label];
}

// Hinge loss with labels y in {-1, +1}: max(0, 1 - y z). Its subgradient in z
// is -y where y z <= 1 and 0 beyond, taking -y at the kink y z = 1 as
// scikit-learn's SGD does. The second derivative is 0 almost everywhere.
template <typename T>
FASTOPT_HD LossTerms<T> hinge_terms(T y, T z) {
  T m = y * z;
  if (m <= T(1)) return {T(1) - m, -y, T(0)};
  return {T(0), T(0), T(0)};
}

}  // namespace fastopt::glm
