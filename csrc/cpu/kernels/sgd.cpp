// Fused SGD step. Without momentum it reads p and g once and writes p once per
// element. With momentum it also writes the momentum buffer once, and reads it
// once except on a tensor's first step, when the buffer starts from g.
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "fastopt/rules/sgd.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T, Decay D, SgdMomentum M, bool First>
void sgd_range(T* __restrict p, const T* __restrict g, T* __restrict buf, std::int64_t n,
               T factor, const SgdCoef<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) {
    if constexpr (M == SgdMomentum::none) {
      T unused{};
      sgd_update<T, D, M, First>(p[i], g[i] * factor, unused, c);
    } else {
      sgd_update<T, D, M, First>(p[i], g[i] * factor, buf[i], c);
    }
  }
}

template <typename T, Decay D, SgdMomentum M>
void sgd_run(const TensorGroup& tg, const StepContext& ctx, const SgdHyper& h,
             const std::int64_t* steps) {
  std::vector<SgdCoef<T>> coef(static_cast<std::size_t>(tg.num_tensors()));
  for (std::int64_t k = 0; k < tg.num_tensors(); ++k) coef[k] = sgd_coef<T>(h, steps[k]);
  const T factor = static_cast<T>(ctx.grad_factor);
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    T* p = tg.ptr<T>(k, 0) + b;
    const T* g = tg.ptr<T>(k, 1) + b;
    T* buf = M == SgdMomentum::none ? nullptr : tg.ptr<T>(k, 2) + b;
    // The first-step choice is per tensor, so it selects a loop, not a branch
    // per element.
    if constexpr (M != SgdMomentum::none) {
      if (coef[k].first) {
        sgd_range<T, D, M, true>(p, g, buf, e - b, factor, coef[k]);
        return;
      }
    }
    sgd_range<T, D, M, false>(p, g, buf, e - b, factor, coef[k]);
  });
}

template <typename T, Decay D>
void sgd_momentum(const TensorGroup& tg, const StepContext& ctx, const SgdHyper& h,
                  const std::int64_t* steps) {
  if (h.momentum == 0.0) {
    sgd_run<T, D, SgdMomentum::none>(tg, ctx, h, steps);
  } else if (h.nesterov) {
    sgd_run<T, D, SgdMomentum::nesterov>(tg, ctx, h, steps);
  } else {
    sgd_run<T, D, SgdMomentum::heavy_ball>(tg, ctx, h, steps);
  }
}

}  // namespace

void sgd_step(const TensorGroup& tg, const StepContext& ctx, const SgdHyper& h,
              const std::int64_t* steps) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      sgd_momentum<T, Decay::none>(tg, ctx, h, steps);
    } else {
      sgd_momentum<T, Decay::l2>(tg, ctx, h, steps);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
