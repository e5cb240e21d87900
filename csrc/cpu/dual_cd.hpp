// Dual coordinate descent for L2-regularized binary logistic regression
// without an intercept (Yu, Huang and Lin 2011; LIBLINEAR's solver 7).
//
// The primal problem, with per-sample bounds C_i = weight_i / alpha,
//
//   min_w  1/2 ||w||^2 + sum_i C_i log(1 + exp(-y_i x_i . w)),
//
// is alpha^-1 times fastopt's objective. Its dual is
//
//   min_a  1/2 a^T Q a + sum_i [a_i log a_i + (C_i - a_i) log(C_i - a_i)],
//   0 < a_i < C_i,   Q_ij = y_i y_j x_i . x_j,
//
// with w = sum_i a_i y_i x_i kept up to date, so a coordinate step costs one
// dot product and one axpy over row i. Each one-variable subproblem is solved
// by Newton's method on the side of C_i / 2 where the root lies, in the
// variable a_i or C_i - a_i, whichever is the smaller there, so neither
// log(a_i) nor log(C_i - a_i) loses digits near a bound.
//
// The kernel reads rows, so X must be dense C-ordered or CSR. It runs on one
// thread in a fixed pseudo-random order seeded by the caller, so every
// thread count returns the same bits.
#pragma once

#include <cstdint>

#include "cpu/glm.hpp"

namespace fastopt::cpu {

struct DualCdArgs {
  GlmDesign x;                         // dense_c or csr
  const double* y = nullptr;           // n labels in {-1, +1}
  const double* upper = nullptr;       // n bounds C_i >= 0; a row with 0 is skipped
  const double* row_sqnorm = nullptr;  // n values ||x_i||^2 (the diagonal of Q)
  double* dual = nullptr;              // n, in/out: a_i, strictly inside (0, C_i)
  double* complement = nullptr;        // n, in/out: C_i - a_i, stored for its digits
  double* w = nullptr;                 // p, in/out: sum_i a_i y_i x_i
  std::int64_t* order = nullptr;       // n, scratch for the visiting order
  std::uint64_t* rng_state = nullptr;  // in/out: state of the order's generator
  // Run at most max_epochs passes over the samples and stop after the first
  // whose estimate (see DualCdResult) is at most stop_estimate.
  std::int64_t max_epochs = 1;
  double stop_estimate = 0.0;
  // In/out: |subproblem derivative| at which a Newton solve stops. It shrinks
  // tenfold, down to inner_tol_min, after an epoch that needed few Newton steps.
  double* inner_tol = nullptr;
  double inner_tol_min = 1e-12;
};

struct DualCdResult {
  std::int64_t epochs = 0;
  std::int64_t newton_steps = 0;
  // Of the last epoch: sum_i |step of a_i| ||x_i||_2, a bound on how far w
  // moved. Near the optimum it falls at the rate of the primal gradient, so
  // the caller can schedule its exact (and costlier) optimality checks by it.
  double estimate = 0.0;
  bool invalid = false;  // an index or row range was out of bounds
};

}  // namespace fastopt::cpu
