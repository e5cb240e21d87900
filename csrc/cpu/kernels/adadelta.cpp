// Fused Adadelta step: one read of p, g, square_avg, acc_delta and one write
// of p, square_avg, acc_delta per element.
#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/prefetch.hpp"
#include "fastopt/rules/adadelta.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D>
inline __attribute__((always_inline)) void adadelta_elements(
    T* __restrict p, const T* __restrict g, T* __restrict square_avg,
    T* __restrict acc_delta, std::int64_t begin, std::int64_t end, T factor,
    const AdadeltaCoef<T>& c) {
#pragma GCC unroll 1
  for (std::int64_t i = begin; i < end; ++i) {
    adadelta_update<T, D>(p[i], g[i] * factor, square_avg[i], acc_delta[i], c);
  }
}

template <typename T, Decay D>
void adadelta_range(T* __restrict p, const T* __restrict g, T* __restrict square_avg,
                    T* __restrict acc_delta, std::int64_t n, T factor, const AdadeltaCoef<T>& c) {
  auto elements = [&](std::int64_t begin, std::int64_t end) {
    adadelta_elements<T, D>(p, g, square_avg, acc_delta, begin, end, factor, c);
  };
  by_prefetched_lines<T>(n, elements, p, g, square_avg, acc_delta);
}

template <typename T, Decay D>
void adadelta_run(const TensorGroup& tg, const StepContext& ctx, const AdadeltaHyper& h) {
  const AdadeltaCoef<T> coef = adadelta_coef<T>(h);
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    adadelta_range<T, D>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b, tg.ptr<T>(k, 2) + b,
                         tg.ptr<T>(k, 3) + b, e - b, factor, coef);
  });
}

}  // namespace

// Adadelta's coefficients do not depend on the step count; `steps` is taken
// for the signature every rule shares.
void adadelta_step(const TensorGroup& tg, const StepContext& ctx, const AdadeltaHyper& h,
                   const std::int64_t* /*steps*/) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      adadelta_run<T, Decay::none>(tg, ctx, h);
    } else {
      adadelta_run<T, Decay::l2>(tg, ctx, h);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
