// Fused Adamax step: one read of p, g, exp_avg, exp_inf and one write of p,
// exp_avg, exp_inf per element.
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/prefetch.hpp"
#include "fastopt/rules/adamax.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D>
inline __attribute__((always_inline)) void adamax_elements(
    T* __restrict p, const T* __restrict g, T* __restrict exp_avg,
    T* __restrict exp_inf, std::int64_t begin, std::int64_t end, T factor, const AdamaxCoef<T>& c) {
#pragma GCC unroll 1
  for (std::int64_t i = begin; i < end; ++i) {
    adamax_update<T, D>(p[i], g[i] * factor, exp_avg[i], exp_inf[i], c);
  }
}

template <typename T, Decay D>
void adamax_range(T* __restrict p, const T* __restrict g, T* __restrict exp_avg,
                  T* __restrict exp_inf, std::int64_t n, T factor, const AdamaxCoef<T>& c) {
  auto elements = [&](std::int64_t begin, std::int64_t end) {
    adamax_elements<T, D>(p, g, exp_avg, exp_inf, begin, end, factor, c);
  };
  by_prefetched_lines<T>(n, elements, p, g, exp_avg, exp_inf);
}

template <typename T, Decay D>
void adamax_run(const TensorGroup& tg, const StepContext& ctx, const AdamaxHyper& h,
                const std::int64_t* steps) {
  std::vector<AdamaxCoef<T>> coef(static_cast<std::size_t>(tg.num_tensors()));
  for (std::int64_t k = 0; k < tg.num_tensors(); ++k) coef[k] = adamax_coef<T>(h, steps[k]);
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    adamax_range<T, D>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b, tg.ptr<T>(k, 2) + b,
                       tg.ptr<T>(k, 3) + b, e - b, factor, coef[k]);
  });
}

}  // namespace

void adamax_step(const TensorGroup& tg, const StepContext& ctx, const AdamaxHyper& h,
                 const std::int64_t* steps) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      adamax_run<T, Decay::none>(tg, ctx, h, steps);
    } else {
      adamax_run<T, Decay::l2>(tg, ctx, h, steps);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
