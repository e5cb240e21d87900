// Fused RAdam step: one read of p, g, m, v and one write of p, m, v per element.
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/prefetch.hpp"
#include "fastopt/rules/radam.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D, bool Rectified>
inline __attribute__((always_inline)) void radam_elements(
    T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
    std::int64_t begin, std::int64_t end, T factor, const RAdamCoef<T>& c) {
#pragma GCC unroll 1
  for (std::int64_t i = begin; i < end; ++i) {
    radam_update<T, D, Rectified>(p[i], g[i] * factor, m[i], v[i], c);
  }
}

template <typename T, Decay D, bool Rectified>
void radam_range(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                 std::int64_t n, T factor, const RAdamCoef<T>& c) {
  auto elements = [&](std::int64_t begin, std::int64_t end) {
    radam_elements<T, D, Rectified>(p, g, m, v, begin, end, factor, c);
  };
  by_prefetched_lines<T>(n, elements, p, g, m, v);
}

template <typename T, Decay D>
void radam_run(const TensorGroup& tg, const StepContext& ctx, const RAdamHyper& h,
               const std::int64_t* steps) {
  std::vector<RAdamCoef<T>> coef(static_cast<std::size_t>(tg.num_tensors()));
  for (std::int64_t k = 0; k < tg.num_tensors(); ++k) coef[k] = radam_coef<T>(h, steps[k]);
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    T* p = tg.ptr<T>(k, 0) + b;
    const T* g = tg.ptr<T>(k, 1) + b;
    T* m = tg.ptr<T>(k, 2) + b;
    T* v = tg.ptr<T>(k, 3) + b;
    // Tensors of one call may sit on either side of rho_t = 5 because their
    // step counts can differ; the choice is made once per range.
    if (coef[k].rectified) {
      radam_range<T, D, true>(p, g, m, v, e - b, factor, coef[k]);
    } else {
      radam_range<T, D, false>(p, g, m, v, e - b, factor, coef[k]);
    }
  });
}

}  // namespace

void radam_step(const TensorGroup& tg, const StepContext& ctx, const RAdamHyper& h,
                const std::int64_t* steps) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    const Decay decay = h.weight_decay == 0.0 ? Decay::none : h.decay;
    switch (decay) {
      case Decay::none: radam_run<T, Decay::none>(tg, ctx, h, steps); break;
      case Decay::l2: radam_run<T, Decay::l2>(tg, ctx, h, steps); break;
      case Decay::decoupled: radam_run<T, Decay::decoupled>(tg, ctx, h, steps); break;
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
