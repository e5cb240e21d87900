// Weighted Gram matrix of a GLM design and coordinate descent on a dense
// quadratic model, for problems with many more samples than features.
//
// With n >> p the Hessian of the data term, H = X^T diag(d) X (plus the
// intercept row and column), is a small dense p x p matrix that one pass over
// X forms. Once it is there, a coordinate-descent step on the quadratic model
// costs O(p) instead of O(entries of a column), and a Newton step is one
// Cholesky solve (glmnet's "covariance updates", applied to every Newton step).
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/glm.hpp"

namespace fastopt::cpu {

// Largest Gram matrix, in bytes of float64 output, that the binding accepts:
// 256 MiB is p + 1 = 5792.
constexpr std::int64_t kGramMaxBytes = std::int64_t(256) << 20;

// Scratch elements glm_gram needs: one dense n-vector per thread for CSC,
// none for the other layouts.
inline std::int64_t gram_work_size(const GlmDesign& x, int num_threads) {
  if (x.layout == GlmLayout::csc) return static_cast<std::int64_t>(num_threads) * x.n_rows;
  return 0;
}

// Coordinate descent on the dense quadratic model
//
//   min_D  q^T D + 1/2 D^T H D + a1 ||w + D||_1 + a2/2 ||w + D||^2
//
// over D in R^m, H symmetric positive semidefinite (m x m, row-major). H D is
// kept up to date, so a coordinate that does not move costs O(1) and one
// that moves O(m).
struct GramCdArgs {
  std::int64_t m = 0;
  const double* H = nullptr;  // m * m, symmetric
  const double* q = nullptr;  // m: gradient of the smooth data term at w
  const double* w = nullptr;  // m: current coefficients
  double a1 = 0.0;
  double a2 = 0.0;
  // Stop once a sweep over all coordinates finds a largest model violation
  // (the minimum-norm subgradient component, as in coordinate_violation) of
  // at most tol.
  double tol = 0.0;
  std::int64_t max_passes = 100;
  double* step = nullptr;  // m, in: the start D (usually 0); out: D
  double* hd = nullptr;    // m, in: H times the start D; out: H D
};

struct GramCdResult {
  std::int64_t passes = 0;
  double violation = 0.0;  // largest model violation of the last full sweep
};

}  // namespace fastopt::cpu
