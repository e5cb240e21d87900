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
//   pass 2 reads S, Y and g and writes d: (2k + 2) n b bytes.
// In all (4k + 3) n b bytes, 3.44e9 bytes for k = 10, n = 1e7, float64. The
// history is read twice, which is the minimum for any method whose
// direction depends on all inner products S'g and Y'g. lbfgs_pair adds 6 n b
// bytes per accepted pair (reads x_new, x, g_new, g and writes s, y).
//
// NOTE: not yet tuned. On a shared 2-core AVX2 machine, n = 1e6 and k = 10 took 64 ms in
// float64 (5.4 GB/s of the bytes above) and 60 ms in float32, so the kernel is compute
// bound there; the vectorization of dots_block and combine has not been checked.
//
// Reductions use fixed blocks of kLbfgsBlock elements and eight partial sums
// per block in a fixed lane order, combined in block order, so every thread
// count and every ISA build returns the same bits. Per element, pass 2 sums
// in float64 in a fixed order and rounds once to the storage type.
#include <algorithm>
#include <cmath>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/threads.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

constexpr int kLanes = 8;
// Pass 2 accumulates this many elements at a time in a float64 buffer that
// stays in L1 while each history row streams through it.
constexpr std::int64_t kCombineChunk = 512;

inline double lane_sum(const double* acc) {
  double s = 0.0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

// out[0] += a'g and, when v is not null, out[1] += a'v over one block.
template <typename T>
void dots_block(const T* __restrict a, const T* __restrict g, const T* __restrict v,
                std::int64_t len, double* out) {
  double ag[kLanes] = {};
  std::int64_t i = 0;
  if (v != nullptr) {
    double av[kLanes] = {};
    for (; i + kLanes <= len; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const double x = static_cast<double>(a[i + l]);
        ag[l] += x * static_cast<double>(g[i + l]);
        av[l] += x * static_cast<double>(v[i + l]);
      }
    }
    for (int l = 0; i < len; ++i, ++l) {
      const double x = static_cast<double>(a[i]);
      ag[l] += x * static_cast<double>(g[i]);
      av[l] += x * static_cast<double>(v[i]);
    }
    out[1] = lane_sum(av);
  } else {
    for (; i + kLanes <= len; i += kLanes) {
      for (int l = 0; l < kLanes; ++l)
        ag[l] += static_cast<double>(a[i + l]) * static_cast<double>(g[i + l]);
    }
    for (int l = 0; i < len; ++i, ++l) ag[l] += static_cast<double>(a[i]) * static_cast<double>(g[i]);
  }
  out[0] = lane_sum(ag);
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
      const std::int64_t row = h.order[a] * h.n;
      const T* vb = with_new ? ynew + b : nullptr;
      dots_block<T>(s + row + b, g + b, vb, e - b, out + (2 * a) * per_row);
      dots_block<T>(y + row + b, g + b, vb, e - b, out + (2 * a + 1) * per_row);
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
// per element in float64 in this order.
template <typename T>
void combine(const LbfgsHistory& h, const T* g, T* d, double coef_g, const double* coef_s,
             const double* coef_y, int num_threads) {
  const T* s = static_cast<const T*>(h.s);
  const T* y = static_cast<const T*>(h.y);
  const int k = h.count;
  const std::int64_t n = h.n;
  auto run_share = [&](int t, int nt) {
    const std::int64_t lo = share_begin(n, t, nt);
    const std::int64_t hi = share_begin(n, t + 1, nt);
    double acc[kCombineChunk];
    for (std::int64_t b = lo; b < hi; b += kCombineChunk) {
      const std::int64_t len = std::min(kCombineChunk, hi - b);
      for (std::int64_t i = 0; i < len; ++i) acc[i] = coef_g * static_cast<double>(g[b + i]);
      for (int a = 0; a < k; ++a) {
        const T* row = s + h.order[a] * n + b;
        const double c = coef_s[a];
        for (std::int64_t i = 0; i < len; ++i) acc[i] += c * static_cast<double>(row[i]);
      }
      for (int a = 0; a < k; ++a) {
        const T* row = y + h.order[a] * n + b;
        const double c = coef_y[a];
        for (std::int64_t i = 0; i < len; ++i) acc[i] += c * static_cast<double>(row[i]);
      }
      for (std::int64_t i = 0; i < len; ++i) d[b + i] = static_cast<T>(acc[i]);
    }
  };
  const int threads = threads_for((2 * k + 2) * n, num_threads);
  if (threads <= 1) {
    run_share(0, 1);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  run_share(omp_get_thread_num(), omp_get_num_threads());
#else
  run_share(0, 1);
#endif
}

template <typename T>
void direction(const LbfgsHistory& h, const T* g, T* d, int threads) {
  const int k = h.count;
  const double gamma = h.gamma;
  if (k == 0) {
    combine<T>(h, g, d, -gamma, nullptr, nullptr, threads);
    return;
  }
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
  combine<T>(h, g, d, -gamma, coef_s, coef_y, threads);
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

}  // namespace

void lbfgs_direction(const LbfgsHistory& h, DType dtype, const void* g, void* d,
                     int num_threads) {
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    direction<T>(h, static_cast<const T*>(g), static_cast<T*>(d), num_threads);
  });
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
