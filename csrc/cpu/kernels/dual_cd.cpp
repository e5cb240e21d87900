// Epochs of dual coordinate descent for L2-regularized logistic regression;
// the problem and the variables are described in cpu/dual_cd.hpp.
//
// References: H.-F. Yu, F.-L. Huang and C.-J. Lin, "Dual coordinate descent
// methods for logistic regression and maximum entropy models", Machine
// Learning 85, 2011 (Algorithm 3 and the subproblem solver of section 3).
#include <cmath>
#include <cstdint>

#include "cpu/dual_cd.hpp"
#include "cpu/kernel_list.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

constexpr int kMaxNewtonSteps = 100;
// A Newton step that would leave (0, c/2] moves to this fraction of the
// current value instead (the paper's xi).
constexpr double kShrink = 0.1;

inline bool out_of_range(std::int64_t j, std::int64_t size) {
  return static_cast<std::uint64_t>(j) >= static_cast<std::uint64_t>(size);
}

// splitmix64: a small generator whose sequence depends only on the seed.
inline std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Solves log(v / (c - v)) + q v + b = 0 for v in (0, c/2], starting from v in
// (0, c/2], where the caller has checked that the root lies. The left side is
// increasing and concave there, so Newton's method approaches the root from
// the left and only the first step from the right can overshoot below 0.
inline double solve_side(double c, double q, double b, double v, double tol, std::int64_t& steps) {
  const double half = 0.5 * c;
  for (int k = 0; k < kMaxNewtonSteps; ++k) {
    const double rest = c - v;
    const double h = std::log(v / rest) + q * v + b;
    if (std::abs(h) <= tol) break;
    ++steps;
    const double next = v - h / (c / (v * rest) + q);
    v = next <= 0.0 ? kShrink * v : (next > half ? half : next);
  }
  return v;
}

template <typename T, typename I, bool Sparse>
DualCdResult run_epochs(const DualCdArgs& a) {
  const GlmDesign& x = a.x;
  const std::int64_t n = x.n_rows, p = x.n_cols;
  const T* data = static_cast<const T*>(x.data);
  const I* indptr = static_cast<const I*>(x.indptr);
  const I* indices = static_cast<const I*>(x.indices);
  double* __restrict w = a.w;
  DualCdResult result;

  std::int64_t active = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (a.upper[i] > 0.0) a.order[active++] = i;
  }

  while (result.epochs < a.max_epochs) {
    // 1. A fresh visiting order (Fisher-Yates), as the paper's random permutation.
    for (std::int64_t k = active - 1; k > 0; --k) {
      const auto j = static_cast<std::int64_t>(next_random(*a.rng_state) %
                                               static_cast<std::uint64_t>(k + 1));
      const std::int64_t t = a.order[k];
      a.order[k] = a.order[j];
      a.order[j] = t;
    }
    const double tol = *a.inner_tol;
    std::int64_t steps = 0;
    double estimate = 0.0;

    for (std::int64_t k = 0; k < active; ++k) {
      const std::int64_t i = a.order[k];
      std::int64_t lo = i * p, hi = lo + p;
      if (Sparse) {
        lo = static_cast<std::int64_t>(indptr[i]);
        hi = static_cast<std::int64_t>(indptr[i + 1]);
        if (lo < 0 || hi < lo || hi > x.nnz) {
          result.invalid = true;
          continue;
        }
      }

      // 2. The margin z_i = x_i . w.
      double z = 0.0;
      for (std::int64_t s = lo; s < hi; ++s) {
        const std::int64_t j = Sparse ? static_cast<std::int64_t>(indices[s]) : s - lo;
        if (Sparse && out_of_range(j, p)) {
          result.invalid = true;
          continue;
        }
        z += static_cast<double>(data[s]) * w[j];
      }

      // 3. The subproblem in s = a_i + d: log(s / (c - s)) + q s + b = 0, with
      //    b = y_i z_i - q a_i. Its left side is increasing, so its sign at c/2
      //    tells which half holds the root.
      const double c = a.upper[i], yi = a.y[i], q = a.row_sqnorm[i];
      const double ai = a.dual[i], rest = a.complement[i];
      const double yz = yi * z;
      const double b = yz - q * ai;
      double delta;
      if (q * 0.5 * c + b >= 0.0) {
        const double v = solve_side(c, q, b, ai < 0.5 * c ? ai : 0.5 * c, tol, steps);
        delta = v - ai;
        a.dual[i] = v;
        a.complement[i] = c - v;
      } else {
        // In t = c - s the equation is log(t / (c - t)) + q t - (q c + b) = 0.
        const double t = solve_side(c, q, -(q * c + b), rest < 0.5 * c ? rest : 0.5 * c, tol,
                                    steps);
        delta = rest - t;
        a.complement[i] = t;
        a.dual[i] = c - t;
      }

      // 4. w += delta y_i x_i, which moves w by |delta| ||x_i|| in the 2-norm.
      estimate += std::abs(delta) * std::sqrt(q);
      if (delta != 0.0) {
        const double scale = delta * yi;
        for (std::int64_t s = lo; s < hi; ++s) {
          const std::int64_t j = Sparse ? static_cast<std::int64_t>(indices[s]) : s - lo;
          if (Sparse && out_of_range(j, p)) continue;
          w[j] += scale * static_cast<double>(data[s]);
        }
      }
    }

    ++result.epochs;
    result.newton_steps += steps;
    result.estimate = estimate;
    // Few Newton steps mean the subproblems start near their roots: solve
    // them more exactly from now on (LIBLINEAR's rule).
    if (steps <= active / 10 && tol > a.inner_tol_min) {
      *a.inner_tol = tol * 0.1 > a.inner_tol_min ? tol * 0.1 : a.inner_tol_min;
    }
    if (estimate <= a.stop_estimate) break;
  }
  return result;
}

}  // namespace

DualCdResult dual_cd_epochs(const DualCdArgs& args) {
  const GlmDesign& x = args.x;
  if (x.layout == GlmLayout::dense_c) {
    if (x.dtype == DType::float32) return run_epochs<float, std::int32_t, false>(args);
    return run_epochs<double, std::int32_t, false>(args);
  }
  const bool wide = x.index_type == IndexType::int64;
  if (x.dtype == DType::float32) {
    return wide ? run_epochs<float, std::int64_t, true>(args)
                : run_epochs<float, std::int32_t, true>(args);
  }
  return wide ? run_epochs<double, std::int64_t, true>(args)
              : run_epochs<double, std::int32_t, true>(args);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
