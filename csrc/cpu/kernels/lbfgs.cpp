// L-BFGS search direction d = -H g by the compact representation of Byrd,
// Nocedal and Schnabel (1994), "Representations of quasi-Newton matrices and
// their use in limited memory methods", Math. Programming 63, eq. (3.13):
//
//   H = gamma I + [S  gamma Y] [ R^-T (D + gamma Y'Y) R^-1   -R^-T ] [ S'       ]
//                              [ -R^-1                         0   ] [ gamma Y' ]
//
// with R the upper triangle of S'Y (R_ab = s_a'y_b for a <= b in time order)
// and D its diagonal. S'Y and Y'Y are cached across calls, and only the
// column of the newest pair is computed, inside the pass below.
//
// Memory traffic per call, with k active pairs of n elements of b bytes:
//   pass 1 reads S, Y and g to form S'g and Y'g (and S'y_new, Y'y_new):
//          (2k + 1) n b bytes;
//   pass 2 reads S, Y and g, writes d and sums g'd from the d still in cache:
//          (2k + 2) n b bytes.
// In all (4k + 3) n b bytes, 3.44e9 bytes for k = 10, n = 1e7, float64. The
// history is read twice, which is the minimum for any method whose
// direction depends on all inner products S'g and Y'g. lbfgs_pair adds 6 n b
// bytes per accepted pair (reads x_new, x, g_new, g and writes s, y).
//
// Both passes are memory bound: with 2 threads on a shared 2-core AVX2 machine,
// n = 1e6 and k = 10, each call took 0.9 to 1.07 times the time of
// fastopt._core.roofline_read over the same (4k + 3) n b bytes, measured
// interleaved with it (medians of 15), in float64 and float32.
//
// Reductions use fixed blocks of kLbfgsBlock elements and eight partial sums
// per block in a fixed lane order, combined in block order, so every thread
// count and every ISA build returns the same bits. Per element, pass 2 sums
// in float64 in a fixed order and rounds once to the storage type.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#ifdef __AVX__
#include <immintrin.h>
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/threads.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

constexpr int kLanes = 8;
// Pass 2 accumulates this many elements at a time in a float64 buffer that
// stays in L1 while each history row streams through it. The trial kernel
// forms its output in an L1 buffer of this many elements too.
constexpr std::int64_t kCombineChunk = 2048;

inline double lane_sum(const double* acc) {
  double s = 0.0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

// Four float64 lanes as one value. With GCC and Clang the vector extension
// compiles to one SIMD register (two on the baseline build); the arithmetic is
// the same lane by lane on every build, so the results are too.
#if defined(__GNUC__) || defined(__clang__)
// These helpers are inlined, so the baseline build's note that passing a
// 32-byte vector by value has no AVX calling convention does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double F64x4 __attribute__((vector_size(32)));
typedef float F32x4 __attribute__((vector_size(16)));
inline F64x4 load4(const double* p) {
  F64x4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline F64x4 load4(const float* p) {
#ifdef __AVX__
  // GCC 12 splits __builtin_convertvector into two 128-bit conversions
  // through the stack; the intrinsic is one instruction. Both are exact.
  return reinterpret_cast<F64x4>(_mm256_cvtps_pd(_mm_loadu_ps(p)));
#else
  F32x4 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, F64x4);
#endif
}
inline void store4(double* p, F64x4 v) { std::memcpy(p, &v, sizeof v); }
#else
struct F64x4 {
  double v[4] = {};
  F64x4& operator+=(const F64x4& o) {
    for (int l = 0; l < 4; ++l) v[l] += o.v[l];
    return *this;
  }
  friend F64x4 operator-(const F64x4& a, const F64x4& b) {
    F64x4 r;
    for (int l = 0; l < 4; ++l) r.v[l] = a.v[l] - b.v[l];
    return r;
  }
  friend F64x4 operator*(const F64x4& a, const F64x4& b) {
    F64x4 r;
    for (int l = 0; l < 4; ++l) r.v[l] = a.v[l] * b.v[l];
    return r;
  }
  friend F64x4 operator*(double a, const F64x4& b) {
    F64x4 r;
    for (int l = 0; l < 4; ++l) r.v[l] = a * b.v[l];
    return r;
  }
};
template <typename T>
inline F64x4 load4(const T* p) {
  F64x4 r;
  for (int l = 0; l < 4; ++l) r.v[l] = static_cast<double>(p[l]);
  return r;
}
inline void store4(double* p, F64x4 v) { std::memcpy(p, &v, sizeof v); }
#endif

// Writes the eight lanes of (lo, hi) to lanes[0..7].
inline void spill(F64x4 lo, F64x4 hi, double* lanes) {
  store4(lanes, lo);
  store4(lanes + 4, hi);
}

#if defined(__GNUC__) || defined(__clang__)
inline F64x4 vabs(F64x4 a) { return a < 0.0 ? -a : a; }
inline F64x4 vmax(F64x4 a, F64x4 b) { return a > b ? a : b; }
#else
inline F64x4 vabs(F64x4 a) {
  for (int l = 0; l < 4; ++l) a.v[l] = std::fabs(a.v[l]);
  return a;
}
inline F64x4 vmax(F64x4 a, F64x4 b) {
  for (int l = 0; l < 4; ++l) a.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l];
  return a;
}
#endif

// Arrays of at least this many bytes are written with non-temporal stores: a
// normal store first reads each destination cache line from memory, which for
// an array far larger than the cache is a wasted pass, and the next kernel
// finds none of it in the cache anyway.
// NOTE: 32 MiB is an estimate above the last-level cache of common desktop and
// server parts, not a measured crossover.
constexpr std::int64_t kStreamMinBytes = std::int64_t{32} << 20;

template <typename T>
inline bool use_stream(std::int64_t n) {
  return n * static_cast<std::int64_t>(sizeof(T)) >= kStreamMinBytes;
}

// Copies len elements from src (a small buffer in L1) to dst with
// non-temporal stores where dst is 16-byte aligned. The bytes are copied
// unchanged, so the values are those of a normal store. Callers end their
// parallel region with store_fence() before another thread reads dst.
template <typename T>
inline void stream_store(T* __restrict dst, const T* __restrict src, std::int64_t len) {
#ifdef __SSE2__
  char* out = reinterpret_cast<char*>(dst);
  const char* in = reinterpret_cast<const char*>(src);
  const std::int64_t bytes = len * static_cast<std::int64_t>(sizeof(T));
  std::int64_t head = static_cast<std::int64_t>((16 - reinterpret_cast<std::uintptr_t>(out) % 16) % 16);
  head = std::min(head, bytes);
  std::memcpy(out, in, static_cast<std::size_t>(head));
  std::int64_t i = head;
  for (; i + 16 <= bytes; i += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
  }
  std::memcpy(out + i, in + i, static_cast<std::size_t>(bytes - i));
#else
  std::memcpy(dst, src, static_cast<std::size_t>(len) * sizeof(T));
#endif
}

// Orders this thread's non-temporal stores before its later stores, so that
// the barrier at the end of a parallel region publishes them.
inline void store_fence() {
#ifdef __SSE2__
  _mm_sfence();
#endif
}

// Inner products of one pair (s_a, y_a) with g, and with v = y_new when kNew,
// over one block: out = [s'g, s'v, y'g, y'v] (or [s'g, y'g]). Element i of the
// block goes to lane i % kLanes of each sum, so every ISA build and thread
// count adds the same numbers in the same order; the lanes are summed in lane
// order. Reading both rows of the pair in one loop streams them together and
// loads each element of g and v once for both.
template <typename T, bool kNew>
void pair_dots_block(const T* __restrict s, const T* __restrict y, const T* __restrict g,
                     const T* __restrict v, std::int64_t len, double* out) {
  static_assert(kLanes == 8, "the loop below holds the lanes in two 4-wide values");
  F64x4 sg0{}, sg1{}, sv0{}, sv1{}, yg0{}, yg1{}, yv0{}, yv1{};
  std::int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes) {
    const F64x4 s0 = load4(s + i), s1 = load4(s + i + 4);
    const F64x4 y0 = load4(y + i), y1 = load4(y + i + 4);
    const F64x4 g0 = load4(g + i), g1 = load4(g + i + 4);
    sg0 += s0 * g0;
    sg1 += s1 * g1;
    yg0 += y0 * g0;
    yg1 += y1 * g1;
    if constexpr (kNew) {
      const F64x4 v0 = load4(v + i), v1 = load4(v + i + 4);
      sv0 += s0 * v0;
      sv1 += s1 * v1;
      yv0 += y0 * v0;
      yv1 += y1 * v1;
    }
  }
  double sg[kLanes], sv[kLanes], yg[kLanes], yv[kLanes];
  spill(sg0, sg1, sg);
  spill(sv0, sv1, sv);
  spill(yg0, yg1, yg);
  spill(yv0, yv1, yv);
  for (int l = 0; i < len; ++i, ++l) {
    const double si = static_cast<double>(s[i]);
    const double yi = static_cast<double>(y[i]);
    const double gi = static_cast<double>(g[i]);
    sg[l] += si * gi;
    yg[l] += yi * gi;
    if constexpr (kNew) {
      const double vi = static_cast<double>(v[i]);
      sv[l] += si * vi;
      yv[l] += yi * vi;
    }
  }
  if constexpr (kNew) {
    out[0] = lane_sum(sg);
    out[1] = lane_sum(sv);
    out[2] = lane_sum(yg);
    out[3] = lane_sum(yv);
  } else {
    out[0] = lane_sum(sg);
    out[1] = lane_sum(yg);
  }
}

// Runs fn(block, begin, end) for every fixed block of [0, n), spread over
// threads; each block's result goes to its own slot of the caller's scratch.
template <typename Fn>
void for_each_block(std::int64_t n, std::int64_t elements_touched, int num_threads, Fn&& fn) {
  const std::int64_t nblocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  const int threads = threads_for(elements_touched, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t j = 0; j < nblocks; ++j) {
    const std::int64_t begin = j * kLbfgsBlock;
    fn(j, begin, std::min(n, begin + kLbfgsBlock));
  }
}

// Sums `width` partial results per block, in block order.
void combine_blocks(const double* work, std::int64_t n, int width, double* out) {
  const std::int64_t nblocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  for (int c = 0; c < width; ++c) out[c] = 0.0;
  for (std::int64_t j = 0; j < nblocks; ++j)
    for (int c = 0; c < width; ++c) out[c] += work[j * width + c];
}

// Pass 1: p_s[a] = s_a'g and p_y[a] = y_a'g for the active pairs a in time
// order and, with a new pair, c_s[a] = s_a'y_new and c_y[a] = y_a'y_new.
template <typename T>
void history_dots(const LbfgsHistory& h, const T* g, int threads, double* p_s, double* p_y,
                  double* c_s, double* c_y) {
  const T* s = static_cast<const T*>(h.s);
  const T* y = static_cast<const T*>(h.y);
  const int k = h.count;
  const bool with_new = h.new_slot >= 0;
  const int per_row = with_new ? 2 : 1;
  const int width = 2 * k * per_row;
  const T* ynew = with_new ? y + h.new_slot * h.n : nullptr;
  for_each_block(h.n, (2 * k + 1) * h.n, threads, [&](std::int64_t j, std::int64_t b,
                                                      std::int64_t e) {
    double* out = h.work + j * width;
    for (int a = 0; a < k; ++a) {
      const std::int64_t row = h.order[a] * h.n + b;
      if (with_new) {
        pair_dots_block<T, true>(s + row, y + row, g + b, ynew + b, e - b, out + 4 * a);
      } else {
        pair_dots_block<T, false>(s + row, y + row, g + b, nullptr, e - b, out + 2 * a);
      }
    }
  });
  double total[4 * kLbfgsMaxHistory];
  combine_blocks(h.work, h.n, width, total);
  for (int a = 0; a < k; ++a) {
    p_s[a] = total[(2 * a) * per_row];
    p_y[a] = total[(2 * a + 1) * per_row];
    if (with_new) {
      c_s[a] = total[(2 * a) * per_row + 1];
      c_y[a] = total[(2 * a + 1) * per_row + 1];
    }
  }
}

// Pass 2: d = coef_g * g + sum_a coef_s[a] s_a + sum_a coef_y[a] y_a, summed
// per element in float64 in this order and rounded once to T. The rows are
// taken four at a time with the additions still in the order above, so the
// float64 buffer is loaded and stored once per four rows instead of once per
// row, and four row streams advance together. While d is written, the same
// pass returns g'd with the blocks and lanes of dot(), which the line search
// needs as its initial slope, so that product costs no second pass over g and d.
template <typename T>
double combine(const LbfgsHistory& h, const T* g, T* d, double coef_g, const double* coef_s,
               const double* coef_y, int num_threads) {
  static_assert(kLbfgsBlock % kCombineChunk == 0 && kCombineChunk % kLanes == 0,
                "chunks must tile a block so the g'd lanes see dot()'s element order");
  const T* s = static_cast<const T*>(h.s);
  const T* y = static_cast<const T*>(h.y);
  const int k = h.count;
  const std::int64_t n = h.n;
  const int nrows = 2 * k;
  const T* rows[2 * kLbfgsMaxHistory];
  double coef[2 * kLbfgsMaxHistory];
  for (int a = 0; a < k; ++a) {
    rows[a] = s + h.order[a] * n;
    coef[a] = coef_s[a];
    rows[k + a] = y + h.order[a] * n;
    coef[k + a] = coef_y[a];
  }
  const bool stream = use_stream<T>(n);
  for_each_block(n, (2 * k + 2) * n, num_threads,
                 [&](std::int64_t j, std::int64_t block_begin, std::int64_t block_end) {
    alignas(64) double acc[kCombineChunk];
    alignas(64) T rounded[kCombineChunk];
    F64x4 dot0{}, dot1{};
    double dot_lanes[kLanes];
    bool tail_done = false;  // the lanes were spilled to add a partial last group
    for (std::int64_t b = block_begin; b < block_end; b += kCombineChunk) {
      const std::int64_t len = std::min(kCombineChunk, block_end - b);
      const T* __restrict gb = g + b;
      for (std::int64_t i = 0; i < len; ++i) acc[i] = coef_g * static_cast<double>(gb[i]);
      int r = 0;
      for (; r + 4 <= nrows; r += 4) {
        const T* __restrict r0 = rows[r] + b;
        const T* __restrict r1 = rows[r + 1] + b;
        const T* __restrict r2 = rows[r + 2] + b;
        const T* __restrict r3 = rows[r + 3] + b;
        const double c0 = coef[r], c1 = coef[r + 1], c2 = coef[r + 2], c3 = coef[r + 3];
        std::int64_t i = 0;
        for (; i + 4 <= len; i += 4) {
          F64x4 v = load4(acc + i);
          v += c0 * load4(r0 + i);
          v += c1 * load4(r1 + i);
          v += c2 * load4(r2 + i);
          v += c3 * load4(r3 + i);
          store4(acc + i, v);
        }
        for (; i < len; ++i) {
          double v = acc[i];
          v += c0 * static_cast<double>(r0[i]);
          v += c1 * static_cast<double>(r1[i]);
          v += c2 * static_cast<double>(r2[i]);
          v += c3 * static_cast<double>(r3[i]);
          acc[i] = v;
        }
      }
      for (; r < nrows; ++r) {
        const T* __restrict r0 = rows[r] + b;
        const double c0 = coef[r];
        for (std::int64_t i = 0; i < len; ++i) acc[i] += c0 * static_cast<double>(r0[i]);
      }
      // d is rounded into an L1 buffer, summed into g'd from there and then
      // copied out, so the sum never waits for d to come back from memory.
      for (std::int64_t i = 0; i < len; ++i) rounded[i] = static_cast<T>(acc[i]);
      if (stream) {
        stream_store(d + b, rounded, len);
      } else {
        std::memcpy(d + b, rounded, static_cast<std::size_t>(len) * sizeof(T));
      }
      // Every chunk but a block's last has a multiple of kLanes elements, so the
      // lanes continue across chunks exactly as in dot()'s single loop.
      std::int64_t i = 0;
      for (; i + kLanes <= len; i += kLanes) {
        dot0 += load4(gb + i) * load4(rounded + i);
        dot1 += load4(gb + i + 4) * load4(rounded + i + 4);
      }
      if (i < len) {
        spill(dot0, dot1, dot_lanes);
        for (int l = 0; i < len; ++i, ++l)
          dot_lanes[l] += static_cast<double>(gb[i]) * static_cast<double>(rounded[i]);
        tail_done = true;
      }
    }
    if (!tail_done) spill(dot0, dot1, dot_lanes);
    h.work[j] = lane_sum(dot_lanes);
    if (stream) store_fence();
  });
  const std::int64_t nblocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  double total = 0.0;
  for (std::int64_t j = 0; j < nblocks; ++j) total += h.work[j];
  return total;
}

// Writes d = -H g and returns g'd.
template <typename T>
double direction(const LbfgsHistory& h, const T* g, T* d, int threads) {
  const int k = h.count;
  const double gamma = h.gamma;
  if (k == 0) return combine<T>(h, g, d, -gamma, nullptr, nullptr, threads);
  // The binding checks k <= kLbfgsMaxHistory, so fixed arrays suffice.
  double p_s[kLbfgsMaxHistory], p_y[kLbfgsMaxHistory];
  double c_s[kLbfgsMaxHistory], c_y[kLbfgsMaxHistory];
  history_dots<T>(h, g, threads, p_s, p_y, c_s, c_y);
  const int slots = h.slots;
  if (h.new_slot >= 0) {
    const int p = h.new_slot;
    for (int a = 0; a < k; ++a) {
      const std::int64_t i = h.order[a];
      h.sy[i * slots + p] = c_s[a];
      h.yy[i * slots + p] = c_y[a];
      h.yy[p * slots + i] = c_y[a];
    }
  }
  auto R = [&](int a, int b) { return h.sy[h.order[a] * slots + h.order[b]]; };
  auto YY = [&](int a, int b) { return h.yy[h.order[a] * slots + h.order[b]]; };

  // t = R^-1 S'g by back substitution.
  double t[kLbfgsMaxHistory];
  for (int b = k - 1; b >= 0; --b) {
    double v = p_s[b];
    for (int c = b + 1; c < k; ++c) v -= R(b, c) * t[c];
    t[b] = v / R(b, b);
  }
  // u = (D + gamma Y'Y) t - gamma Y'g, then w = R^-T u by forward substitution.
  double w[kLbfgsMaxHistory];
  for (int a = 0; a < k; ++a) {
    double u = R(a, a) * t[a];
    for (int c = 0; c < k; ++c) u += gamma * YY(a, c) * t[c];
    u -= gamma * p_y[a];
    for (int c = 0; c < a; ++c) u -= R(c, a) * w[c];
    w[a] = u / R(a, a);
  }
  // H g = gamma g + S w - gamma Y t, so d = -gamma g - S w + gamma Y t.
  double coef_s[kLbfgsMaxHistory], coef_y[kLbfgsMaxHistory];
  for (int a = 0; a < k; ++a) {
    coef_s[a] = -w[a];
    coef_y[a] = gamma * t[a];
  }
  return combine<T>(h, g, d, -gamma, coef_s, coef_y, threads);
}

template <typename T>
LbfgsPairDots pair(std::int64_t n, const T* x_new, const T* x, const T* g_new, const T* g, T* s,
                   T* y, double* work, int num_threads) {
  for_each_block(n, 6 * n, num_threads, [&](std::int64_t j, std::int64_t b, std::int64_t e) {
    double sy[kLanes] = {}, yy[kLanes] = {}, ss[kLanes] = {};
    auto accumulate = [&](std::int64_t i, int l) {
      const T si = x_new[i] - x[i];
      const T yi = g_new[i] - g[i];
      s[i] = si;
      y[i] = yi;
      const double sd = static_cast<double>(si);
      const double yd = static_cast<double>(yi);
      sy[l] += sd * yd;
      yy[l] += yd * yd;
      ss[l] += sd * sd;
    };
    std::int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int l = 0; l < kLanes; ++l) accumulate(i + l, l);
    for (int l = 0; i < e; ++i, ++l) accumulate(i, l);
    double* out = work + j * 3;
    out[0] = lane_sum(sy);
    out[1] = lane_sum(yy);
    out[2] = lane_sum(ss);
  });
  double total[3];
  combine_blocks(work, n, 3, total);
  LbfgsPairDots dots;
  dots.sy = total[0];
  dots.yy = total[1];
  dots.ss = total[2];
  dots.finite = std::isfinite(dots.sy) && std::isfinite(dots.yy) && std::isfinite(dots.ss);
  return dots;
}

// out = P(x + step d) in T arithmetic (the product rounded to T, then the
// sum), with P the clip to [lower, upper] when bounds are given. Element-wise,
// so the split over threads does not change any bit.
template <typename T, bool kClip>
void trial(std::int64_t n, const T* __restrict x, const T* __restrict d, T step,
           const T* __restrict lower, const T* __restrict upper, T* __restrict out,
           int num_threads) {
  const bool stream = use_stream<T>(n);
  auto run_share = [&](int t, int nt) {
    const std::int64_t lo = share_begin(n, t, nt);
    const std::int64_t hi = share_begin(n, t + 1, nt);
    alignas(64) T buffer[kCombineChunk];
    for (std::int64_t b = lo; b < hi; b += kCombineChunk) {
      const std::int64_t len = std::min(kCombineChunk, hi - b);
      T* __restrict dst = stream ? buffer : out + b;
      for (std::int64_t i = 0; i < len; ++i) {
        T v = x[b + i] + step * d[b + i];
        if constexpr (kClip) {
          // The order of np.clip: the lower bound first, then the upper; a NaN stays NaN.
          v = v < lower[b + i] ? lower[b + i] : v;
          v = v > upper[b + i] ? upper[b + i] : v;
        }
        dst[i] = v;
      }
      if (stream) stream_store(out + b, buffer, len);
    }
    if (stream) store_fence();
  };
  run_shares(threads_for(3 * n, num_threads), run_share);
}

// One pass over a gradient just evaluated: copies g into out (unless they are
// the same array), and returns g'd (with d), max |g_i| and whether every g_i
// is finite. g'd uses the fixed blocks and lanes of the direction kernel.
template <typename T, bool kCopy, bool kDot>
LbfgsGradientStats gradient(std::int64_t n, const T* g, T* out, const T* d, double* work,
                            int num_threads) {
  const bool stream = kCopy && use_stream<T>(n);
  for_each_block(n, (kCopy ? 3 : 1) * n, num_threads,
                 [&](std::int64_t j, std::int64_t b, std::int64_t e) {
    const T* __restrict gb = g + b;
    const T* __restrict db = kDot ? d + b : nullptr;
    const std::int64_t len = e - b;
    F64x4 dot0{}, dot1{}, bad0{}, bad1{}, big0{}, big1{};
    std::int64_t i = 0;
    if constexpr (kCopy) {
      if (stream) stream_store(out + b, gb, len);
    }
    for (; i + kLanes <= len; i += kLanes) {
      const F64x4 g0 = load4(gb + i), g1 = load4(gb + i + 4);
      if constexpr (kCopy) {
        if (!stream) std::memcpy(out + b + i, gb + i, kLanes * sizeof(T));
      }
      if constexpr (kDot) {
        dot0 += g0 * load4(db + i);
        dot1 += g1 * load4(db + i + 4);
      }
      // g - g is 0 for a finite g and NaN otherwise, so the sum flags any
      // inf or NaN; the largest |g| needs no order.
      bad0 += g0 - g0;
      bad1 += g1 - g1;
      big0 = vmax(big0, vabs(g0));
      big1 = vmax(big1, vabs(g1));
    }
    double dot[kLanes], bad[kLanes], big[kLanes];
    spill(dot0, dot1, dot);
    spill(bad0, bad1, bad);
    spill(big0, big1, big);
    for (int l = 0; i < len; ++i, ++l) {
      const double gi = static_cast<double>(gb[i]);
      if constexpr (kCopy) {
        if (!stream) out[b + i] = gb[i];
      }
      if constexpr (kDot) dot[l] += gi * static_cast<double>(db[i]);
      bad[l] += gi - gi;
      big[l] = std::max(big[l], std::fabs(gi));
    }
    double* w = work + j * 3;
    w[0] = lane_sum(dot);
    w[1] = lane_sum(bad);
    double m = 0.0;
    for (int l = 0; l < kLanes; ++l) m = std::max(m, big[l]);
    w[2] = m;
    if (kCopy && stream) store_fence();
  });
  const std::int64_t nblocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  LbfgsGradientStats stats;
  double bad = 0.0;
  for (std::int64_t j = 0; j < nblocks; ++j) {
    stats.dot += work[j * 3];
    bad += work[j * 3 + 1];
    stats.inf_norm = std::max(stats.inf_norm, work[j * 3 + 2]);
  }
  stats.finite = bad == 0.0;
  if (!stats.finite) stats.inf_norm = std::numeric_limits<double>::quiet_NaN();
  return stats;
}

// a'b with the fixed blocks and lanes of the direction kernel.
template <typename T>
double dot(std::int64_t n, const T* a, const T* b, double* work, int num_threads) {
  for_each_block(n, 2 * n, num_threads, [&](std::int64_t j, std::int64_t lo, std::int64_t hi) {
    const T* __restrict ab = a + lo;
    const T* __restrict bb = b + lo;
    const std::int64_t len = hi - lo;
    F64x4 s0{}, s1{};
    std::int64_t i = 0;
    for (; i + kLanes <= len; i += kLanes) {
      s0 += load4(ab + i) * load4(bb + i);
      s1 += load4(ab + i + 4) * load4(bb + i + 4);
    }
    double lanes[kLanes];
    spill(s0, s1, lanes);
    for (int l = 0; i < len; ++i, ++l)
      lanes[l] += static_cast<double>(ab[i]) * static_cast<double>(bb[i]);
    work[j] = lane_sum(lanes);
  });
  const std::int64_t nblocks = (n + kLbfgsBlock - 1) / kLbfgsBlock;
  double total = 0.0;
  for (std::int64_t j = 0; j < nblocks; ++j) total += work[j];
  return total;
}

}  // namespace

double lbfgs_direction(const LbfgsHistory& h, DType dtype, const void* g, void* d,
                       int num_threads) {
  double slope = 0.0;
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    slope = direction<T>(h, static_cast<const T*>(g), static_cast<T*>(d), num_threads);
  });
  return slope;
}

LbfgsPairDots lbfgs_pair(std::int64_t n, DType dtype, const void* x_new, const void* x,
                         const void* g_new, const void* g, void* s, void* y, double* work,
                         int num_threads) {
  LbfgsPairDots dots;
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    dots = pair<T>(n, static_cast<const T*>(x_new), static_cast<const T*>(x),
                   static_cast<const T*>(g_new), static_cast<const T*>(g), static_cast<T*>(s),
                   static_cast<T*>(y), work, num_threads);
  });
  return dots;
}

}  // namespace fastopt::cpu::FASTOPT_ISA

namespace fastopt::cpu::FASTOPT_ISA {

void lbfgs_trial(std::int64_t n, DType dtype, const void* x, const void* d, double step,
                 const void* lower, const void* upper, void* out, int num_threads) {
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* lo = static_cast<const T*>(lower);
    const T* hi = static_cast<const T*>(upper);
    const T st = static_cast<T>(step);
    if (lo != nullptr) {
      trial<T, true>(n, static_cast<const T*>(x), static_cast<const T*>(d), st, lo, hi,
                     static_cast<T*>(out), num_threads);
    } else {
      trial<T, false>(n, static_cast<const T*>(x), static_cast<const T*>(d), st, nullptr,
                      nullptr, static_cast<T*>(out), num_threads);
    }
  });
}

LbfgsGradientStats lbfgs_gradient(std::int64_t n, DType dtype, const void* g, void* out,
                                  const void* d, double* work, int num_threads) {
  LbfgsGradientStats stats;
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* gp = static_cast<const T*>(g);
    T* op = static_cast<T*>(out);
    const T* dp = static_cast<const T*>(d);
    const bool copy = static_cast<const void*>(gp) != static_cast<const void*>(op);
    if (copy && dp != nullptr) {
      stats = gradient<T, true, true>(n, gp, op, dp, work, num_threads);
    } else if (copy) {
      stats = gradient<T, true, false>(n, gp, op, dp, work, num_threads);
    } else if (dp != nullptr) {
      stats = gradient<T, false, true>(n, gp, op, dp, work, num_threads);
    } else {
      stats = gradient<T, false, false>(n, gp, op, dp, work, num_threads);
    }
  });
  return stats;
}

double lbfgs_dot(std::int64_t n, DType dtype, const void* a, const void* b, double* work,
                 int num_threads) {
  double out = 0.0;
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    out = dot<T>(n, static_cast<const T*>(a), static_cast<const T*>(b), work, num_threads);
  });
  return out;
}

}  // namespace fastopt::cpu::FASTOPT_ISA
