// Shared definitions for the header-only layer: compiled by the host compiler
// for the CPU kernels and by nvcc for the CUDA kernels.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define FASTOPT_HD __host__ __device__ __forceinline__
#else
#define FASTOPT_HD inline __attribute__((always_inline))
#endif

namespace fastopt {

// Weight-decay mode of an update: none, an L2 term added to the gradient
// (torch's weight_decay), or decay decoupled from the gradient (AdamW).
enum class Decay : int { none = 0, l2 = 1, decoupled = 2 };

template <typename T>
FASTOPT_HD T sqrt_(T x) {
  return std::sqrt(x);
}

// torch.lerp(start, end, w) evaluates this way, switching formula at w = 0.5
// so that w = 1 returns end exactly; torch's Adam, RAdam and NAdam update
// their first moment with it, and matching the rounding keeps fastopt within
// a few ulps of torch over hundreds of steps.
template <typename T>
FASTOPT_HD T lerp(T start, T end, T weight) {
  T diff = end - start;
  return weight < T(0.5) ? start + weight * diff : end - diff * (T(1) - weight);
}

}  // namespace fastopt
