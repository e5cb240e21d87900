// Working-set proximal Newton solver with a coordinate-descent inner loop
// for L1 / elastic-net GLMs, written from the published descriptions of
// newGLMNET (Yuan, Ho & Lin 2012, "An improved GLMNET for L1-regularized
// logistic regression", JMLR 13), glmnet (Friedman, Hastie & Tibshirani
// 2010, "Regularization paths for generalized linear models via coordinate
// descent", JSS 33) and working-set solvers (Massias et al. 2020, Bertrand
// et al. 2022).
//
// Each outer iteration, at margins z = X coef + intercept:
//   1. per sample: loss value, g_i = s_i loss'(z_i), h_i = s_i max(loss''(z_i), floor);
//   2. per feature (parallel): gradient X^T g and the optimality violation;
//   3. working set: the nonzero coefficients plus the most violating
//      features at zero, its size growing geometrically while the worst
//      violation lies outside it;
//   4. coordinate descent on the quadratic model of the data term restricted
//      to the working set, keeping the change of margins dz = X dw and
//      re-minimizing the unpenalized intercept after every coordinate step,
//      until the model's own violation falls below an inner tolerance that
//      shrinks with the outer violation. Each coefficient moves at most a
//      step bound, set from the last step the line search cut (a trust
//      region in the max norm);
//   5. backtracking (Armijo) line search on the true objective along the
//      direction; a trial costs O(n) because it only reads z + t dz. For the
//      squared loss the model is exact, so the step t = 1 is taken as is.
// Work per feature and per sample is split over threads on large problems;
// the coordinate descent is sequential. Every sum has a fixed order (per-feature sums
// sequential, per-sample sums over fixed blocks combined in block order),
// so the result does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/sparse_rows.hpp"
#include "cpu/vector_math.hpp"
#include "fastopt/glm/losses.hpp"
#include "fastopt/prox.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Samples per block of the per-sample reductions.
constexpr std::int64_t kSampleBlock = 4096;
// Work of a pass, in stored entries, below which it runs on one thread. A
// sample's loss terms (an exp and a log) count as kSampleCost entries.
constexpr std::int64_t kMinParallelPass = std::int64_t{1} << 22;
constexpr std::int64_t kSampleCost = 8;
// Samples per batch of the vectorized logistic terms.
constexpr std::int64_t kLogisticBatch = 256;
// Smallest working set.
constexpr std::int64_t kMinWorkingSet = 10;
// Cap on coordinate-descent passes over the working set per outer iteration.
// NOTE: cyclic coordinate descent converges slowly on strongly correlated
// columns. On a9a's one-hot groups a 6-feature working set takes 20 to 30
// sweeps, and no extrapolation (such as skglm's Anderson step) is done.
constexpr int kMaxInnerPasses = 100;
// The inner tolerance is this fraction of the outer violation at most.
constexpr double kInnerRatio = 0.1;
// Armijo constant and backtracking factor of the line search.
constexpr double kArmijo = 0.01;
constexpr double kBacktrack = 0.5;
constexpr int kMaxLineSearchTrials = 40;
// Growth of the step bound after a step the line search did not cut.
constexpr double kStepBoundGrowth = 2.0;
// Rounding allowance of the line search, relative to |F|: near the optimum
// the decrease predicted by the model is below the rounding error of a sum
// of n loss values, and a strict test would reject good steps.
constexpr double kRoundingSlack = 1e-13;
// Floors of the per-sample curvature. The logistic curvature underflows
// for margins beyond ~36, and the Huber curvature is exactly 0 on the linear
// part. A zero diagonal would make the Newton step along that coordinate
// unbounded. With the Huber floor, a coordinate whose samples are all
// outliers gets a step about 1000 times too long, which the line search
// cuts in about 10 halvings.
constexpr double kLogisticCurvatureFloor = 1e-12;
constexpr double kHuberCurvatureFloor = 1e-3;

// Computes the logistic loss terms of m samples with labels y and margins z:
// value, d1 and d2 (both nullptr for the values alone). The formulas are those
// of glm::logistic_terms with the branch-free exp and log1p of
// cpu/vector_math.hpp, so that the loops vectorize. In a perf profile of a
// newton-cd fit on w8a (L1 at 0.01 alpha_max), glibc's scalar log1p and exp
// took about a fifth of the samples.
void logistic_batch(const double* __restrict y, const double* __restrict z, std::int64_t m,
                    double* __restrict value, double* __restrict d1, double* __restrict d2) {
  if (d1 == nullptr) {
#pragma omp simd
    for (std::int64_t i = 0; i < m; ++i) {
      const double mi = y[i] * z[i];
      const double e = exp_nonpositive(mi < 0.0 ? mi : -mi);
      value[i] = (mi < 0.0 ? -mi : 0.0) + log1p_unit(e);
    }
    return;
  }
#pragma omp simd
  for (std::int64_t i = 0; i < m; ++i) {
    const double mi = y[i] * z[i];
    const double e = exp_nonpositive(mi < 0.0 ? mi : -mi);
    const double one_plus = 1.0 + e;
    value[i] = (mi < 0.0 ? -mi : 0.0) + log1p_unit(e);
    d1[i] = -y[i] * ((mi >= 0.0 ? e : 1.0) / one_plus);
    d2[i] = e / (one_plus * one_plus);
  }
}

template <typename T, typename I>
struct SparseColumns {
  const T* data;
  const I* indices;
  const I* indptr;

  std::int64_t entries(std::int64_t j) const {
    return static_cast<std::int64_t>(indptr[j + 1]) - static_cast<std::int64_t>(indptr[j]);
  }

  template <typename F>
  void visit(std::int64_t j, F&& f) const {
    const std::int64_t end = static_cast<std::int64_t>(indptr[j + 1]);
    for (std::int64_t k = static_cast<std::int64_t>(indptr[j]); k < end; ++k) {
      f(static_cast<std::int64_t>(indices[k]), static_cast<double>(data[k]));
    }
  }

  // The loops of the coordinate sweeps are written out rather than run
  // through visit(), because with a lambda GCC reloaded the output's base
  // pointer and the loop bound from the stack after every store.

  // Returns start + sum of x_ij u_i (times v_i when v is not nullptr). Four
  // partial sums, each over every fourth entry, break the chain of dependent
  // adds that bounded the sweeps on long columns. The order depends on the
  // column alone.
  double dot(std::int64_t j, double start, const double* __restrict u,
             const double* __restrict v) const {
    const T* __restrict x = data;
    const I* __restrict rows = indices;
    const std::int64_t end = static_cast<std::int64_t>(indptr[j + 1]);
    auto term = [&](std::int64_t k) {
      const std::int64_t i = static_cast<std::int64_t>(rows[k]);
      const double xu = static_cast<double>(x[k]) * u[i];
      return v != nullptr ? xu * v[i] : xu;
    };
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    std::int64_t k = static_cast<std::int64_t>(indptr[j]);
    for (; k + 4 <= end; k += 4) {
      s0 += term(k);
      s1 += term(k + 1);
      s2 += term(k + 2);
      s3 += term(k + 3);
    }
    for (; k < end; ++k) s0 += term(k);
    return start + ((s0 + s1) + (s2 + s3));
  }

  // Adds a x_ij to z_i over the column.
  void axpy(std::int64_t j, double a, double* __restrict z) const {
    add_scaled_entries(data, indices, static_cast<std::int64_t>(indptr[j]),
                       static_cast<std::int64_t>(indptr[j + 1]), a, z);
  }
};

template <typename T>
struct DenseColumns {
  const T* data;
  std::int64_t num_samples;

  std::int64_t entries(std::int64_t) const { return num_samples; }

  template <typename F>
  void visit(std::int64_t j, F&& f) const {
    const T* column = data + j * num_samples;
    for (std::int64_t i = 0; i < num_samples; ++i) f(i, static_cast<double>(column[i]));
  }

  // The same contracts as SparseColumns::dot and axpy.
  double dot(std::int64_t j, double start, const double* __restrict u,
             const double* __restrict v) const {
    const T* __restrict column = data + j * num_samples;
    double sum = start;
    if (v != nullptr) {
      for (std::int64_t i = 0; i < num_samples; ++i) sum += static_cast<double>(column[i]) * u[i] * v[i];
    } else {
      for (std::int64_t i = 0; i < num_samples; ++i) sum += static_cast<double>(column[i]) * u[i];
    }
    return sum;
  }

  void axpy(std::int64_t j, double a, double* __restrict z) const {
    const T* __restrict column = data + j * num_samples;
    for (std::int64_t i = 0; i < num_samples; ++i) z[i] += a * static_cast<double>(column[i]);
  }
};

// Sums of one pass over the samples.
struct SampleSums {
  double loss = 0.0;      // sum_i s_i loss_i
  double gradient = 0.0;  // sum_i g_i: the intercept's gradient
  double curvature = 0.0; // sum_i h_i: the intercept's Hessian
};

template <typename Columns>
class Solver {
 public:
  Solver(const NewtonCdArgs& args, Columns columns)
      : args_(args),
        X_(columns),
        n_(args.X.num_samples),
        p_(args.X.num_features),
        a1_(args.alpha * args.l1_ratio),
        a2_(args.alpha * (1.0 - args.l1_ratio)),
        w_(args.w),
        z_(static_cast<std::size_t>(n_)),
        g_(static_cast<std::size_t>(n_)),
        h_(static_cast<std::size_t>(n_)),
        dz_(static_cast<std::size_t>(n_)),
        gradient_(static_cast<std::size_t>(p_)),
        violation_(static_cast<std::size_t>(p_)),
        in_working_set_(static_cast<std::size_t>(p_), 0),
        partial_(static_cast<std::size_t>(3 * num_blocks())) {
    switch (args.loss) {
      case glm::Loss::logistic: curvature_floor_ = kLogisticCurvatureFloor; break;
      case glm::Loss::huber: curvature_floor_ = kHuberCurvatureFloor; break;
      default: curvature_floor_ = 0.0; break;
    }
    // Each pass over the samples or the columns is a parallel region between
    // sequential coordinate-descent sweeps, so the other threads sleep in
    // between and must be woken for every pass. On w8a (50k samples, 580k
    // entries) one thread was twice as fast as two; passes split only when
    // they are long enough to repay that.
    sample_threads_ = n_ * kSampleCost >= kMinParallelPass ? args.num_threads : 1;
    std::int64_t total_entries = 0;
    for (std::int64_t j = 0; j < p_; ++j) total_entries += X_.entries(j);
    feature_threads_ = total_entries >= kMinParallelPass ? args.num_threads : 1;
  }

  NewtonCdResult run() {
    NewtonCdResult result;
    const bool start_at_zero =
        std::all_of(w_, w_ + num_params(), [](double v) { return v == 0.0; });
    if (!start_at_zero) result.violation0 = violation_at_zero();
    compute_margins();
    double violation = evaluate();
    if (start_at_zero) result.violation0 = violation;
    const double target = args_.tol * result.violation0;
    bool stop_requested = false;
    std::int64_t n_iter = 0;
    for (;;) {
      if (!std::isfinite(objective_) || !std::isfinite(violation)) {
        result.status = NewtonCdStatus::non_finite;
        break;
      }
      if (violation <= target) {
        result.status = NewtonCdStatus::converged;
        break;
      }
      if (stop_requested) {
        result.status = NewtonCdStatus::stopped;
        break;
      }
      if (n_iter >= args_.max_iter) {
        result.status = NewtonCdStatus::max_iter;
        break;
      }
      select_working_set();
      // Forcing term min(0.1, sqrt(violation / violation0)): loose subproblems
      // far from the optimum, tighter ones as the Newton steps start to count.
      const double inner_tol =
          std::max(violation * std::min(kInnerRatio, std::sqrt(violation / result.violation0)),
                   0.5 * target);
      solve_subproblem(inner_tol);
      if (!take_step()) {
        result.status = NewtonCdStatus::line_search_failed;
        break;
      }
      ++n_iter;
      violation = evaluate();
      if (args_.hook != nullptr) {
        stop_requested = args_.hook(args_.hook_context, w_, num_params());
      }
    }
    result.n_iter = n_iter;
    result.violation = violation;
    result.objective = objective_;
    return result;
  }

 private:
  std::int64_t num_params() const { return p_ + (args_.fit_intercept ? 1 : 0); }
  std::int64_t num_blocks() const { return std::max<std::int64_t>(1, (n_ + kSampleBlock - 1) / kSampleBlock); }
  double intercept() const { return args_.fit_intercept ? w_[p_] : 0.0; }
  double factor(std::int64_t i) const {
    return args_.sample_weight != nullptr ? args_.weight_scale * args_.sample_weight[i]
                                          : args_.weight_scale;
  }
  glm::LossTerms<double> terms(std::int64_t i, double z) const {
    return glm::loss_terms<double>(args_.loss, args_.y[i], z, args_.huber_delta);
  }
  double penalty(double v) const { return a1_ * std::abs(v) + 0.5 * a2_ * v * v; }

  // Calls body(i, partial) for every sample, partial pointing at the block's
  // `width` accumulators; returns the block partials summed in block order.
  template <typename Body>
  void sample_pass(int width, Body&& body, double* totals) {
    block_pass(width, [&](std::int64_t lo, std::int64_t hi, double* acc) {
      for (std::int64_t i = lo; i < hi; ++i) body(i, acc);
    }, totals);
  }

  // As sample_pass, with body(lo, hi, partial) called once per block of
  // samples [lo, hi).
  template <typename Body>
  void block_pass(int width, Body&& body, double* totals) {
    const std::int64_t blocks = num_blocks();
    double* partial = partial_.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(sample_threads_) if (sample_threads_ > 1)
#endif
    for (std::int64_t b = 0; b < blocks; ++b) {
      double* acc = partial + b * width;
      for (int k = 0; k < width; ++k) acc[k] = 0.0;
      body(b * kSampleBlock, std::min(n_, (b + 1) * kSampleBlock), acc);
    }
    for (int k = 0; k < width; ++k) totals[k] = 0.0;
    for (std::int64_t b = 0; b < blocks; ++b) {
      for (int k = 0; k < width; ++k) totals[k] += partial[b * width + k];
    }
  }

  // Adds the weighted logistic values at margins z[i] + t * (dz[i] + db) of
  // samples [lo, hi) to acc[0] in sample order.
  void logistic_values(std::int64_t lo, std::int64_t hi, const double* z, const double* dz,
                       double t, double db, double* acc) const {
    double margins[kLogisticBatch];
    double values[kLogisticBatch];
    for (std::int64_t from = lo; from < hi; from += kLogisticBatch) {
      const std::int64_t m = std::min(kLogisticBatch, hi - from);
      for (std::int64_t k = 0; k < m; ++k) margins[k] = z[from + k] + t * (dz[from + k] + db);
      logistic_batch(args_.y + from, margins, m, values, nullptr, nullptr);
      for (std::int64_t k = 0; k < m; ++k) acc[0] += factor(from + k) * values[k];
    }
  }

  // z = X coef + intercept, one column at a time, skipping zero coefficients.
  void compute_margins() {
    std::fill(z_.begin(), z_.end(), intercept());
    double* z = z_.data();
    for (std::int64_t j = 0; j < p_; ++j) {
      const double wj = w_[j];
      if (wj == 0.0) continue;
      X_.axpy(j, wj, z);  // x * wj and wj * x round alike
    }
  }

  // Violation at w = 0, for the relative stopping rule when w0 is not 0.
  double violation_at_zero() {
    double* g = g_.data();
    double totals[1];
    sample_pass(1, [&](std::int64_t i, double* acc) {
      g[i] = factor(i) * terms(i, 0.0).d1;
      acc[0] += g[i];
    }, totals);
    double worst = 0.0;
    const double a1 = a1_;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) num_threads(feature_threads_) \
    if (feature_threads_ > 1) reduction(max : worst)
#endif
    for (std::int64_t j = 0; j < p_; ++j) {
      const double sum = X_.dot(j, 0.0, g, nullptr);
      worst = std::max(worst, coordinate_violation(sum, 0.0, a1));
    }
    if (args_.fit_intercept) worst = std::max(worst, std::abs(totals[0]));
    return worst;
  }

  // Per-sample terms, the objective, the gradient of the data term and the
  // per-feature violations at the current w; returns the violation.
  double evaluate() {
    const double* z = z_.data();
    double* g = g_.data();
    double* h = h_.data();
    const double floor = curvature_floor_;
    double totals[3];
    if (args_.loss == glm::Loss::logistic) {
      block_pass(3, [&](std::int64_t lo, std::int64_t hi, double* acc) {
        double values[kLogisticBatch];
        for (std::int64_t from = lo; from < hi; from += kLogisticBatch) {
          const std::int64_t m = std::min(kLogisticBatch, hi - from);
          // d1 and d2 go to g and h first and are weighted in place below.
          logistic_batch(args_.y + from, z + from, m, values, g + from, h + from);
          for (std::int64_t k = 0; k < m; ++k) {
            const std::int64_t i = from + k;
            const double s = factor(i);
            g[i] = s * g[i];
            h[i] = s * std::max(h[i], floor);
            acc[0] += s * values[k];
            acc[1] += g[i];
            acc[2] += h[i];
          }
        }
      }, totals);
    } else {
      sample_pass(3, [&](std::int64_t i, double* acc) {
        const glm::LossTerms<double> t = terms(i, z[i]);
        const double s = factor(i);
        g[i] = s * t.d1;
        h[i] = s * std::max(t.d2, floor);
        acc[0] += s * t.value;
        acc[1] += g[i];
        acc[2] += h[i];
      }, totals);
    }
    sums_ = {totals[0], totals[1], totals[2]};

    double penalty_total = 0.0;
    for (std::int64_t j = 0; j < p_; ++j) penalty_total += penalty(w_[j]);
    penalty_ = penalty_total;
    objective_ = sums_.loss + penalty_total;

    double worst = 0.0;
    double* gradient = gradient_.data();
    double* violation = violation_.data();
    const double* w = w_;
    const double a1 = a1_;
    const double a2 = a2_;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) num_threads(feature_threads_) \
    if (feature_threads_ > 1) reduction(max : worst)
#endif
    for (std::int64_t j = 0; j < p_; ++j) {
      const double sum = X_.dot(j, 0.0, g, nullptr);
      gradient[j] = sum;
      const double v = coordinate_violation(sum + a2 * w[j], w[j], a1);
      violation[j] = v;
      // std::max drops a NaN first argument; keep it visible to the caller.
      worst = (v > worst || std::isnan(v)) ? v : worst;
    }
    worst_outside_ = false;
    if (!working_set_.empty()) {
      // Whether the largest violation sits outside the last working set: the
      // subproblem was too small, so the next one doubles.
      double inside = 0.0;
      for (std::int64_t j : working_set_) inside = std::max(inside, violation[j]);
      worst_outside_ = inside < worst;
    }
    if (args_.fit_intercept) {
      const double v = std::abs(sums_.gradient);
      worst = (v > worst || std::isnan(v)) ? v : worst;
    }
    return worst;
  }

  // Nonzero coefficients plus the most violating zero coefficients, in
  // increasing feature order. Ties are broken by the lower index, so the
  // choice is reproducible.
  void select_working_set() {
    std::int64_t nonzeros = 0;
    std::vector<std::pair<double, std::int64_t>> candidates;
    for (std::int64_t j = 0; j < p_; ++j) {
      if (w_[j] != 0.0) {
        ++nonzeros;
      } else if (violation_[j] > 0.0) {
        candidates.emplace_back(violation_[j], j);
      }
    }
    if (worst_outside_) target_size_ *= 2;
    target_size_ = std::min(p_, std::max({target_size_, 2 * nonzeros, kMinWorkingSet}));
    const std::int64_t room = std::max<std::int64_t>(0, target_size_ - nonzeros);
    const auto more_violating = [](const std::pair<double, std::int64_t>& a,
                                   const std::pair<double, std::int64_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    if (static_cast<std::int64_t>(candidates.size()) > room) {
      std::nth_element(candidates.begin(), candidates.begin() + room, candidates.end(),
                       more_violating);
      candidates.resize(static_cast<std::size_t>(room));
    }
    for (std::int64_t j : working_set_) in_working_set_[static_cast<std::size_t>(j)] = 0;
    for (const auto& c : candidates) in_working_set_[static_cast<std::size_t>(c.second)] = 1;
    working_set_.clear();
    for (std::int64_t j = 0; j < p_; ++j) {
      if (w_[j] != 0.0 || in_working_set_[static_cast<std::size_t>(j)]) {
        in_working_set_[static_cast<std::size_t>(j)] = 1;
        working_set_.push_back(j);
      }
    }
  }

  // Per working-set position: sum_i h_i x_ij^2 (the diagonal of the model's
  // Hessian without the L2 part) and sum_i h_i x_ij (its coupling with the
  // intercept).
  void working_set_curvature() {
    const std::int64_t size = static_cast<std::int64_t>(working_set_.size());
    diagonal_.assign(static_cast<std::size_t>(size), 0.0);
    coupling_.assign(static_cast<std::size_t>(size), 0.0);
    const double* h = h_.data();
    const std::int64_t* features = working_set_.data();
    double* diagonal = diagonal_.data();
    double* coupling = coupling_.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) num_threads(feature_threads_) \
    if (feature_threads_ > 1)
#endif
    for (std::int64_t k = 0; k < size; ++k) {
      double square = 0.0;
      double linear = 0.0;
      X_.visit(features[k], [&](std::int64_t i, double x) {
        const double hx = h[i] * x;
        linear += hx;
        square += hx * x;
      });
      diagonal[k] = square;
      coupling[k] = linear;
    }
  }

  // Intercept step that minimizes the model for the current coefficient
  // step: the model's gradient in the intercept, g_b + sum_i h_i (dz_i + db),
  // set to 0, with sum_i h_i dz_i kept in coupled_change_.
  void update_intercept_step() {
    if (args_.fit_intercept && sums_.curvature > 0.0) {
      intercept_step_ = -(sums_.gradient + coupled_change_) / sums_.curvature;
    }
  }

  // One coordinate-descent sweep over the working-set positions in
  // `positions`; returns the largest model violation seen before each
  // update. The intercept is re-minimized after every coordinate step, which
  // amounts to coordinate descent on columns centered with the weights h_i
  // (glmnet's treatment of the intercept) at O(entries of the column) per
  // step: dz_ stores X dw only, and the intercept step enters through the
  // couplings sum_i h_i x_ij.
  double sweep(const std::vector<std::int64_t>& positions) {
    double* dz = dz_.data();
    const double* h = h_.data();
    const bool intercept = args_.fit_intercept && sums_.curvature > 0.0;
    double worst = 0.0;
    for (std::int64_t k : positions) {
      const std::size_t kk = static_cast<std::size_t>(k);
      const std::int64_t j = working_set_[kk];
      double model_gradient = X_.dot(j, gradient_[static_cast<std::size_t>(j)], h, dz);
      model_gradient += intercept_step_ * coupling_[kk];
      const double current = w_[j] + step_[kk];
      double v = coordinate_violation(model_gradient + a2_ * current, current, a1_);
      // Curvature of the model along e_j with the intercept re-minimized.
      double curvature = diagonal_[kk];
      if (intercept) {
        curvature = std::max(0.0, curvature - coupling_[kk] * coupling_[kk] / sums_.curvature);
      }
      // Minimizer over u of model_gradient (u - current) + H/2 (u - current)^2
      // + a1 |u| + a2/2 u^2: S(H current - model_gradient, a1) / (H + a2).
      double next;
      if (curvature + a2_ > 0.0) {
        next = soft_threshold(curvature * current - model_gradient, a1_) / (curvature + a2_);
      } else {
        // A column that is empty (or constant, with an intercept) and no L2
        // term: the model is flat in u except for a1 |u|, so 0 is optimal
        // when a1 > 0.
        next = a1_ > 0.0 ? 0.0 : current;
      }
      // Keep the coordinate within the step bound around w_j. The model is
      // convex in u, so the clipped point minimizes it over the interval, and
      // a coordinate held at the bound is optimal for the bounded model.
      if (next > w_[j] + step_bound_) {
        next = w_[j] + step_bound_;
        if (next == current) v = 0.0;
      } else if (next < w_[j] - step_bound_) {
        next = w_[j] - step_bound_;
        if (next == current) v = 0.0;
      }
      worst = (v > worst || std::isnan(v)) ? v : worst;
      const double delta = next - current;
      if (delta != 0.0) {
        step_[kk] = next - w_[j];
        X_.axpy(j, delta, dz);
        coupled_change_ += delta * coupling_[kk];
        update_intercept_step();
      }
    }
    return worst;
  }

  // Approximate minimizer of the quadratic model over the working set and
  // the intercept, as step_ (per working-set position), intercept_step_ and
  // dz_ = X dw. glmnet's active-set cycling: after a sweep of the whole
  // working set, sweep only its nonzero coordinates until they settle, then
  // check the whole set again.
  void solve_subproblem(double inner_tol) {
    working_set_curvature();
    const std::int64_t size = static_cast<std::int64_t>(working_set_.size());
    step_.assign(static_cast<std::size_t>(size), 0.0);
    std::fill(dz_.begin(), dz_.end(), 0.0);
    coupled_change_ = 0.0;
    intercept_step_ = 0.0;
    update_intercept_step();
    std::vector<std::int64_t> all(static_cast<std::size_t>(size));
    for (std::int64_t k = 0; k < size; ++k) all[static_cast<std::size_t>(k)] = k;
    std::vector<std::int64_t> active;
    int passes = 0;
    while (passes < kMaxInnerPasses) {
      ++passes;
      if (sweep(all) <= inner_tol) break;
      active.clear();
      for (std::int64_t k = 0; k < size; ++k) {
        const std::size_t kk = static_cast<std::size_t>(k);
        if (w_[working_set_[kk]] + step_[kk] != 0.0) active.push_back(k);
      }
      if (active.size() == all.size()) continue;
      while (passes < kMaxInnerPasses) {
        ++passes;
        if (sweep(active) <= inner_tol) break;
      }
    }
  }

  // Applies t (step_, intercept_step_, dz_) to w and z with the largest t in
  // {1, 1/2, 1/4, ...} that passes the Armijo test; returns false when none
  // does or the direction does not descend.
  bool take_step() {
    const std::int64_t size = static_cast<std::int64_t>(working_set_.size());
    const double db = args_.fit_intercept ? intercept_step_ : 0.0;
    // Predicted decrease: the directional derivative of the smooth part plus
    // the change of the L1 term at t = 1, the measure newGLMNET's Armijo test uses.
    double decrease = args_.fit_intercept ? sums_.gradient * db : 0.0;
    for (std::int64_t k = 0; k < size; ++k) {
      const std::int64_t j = working_set_[static_cast<std::size_t>(k)];
      const double d = step_[static_cast<std::size_t>(k)];
      decrease += (gradient_[static_cast<std::size_t>(j)] + a2_ * w_[j]) * d +
                  a1_ * (std::abs(w_[j] + d) - std::abs(w_[j]));
    }
    if (!(decrease < 0.0)) {
      // The subproblem left w where it was; a larger working set may help.
      if (target_size_ < p_) {
        target_size_ *= 2;
        return true;
      }
      return false;
    }
    double t = 1.0;
    if (args_.loss != glm::Loss::squared) {
      const double* z = z_.data();
      const double* dz = dz_.data();
      const double slack = kRoundingSlack * std::abs(objective_);
      bool accepted = false;
      for (int trial = 0; trial < kMaxLineSearchTrials; ++trial) {
        double totals[1];
        if (args_.loss == glm::Loss::logistic) {
          block_pass(1, [&](std::int64_t lo, std::int64_t hi, double* acc) {
            logistic_values(lo, hi, z, dz, t, db, acc);
          }, totals);
        } else {
          sample_pass(1, [&](std::int64_t i, double* acc) {
            acc[0] += factor(i) * terms(i, z[i] + t * (dz[i] + db)).value;
          }, totals);
        }
        double penalty_change = 0.0;
        for (std::int64_t k = 0; k < size; ++k) {
          const double wj = w_[working_set_[static_cast<std::size_t>(k)]];
          penalty_change += penalty(wj + t * step_[static_cast<std::size_t>(k)]) - penalty(wj);
        }
        const double trial_objective = totals[0] + penalty_ + penalty_change;
        if (trial_objective <= objective_ + kArmijo * t * decrease + slack) {
          accepted = true;
          break;
        }
        t *= kBacktrack;
      }
      if (!accepted) return false;
    }
    update_step_bound(t);
    for (std::int64_t k = 0; k < size; ++k) {
      w_[working_set_[static_cast<std::size_t>(k)]] += t * step_[static_cast<std::size_t>(k)];
    }
    if (args_.fit_intercept) w_[p_] += t * db;
    double* z = z_.data();
    const double* dz = dz_.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(sample_threads_) if (sample_threads_ > 1)
#endif
    for (std::int64_t i = 0; i < n_; ++i) z[i] += t * (dz[i] + db);
    return true;
  }

  // Sets the bound of the next subproblem from the step just taken. A step
  // cut by the line search shows that the model was trusted too far: the
  // next direction may move no coordinate further than this one moved. A
  // full step lets the bound grow again. On nearly separable data (news20,
  // L1 logistic at alpha_max / 1000) some columns touch only samples with
  // large margins and have almost no curvature. Their Newton steps reached
  // 1e10 without the bound, and the line search then halved them 30 times.
  void update_step_bound(double t) {
    if (t < 1.0) {
      double longest = 0.0;
      for (double d : step_) longest = std::max(longest, std::abs(d));
      // A step of the intercept alone leaves the bound as it was.
      if (longest > 0.0) step_bound_ = t * longest;
    } else {
      step_bound_ *= kStepBoundGrowth;
    }
  }

  const NewtonCdArgs& args_;
  Columns X_;
  const std::int64_t n_;
  const std::int64_t p_;
  const double a1_;
  const double a2_;
  double* w_;
  double curvature_floor_ = 0.0;
  int sample_threads_ = 1;
  int feature_threads_ = 1;

  std::vector<double> z_;   // margins at w
  std::vector<double> g_;   // s_i loss'(z_i)
  std::vector<double> h_;   // s_i max(loss''(z_i), floor)
  std::vector<double> dz_;  // X dw: change of margins along the direction, less the intercept step
  std::vector<double> gradient_;   // X^T g, without the L2 part
  std::vector<double> violation_;  // per-feature optimality violation
  std::vector<char> in_working_set_;
  std::vector<double> partial_;
  SampleSums sums_;
  double penalty_ = 0.0;
  double objective_ = 0.0;

  std::vector<std::int64_t> working_set_;
  std::int64_t target_size_ = kMinWorkingSet;
  bool worst_outside_ = false;
  std::vector<double> diagonal_;  // sum_i h_i x_ij^2 per working-set position
  std::vector<double> coupling_;  // sum_i h_i x_ij per working-set position
  std::vector<double> step_;      // direction per working-set position
  double intercept_step_ = 0.0;
  double coupled_change_ = 0.0;   // sum_i h_i dz_i
  // Largest |step| of a coefficient in the subproblem; unbounded until a
  // line search cuts a step.
  double step_bound_ = std::numeric_limits<double>::infinity();
};

template <typename Columns>
NewtonCdResult solve(const NewtonCdArgs& args, Columns columns) {
  Solver<Columns> solver(args, columns);
  return solver.run();
}

template <typename T>
NewtonCdResult solve_typed(const NewtonCdArgs& args) {
  const ColumnMatrix& X = args.X;
  const T* data = static_cast<const T*>(X.data);
  if (!X.sparse) return solve(args, DenseColumns<T>{data, X.num_samples});
  if (X.index_type == IndexType::int32) {
    return solve(args, SparseColumns<T, std::int32_t>{
                           data, static_cast<const std::int32_t*>(X.indices),
                           static_cast<const std::int32_t*>(X.indptr)});
  }
  return solve(args, SparseColumns<T, std::int64_t>{data,
                                                    static_cast<const std::int64_t*>(X.indices),
                                                    static_cast<const std::int64_t*>(X.indptr)});
}

}  // namespace

NewtonCdResult newton_cd(const NewtonCdArgs& args) {
  return args.X.dtype == DType::float32 ? solve_typed<float>(args) : solve_typed<double>(args);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
