// Gradient statistics for clipping and non-finite detection, and the roofline
// kernel that benchmarks compare every update against.
#include <cstring>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Partial sums in a fixed lane order, so every ISA build and every thread
// count adds the same numbers in the same order.
constexpr int kLanes = 8;

struct SumSq {
  double sq = 0.0;
  double bad = 0.0;  // sum of (x - x): 0 while every x is finite, NaN after
  SumSq& operator+=(const SumSq& o) {
    sq += o.sq;
    bad += o.bad;
    return *this;
  }
};

template <typename T>
SumSq sumsq_block(const T* __restrict x, std::int64_t n) {
  double sq[kLanes] = {};
  double bad[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const double v = static_cast<double>(x[i + l]);
      sq[l] += v * v;
      bad[l] += v - v;
    }
  }
  for (int l = 0; i < n; ++i, ++l) {
    const double v = static_cast<double>(x[i]);
    sq[l] += v * v;
    bad[l] += v - v;
  }
  SumSq out;
  for (int l = 0; l < kLanes; ++l) {
    out.sq += sq[l];
    out.bad += bad[l];
  }
  return out;
}

// The native vector width of this build's instruction set, the width the
// update kernels' loops compile to.
#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif

// The asm constraint that puts one such vector in a register.
#if defined(__x86_64__) || defined(__i386__)
#define FASTOPT_VEC_REG "+x"
#elif defined(__aarch64__)
#define FASTOPT_VEC_REG "+w"
#else
#define FASTOPT_VEC_REG "+m"
#endif

template <typename T>
struct NativeVec;
#if defined(__GNUC__) || defined(__clang__)
template <>
struct NativeVec<float> {
  typedef float type __attribute__((vector_size(kVecBytes)));
};
template <>
struct NativeVec<double> {
  typedef double type __attribute__((vector_size(kVecBytes)));
};
#endif

// Loads every element of every buffer and stores into each of the W written
// buffers the values loaded from the buffer before it: the bytes an update
// with R read-only and W read-write buffers moves, with no arithmetic.
//
// An empty asm statement takes each loaded vector as an operand it may
// change. So the compiler keeps every load, even one whose value no store
// uses, and every store, even one that writes back the value just loaded.
// Without it, the last buffer was never loaded. Its stores then waited for
// each line's ownership read, and the roofline ran slower than the updates.
//
// Stores are ordinary. Every written line has just been read, so it is in the
// cache when stored; a non-temporal store saves no ownership read here, and on
// the benchmark machine it was slower, for the ResNet-50 and the GPT-2 groups
// of bench_torch.py alike.
//
// The loop issues no software prefetch, unlike the divide-bound update kernels
// (cpu/prefetch.hpp): it has no arithmetic for its loads to wait behind.
template <typename T, int R, int W>
void roofline_range(const TensorGroup& tg, std::int64_t k, std::int64_t b, std::int64_t e) {
  constexpr int B = R + W;
  T* buf[B];
  for (int r = 0; r < B; ++r) buf[r] = tg.ptr<T>(k, r) + b;
  const std::int64_t n = e - b;
  std::int64_t i = 0;
#if defined(__GNUC__) || defined(__clang__)
  using Vec = typename NativeVec<T>::type;
  constexpr std::int64_t kWidth = static_cast<std::int64_t>(kVecBytes / sizeof(T));
  // Each buffer is stored right after it is loaded, with the previous
  // buffer's values, so only two vectors are live and none is spilled to the
  // stack. Without a read-only buffer the first one takes the last values.
  auto copy_vector = [&](std::int64_t j) {
    Vec prev;
    std::memcpy(&prev, buf[0] + j, sizeof(Vec));
    __asm__ __volatile__("" : FASTOPT_VEC_REG(prev));
    for (int r = 1; r < B; ++r) {
      Vec cur;
      std::memcpy(&cur, buf[r] + j, sizeof(Vec));
      __asm__ __volatile__("" : FASTOPT_VEC_REG(cur));
      std::memcpy(buf[r] + j, &prev, sizeof(Vec));
      prev = cur;
    }
    if constexpr (R == 0) std::memcpy(buf[0] + j, &prev, sizeof(Vec));
  };
  for (; i + kWidth <= n; i += kWidth) copy_vector(i);
#endif
  for (; i < n; ++i) {
    T v[B];
    for (int r = 0; r < B; ++r) {
      v[r] = buf[r][i];
#if defined(__GNUC__) || defined(__clang__)
      __asm__ __volatile__("" : "+m"(v[r]));
#endif
    }
    for (int w = 0; w < W; ++w) buf[R + w][i] = v[(R + w + B - 1) % B];
  }
}

template <typename T, int R, int W>
void roofline_run(const TensorGroup& tg, int num_threads) {
  for_each_range(tg, num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    roofline_range<T, R, W>(tg, k, b, e);
  });
}

template <typename T, int R>
void roofline_writes(const TensorGroup& tg, int num_threads) {
  switch (tg.num_buffers - R) {
    case 1: roofline_run<T, R, 1>(tg, num_threads); break;
    case 2: roofline_run<T, R, 2>(tg, num_threads); break;
    case 3: roofline_run<T, R, 3>(tg, num_threads); break;
    case 4: roofline_run<T, R, 4>(tg, num_threads); break;
    case 5: roofline_run<T, R, 5>(tg, num_threads); break;
    default: break;
  }
}

// Sums every element of every array in T with four independent 32-byte
// partial sums held in registers, so the loop is limited by loads, not by the
// latency of one addition. The result only keeps the loads from being
// optimized away; its rounding depends on the thread count.
template <typename T>
double read_sum(const T* __restrict x, std::int64_t n) {
  std::int64_t i = 0;
  double part = 0.0;
#if defined(__GNUC__) || defined(__clang__)
  typedef T Vec __attribute__((vector_size(32)));
  constexpr int kWidth = static_cast<int>(32 / sizeof(T));
  Vec a0{}, a1{}, a2{}, a3{};
  for (; i + 4 * kWidth <= n; i += 4 * kWidth) {
    Vec v0, v1, v2, v3;
    std::memcpy(&v0, x + i, sizeof v0);
    std::memcpy(&v1, x + i + kWidth, sizeof v1);
    std::memcpy(&v2, x + i + 2 * kWidth, sizeof v2);
    std::memcpy(&v3, x + i + 3 * kWidth, sizeof v3);
    a0 += v0;
    a1 += v1;
    a2 += v2;
    a3 += v3;
  }
  a0 += a1 + a2 + a3;
  for (int l = 0; l < kWidth; ++l) part += static_cast<double>(a0[l]);
#endif
  for (; i < n; ++i) part += static_cast<double>(x[i]);
  return part;
}

}  // namespace

GradStats grad_stats(const TensorGroup& tg, DType dtype, int num_threads) {
  GradStats stats;
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto sums = reduce_per_tensor<SumSq>(
        tg, num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
          return sumsq_block<T>(tg.ptr<T>(k, 0) + b, e - b);
        });
    SumSq total;
    for (const SumSq& s : sums) total += s;
    stats.sumsq = total.sq;
    // NOTE: float64 gradients whose norm exceeds ~1e154 overflow sumsq to
    // inf while every element is finite; they are reported finite with an
    // infinite norm.
    stats.finite = total.bad == 0.0;
  });
  return stats;
}

// Reads every element of the group once; see read_sum.
double roofline_read(const TensorGroup& tg, DType dtype, int num_threads) {
  double total = 0.0;
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    for_each_range(tg, num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
      const double part = read_sum<T>(tg.ptr<T>(k, 0) + b, e - b);
#ifdef _OPENMP
#pragma omp atomic
#endif
      total += part;
    });
  });
  return total;
}

// Callers guarantee 0 <= num_read_only <= 1 and 1 <= writes <= 5.
void roofline(const TensorGroup& tg, DType dtype, int num_read_only, int num_threads) {
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    if (num_read_only == 0) {
      roofline_writes<T, 0>(tg, num_threads);
    } else {
      roofline_writes<T, 1>(tg, num_threads);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
