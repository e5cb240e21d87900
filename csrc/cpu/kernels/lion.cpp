// Fused Lion step: one read of p, g, m and one write of p, m per element.
#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "fastopt/rules/lion.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D>
void lion_range(T* __restrict p, const T* __restrict g, T* __restrict m, std::int64_t n,
                T factor, const LionCoef<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) lion_update<T, D>(p[i], g[i] * factor, m[i], c);
}

template <typename T, Decay D>
void lion_run(const TensorGroup& tg, const StepContext& ctx, const LionHyper& h) {
  const LionCoef<T> coef = lion_coef<T>(h);
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    lion_range<T, D>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b, tg.ptr<T>(k, 2) + b, e - b,
                     factor, coef);
  });
}

}  // namespace

void lion_step(const TensorGroup& tg, const StepContext& ctx, const LionHyper& h) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      lion_run<T, Decay::none>(tg, ctx, h);
    } else {
      lion_run<T, Decay::decoupled>(tg, ctx, h);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
