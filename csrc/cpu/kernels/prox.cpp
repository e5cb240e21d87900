// Proximal maps and fused proximal gradient steps, one pass over memory:
// out_i = prox_{t h}(x_i - t grad_i), or prox_{t h}(x_i) without a gradient.
// The element-wise penalties compute in the storage type, in the order that
// the formulas in fastopt.prox read, so every thread count gives the same
// bits. Group norms are each summed by one thread in a fixed lane order.
#include <algorithm>
#include <cmath>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "fastopt/prox.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// A per-coordinate parameter read inside the loop: one value everywhere, or
// an array, optionally multiplied by the step (threshold_i = t * l1_i).
template <typename T>
struct Uniform {
  T value;
  T operator()(std::int64_t) const { return value; }
};

template <typename T>
struct Scaled {
  const T* values;
  T scale;
  T operator()(std::int64_t i) const { return scale * values[i]; }
};

template <typename T>
struct Elements {
  const T* values;
  T operator()(std::int64_t i) const { return values[i]; }
};

// Calls f with Uniform{t * scalar} or Scaled{values, t}: a threshold or
// shrinkage of the penalty times the step. The uniform value is rounded
// once from the product in float64.
template <typename T, typename F>
void with_scaled(const ProxParam& p, double step, F&& f) {
  if (p.values != nullptr) {
    f(Scaled<T>{static_cast<const T*>(p.values), static_cast<T>(step)});
  } else {
    f(Uniform<T>{static_cast<T>(step * p.scalar)});
  }
}

// Calls f with Uniform{scalar} or Elements{values}: a bound, which the step
// does not scale.
template <typename T, typename F>
void with_bound(const ProxParam& p, F&& f) {
  if (p.values != nullptr) {
    f(Elements<T>{static_cast<const T*>(p.values)});
  } else {
    f(Uniform<T>{static_cast<T>(p.scalar)});
  }
}

// The two loops differ only in aliasing: `restrict` on every pointer lets the
// compiler vectorize without run-time overlap checks, which is valid because
// the bindings reject any overlap except out == x, handled by the second loop.
template <typename T, bool kGrad, typename Map>
void sweep_to_out(const T* __restrict x, const T* __restrict g, T* __restrict out,
                  std::int64_t begin, std::int64_t end, T t, const Map& map) {
  for (std::int64_t i = begin; i < end; ++i) {
    T v = x[i];
    if constexpr (kGrad) v = v - t * g[i];
    out[i] = map(i, v);
  }
}

template <typename T, bool kGrad, typename Map>
void sweep_in_place(T* __restrict x, const T* __restrict g, std::int64_t begin,
                    std::int64_t end, T t, const Map& map) {
  for (std::int64_t i = begin; i < end; ++i) {
    T v = x[i];
    if constexpr (kGrad) v = v - t * g[i];
    x[i] = map(i, v);
  }
}

template <typename T, bool kGrad, typename Map>
void sweep(const ProxArgs& a, const Map& map, int num_threads) {
  const T* x = static_cast<const T*>(a.x);
  const T* g = static_cast<const T*>(a.grad);
  T* out = static_cast<T*>(a.out);
  const T t = static_cast<T>(a.step);
  const std::int64_t n = a.n;
  const int threads = threads_for(n, num_threads);
  run_shares(threads, [&](int tid, int nt) {
    const std::int64_t begin = share_begin(n, tid, nt);
    const std::int64_t end = share_begin(n, tid + 1, nt);
    if (begin >= end) return;
    if (static_cast<const void*>(out) == static_cast<const void*>(x)) {
      sweep_in_place<T, kGrad>(out, g, begin, end, t, map);
    } else {
      sweep_to_out<T, kGrad>(x, g, out, begin, end, t, map);
    }
  });
}

template <typename T, typename Map>
void run_map(const ProxArgs& a, const Map& map, int num_threads) {
  if (a.grad != nullptr) {
    sweep<T, true>(a, map, num_threads);
  } else {
    sweep<T, false>(a, map, num_threads);
  }
}

template <typename T>
void run_elementwise(const ProxArgs& a, int num_threads) {
  switch (a.penalty) {
    case ProxPenalty::l1:
      with_scaled<T>(a.l1, a.step, [&](auto thr) {
        run_map<T>(a, [thr](std::int64_t i, T v) { return soft_threshold(v, thr(i)); },
                   num_threads);
      });
      break;
    case ProxPenalty::elastic_net:
      with_scaled<T>(a.l1, a.step, [&](auto thr) {
        with_scaled<T>(a.l2, a.step, [&](auto shrink) {
          run_map<T>(
              a, [thr, shrink](std::int64_t i, T v) { return elastic_net_prox(v, thr(i), shrink(i)); },
              num_threads);
        });
      });
      break;
    case ProxPenalty::l2:
      with_scaled<T>(a.l2, a.step, [&](auto shrink) {
        run_map<T>(a, [shrink](std::int64_t i, T v) { return l2_shrink(v, shrink(i)); },
                   num_threads);
      });
      break;
    case ProxPenalty::box:
      with_bound<T>(a.lower, [&](auto lo) {
        with_bound<T>(a.upper, [&](auto hi) {
          run_map<T>(a, [lo, hi](std::int64_t i, T v) { return clamp_to(v, lo(i), hi(i)); },
                     num_threads);
        });
      });
      break;
    case ProxPenalty::nonneg:
      run_map<T>(a, [](std::int64_t, T v) { return project_nonneg(v); }, num_threads);
      break;
    case ProxPenalty::group:
      break;  // run_groups
  }
}

// Lanes of the per-group sum of squares; a fixed count keeps the summation
// order independent of the instruction set and lets the loop vectorize.
constexpr int kLanes = 8;

// Block soft-thresholding of one group [begin, end): v = x - t g (or x),
// out = max(0, 1 - t lambda_g / ||v||) v. The norm accumulates in float64 and
// v is recomputed in the second loop, so out may be x.
template <typename T, bool kGrad>
void shrink_group(const T* x, const T* g, T* out, std::int64_t begin, std::int64_t end, T t,
                  double t_lambda) {
  double lanes[kLanes] = {};
  std::int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      T v = x[i + l];
      if constexpr (kGrad) v = v - t * g[i + l];
      const double d = static_cast<double>(v);
      lanes[l] += d * d;
    }
  }
  for (int l = 0; i < end; ++i, ++l) {
    T v = x[i];
    if constexpr (kGrad) v = v - t * g[i];
    const double d = static_cast<double>(v);
    lanes[l] += d * d;
  }
  double sumsq = 0.0;
  for (int l = 0; l < kLanes; ++l) sumsq += lanes[l];
  const double factor = group_shrink_factor(std::sqrt(sumsq), t_lambda);
  for (std::int64_t j = begin; j < end; ++j) {
    T v = x[j];
    if constexpr (kGrad) v = v - t * g[j];
    out[j] = static_cast<T>(static_cast<double>(v) * factor);
  }
}

// Splits the elements evenly between threads and gives each thread the groups
// that start in its share, so one thread computes each group's norm.
template <typename T>
void run_groups(const ProxArgs& a, int num_threads) {
  const T* x = static_cast<const T*>(a.x);
  const T* g = static_cast<const T*>(a.grad);
  T* out = static_cast<T*>(a.out);
  const T t = static_cast<T>(a.step);
  const std::int64_t* offsets = a.group_offsets;
  const std::int64_t num_groups = a.num_groups;
  const std::int64_t n = a.n;
  const int threads = threads_for(n, num_threads);
  run_shares(threads, [&](int tid, int nt) {
    const std::int64_t lo = share_begin(n, tid, nt);
    const std::int64_t hi = share_begin(n, tid + 1, nt);
    const std::int64_t first = std::lower_bound(offsets, offsets + num_groups, lo) - offsets;
    const std::int64_t last = std::lower_bound(offsets, offsets + num_groups, hi) - offsets;
    for (std::int64_t k = first; k < last; ++k) {
      const double weight = a.group_weights != nullptr ? a.group_weights[k] : 1.0;
      const double t_lambda = a.step * a.group_lambda * weight;
      if (g != nullptr) {
        shrink_group<T, true>(x, g, out, offsets[k], offsets[k + 1], t, t_lambda);
      } else {
        shrink_group<T, false>(x, g, out, offsets[k], offsets[k + 1], t, t_lambda);
      }
    }
  });
}

}  // namespace

void prox(const ProxArgs& args, DType dtype, int num_threads) {
  with_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    if (args.penalty == ProxPenalty::group) {
      run_groups<T>(args, num_threads);
    } else {
      run_elementwise<T>(args, num_threads);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
