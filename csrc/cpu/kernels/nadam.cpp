// Fused NAdam step: one read of p, g, m, v and one write of p, m, v per element.
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/prefetch.hpp"
#include "fastopt/rules/nadam.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D>
inline __attribute__((always_inline)) void nadam_elements(
    T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
    std::int64_t begin, std::int64_t end, T factor, const NAdamCoef<T>& c) {
#pragma GCC unroll 1
  for (std::int64_t i = begin; i < end; ++i) nadam_update<T, D>(p[i], g[i] * factor, m[i], v[i], c);
}

template <typename T, Decay D>
void nadam_range(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                 std::int64_t n, T factor, const NAdamCoef<T>& c) {
  auto elements = [&](std::int64_t begin, std::int64_t end) {
    nadam_elements<T, D>(p, g, m, v, begin, end, factor, c);
  };
  by_prefetched_lines<T>(n, elements, p, g, m, v);
}

template <typename T, Decay D>
void nadam_run(const TensorGroup& tg, const StepContext& ctx, const NAdamHyper& h,
               const std::int64_t* steps, const double* mu_products) {
  std::vector<NAdamCoef<T>> coef(static_cast<std::size_t>(tg.num_tensors()));
  for (std::int64_t k = 0; k < tg.num_tensors(); ++k) {
    coef[k] = nadam_coef<T>(h, steps[k], mu_products[k]);
  }
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    nadam_range<T, D>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b, tg.ptr<T>(k, 2) + b,
                      tg.ptr<T>(k, 3) + b, e - b, factor, coef[k]);
  });
}

}  // namespace

void nadam_step(const TensorGroup& tg, const StepContext& ctx, const NAdamHyper& h,
                const std::int64_t* steps, const double* mu_products) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    const Decay decay = h.weight_decay == 0.0 ? Decay::none : h.decay;
    switch (decay) {
      case Decay::none: nadam_run<T, Decay::none>(tg, ctx, h, steps, mu_products); break;
      case Decay::l2: nadam_run<T, Decay::l2>(tg, ctx, h, steps, mu_products); break;
      case Decay::decoupled:
        nadam_run<T, Decay::decoupled>(tg, ctx, h, steps, mu_products);
        break;
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
