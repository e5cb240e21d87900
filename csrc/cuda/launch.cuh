// Helpers shared by the CUDA kernel families: turning the integers that
// Python passes into pointers and streams, checking counts and dtypes before
// a launch, sizing grids, and reporting launch errors without synchronizing.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/bind.hpp"

namespace fastopt::cuda {

// Threads per block of the elementwise kernels: a multiple of the 32-thread
// warp that keeps several blocks resident per SM on every supported GPU.
inline constexpr int kBlockSize = 512;

template <typename T>
T* device_pointer(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

inline cudaStream_t as_stream(std::uintptr_t handle) {
  return reinterpret_cast<cudaStream_t>(handle);
}

// Raises std::runtime_error (RuntimeError in Python) when a CUDA call failed.
inline void check_cuda(cudaError_t status, const char* call) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(status) + ": " +
                             cudaGetErrorString(status));
  }
}

// Reports a failed launch (bad configuration, no device, missing kernel
// image). It reads the launch error only, so it does not wait for the kernel.
// A fault inside the kernel surfaces at the caller's next synchronization, as
// with any asynchronous CUDA work.
inline void check_launch(const char* kernel) { check_cuda(cudaGetLastError(), kernel); }

// Raises ValueError when a count from Python is negative, and returns
// whether there is work to enqueue (count > 0). Callers return early on 0,
// so an empty call makes no CUDA call at all.
inline bool has_work(const char* name, std::int64_t count) {
  if (count < 0) {
    throw pybind11::value_error(std::string(name) + ": expected >= 0, got " +
                                std::to_string(count));
  }
  return count > 0;
}

// Calls launch(T{}) with T = float for dtype "float32" and T = double for
// "float64", the element types of the elementwise kernels. Raises TypeError
// for any other dtype.
template <typename Launch>
void with_float_type(const std::string& dtype, Launch&& launch) {
  if (dtype == "float32") {
    launch(float{});
  } else if (dtype == "float64") {
    launch(double{});
  } else {
    throw pybind11::type_error("dtype: expected float32 or float64, got " + dtype);
  }
}

// Blocks for a grid-stride loop over n elements, capped so that a launch
// over billions of elements stays a reasonable grid.
inline unsigned grid_for(std::int64_t n, int block = kBlockSize, std::int64_t max_blocks = 65535) {
  std::int64_t blocks = (n + block - 1) / block;
  if (blocks < 1) blocks = 1;
  if (blocks > max_blocks) blocks = max_blocks;
  return static_cast<unsigned>(blocks);
}

}  // namespace fastopt::cuda
