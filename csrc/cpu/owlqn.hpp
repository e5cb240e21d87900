// Plain-C++ arguments of the OWL-QN element-wise kernel (Andrew & Gao 2007,
// "Scalable training of L1-regularized log-linear models"). The arrays are
// owned by fastopt.minimize; the bindings validate them.
#pragma once

#include <cstdint>

namespace fastopt::cpu {

enum class OwlqnOp : int {
  // pg = pseudo-gradient of f + sum_i l1_i |x_i| from x and g; returns max |pg_i|.
  pseudo_gradient = 0,
  // d_i = 0 where l1_i > 0 and d_i pg_i >= 0 (d leaves the orthant of -pg).
  project_direction = 1,
  // out = x + alpha d, with 0 where l1_i > 0 and out_i leaves the orthant of x
  // (of -pg where x_i = 0).
  trial = 2,
};

struct OwlqnArgs {
  std::int64_t n = 0;
  const void* x = nullptr;
  const void* g = nullptr;
  // Per-coordinate strengths (float64), or nullptr to use l1_scalar everywhere.
  const double* l1 = nullptr;
  double l1_scalar = 0.0;
  void* pg = nullptr;
  void* d = nullptr;
  double alpha = 0.0;
  void* out = nullptr;
};

}  // namespace fastopt::cpu
