// Plain-C++ arguments of the proximal kernels. The bindings validate every
// array and value (bindings/bind_prox.cpp) before they fill these.
#pragma once

#include <cstdint>

namespace fastopt::cpu {

// The penalty h whose proximal map prox_{t h} a kernel call applies.
enum class ProxPenalty : int {
  l1 = 0,           // h = sum_i l1_i |x_i|
  elastic_net = 1,  // h = sum_i l1_i |x_i| + l2_i / 2 x_i^2
  l2 = 2,           // h = sum_i l2_i / 2 x_i^2
  box = 3,          // indicator of lower_i <= x_i <= upper_i
  nonneg = 4,       // indicator of x_i >= 0
  group = 5,        // h = lambda sum_g w_g ||x_g||_2 over contiguous groups
};

// A per-coordinate parameter: an array of the kernel's dtype, or one value
// for every coordinate when `values` is nullptr.
struct ProxParam {
  const void* values = nullptr;
  double scalar = 0.0;
};

struct ProxArgs {
  ProxPenalty penalty = ProxPenalty::l1;
  std::int64_t n = 0;
  const void* x = nullptr;
  // With a gradient the kernel applies prox_{t h}(x - t grad), the proximal
  // gradient step; with nullptr it applies prox_{t h}(x).
  const void* grad = nullptr;
  // Written; may be x itself (the update then runs in place).
  void* out = nullptr;
  double step = 1.0;  // t
  ProxParam l1;
  ProxParam l2;
  ProxParam lower;
  ProxParam upper;
  // Group g covers elements [group_offsets[g], group_offsets[g + 1]); the
  // offsets start at 0, increase strictly and end at n.
  const std::int64_t* group_offsets = nullptr;
  std::int64_t num_groups = 0;
  double group_lambda = 0.0;
  // Per-group weights w_g (float64), or nullptr for w_g = 1.
  const double* group_weights = nullptr;
};

}  // namespace fastopt::cpu
