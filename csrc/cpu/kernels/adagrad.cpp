// Fused Adagrad step: one read of p, g, sum and one write of p, sum per element.
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/prefetch.hpp"
#include "fastopt/rules/adagrad.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D>
inline __attribute__((always_inline)) void adagrad_elements(
    T* __restrict p, const T* __restrict g, T* __restrict sum, std::int64_t begin,
    std::int64_t end, T factor, const AdagradCoef<T>& c) {
#pragma GCC unroll 1
  for (std::int64_t i = begin; i < end; ++i) adagrad_update<T, D>(p[i], g[i] * factor, sum[i], c);
}

template <typename T, Decay D>
void adagrad_range(T* __restrict p, const T* __restrict g, T* __restrict sum, std::int64_t n,
                   T factor, const AdagradCoef<T>& c) {
  auto elements = [&](std::int64_t begin, std::int64_t end) {
    adagrad_elements<T, D>(p, g, sum, begin, end, factor, c);
  };
  by_prefetched_lines<T>(n, elements, p, g, sum);
}

template <typename T, Decay D>
void adagrad_run(const TensorGroup& tg, const StepContext& ctx, const AdagradHyper& h,
                 const std::int64_t* steps) {
  std::vector<AdagradCoef<T>> coef(static_cast<std::size_t>(tg.num_tensors()));
  for (std::int64_t k = 0; k < tg.num_tensors(); ++k) coef[k] = adagrad_coef<T>(h, steps[k]);
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    adagrad_range<T, D>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b, tg.ptr<T>(k, 2) + b, e - b,
                        factor, coef[k]);
  });
}

}  // namespace

void adagrad_step(const TensorGroup& tg, const StepContext& ctx, const AdagradHyper& h,
                  const std::int64_t* steps) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      adagrad_run<T, Decay::none>(tg, ctx, h, steps);
    } else {
      adagrad_run<T, Decay::l2>(tg, ctx, h, steps);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
