// Deterministic block reductions shared by the L-BFGS and GLM kernels.
//
// A vector of n elements is cut into chunks of kChunk elements, one chunk per
// block of kReduceThreads threads. Each thread sums its kPerThread elements in
// index order, the block combines the threads by a fixed shared-memory tree and
// writes one partial per chunk; a second kernel sums the partials of each
// quantity in chunk order. The chunk size and the block size are constants, not
// launch choices, and no float atomics are used, so every sum depends only on n
// and the data.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/launch.cuh"

namespace fastopt::cuda {

inline constexpr int kReduceThreads = 256;
inline constexpr int kPerThread = 8;
inline constexpr std::int64_t kChunk = std::int64_t(kReduceThreads) * kPerThread;

inline std::int64_t chunk_count(std::int64_t n) {
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  return chunks < 1 ? 1 : chunks;
}

enum class Combine : int { sum = 0, max = 1 };

// Sum, or max propagating NaN (a NaN in any element makes the max NaN).
__device__ __forceinline__ double combine(Combine op, double a, double b) {
  if (op == Combine::sum) return a + b;
  return (a != a || a > b) ? a : b;
}

// Combines one value per thread of the block by a fixed tree; every thread
// gets the result. Every thread of the block must call it with the same op.
__device__ __forceinline__ double block_combine(double* shared, double value, Combine op) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int width = kReduceThreads / 2; width > 0; width /= 2) {
    if (static_cast<int>(threadIdx.x) < width) {
      shared[threadIdx.x] = combine(op, shared[threadIdx.x], shared[threadIdx.x + width]);
    }
    __syncthreads();
  }
  const double result = shared[0];
  __syncthreads();  // the caller may reuse `shared` right away
  return result;
}

namespace {

// One block per quantity q: out[q] = the combination of partials[q * chunks
// + c] over the chunks c, each thread taking a strided slice in order.
__global__ void combine_partials_kernel(const double* partials, std::int64_t chunks, Combine op,
                                        double* out) {
  __shared__ double shared[kReduceThreads];
  const double* row = partials + blockIdx.x * chunks;
  double acc = op == Combine::sum ? 0.0 : -1.0;
  for (std::int64_t c = threadIdx.x; c < chunks; c += kReduceThreads) acc = combine(op, acc, row[c]);
  const double total = block_combine(shared, acc, op);
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

}  // namespace

// Combines `quantities` consecutive rows of `chunks` partials into out[0..quantities).
// The max starts from -1, so it suits non-negative values (absolute values, flags).
inline void combine_partials(const double* partials, std::int64_t chunks, int quantities,
                             Combine op, double* out, cudaStream_t stream) {
  if (quantities <= 0) return;
  combine_partials_kernel<<<quantities, kReduceThreads, 0, stream>>>(partials, chunks, op, out);
  check_launch("combine_partials_kernel");
}

}  // namespace fastopt::cuda
