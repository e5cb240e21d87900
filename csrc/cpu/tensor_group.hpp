// The plain-C++ view of a multi-tensor call: for each tensor, its length and
// one pointer per buffer role (param, grad, state...). The bindings fill it
// after validation; the kernels never see Python objects.
#pragma once

#include <cstdint>
#include <vector>

namespace fastopt::cpu {

enum class DType : int { float32 = 0, float64 = 1 };

struct TensorGroup {
  int num_buffers = 0;             // roles per tensor
  std::vector<std::int64_t> size;  // elements of tensor k
  std::vector<void*> data;         // data[k * num_buffers + role]

  std::int64_t num_tensors() const { return static_cast<std::int64_t>(size.size()); }

  template <typename T>
  T* ptr(std::int64_t k, int role) const {
    return static_cast<T*>(data[static_cast<std::size_t>(k * num_buffers + role)]);
  }

  std::int64_t total() const {
    std::int64_t n = 0;
    for (std::int64_t s : size) n += s;
    return n;
  }
};

// Settings shared by every update kernel call.
struct StepContext {
  DType dtype = DType::float32;
  // Multiplies every gradient element before the rule reads it: the inverse
  // gradient scale, the clipping coefficient and -1 for maximize, combined.
  double grad_factor = 1.0;
  int num_threads = 1;
};

}  // namespace fastopt::cpu
