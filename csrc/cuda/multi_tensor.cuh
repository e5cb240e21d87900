// Multi-tensor launches: one kernel launch updates a whole list of tensors.
//
// A launch receives a TensorBatch by value: the addresses of up to
// kMaxTensorsPerLaunch tensors for each role (param, grad, state...), their
// sizes and where each tensor's chunks start in the batch's chunk numbering.
// A chunk is kChunk consecutive elements of one tensor. Block b processes
// chunks b, b + gridDim.x, ... and finds the tensor of a chunk by binary
// search, so one launch covers any mix of sizes, and a list with more tensors
// is split into several launches (apex's multi_tensor_apply passes its
// metadata the same way). Offsets are 64-bit, so a tensor may exceed 2^31
// elements.
//
// The batch takes up to about 20 KB of kernel parameters (five roles).
// Parameters over 4 KB need CUDA 12.1 and a Volta or newer GPU, and the build
// targets sm_80 and up.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"

namespace fastopt::cuda {

// 256 tensors cover a transformer's parameter list (about 150 tensors) in
// one launch.
inline constexpr int kMaxTensorsPerLaunch = 256;
// Elements per chunk: eight per thread of a block.
inline constexpr std::int64_t kChunk = 8 * kBlockSize;

// Storage types of parameters and gradients.
enum class DType { float32, float64, float16, bfloat16 };

inline DType parse_dtype(const std::string& name) {
  if (name == "float32") return DType::float32;
  if (name == "float64") return DType::float64;
  if (name == "float16") return DType::float16;
  if (name == "bfloat16") return DType::bfloat16;
  throw pybind11::type_error("dtype: expected float32, float64, float16 or bfloat16, got " + name);
}

// Calls f(P{}) with the storage type named by dtype.
template <typename F>
void with_storage(DType dtype, F&& f) {
  switch (dtype) {
    case DType::float32: f(float{}); break;
    case DType::float64: f(double{}); break;
    case DType::float16: f(__half{}); break;
    case DType::bfloat16: f(__nv_bfloat16{}); break;
  }
}

// The type of optimizer state and arithmetic for parameters stored as P:
// float64 for float64 parameters, float32 for all others, as torch's fused
// optimizers keep float32 state for float16 and bfloat16 parameters.
template <typename P>
struct ComputeOf {
  using type = float;
};
template <>
struct ComputeOf<double> {
  using type = double;
};

template <typename S, typename P>
__device__ __forceinline__ S load_as(const P* ptr, std::int64_t i) {
  return static_cast<S>(ptr[i]);
}

template <typename P, typename S>
__device__ __forceinline__ void store_as(P* ptr, std::int64_t i, S value) {
  ptr[i] = static_cast<P>(value);
}

template <int Depth>
struct TensorBatch {
  void* ptr[Depth][kMaxTensorsPerLaunch];
  std::int64_t numel[kMaxTensorsPerLaunch];
  std::int64_t chunk_begin[kMaxTensorsPerLaunch + 1];
  // The step number of this update, used when counter[t] is null.
  std::int64_t step[kMaxTensorsPerLaunch];
  // The number of steps taken so far, on the device, or null. The kernel
  // uses counter + 1 and increments the counter once the step is applied.
  std::int64_t* counter[kMaxTensorsPerLaunch];
  // Rule-specific per-tensor device scalar (NAdam's product of momentum
  // coefficients), or null.
  double* aux[kMaxTensorsPerLaunch];
  int count;
};

// CUDA 12.1 raised the limit on a kernel's parameters from 4 KB to 32,764 bytes.
static_assert(sizeof(TensorBatch<5>) + 256 <= 32764, "a launch's metadata exceeds the parameter limit");

template <int Depth>
__device__ __forceinline__ std::int64_t step_of(const TensorBatch<Depth>& batch, int t) {
  return batch.counter[t] != nullptr ? *batch.counter[t] + 1 : batch.step[t];
}

// The tensor that owns `chunk`: the last t with chunk_begin[t] <= chunk. An
// empty tensor has chunk_begin[t] == chunk_begin[t + 1], so it is never chosen.
template <int Depth>
__device__ __forceinline__ int tensor_of_chunk(const TensorBatch<Depth>& batch,
                                               std::int64_t chunk) {
  int low = 0;
  int high = batch.count - 1;
  while (low < high) {
    const int mid = (low + high + 1) / 2;
    if (batch.chunk_begin[mid] <= chunk) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

// The gradient factor of a step. It combines a host factor (1 / grad_scale,
// negated to maximize) with an optional global-norm clip computed from the sum
// of squares that the statistics kernel left on the device. An optional
// non-finite flag, also on the device, turns the whole step into a no-op, so
// a step never waits for the host.
struct StepControl {
  double grad_factor = 1.0;
  double inv_scale = 1.0;  // 1 / grad_scale, to unscale the norm before clipping
  double max_norm = -1.0;  // negative: no clipping
  const double* sumsq = nullptr;
  const unsigned* nonfinite = nullptr;  // null: no check
  // One counter per launch for the last-block step advance; null when no
  // tensor has a device step counter. Each starts at 0 and is reset to 0.
  unsigned* done = nullptr;
};

// The factor every gradient element is multiplied by. The clip follows
// torch.nn.utils.clip_grad_norm_: max_norm / (norm + 1e-6), never above 1.
__device__ __forceinline__ double step_factor(const StepControl& control) {
  double factor = control.grad_factor;
  if (control.max_norm >= 0.0) {
    const double norm = sqrt(*control.sumsq) * control.inv_scale;
    factor *= fmin(1.0, control.max_norm / (norm + 1e-6));
  }
  return factor;
}

__device__ __forceinline__ bool step_skipped(const StepControl& control) {
  return control.nonfinite != nullptr && *control.nonfinite != 0u;
}

// Called by every thread of every block at the end of a launch. The last
// block to finish advances the device step counters of the batch (and
// calls rule.advance for rule-specific scalars): every other block has read
// them by then, because a block counts itself done only after its last read.
template <int Depth, typename Rule>
__device__ void advance_if_last_block(const TensorBatch<Depth>& batch, const StepControl& control,
                                      const Rule& rule) {
  if (control.done == nullptr) return;
  __shared__ bool is_last;
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    const unsigned finished = atomicAdd(control.done, 1u);
    is_last = finished == gridDim.x - 1;
  }
  __syncthreads();
  if (!is_last) return;
  for (int t = threadIdx.x; t < batch.count; t += blockDim.x) {
    rule.advance(batch, t);
    if (batch.counter[t] != nullptr) *batch.counter[t] += 1;
  }
  if (threadIdx.x == 0) *control.done = 0u;
}

// Per-tensor arguments of one call, as Python passes them: the address of
// each role's tensor (0 where a role is unused), the sizes, the host step
// numbers and the device step counters (0 where the host step is used).
struct TensorArgs {
  std::vector<std::vector<std::uintptr_t>> pointers;
  std::vector<std::int64_t> numel;
  std::vector<std::int64_t> steps;
  std::vector<std::uintptr_t> counters;
  std::vector<std::uintptr_t> aux;

  std::size_t size() const { return numel.size(); }

  void check(std::size_t depth) const {
    const std::size_t n = numel.size();
    if (pointers.size() != depth) {
      throw pybind11::value_error("pointers: expected " + std::to_string(depth) +
                                  " lists (one per role), got " +
                                  std::to_string(pointers.size()));
    }
    for (std::size_t r = 0; r < depth; ++r) {
      if (pointers[r].size() != n) {
        throw pybind11::value_error("pointers[" + std::to_string(r) + "]: expected " +
                                    std::to_string(n) + " addresses to match numel, got " +
                                    std::to_string(pointers[r].size()));
      }
    }
    if (steps.size() != n || counters.size() != n) {
      throw pybind11::value_error("steps, counters: expected " + std::to_string(n) +
                                  " entries each, got " + std::to_string(steps.size()) + " and " +
                                  std::to_string(counters.size()));
    }
    if (!aux.empty() && aux.size() != n) {
      throw pybind11::value_error("aux: expected " + std::to_string(n) + " addresses, got " +
                                  std::to_string(aux.size()));
    }
    for (std::size_t t = 0; t < n; ++t) {
      if (numel[t] < 0) {
        throw pybind11::value_error("numel[" + std::to_string(t) + "]: expected >= 0, got " +
                                    std::to_string(numel[t]));
      }
    }
  }
};

// Number of launches a call over n tensors makes at most: the size of the
// done-counter array that Python allocates for it.
inline std::int64_t max_launches(std::int64_t n) {
  return (n + kMaxTensorsPerLaunch - 1) / kMaxTensorsPerLaunch;
}

// Splits args into batches and calls launch(batch, total_chunks, index) for
// each. A tensor with no elements and no device scalars is left out; one with
// device scalars stays, so its step still counts.
template <int Depth, typename Launch>
void for_each_batch(const TensorArgs& args, Launch&& launch) {
  args.check(Depth);
  TensorBatch<Depth> batch{};
  std::int64_t chunks = 0;
  int index = 0;
  auto flush = [&]() {
    batch.chunk_begin[batch.count] = chunks;
    launch(batch, chunks, index);
    ++index;
    batch = TensorBatch<Depth>{};
    chunks = 0;
  };
  for (std::size_t t = 0; t < args.size(); ++t) {
    const std::uintptr_t aux = args.aux.empty() ? 0 : args.aux[t];
    if (args.numel[t] == 0 && args.counters[t] == 0 && aux == 0) continue;
    const int k = batch.count;
    for (int r = 0; r < Depth; ++r) batch.ptr[r][k] = device_pointer<void>(args.pointers[r][t]);
    batch.numel[k] = args.numel[t];
    batch.chunk_begin[k] = chunks;
    batch.step[k] = args.steps[t];
    batch.counter[k] = device_pointer<std::int64_t>(args.counters[t]);
    batch.aux[k] = device_pointer<double>(aux);
    chunks += (args.numel[t] + kChunk - 1) / kChunk;
    batch.count = k + 1;
    if (batch.count == kMaxTensorsPerLaunch) flush();
  }
  if (batch.count > 0) flush();
}

// Blocks for a launch over `chunks` chunks: enough to fill every SM, and at
// least one so that the last block can still advance step counters.
inline unsigned grid_for_chunks(std::int64_t chunks) {
  int device = 0;
  int sms = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
             "cudaDeviceGetAttribute");
  const std::int64_t cap = static_cast<std::int64_t>(sms) * 8;
  std::int64_t blocks = chunks < cap ? chunks : cap;
  if (blocks < 1) blocks = 1;
  return static_cast<unsigned>(blocks);
}

}  // namespace fastopt::cuda
