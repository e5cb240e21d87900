// Plain-C++ arguments and result of the working-set proximal Newton solver
// with a coordinate-descent inner loop, for L1 / elastic-net penalized
// binary logistic, squared and Huber regression. The bindings validate every
// array and fill these structs, and the kernel reads no Python objects.
//
// Objective, with per-sample factors s_i = weight_scale * sample_weight[i]
// (weight_scale = 1 / sum of the weights) and a1 = alpha * l1_ratio,
// a2 = alpha * (1 - l1_ratio):
//
//   F(w) = sum_i s_i loss(y_i, x_i . coef + intercept) + a1 ||coef||_1 + a2 / 2 ||coef||^2
#pragma once

#include <cmath>
#include <cstdint>

#include "cpu/glm.hpp"
#include "cpu/tensor_group.hpp"
#include "fastopt/glm/losses.hpp"

namespace fastopt::cpu {

// Column access to the design matrix X (n_samples, n_features). With sparse
// true, data, indices and indptr are CSC arrays whose indices and indptr
// share index_type. Otherwise data is a dense Fortran-order array with
// leading dimension num_samples.
struct ColumnMatrix {
  std::int64_t num_samples = 0;
  std::int64_t num_features = 0;
  DType dtype = DType::float64;
  bool sparse = false;
  IndexType index_type = IndexType::int32;
  const void* data = nullptr;
  const void* indices = nullptr;
  const void* indptr = nullptr;
};

// Called once per outer iteration with the current parameters (size
// entries: coef, then the intercept when fitted). Returning true stops the
// solver. The binding uses it for the Python callback and for
// KeyboardInterrupt checks.
using NewtonCdHook = bool (*)(void* context, const double* w, std::int64_t size);

struct NewtonCdArgs {
  ColumnMatrix X;
  const double* y = nullptr;
  // Per-sample weights, or nullptr for all 1.
  const double* sample_weight = nullptr;
  // 1 / (sum of the weights), or 1 / n without weights.
  double weight_scale = 1.0;
  glm::Loss loss = glm::Loss::squared;
  double huber_delta = 1.0;
  double alpha = 0.0;
  double l1_ratio = 1.0;
  bool fit_intercept = true;
  // Stop when the optimality violation is <= tol * (its value at w = 0).
  double tol = 1e-6;
  std::int64_t max_iter = 100;
  // In: the starting point. Out: the final iterate, which has the lowest
  // objective seen because every accepted step decreases it.
  double* w = nullptr;
  int num_threads = 1;
  NewtonCdHook hook = nullptr;
  void* hook_context = nullptr;
};

enum class NewtonCdStatus : int {
  converged = 0,
  max_iter = 1,
  stopped = 2,             // the hook returned true
  line_search_failed = 3,  // no step decreased F: rounding limits further progress
  non_finite = 4,          // the objective or the violation is NaN or inf
};

struct NewtonCdResult {
  std::int64_t n_iter = 0;
  double violation = 0.0;
  double violation0 = 0.0;
  double objective = 0.0;
  NewtonCdStatus status = NewtonCdStatus::max_iter;
};

// Component of the minimum-norm subgradient of F for one penalized
// coordinate, with g the gradient of the smooth part (data term plus the L2
// part of the penalty) and a1 the L1 strength:
//   w != 0: |g + a1 sign(w)|;  w == 0: max(|g| - a1, 0).
// Intercepts use |g|. The same formula as
// fastopt.linear_model._stopping.optimality_violation, operation for operation.
inline double coordinate_violation(double g, double w, double a1) {
  if (!(a1 > 0.0)) return std::abs(g);
  if (w == 0.0) {
    const double excess = std::abs(g) - a1;
    return excess < 0.0 ? 0.0 : excess;  // NaN passes through, as in np.maximum
  }
  return std::abs(g + a1 * (w > 0.0 ? 1.0 : -1.0));
}

}  // namespace fastopt::cpu
