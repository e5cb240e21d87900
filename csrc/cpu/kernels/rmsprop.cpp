// Fused RMSprop step: one read of p, g, square_avg (and momentum_buffer,
// grad_avg when enabled) and one write of every buffer but g per element.
#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/prefetch.hpp"
#include "fastopt/rules/rmsprop.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D, bool Centered, bool Momentum>
inline __attribute__((always_inline)) void rmsprop_elements(
    T* __restrict p, const T* __restrict g, T* __restrict square_avg, T* __restrict buf,
    T* __restrict grad_avg, std::int64_t begin, std::int64_t end, T factor,
    const RmspropCoef<T>& c) {
  T unused_buf{};
  T unused_avg{};
#pragma GCC unroll 1
  for (std::int64_t i = begin; i < end; ++i) {
    T& b = Momentum ? buf[i] : unused_buf;
    T& a = Centered ? grad_avg[i] : unused_avg;
    rmsprop_update<T, D, Centered, Momentum>(p[i], g[i] * factor, square_avg[i], a, b, c);
  }
}

template <typename T, Decay D, bool Centered, bool Momentum>
void rmsprop_range(T* __restrict p, const T* __restrict g, T* __restrict square_avg,
                   T* __restrict buf, T* __restrict grad_avg, std::int64_t n, T factor,
                   const RmspropCoef<T>& c) {
  auto elements = [&](std::int64_t begin, std::int64_t end) {
    rmsprop_elements<T, D, Centered, Momentum>(p, g, square_avg, buf, grad_avg, begin, end, factor,
                                               c);
  };
  if constexpr (Centered && Momentum) {
    by_prefetched_lines<T>(n, elements, p, g, square_avg, buf, grad_avg);
  } else if constexpr (Centered) {
    by_prefetched_lines<T>(n, elements, p, g, square_avg, grad_avg);
  } else if constexpr (Momentum) {
    by_prefetched_lines<T>(n, elements, p, g, square_avg, buf);
  } else {
    by_prefetched_lines<T>(n, elements, p, g, square_avg);
  }
}

// Buffer roles: params, grads, square_avgs, then momentum_buffers when
// Momentum, then grad_avgs when Centered.
template <typename T, Decay D, bool Centered, bool Momentum>
void rmsprop_run(const TensorGroup& tg, const StepContext& ctx, const RmspropHyper& h) {
  const RmspropCoef<T> coef = rmsprop_coef<T>(h);
  const T factor = static_cast<T>(ctx.grad_factor);
  constexpr int kBufRole = 3;
  constexpr int kGradAvgRole = Momentum ? 4 : 3;
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    T* buf = Momentum ? tg.ptr<T>(k, kBufRole) + b : nullptr;
    T* grad_avg = Centered ? tg.ptr<T>(k, kGradAvgRole) + b : nullptr;
    rmsprop_range<T, D, Centered, Momentum>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b,
                                            tg.ptr<T>(k, 2) + b, buf, grad_avg, e - b, factor,
                                            coef);
  });
}

template <typename T, Decay D>
void rmsprop_options(const TensorGroup& tg, const StepContext& ctx, const RmspropHyper& h) {
  const bool momentum = h.momentum > 0.0;
  if (h.centered) {
    if (momentum) {
      rmsprop_run<T, D, true, true>(tg, ctx, h);
    } else {
      rmsprop_run<T, D, true, false>(tg, ctx, h);
    }
  } else {
    if (momentum) {
      rmsprop_run<T, D, false, true>(tg, ctx, h);
    } else {
      rmsprop_run<T, D, false, false>(tg, ctx, h);
    }
  }
}

}  // namespace

// RMSprop's coefficients do not depend on the step count; `steps` is taken
// for the signature every rule shares.
void rmsprop_step(const TensorGroup& tg, const StepContext& ctx, const RmspropHyper& h,
                  const std::int64_t* /*steps*/) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      rmsprop_options<T, Decay::none>(tg, ctx, h);
    } else {
      rmsprop_options<T, Decay::l2>(tg, ctx, h);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
