// Plain-C++ view of an L-BFGS history for the two-loop kernels. The arrays
// are owned by fastopt.minimize.LBFGSState; the bindings validate them and
// fill these structs, and the kernels never see Python objects.
#pragma once

#include <cstdint>

namespace fastopt::cpu {

// History of curvature pairs stored as a ring buffer: S and Y are
// (slots, n) row-major arrays of one dtype, and `order` lists the `count`
// active slots, oldest first. sy[i * slots + j] caches s_i'y_j and
// yy[i * slots + j] caches y_i'y_j (float64, indexed by slot).
struct LbfgsHistory {
  std::int64_t n = 0;
  int slots = 0;
  const void* s = nullptr;
  const void* y = nullptr;
  const std::int64_t* order = nullptr;
  int count = 0;
  // Slot of the pair added since the last call, or -1. The kernel fills
  // column new_slot of sy (s_i'y_new) and row and column new_slot of yy
  // in the same pass that reads the history for the direction.
  int new_slot = -1;
  double* sy = nullptr;
  double* yy = nullptr;
  // Initial inverse Hessian scaling H0 = gamma * I.
  double gamma = 1.0;
  // Scratch for per-block partial sums: lbfgs_work_size(n, slots) doubles.
  double* work = nullptr;
};

// Elements per reduction block of the L-BFGS kernels; partial sums of
// each block are combined in block order, so results do not depend on the
// thread count.
constexpr std::int64_t kLbfgsBlock = 8192;

// Largest number of active pairs; the kernels keep per-pair scalars on the stack.
constexpr int kLbfgsMaxHistory = 256;

inline std::int64_t lbfgs_work_size(std::int64_t n, int slots) {
  const std::int64_t blocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  return (blocks > 0 ? blocks : 1) * 4 * static_cast<std::int64_t>(slots);
}

// Inner products of a new curvature pair, returned by lbfgs_pair.
struct LbfgsPairDots {
  double sy = 0.0;
  double yy = 0.0;
  double ss = 0.0;
  bool finite = true;
};

// Result of lbfgs_gradient: one pass over a gradient just evaluated.
struct LbfgsGradientStats {
  double dot = 0.0;       // g'd (0 without d)
  double inf_norm = 0.0;  // max_i |g_i| (NaN is not ordered; see finite)
  bool finite = true;     // every g_i is finite
};

// Scratch doubles lbfgs_gradient and lbfgs_dot need for n elements.
inline std::int64_t lbfgs_reduce_work_size(std::int64_t n) {
  const std::int64_t blocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  return (blocks > 0 ? blocks : 1) * 3;
}

}  // namespace fastopt::cpu
