// Fused LAMB step in two passes. Pass 1 reads p, g, m, v, writes m, v and
// sums p^2 and u^2 per tensor over fixed blocks (reduce_per_tensor), so the
// norms, and hence every result, are the same for every thread count.
// Pass 2 reads p, m, v and writes p.
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "fastopt/rules/lamb.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Partial sums in a fixed lane order, so every ISA build adds the same
// numbers in the same order, and the lanes let the loop vectorize.
constexpr int kLanes = 8;

struct LambSums {
  double p_sq = 0.0;
  double u_sq = 0.0;
  LambSums& operator+=(const LambSums& o) {
    p_sq += o.p_sq;
    u_sq += o.u_sq;
    return *this;
  }
};

template <typename T, bool Decayed>
FASTOPT_HD void lamb_first_element(const T& p, T g, T& m, T& v, const LambCoef<T>& c,
                                   double& p_sq, double& u_sq) {
  lamb_moments(g, m, v, c);
  const double u = static_cast<double>(lamb_direction<T, Decayed>(p, m, v, c));
  const double pd = static_cast<double>(p);
  p_sq += pd * pd;
  u_sq += u * u;
}

template <typename T, bool Decayed>
LambSums lamb_first_block(const T* __restrict p, const T* __restrict g, T* __restrict m,
                          T* __restrict v, std::int64_t n, T factor, const LambCoef<T>& c) {
  double p_sq[kLanes] = {};
  double u_sq[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      lamb_first_element<T, Decayed>(p[i + l], g[i + l] * factor, m[i + l], v[i + l], c,
                                     p_sq[l], u_sq[l]);
    }
  }
  for (int l = 0; i < n; ++i, ++l) {
    lamb_first_element<T, Decayed>(p[i], g[i] * factor, m[i], v[i], c, p_sq[l], u_sq[l]);
  }
  LambSums out;
  for (int l = 0; l < kLanes; ++l) {
    out.p_sq += p_sq[l];
    out.u_sq += u_sq[l];
  }
  return out;
}

template <typename T, bool Decayed>
void lamb_second_range(T* __restrict p, const T* __restrict m, const T* __restrict v,
                       std::int64_t n, T scale, const LambCoef<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) {
    p[i] = p[i] - scale * lamb_direction<T, Decayed>(p[i], m[i], v[i], c);
  }
}

template <typename T, bool Decayed>
void lamb_run(const TensorGroup& tg, const StepContext& ctx, const LambHyper& h,
              const std::int64_t* steps) {
  const std::int64_t ntensors = tg.num_tensors();
  std::vector<LambCoef<T>> coef(static_cast<std::size_t>(ntensors));
  for (std::int64_t k = 0; k < ntensors; ++k) coef[k] = lamb_coef<T>(h, steps[k]);
  const T factor = static_cast<T>(ctx.grad_factor);

  const std::vector<LambSums> sums = reduce_per_tensor<LambSums>(
      tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
        return lamb_first_block<T, Decayed>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 1) + b,
                                            tg.ptr<T>(k, 2) + b, tg.ptr<T>(k, 3) + b, e - b,
                                            factor, coef[k]);
      });

  std::vector<T> scale(static_cast<std::size_t>(ntensors));
  for (std::int64_t k = 0; k < ntensors; ++k) {
    scale[k] = T(h.lr * lamb_trust_ratio(sums[k].p_sq, sums[k].u_sq));
  }
  for_each_range(tg, ctx.num_threads, [&](std::int64_t k, std::int64_t b, std::int64_t e) {
    lamb_second_range<T, Decayed>(tg.ptr<T>(k, 0) + b, tg.ptr<T>(k, 2) + b, tg.ptr<T>(k, 3) + b,
                                  e - b, scale[k], coef[k]);
  });
}

}  // namespace

void lamb_step(const TensorGroup& tg, const StepContext& ctx, const LambHyper& h,
               const std::int64_t* steps) {
  with_dtype(ctx.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (h.weight_decay == 0.0) {
      lamb_run<T, false>(tg, ctx, h, steps);
    } else {
      lamb_run<T, true>(tg, ctx, h, steps);
    }
  });
}

}  // namespace fastopt::cpu::FASTOPT_ISA
