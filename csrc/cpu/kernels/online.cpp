// Online solvers over CSR rows, one row at a time in the caller's order.
//
// Lazy SGD / Adagrad / Adam. Step t (1-based) on row x with label y is, for
// every coordinate (the eager definition, implemented by
// tests/online_reference.py):
//   1. margin p = x . w + b and loss derivative d = sample_weight * dloss/dp;
//   2. L2 decay of every weight: w <- max(0, 1 - eta_t l2) w;
//   3. the method's update on the row's stored coordinates, with g_j = d x_j
//      (momentum, Adagrad and Adam state changes only there);
//   4. Tsuruoka et al.'s cumulative L1 penalty applied to every weight, with
//      u <- a_t u + eta_t l1 and q_j <- a_t q_j, where a_t is step 2's factor,
//      so the owed and applied penalties shrink with the weights under L2.
// Here the weights are stored as w = A v. Step 2 only multiplies A. Step 4
// adds eta_t l1 / A to the cumulative penalty u (in units of v); a
// coordinate catches up on the penalty owed since it was last touched when a
// row next touches it, which is exact because successive Tsuruoka clips of a
// weight that nothing else moves compose into one clip by their sum.
//
// FTRL-Proximal: McMahan et al. (2013), "Ad click prediction: a view from the
// trenches", Algorithm 1, per coordinate, weights computed from (z, n) when a
// row touches them.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>


#include "cpu/kernel_list.hpp"
#include "cpu/sparse_rows.hpp"
#include "fastopt/glm/losses.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Below this the global scale is folded into the weights, as scikit-learn's
// SGD does, so that v cannot overflow. With averaging the running sum
// p + v S cancels in proportion to 1 / scale (S is dominated by the early,
// large scales while v grows as 1 / scale), so the fold comes much earlier:
// it costs O(n_features) once per log(1e-3) / log(1 - eta l2) rows.
constexpr double kMinScale = 1e-9;
constexpr double kMinScaleAveraged = 1e-3;

struct LossValue {
  double value;
  double d1;
};

inline LossValue evaluate_loss(OnlineLoss loss, double y, double p, double epsilon) {
  glm::LossTerms<double> terms{};
  switch (loss) {
    case OnlineLoss::log_loss: terms = glm::logistic_terms(y, p); break;
    case OnlineLoss::squared_error: terms = glm::squared_terms(y, p); break;
    case OnlineLoss::hinge: terms = glm::hinge_terms(y, p); break;
    case OnlineLoss::huber: terms = glm::huber_terms(y, p, epsilon); break;
  }
  return {terms.value, terms.d1};
}

// The logistic loss of one row as glm::logistic_terms forms it, with
// m = y p formed as (y scale) dot + y b so that one multiplication and one
// addition separate it from dot. The derivative in p is -y numerator /
// denominator.
struct LogisticRatio {
  double m;
  double e;  // exp(-|m|)
  double numerator;
  double denominator;
};

inline LogisticRatio logistic_ratio(double y, double scale, double dot, double b) {
  const double m = (y * scale) * dot + y * b;
  const double e = std::exp(m < 0.0 ? m : -m);
  return {m, e, m >= 0.0 ? e : 1.0, 1.0 + e};
}

// Derivative of one row's loss in the margin p = scale * dot + b. Adds to
// loss_sum the loss value when compute_loss is set, otherwise the margin
// times 0, which is 0 for a finite margin and NaN for an infinite or NaN one,
// so that the sum still reveals overflowed weights. Without the value the
// logistic loss's log1p is never evaluated.
inline double row_derivative(OnlineLoss loss, bool compute_loss, double y, double scale,
                             double dot, double b, double epsilon, double& loss_sum) {
  if (!compute_loss && loss == OnlineLoss::log_loss) {
    // The d1 of glm::logistic_terms alone: -y sigmoid(-y p), from one exp.
    // The chain from one row's step to the next row's margin sets the pace of
    // a pass over data whose weights stay in cache. Forming m from dot in two
    // operations took 6% less time a row on a9a (Xeon).
    const LogisticRatio ratio = logistic_ratio(y, scale, dot, b);
    loss_sum += ratio.m * 0.0;
    return -y * (ratio.numerator / ratio.denominator);
  }
  const double p = scale * dot + b;
  if (compute_loss) {
    const LossValue lv = evaluate_loss(loss, y, p, epsilon);
    loss_sum += lv.value;
    return lv.d1;
  }
  loss_sum += p * 0.0;
  return evaluate_loss(loss, y, p, epsilon).d1;
}

// Sparse dot product of one row with v, in four independent partial sums so
// that consecutive additions do not wait on each other.
template <typename T, typename I>
inline double sparse_dot(const T* data, const I* indices, std::int64_t begin, std::int64_t end,
                         const double* v) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t e = begin;
  for (; e + 4 <= end; e += 4) {
    s0 += static_cast<double>(data[e]) * v[indices[e]];
    s1 += static_cast<double>(data[e + 1]) * v[indices[e + 1]];
    s2 += static_cast<double>(data[e + 2]) * v[indices[e + 2]];
    s3 += static_cast<double>(data[e + 3]) * v[indices[e + 3]];
  }
  for (; e < end; ++e) s0 += static_cast<double>(data[e]) * v[indices[e]];
  return (s0 + s1) + (s2 + s3);
}

// Requests the cache lines of the given arrays at every column of row r, so
// that their random accesses (hashed features over millions of columns) are
// in flight while the current row is processed.
template <typename I>
inline void prefetch_row(const I* indices, const I* indptr, std::int64_t r, double* a,
                         double* b) {
  const std::int64_t begin = static_cast<std::int64_t>(indptr[r]);
  const std::int64_t end = static_cast<std::int64_t>(indptr[r + 1]);
  for (std::int64_t e = begin; e < end; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(indices[e]);
    __builtin_prefetch(a + j, 1);
    if (b != nullptr) __builtin_prefetch(b + j, 1);
  }
}

// Row of the k-th visit.
inline std::int64_t visited_row(const CsrRows& rows, std::int64_t k) {
  return rows.order != nullptr ? rows.order[k] : k;
}

// Rows ahead whose weights are prefetched; below kPrefetchMinFeatures the
// weights are assumed to stay in cache, so prefetching is skipped (an
// estimate, not tuned). On 2e6 CTR-like rows of 20 hashed columns in 2^20,
// one pass took a median 171 ms with 2 rows ahead and 155 ms with 4 (AMD
// EPYC, 5 alternating runs each); 0 rows took 364 ms.
constexpr std::int64_t kPrefetchRows = 4;

// Whether row r of rows lies within indptr and nnz, with every column in
// [0, num_features) and every value finite (LazySgdHyper::checked).
template <typename T, typename I>
inline bool row_is_valid(const CsrRows& rows, std::int64_t r, std::int64_t num_features) {
  if (r < 0 || r >= rows.num_rows) return false;
  const I* indptr = static_cast<const I*>(rows.indptr);
  const auto begin = static_cast<std::int64_t>(indptr[r]);
  const auto end = static_cast<std::int64_t>(indptr[r + 1]);
  if (begin < 0 || begin > end || end > rows.nnz) return false;
  const T* data = static_cast<const T*>(rows.data);
  const I* indices = static_cast<const I*>(rows.indices);
  bool ok = true;
  for (std::int64_t e = begin; e < end; ++e) {
    ok = ok && static_cast<std::uint64_t>(indices[e]) < static_cast<std::uint64_t>(num_features);
    ok = ok && std::isfinite(static_cast<double>(data[e]));
  }
  return ok;
}

// Visits checked together by a checked pass (LazySgdHyper::checked).
constexpr std::int64_t kCheckedVisits = 64;

// For a checked pass over rows without an order: the end of the run of valid
// visits that starts at visit k, looking at most kCheckedVisits ahead. The
// check of a whole run vectorizes, so a w8a pass took 4% less time than with a
// check of each row just before reading it. Only a run with a bad entry is
// searched row by row.
template <typename T, typename I>
std::int64_t valid_visits_from(const CsrRows& rows, std::int64_t k, std::int64_t num_features) {
  if (rows.order != nullptr) {
    return row_is_valid<T, I>(rows, rows.order[k], num_features) ? k + 1 : k;
  }
  const std::int64_t stop = std::min({k + kCheckedVisits, rows.num_visits, rows.num_rows});
  const I* indptr = static_cast<const I*>(rows.indptr);
  int decreasing = 0;
  for (std::int64_t r = k; r < stop; ++r) decreasing |= indptr[r] > indptr[r + 1] ? 1 : 0;
  bool ok = stop > k && indptr[k] >= 0 && decreasing == 0 &&
            static_cast<std::int64_t>(indptr[stop]) <= rows.nnz;
  if (ok) {
    const T* data = static_cast<const T*>(rows.data);
    const I* indices = static_cast<const I*>(rows.indices);
    const auto first = static_cast<std::int64_t>(indptr[k]);
    const auto last = static_cast<std::int64_t>(indptr[stop]);
    // Two loops, each a reduction of one type, because GCC vectorizes neither
    // a loop over both arrays nor a reduction of bools.
    using U = std::make_unsigned_t<I>;
    U largest = 0;  // a negative index wraps to a large one
    for (std::int64_t e = first; e < last; ++e) {
      largest = std::max(largest, static_cast<U>(indices[e]));
    }
    // |x| <= max is false for NaN and for the infinities.
    int bad = 0;
    for (std::int64_t e = first; e < last; ++e) {
      bad |= std::fabs(data[e]) <= std::numeric_limits<T>::max() ? 0 : 1;
    }
    ok = bad == 0 && (last == first || static_cast<std::uint64_t>(largest) <
                                           static_cast<std::uint64_t>(num_features));
  }
  if (ok) return stop;
  std::int64_t r = k;
  while (r < stop && row_is_valid<T, I>(rows, r, num_features)) ++r;
  return r;
}

// Whether visits [lo, hi) of a checked pass are all valid (see valid_visits_from).
template <typename T, typename I>
bool visits_are_valid(const CsrRows& rows, std::int64_t lo, std::int64_t hi,
                      std::int64_t num_features) {
  for (std::int64_t k = lo; k < hi;) {
    const std::int64_t end = valid_visits_from<T, I>(rows, k, num_features);
    if (end == k) return false;
    k = end;
  }
  return true;
}

inline double learning_rate(const LazySgdHyper& h, double eta0, std::int64_t t) {
  switch (h.learning_rate) {
    case LearningRate::invscaling: return eta0 / std::pow(static_cast<double>(t), h.power_t);
    case LearningRate::optimal:
      return 1.0 / (h.alpha * (h.optimal_t0 + static_cast<double>(t) - 1.0));
    default: return eta0;
  }
}

// Tsuruoka et al. (2009), "Stochastic gradient descent training for
// L1-regularized log-linear models with cumulative penalty", Figure 2's
// ApplyPenalty: moves v toward zero by the penalty still owed (u + q for a
// positive weight, u - q for a negative one), stopping at zero.
inline void apply_l1(double& v, double& q, double u) {
  const double before = v;
  if (before > 0.0) {
    const double shrunk = before - (u + q);
    v = shrunk > 0.0 ? shrunk : 0.0;
  } else if (before < 0.0) {
    const double shrunk = before + (u - q);
    v = shrunk < 0.0 ? shrunk : 0.0;
  }
  q += v - before;
}

// Multiplies the global scale A = factor into the weights, so that A becomes 1;
// u is the pass's copy of the cumulative L1 penalty, in units of v.
template <bool kL1, bool kAverage>
void fold_scale(const LazySgdState& s, double factor, double& u) {
  double* g = s.globals;
  const double sum = g[kAverageScaleSum];
  for (std::int64_t j = 0; j < s.num_features; ++j) {
    if constexpr (kAverage) s.average_offset[j] += s.coef[j] * sum;
    s.coef[j] *= factor;
    if constexpr (kL1) s.l1_applied[j] *= factor;
  }
  u *= factor;
  g[kAverageScaleSum] = 0.0;
}

// With kMark the pass also sets mark[j] = stamp for every column j that a row
// stores (plain SGD without averaging only), for the block-parallel pass.
template <typename T, typename I, OnlineMethod kMethod, bool kL1, bool kAverage,
          bool kMark = false>
double lazy_sgd_rows(const CsrRows& rows, const LazySgdHyper& h, const LazySgdState& s,
                     double loss_start = 0.0, std::uint32_t* mark = nullptr,
                     std::uint32_t stamp = 0) {
  static_assert(!kMark || (kMethod == OnlineMethod::sgd && !kAverage),
                "marks are set by the plain SGD step only");
  const T* data = static_cast<const T*>(rows.data);
  const I* indices = static_cast<const I*>(rows.indices);
  const I* indptr = static_cast<const I*>(rows.indptr);
  double* v = s.coef;
  double* q = s.l1_applied;
  double* s1 = s.state1;
  double* s2 = s.state2;
  double* avg = s.average_offset;
  double* g = s.globals;
  std::int64_t t = *s.t;
  double scale = g[kScale];
  double u = g[kL1Cumulative];
  double b = g[kIntercept];
  const double eta0 = g[kEta];
  const double mu = h.momentum;
  // A checked pass reads no row ahead of its check, so it does not prefetch.
  const bool prefetch = s.num_features >= kPrefetchMinFeatures && !h.checked;
  double loss_sum = loss_start;

  std::int64_t valid_end = 0;  // visits before it have passed the check
  for (std::int64_t k = 0; k < rows.num_visits; ++k) {
    const std::int64_t r = visited_row(rows, k);
    if (h.checked && k >= valid_end) {
      valid_end = valid_visits_from<T, I>(rows, k, s.num_features);
      if (valid_end == k) {
        *s.invalid = true;
        return loss_sum;
      }
    }
    const std::int64_t begin = static_cast<std::int64_t>(indptr[r]);
    const std::int64_t end = static_cast<std::int64_t>(indptr[r + 1]);
    ++t;

    if (prefetch && k + kPrefetchRows < rows.num_visits) {
      prefetch_row(indices, indptr, visited_row(rows, k + kPrefetchRows), v, kL1 ? q : s1);
    }
    if constexpr (kL1) {
      for (std::int64_t e = begin; e < end; ++e) {
        const std::int64_t j = static_cast<std::int64_t>(indices[e]);
        apply_l1(v[j], q[j], u);
      }
    }
    const double dot = sparse_dot(data, indices, begin, end, v);
    const double y = rows.y[r];
    const double weight = rows.sample_weight != nullptr ? rows.sample_weight[r] : 1.0;
    // Plain SGD on the logistic loss keeps the derivative -y sigmoid(-y p) as
    // numerator / denominator. The step's other factors then multiply the
    // numerator while the denominator is formed, so one multiplication and one
    // division separate the exp from the update (forming d and then the step
    // took four multiplications). This chain, from one row's update to the
    // next row's margin, sets the pace of a pass whose weights stay in cache.
    const bool ratio = kMethod == OnlineMethod::sgd && h.loss == OnlineLoss::log_loss;
    double numerator = 0.0;
    double denominator = 1.0;
    double d = 0.0;
    if (ratio) {
      const LogisticRatio terms = logistic_ratio(y, scale, dot, b);
      numerator = terms.numerator;
      denominator = terms.denominator;
      if (h.compute_loss) {
        loss_sum += (terms.m < 0.0 ? -terms.m : 0.0) + std::log1p(terms.e);
      } else {
        loss_sum += terms.m * 0.0;
      }
    } else {
      // A weight of 1 multiplies exactly, so unweighted rows keep their bits.
      d = weight * row_derivative(h.loss, h.compute_loss, y, scale, dot, b, h.epsilon,
                                  loss_sum);
    }
    const double eta = learning_rate(h, eta0, t);

    if (h.l2 > 0.0) {
      const double decay = 1.0 - eta * h.l2;
      if (decay <= 0.0) {
        fold_scale<kL1, kAverage>(s, 0.0, u);
        scale = 1.0;
      } else {
        scale *= decay;
        if (scale < (kAverage ? kMinScaleAveraged : kMinScale) && h.fold) {
          fold_scale<kL1, kAverage>(s, scale, u);
          scale = 1.0;
        }
      }
    }
    const double avg_sum = kAverage ? g[kAverageScaleSum] : 0.0;

    const double inv_scale = 1.0 / scale;
    if constexpr (kMethod == OnlineMethod::sgd) {
      // -step, the factor on x in v's update; v[j] - step x_j and
      // v[j] + (-step) x_j round alike.
      const double descent = ratio ? ((eta * inv_scale) * (y * weight) * numerator) / denominator
                                   : -(eta * d * inv_scale);
      if constexpr (kAverage) {
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = static_cast<std::int64_t>(indices[e]);
          const double change = descent * static_cast<double>(data[e]);
          v[j] += change;
          avg[j] -= change * avg_sum;
        }
      } else {
        add_scaled_entries(data, indices, begin, end, descent, v);
        if constexpr (kMark) {
          // Stores only, off the chain from this row's step to the next margin.
          for (std::int64_t e = begin; e < end; ++e) mark[indices[e]] = stamp;
        }
      }
      if (h.fit_intercept) {
        b += ratio ? ((eta * h.intercept_decay) * (y * weight) * numerator) / denominator
                   : (-eta * d) * h.intercept_decay;
      }
    } else if constexpr (kMethod == OnlineMethod::momentum) {
      const double step = eta * inv_scale;
      for (std::int64_t e = begin; e < end; ++e) {
        const std::int64_t j = static_cast<std::int64_t>(indices[e]);
        s1[j] = mu * s1[j] + d * static_cast<double>(data[e]);
        const double change = step * s1[j];
        v[j] -= change;
        if constexpr (kAverage) avg[j] += change * avg_sum;
      }
      if (h.fit_intercept) {
        g[kInterceptState1] = mu * g[kInterceptState1] + d;
        b += (-eta * g[kInterceptState1]) * h.intercept_decay;
      }
    } else if constexpr (kMethod == OnlineMethod::adagrad) {
      const double step = eta * inv_scale;
      for (std::int64_t e = begin; e < end; ++e) {
        const std::int64_t j = static_cast<std::int64_t>(indices[e]);
        const double gj = d * static_cast<double>(data[e]);
        s1[j] += gj * gj;
        const double change = step * gj / (std::sqrt(s1[j]) + h.eps);
        v[j] -= change;
        if constexpr (kAverage) avg[j] += change * avg_sum;
      }
      if (h.fit_intercept) {
        g[kInterceptState1] += d * d;
        b += (-eta * d / (std::sqrt(g[kInterceptState1]) + h.eps)) * h.intercept_decay;
      }
    } else {  // Adam, written as torch.optim.Adam evaluates it
      const double tt = static_cast<double>(t);
      const double correction1 = 1.0 - std::pow(h.beta1, tt);
      const double sqrt_correction2 = std::sqrt(1.0 - std::pow(h.beta2, tt));
      const double step = eta / correction1;
      const double step_v = step * inv_scale;
      const double c1 = 1.0 - h.beta1;
      const double c2 = 1.0 - h.beta2;
      for (std::int64_t e = begin; e < end; ++e) {
        const std::int64_t j = static_cast<std::int64_t>(indices[e]);
        const double gj = d * static_cast<double>(data[e]);
        s1[j] = h.beta1 * s1[j] + c1 * gj;
        s2[j] = h.beta2 * s2[j] + c2 * gj * gj;
        const double denom = std::sqrt(s2[j]) / sqrt_correction2 + h.eps;
        const double change = step_v * s1[j] / denom;
        v[j] -= change;
        if constexpr (kAverage) avg[j] += change * avg_sum;
      }
      if (h.fit_intercept) {
        double& m = g[kInterceptState1];
        double& sq = g[kInterceptState2];
        m = h.beta1 * m + c1 * d;
        sq = h.beta2 * sq + c2 * d * d;
        b += (-step * m / (std::sqrt(sq) / sqrt_correction2 + h.eps)) * h.intercept_decay;
      }
    }

    if constexpr (kL1) u += eta * h.l1 * inv_scale;
    if constexpr (kAverage) {
      if (t >= h.average_start) {
        g[kAverageScaleSum] += scale;
        g[kAverageInterceptSum] += b;
      }
    }
  }

  g[kScale] = scale;
  g[kL1Cumulative] = u;
  g[kIntercept] = b;
  *s.t = t;
  return loss_sum;
}

template <typename T, typename I, OnlineMethod kMethod>
double lazy_sgd_penalty(const CsrRows& rows, const LazySgdHyper& h, const LazySgdState& s,
                        double loss) {
  // The bindings reject averaging together with L1, so three cases remain.
  if (h.l1 > 0.0) return lazy_sgd_rows<T, I, kMethod, true, false>(rows, h, s, loss);
  if (h.average_start > 0) return lazy_sgd_rows<T, I, kMethod, false, true>(rows, h, s, loss);
  return lazy_sgd_rows<T, I, kMethod, false, false>(rows, h, s, loss);
}

template <typename T, typename I>
double lazy_sgd_method(const CsrRows& rows, const LazySgdHyper& h, const LazySgdState& s,
                       double loss) {
  switch (h.method) {
    case OnlineMethod::momentum:
      return lazy_sgd_penalty<T, I, OnlineMethod::momentum>(rows, h, s, loss);
    case OnlineMethod::adagrad:
      return lazy_sgd_penalty<T, I, OnlineMethod::adagrad>(rows, h, s, loss);
    case OnlineMethod::adam: return lazy_sgd_penalty<T, I, OnlineMethod::adam>(rows, h, s, loss);
    default: return lazy_sgd_penalty<T, I, OnlineMethod::sgd>(rows, h, s, loss);
  }
}

// Deterministic block-parallel SGD (jobs = T > 1, plain SGD only).
//
// The visits run in blocks of B = block_rows; block visits [lo, hi) split
// into T contiguous parts, part k holding [lo + (hi - lo) k / T,
// lo + (hi - lo) (k + 1) / T). Each part runs the sequential lazy pass above,
// with its rows' own step numbers, from the model at the start of the block,
// on private copies of the coordinates it touches. With P_S the map that
// applies only the penalties (steps 2 and 4) of the steps S to a weight and
// its applied L1 amount q, and m_j the number of parts whose rows store
// column j, the block ends with
//   w_j = P_block(w0)_j + (1 / m_j) sum_k (w_k - P_part k(w0))_j,  likewise q,
//   b = b0 + the mean of (b_k - b0) over the parts that have rows,
// summed in part order, after which Tsuruoka's ApplyPenalty with the block's
// cumulative penalty settles what the sum left owed. The lazy state does that
// by itself: it stores the combined (w, q) in units of the block's scale, and
// every later read or touch applies the penalty owed. A coordinate that no
// part touches gets exactly the sequential penalty of the block (the global
// scale and cumulative penalty absorb it), so the merge costs O(nnz of the
// block).
//
// Why this combination: a column that one part alone touches takes that
// part's change in full, which is the sequential update when the parts touch
// disjoint columns (the case Hogwild, Niu et al. 2011, relies on); a column
// that several parts touch takes the mean of their changes, the model
// averaging of Zinkevich et al. (2010) and of iterative parameter mixing
// (McDonald et al. 2010) restricted to the shared columns. Summing every
// change instead (delayed SGD with delay < B) doubled the step of the frequent
// columns under the "optimal" schedule's large early rates: on a9a with B = 1024
// the test log-loss after one pass rose from 1.14 (sequential) to 9.2, while
// the per-column mean gave 0.79. Averaging every column would halve the
// steps of the rare ones too.
// Parts, not threads, define the result: it depends on T and B only.
// A block with a step whose L2 factor 1 - eta l2 is <= 0 (every weight to 0)
// runs sequentially.

// How long a thread of the block-parallel pass spins before it sleeps: a
// helper waiting for the next block's offer, and the calling thread waiting
// for a helper's part (at least as long as its own parts took). A helper must
// cover the gap between two offers, which contains the merge, the next block's
// check and whatever the calling thread's part takes longer than its own.
// Spinning 512 pauses (4-16 us on a 2-vCPU Xeon) put both threads to sleep
// in most blocks. Each wake-up took 16-256 us. The waits that this caused
// counted as stalls and held the back-off at its cap, so on w8a the helper
// ran 13 parts in 1470 blocks.
constexpr std::chrono::microseconds kSpinTime{200};

// On a busy machine a helper thread of the block-parallel pass may not run in
// time, or be descheduled while it holds a part. After such an event the pass
// runs blocks alone: kMaxBackoff caps log2 of their number, and a pass that
// starts at the cap probes with threads only every kProbeEvery-th time. The
// state is shared by every pass of the process. It decides which thread runs
// a part, never the result.
constexpr int kMaxBackoff = 10;
constexpr std::uint32_t kProbeEvery = 8;
std::atomic<int> g_parallel_backoff{0};
std::atomic<std::uint32_t> g_parallel_passes{0};

// Map from each column that one part touches within a block to its slot, the
// order of first touch. It is an open-addressing table with linear probing, at
// least twice as long as the part has stored values, so it stays in the core's
// cache. Full-length copies of the weights and marks, the earlier form, did not
// fit in the last-level cache next to the shared weights on 2^20 columns, and
// there the copies and the merge took ten times as long as the steps.
class ColumnSlots {
 public:
  // Empties the table and makes room for count distinct columns. An entry is
  // in use only when it carries the table's current generation, so emptying
  // the table writes nothing.
  void reset(std::int64_t count) {
    used_.clear();
    std::uint64_t size = 16;
    int bits = 4;
    while (size < 2 * static_cast<std::uint64_t>(count)) {
      size <<= 1;
      ++bits;
    }
    if (size > entries_.size() || generation_ == UINT32_MAX) {
      entries_.assign(std::max<std::size_t>(size, entries_.size()), Entry{});
      shift_ = 64 - std::max(bits, 64 - shift_);
      generation_ = 0;
    }
    ++generation_;
  }
  // The slot of column j, which gets the next slot if it has none.
  std::int64_t insert(std::int64_t j) {
    const std::uint64_t mask = entries_.size() - 1;
    for (std::uint64_t at = home(j);; at = (at + 1) & mask) {
      Entry& entry = entries_[at];
      if (entry.generation != generation_) {
        entry.column = j;
        entry.generation = generation_;
        entry.slot = static_cast<std::uint32_t>(used_.size());
        used_.push_back(j);
        return entry.slot;
      }
      if (entry.column == j) return entry.slot;
    }
  }
  // The slot of column j, or -1 when the part does not touch it.
  std::int64_t find(std::int64_t j) const {
    const std::uint64_t mask = entries_.size() - 1;
    for (std::uint64_t at = home(j);; at = (at + 1) & mask) {
      const Entry& entry = entries_[at];
      if (entry.generation != generation_) return -1;
      if (entry.column == j) return entry.slot;
    }
  }
  std::int64_t size() const { return static_cast<std::int64_t>(used_.size()); }
  std::int64_t column(std::int64_t slot) const { return used_[static_cast<std::size_t>(slot)]; }
  // Requests the cache line where a search for column j starts.
  void prefetch(std::int64_t j) const { __builtin_prefetch(entries_.data() + home(j)); }

 private:
  struct Entry {
    std::int64_t column = 0;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
  };
  // Fibonacci hashing: the top bits of j times 2^64 / golden ratio.
  std::uint64_t home(std::int64_t j) const {
    return (static_cast<std::uint64_t>(j) * 0x9e3779b97f4a7c15ull) >> shift_;
  }
  std::vector<Entry> entries_;
  std::vector<std::int64_t> used_;  // columns in slot order
  std::uint32_t generation_ = 0;
  int shift_ = 64;
};

// Working state of one part of a block. A narrow model's part keeps
// full-length copies of the weights (v, q) and marks the columns its rows
// touch. A wide model's part keeps the weights of its touched columns by slot
// (v, q), and its rows as a CSR block whose column indices are those slots.
struct PartState {
  std::vector<double> v;
  std::vector<double> q;            // with L1
  std::vector<std::uint32_t> mark;  // narrow: stamp of the last block that touched j
  ColumnSlots slots;                // wide
  std::vector<double> data, y, weight;
  std::vector<std::int64_t> indices, indptr;
  double globals[kNumLazySgdGlobals] = {};
  std::int64_t t = 0;
  double loss = 0.0;
  std::int64_t lo = 0, hi = 0;  // visits of the part
  bool invalid = false;         // a checked pass found a bad row in the part
  // The part's penalty path from scale 1: the product of its L2 factors and
  // the sum of eta l1 / scale over its steps.
  double decay = 1.0, l1_sum = 0.0;
  // Whether the part's rows store column j.
  bool touches(std::int64_t j, std::uint32_t stamp, bool narrow) const {
    return narrow ? mark[static_cast<std::size_t>(j)] == stamp : slots.find(j) >= 0;
  }
};

// The rows of visits [lo, hi) of rows, as a CsrRows of their own.
template <typename I>
CsrRows visit_range(const CsrRows& rows, std::int64_t lo, std::int64_t hi) {
  CsrRows part = rows;
  part.num_visits = hi - lo;
  if (rows.order != nullptr) {
    part.order = rows.order + lo;
  } else {
    part.indptr = static_cast<const I*>(rows.indptr) + lo;
    part.num_rows = hi - lo;
    part.y = rows.y + lo;
    if (rows.sample_weight != nullptr) part.sample_weight = rows.sample_weight + lo;
  }
  return part;
}

// Whether some step of visits (t, t + count] has an L2 factor 1 - eta l2 <= 0.
// Every schedule is monotone in t, so the extreme rates are at the ends.
inline bool zeroing_step(const LazySgdHyper& h, double eta0, std::int64_t t, std::int64_t count) {
  if (!(h.l2 > 0.0) || count == 0) return false;
  const double first = learning_rate(h, eta0, t + 1);
  const double last = learning_rate(h, eta0, t + count);
  return (first > last ? first : last) * h.l2 >= 1.0;
}

// The block's scale and cumulative L1 penalty (in units of v) after the
// penalty steps of all its parts, from the parts' paths in part order.
inline void block_path(const std::vector<PartState>& parts, const double* g, double& scale,
                       double& u) {
  scale = g[kScale];
  u = g[kL1Cumulative];
  for (const PartState& p : parts) {
    u += p.l1_sum / scale;
    scale *= p.decay;
  }
}

// The part's penalty path (PartState::decay and l1_sum) from its step numbers.
inline void part_path(const LazySgdHyper& h, PartState& p, std::int64_t num_visits) {
  const LazySgdHyper hyper = h;
  const double eta0 = p.globals[kEta];
  double decay = 1.0, l1_sum = 0.0;
  for (std::int64_t k = 0; k < num_visits; ++k) {
    const double eta = learning_rate(hyper, eta0, p.t + k + 1);
    if (hyper.l2 > 0.0) decay *= 1.0 - eta * hyper.l2;
    l1_sum += eta * hyper.l1 / decay;
  }
  p.decay = decay;
  p.l1_sum = hyper.l1 > 0.0 ? l1_sum : 0.0;
}

// Columns ahead whose shared weights the gather and the merge of a wide model
// prefetch. Their loops branch on hash probes and ownership, and the
// mispredictions kept the out-of-order core from overlapping the cache misses
// of successive columns.
constexpr std::int64_t kMergeAhead = 16;

// Builds a wide model's part: its rows with each column replaced by its slot,
// as float64 values (the steps widen every value to float64 anyway), and the
// shared values of its touched columns by slot. Also computes the part's
// penalty path. Returns the part's rows.
template <typename T, typename I, bool kL1>
CsrRows gather_part(const CsrRows& part, const LazySgdHyper& h, const LazySgdState& s,
                    PartState& p) {
  const T* data = static_cast<const T*>(part.data);
  const I* indices = static_cast<const I*>(part.indices);
  const I* indptr = static_cast<const I*>(part.indptr);
  const std::int64_t visits = part.num_visits;
  p.indptr.resize(static_cast<std::size_t>(visits) + 1);
  p.indptr[0] = 0;
  for (std::int64_t k = 0; k < visits; ++k) {
    const std::int64_t r = visited_row(part, k);
    p.indptr[k + 1] = p.indptr[k] + (static_cast<std::int64_t>(indptr[r + 1]) -
                                     static_cast<std::int64_t>(indptr[r]));
  }
  const auto nnz = static_cast<std::size_t>(p.indptr[visits]);
  p.data.resize(nnz);
  p.indices.resize(nnz);
  p.y.resize(static_cast<std::size_t>(visits));
  if (part.sample_weight != nullptr) p.weight.resize(static_cast<std::size_t>(visits));
  p.slots.reset(static_cast<std::int64_t>(nnz));
  p.decay = 1.0;
  p.l1_sum = 0.0;
  std::int64_t at = 0;
  for (std::int64_t k = 0; k < visits; ++k) {
    const double eta = learning_rate(h, p.globals[kEta], p.t + k + 1);
    if (h.l2 > 0.0) p.decay *= 1.0 - eta * h.l2;
    if constexpr (kL1) p.l1_sum += eta * h.l1 / p.decay;
    const std::int64_t r = visited_row(part, k);
    p.y[static_cast<std::size_t>(k)] = part.y[r];
    if (part.sample_weight != nullptr) {
      p.weight[static_cast<std::size_t>(k)] = part.sample_weight[r];
    }
    const std::int64_t end = static_cast<std::int64_t>(indptr[r + 1]);
    for (std::int64_t e = static_cast<std::int64_t>(indptr[r]); e < end; ++e, ++at) {
      p.data[static_cast<std::size_t>(at)] = static_cast<double>(data[e]);
      p.indices[static_cast<std::size_t>(at)] = p.slots.insert(static_cast<std::int64_t>(indices[e]));
    }
  }
  const std::int64_t count = p.slots.size();
  p.v.resize(static_cast<std::size_t>(count));
  if constexpr (kL1) p.q.resize(static_cast<std::size_t>(count));
  for (std::int64_t c = 0; c < count; ++c) {
    const std::int64_t j = p.slots.column(c);
    if (c + kMergeAhead < count) {
      const std::int64_t ahead = p.slots.column(c + kMergeAhead);
      __builtin_prefetch(s.coef + ahead);
      if constexpr (kL1) __builtin_prefetch(s.l1_applied + ahead);
    }
    p.v[static_cast<std::size_t>(c)] = s.coef[j];
    if constexpr (kL1) p.q[static_cast<std::size_t>(c)] = s.l1_applied[j];
  }
  CsrRows rows = part;
  rows.dtype = DType::float64;
  rows.index64 = true;
  rows.data = p.data.data();
  rows.indices = p.indices.data();
  rows.indptr = p.indptr.data();
  rows.num_rows = visits;
  rows.nnz = static_cast<std::int64_t>(nnz);
  rows.y = p.y.data();
  rows.sample_weight = part.sample_weight != nullptr ? p.weight.data() : nullptr;
  rows.order = nullptr;
  rows.num_visits = visits;
  return rows;
}

// Writes the block's merged value of every coordinate whose lowest touching
// part is parts[k], so that each coordinate has one writer. A narrow model
// reads every column's mark; a wide one lists the part's touched columns.
// scale and u are the block's path (block_path).
template <bool kL1>
void merge_part(const std::vector<PartState>& parts, std::size_t k, const LazySgdState& s,
                std::uint32_t stamp, bool narrow, double scale, double u) {
  const PartState& own = parts[k];
  const std::int64_t count = narrow ? s.num_features : own.slots.size();
  for (std::int64_t c = 0; c < count; ++c) {
    const std::int64_t j = narrow ? c : own.slots.column(c);
    if (!narrow && c + kMergeAhead < count) {
      const std::int64_t ahead = own.slots.column(c + kMergeAhead);
      __builtin_prefetch(s.coef + ahead, 1);
      if constexpr (kL1) __builtin_prefetch(s.l1_applied + ahead, 1);
      for (std::size_t o = 0; o < parts.size(); ++o) {
        if (o != k) parts[o].slots.prefetch(ahead);
      }
    }
    if (narrow && own.mark[static_cast<std::size_t>(j)] != stamp) continue;
    bool owned = true;
    for (std::size_t o = 0; o < k && owned; ++o) owned = !parts[o].touches(j, stamp, narrow);
    if (!owned) continue;
    const double v0 = s.coef[j];
    const double q0 = kL1 ? s.l1_applied[j] : 0.0;
    // The parts' changes beyond the penalties, summed in part order.
    double change = 0.0, applied_change = 0.0;
    int sharing = 0;
    for (std::size_t o = k; o < parts.size(); ++o) {
      const PartState& p = parts[o];
      const std::int64_t at = narrow ? (p.mark[static_cast<std::size_t>(j)] == stamp ? j : -1)
                                     : (o == k ? c : p.slots.find(j));
      if (at < 0) continue;
      const auto a = static_cast<std::size_t>(at);
      ++sharing;
      const double part_scale = p.globals[kScale];
      if constexpr (kL1) {
        const double part_u = p.globals[kL1Cumulative];
        double tv = p.v[a], tq = p.q[a], sv = v0, sq = q0;
        apply_l1(tv, tq, part_u);
        apply_l1(sv, sq, part_u);
        change += part_scale * (tv - sv);
        applied_change += part_scale * (tq - sq);
      } else {
        change += part_scale * (p.v[a] - v0);
      }
    }
    const double share = 1.0 / static_cast<double>(sharing);
    if constexpr (kL1) {
      double pv = v0, pq = q0;
      apply_l1(pv, pq, u);
      s.coef[j] = (scale * pv + share * change) / scale;
      s.l1_applied[j] = (scale * pq + share * applied_change) / scale;
    } else {
      s.coef[j] = (scale * v0 + share * change) / scale;
    }
  }
}

// Merges every part of a narrow model without L1, as merge_part does, in loops
// without branches that vectorize. The sums keep part order, so the weights
// are the same (a zero may change sign). change and sharing are scratch arrays
// of num_features elements; scale is the block's (block_path).
inline void merge_narrow(const std::vector<PartState>& parts, const LazySgdState& s,
                         std::uint32_t stamp, double* change, double* sharing, double scale) {
  const std::int64_t d = s.num_features;
  double* const coef = s.coef;
  std::fill(change, change + d, 0.0);
  std::fill(sharing, sharing + d, 0.0);
  for (const PartState& p : parts) {
    const double part_scale = p.globals[kScale];
    const double* const v = p.v.data();
    const std::uint32_t* const mark = p.mark.data();
    for (std::int64_t j = 0; j < d; ++j) {
      const bool touched = mark[j] == stamp;
      change[j] += touched ? part_scale * (v[j] - coef[j]) : 0.0;
      sharing[j] += touched ? 1.0 : 0.0;
    }
  }
  for (std::int64_t j = 0; j < d; ++j) {
    const double share = 1.0 / (sharing[j] > 0.0 ? sharing[j] : 1.0);
    const double merged = (scale * coef[j] + share * change[j]) / scale;
    coef[j] = sharing[j] > 0.0 ? merged : coef[j];
  }
}

inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The parts of the current block, offered to every thread of a parallel pass.
// claim is (generation << 32) | the next unclaimed task; done[k] is the
// generation of the last block whose task k has finished. Helpers that find
// nothing to claim sleep on wake instead of spinning: a spinning thread takes
// the CPU share that the thread it waits for needs on a busy machine.
struct PartBoard {
  std::atomic<std::uint64_t> claim{0};
  std::atomic<bool> stop{false};
  // Wake-up counter, raised by the calling thread one block before it offers
  // parts again after running blocks alone. A sleeping helper then spins when
  // the offer comes.
  std::atomic<std::uint64_t> ready{0};
  // Threads asleep until a task of the current block finishes.
  std::atomic<int> task_waiters{0};
  std::atomic<int> helpers_sleeping{0};
  // Set by the first helper to start. A new thread takes longer to start than
  // a block takes to run, so the blocks before it cannot count as misses.
  std::atomic<bool> helper_started{false};
  std::vector<std::atomic<std::uint64_t>> done;
  std::mutex mutex;
  std::condition_variable wake;
  explicit PartBoard(std::size_t parts) : done(parts) {
    for (auto& slot : done) slot.store(0);
  }
  // Wakes the sleepers after a change of claim, stop or done. Taking the mutex
  // orders the change before a sleeper's check of its condition.
  void notify() {
    { std::lock_guard<std::mutex> lock(mutex); }
    wake.notify_all();
  }
};

// Waits until task o of block generation gen is done: spins until patience has
// passed since since, then sleeps on the board. Returns whether it slept. The
// loads are sequentially consistent: with acquire loads a finishing thread
// could miss the waiter's count and not wake it.
inline bool wait_for_task(PartBoard& b, std::size_t o, std::uint64_t gen,
                          std::chrono::steady_clock::time_point since,
                          std::chrono::steady_clock::duration patience) {
  for (unsigned rounds = 1; b.done[o].load() != gen; ++rounds) {
    cpu_pause();
    if (rounds % 64 == 0 && std::chrono::steady_clock::now() - since > patience) break;
  }
  if (b.done[o].load() == gen) return false;
  std::unique_lock<std::mutex> lock(b.mutex);
  b.task_waiters.fetch_add(1);
  b.wake.wait(lock, [&] { return b.done[o].load() == gen; });
  b.task_waiters.fetch_sub(1);
  return true;
}

// Claims an unclaimed part of block generation gen; false when none is left
// or the board has moved on to another block.
inline bool claim_part(PartBoard& board, std::uint64_t gen, std::size_t num_parts,
                       std::size_t& part) {
  std::uint64_t c = board.claim.load(std::memory_order_acquire);
  for (;;) {
    if ((c >> 32) != gen || (c & 0xffffffffu) >= num_parts) return false;
    if (board.claim.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
      part = static_cast<std::size_t>(c & 0xffffffffu);
      return true;
    }
  }
}

// Executes the block-parallel algorithm above. The parts, not the threads,
// define the result, so the calling thread can run every part itself; helper
// threads take the parts they reach first. The calling thread plans each
// block, offers its parts on the board, runs the parts no helper has taken,
// waits for the taken ones, then merges and finishes the block alone.
//
// Why not an OpenMP team with a barrier per step (the first version): a block
// holds about 50 us of work on a9a, and a barrier needs every thread on a core
// at once. On a 2-core machine with a load average of 10, the spinning waiters
// of OpenMP's default wait policy stretched each of a block's three barriers
// to about 9 ms, so two threads ran a9a 90x slower than one (under
// OMP_WAIT_POLICY=passive, 4x slower; with one thread, as fast). Here nobody
// waits for a thread to start, nobody spins for long, and a helper that the
// system deschedules costs at most the part it holds.
//
// The helpers are detached threads of this pass that share only the board,
// so that the pass returns without waiting for a helper that has not yet run;
// a late helper finds nothing to claim and exits.
template <typename T, typename I, bool kL1>
double parallel_sgd_rows(const CsrRows& rows, const LazySgdHyper& h, const LazySgdState& s) {
  const std::int64_t block = h.block_rows;
  // With at least as many parts as a block has rows, every part holds one row or
  // none, and a part without rows changes nothing. So jobs beyond block_rows
  // give the same parts as block_rows itself, without the per-part costs.
  const std::size_t num_parts = static_cast<std::size_t>(std::min<std::int64_t>(h.jobs, block));
  // Rounded up without forming num_visits + block - 1, which overflows when
  // block_rows is near INT64_MAX.
  const std::int64_t num_blocks =
      rows.num_visits / block + (rows.num_visits % block != 0 ? 1 : 0);
  const std::size_t d = static_cast<std::size_t>(s.num_features);
  std::vector<PartState> parts(num_parts);
  // A part leaves its scale unfolded; the block folds the shared state after it.
  // A checked pass checks each block's rows before any part reads them.
  LazySgdHyper block_hyper = h;
  block_hyper.checked = false;
  LazySgdHyper part_hyper = block_hyper;
  part_hyper.fold = false;
  double* g = s.globals;
  double loss_sum = 0.0;
  // Written by the calling thread before it offers a block's parts; the release
  // of the board's claim word publishes it with the plan.
  std::uint32_t stamp = 0;

  // A narrow model (few columns against the stored values of a block, as a9a,
  // w8a and news20) copies the whole model into each part and marks the
  // touched columns during the part's steps. Its copies and merges run over
  // every column without random access. A wide one (hashed CTR features) keeps
  // only the touched columns. The bound is measured on rows of 20 random
  // columns, blocks of 1024 rows and two parts: the narrow form was faster at
  // 2^16 columns (71 against 84 ms a pass) and slower at 2^17 (118-134 against
  // 83-92 ms). news20 (62061 columns, 80 values a row) took 86 ms a pass
  // narrow and 249 ms wide.
  constexpr double kNarrowColumnsPerValue = 8.0;
  const double block_nnz = rows.num_visits > 0
                               ? static_cast<double>(rows.nnz) * static_cast<double>(block) /
                                     static_cast<double>(rows.num_rows > 0 ? rows.num_rows : 1)
                               : 0.0;
  const bool narrow = static_cast<double>(s.num_features) * static_cast<double>(num_parts) <=
                      kNarrowColumnsPerValue * block_nnz;
  if (narrow) {
    for (PartState& p : parts) {
      p.v.resize(d);
      if (kL1) p.q.resize(d);
      p.mark.assign(d, 0);
    }
  }
  std::vector<double> merge_change(narrow && !kL1 ? d : 0);
  std::vector<double> merge_sharing(narrow && !kL1 ? d : 0);
  // A block's tasks: the parts' steps, then for a wide model the merge of
  // each part's columns. The merges write disjoint columns, so they run in
  // parallel too, which matters because on a wide model they cost more than
  // the steps.
  const std::size_t num_tasks = narrow ? num_parts : 2 * num_parts;
  auto board = std::make_shared<PartBoard>(num_tasks);

  auto run_part = [&](std::size_t k, std::uint64_t /*gen*/) {
    PartState& p = parts[k];
    // Each part checks its own rows, so the check runs in parallel too; a bad
    // row leaves the block unmerged.
    p.invalid = h.checked && !visits_are_valid<T, I>(rows, p.lo, p.hi, s.num_features);
    if (p.invalid) return;
    const CsrRows part = visit_range<I>(rows, p.lo, p.hi);
    LazySgdState local;
    local.globals = p.globals;
    local.t = &p.t;
    if (narrow) {
      part_path(h, p, part.num_visits);
      std::copy(s.coef, s.coef + d, p.v.data());
      if constexpr (kL1) std::copy(s.l1_applied, s.l1_applied + d, p.q.data());
      local.num_features = s.num_features;
      local.coef = p.v.data();
      local.l1_applied = kL1 ? p.q.data() : nullptr;
      p.loss = lazy_sgd_rows<T, I, OnlineMethod::sgd, kL1, false, true>(
          part, part_hyper, local, 0.0, p.mark.data(), stamp);
    } else {
      const CsrRows slotted = gather_part<T, I, kL1>(part, h, s, p);
      local.num_features = p.slots.size();
      local.coef = p.v.data();
      local.l1_applied = kL1 ? p.q.data() : nullptr;
      p.loss = lazy_sgd_rows<double, std::int64_t, OnlineMethod::sgd, kL1, false>(
          slotted, part_hyper, local);
    }
  };

  // The block's path, computed by the first task that needs it after every
  // part has stepped. The block's merges and its end share it, so a block
  // sums the parts' paths once rather than once per merge.
  std::mutex path_mutex;
  std::uint64_t path_gen = 0;
  double path_scale = 1.0, path_u = 0.0;
  auto path_of = [&](std::uint64_t gen, double& scale, double& u) {
    std::lock_guard<std::mutex> lock(path_mutex);
    if (path_gen != gen) {
      block_path(parts, g, path_scale, path_u);
      path_gen = gen;
    }
    scale = path_scale;
    u = path_u;
  };

  // Runs task k of the current block. A merge waits for every part's steps.
  // The threads claim tasks in order, so each step belongs to a running thread.
  auto run_task = [&, board](std::size_t k, std::uint64_t gen) {
    if (k < num_parts) {
      run_part(k, gen);
      return;
    }
    for (std::size_t o = 0; o < num_parts; ++o)
      wait_for_task(*board, o, gen, std::chrono::steady_clock::now(), kSpinTime);
    if (std::none_of(parts.begin(), parts.end(), [](const PartState& p) { return p.invalid; })) {
      double scale, u;
      path_of(gen, scale, u);
      merge_part<kL1>(parts, k - num_parts, s, stamp, false, scale, u);
    }
  };

  // Ends a parallel block of generation gen: the scalars, summed in part order.
  auto finish_block = [&](std::uint64_t gen) {
    double scale, u;
    path_of(gen, scale, u);
    const double b0 = g[kIntercept];
    double change = 0.0;
    int sharing = 0;
    for (const PartState& p : parts) {
      change += p.globals[kIntercept] - b0;
      sharing += p.hi > p.lo ? 1 : 0;
      loss_sum += p.loss;
    }
    g[kIntercept] = b0 + change / static_cast<double>(sharing);
    g[kScale] = scale;
    g[kL1Cumulative] = u;
    *s.t = parts.back().t;
    if (scale < kMinScale) {
      fold_scale<kL1, false>(s, scale, g[kL1Cumulative]);
      g[kScale] = 1.0;
    }
  };

  // log2 of the blocks to run alone after the last stall or miss (carried over
  // from the previous pass), and the blocks still to run alone.
  int backoff = g_parallel_backoff.load(std::memory_order_relaxed);
  std::int64_t skip = 0;
  // A pass of one block has nothing to share. While stalls and misses persist,
  // most passes start no helper; every kProbeEvery-th pass probes again.
  const bool threaded =
      h.part_helpers && num_blocks > 1 &&
      (backoff < kMaxBackoff ||
                         g_parallel_passes.fetch_add(1, std::memory_order_relaxed) %
                                 kProbeEvery == 0);

  if (threaded) {
    // What a helper may touch after the pass has returned: the board, which it
    // co-owns. It reaches the pass's arrays only through a part it claimed,
    // and the pass waits for every claimed part.
    auto help = [board, num_tasks, run_task]() {
      PartBoard& b = *board;
      b.helper_started.store(true, std::memory_order_release);
      std::uint64_t seen = 0;
      std::uint64_t seen_ready = 0;
      for (;;) {
        std::uint64_t gen = b.claim.load(std::memory_order_acquire) >> 32;
        const auto spin_start = std::chrono::steady_clock::now();
        for (unsigned rounds = 1; gen == seen; ++rounds) {
          if (b.stop.load(std::memory_order_acquire)) return;
          cpu_pause();
          gen = b.claim.load(std::memory_order_acquire) >> 32;
          if (rounds % 64 == 0 && std::chrono::steady_clock::now() - spin_start > kSpinTime) {
            break;
          }
        }
        if (gen == seen) {
          std::unique_lock<std::mutex> lock(b.mutex);
          b.helpers_sleeping.fetch_add(1);
          b.wake.wait(lock, [&] {
            gen = b.claim.load(std::memory_order_acquire) >> 32;
            return gen != seen || b.stop.load(std::memory_order_acquire) ||
                   b.ready.load(std::memory_order_acquire) != seen_ready;
          });
          b.helpers_sleeping.fetch_sub(1);
          seen_ready = b.ready.load(std::memory_order_acquire);
          // Woken for an offer still to come: spin for it again.
          if (gen == seen && !b.stop.load(std::memory_order_acquire)) continue;
        }
        if (b.stop.load(std::memory_order_acquire)) return;
        seen = gen;
        std::size_t k;
        while (claim_part(b, gen, num_tasks, k)) {
          run_task(k, gen);
          b.done[k].store(gen);
          if (b.task_waiters.load() > 0) b.notify();
        }
      }
    };
    // More threads than the machine has cores would only take turns, and a
    // thread per part would start thousands for a large n_jobs.
    const unsigned cores = std::thread::hardware_concurrency();
    const std::size_t threads =
        cores == 0 ? num_parts : std::min<std::size_t>(num_parts, static_cast<std::size_t>(cores));
    try {
      for (std::size_t k = 1; k < threads; ++k) std::thread(help).detach();
    } catch (const std::system_error&) {
      // Thread creation failed, so the calling thread runs every part.
    }
  }

  std::uint64_t gen = 0;
  for (std::int64_t bi = 0; bi < num_blocks; ++bi) {
    const std::int64_t lo = bi * block;
    const std::int64_t hi = lo + block < rows.num_visits ? lo + block : rows.num_visits;
    if (zeroing_step(h, g[kEta], *s.t, hi - lo)) {
      if (h.checked && !visits_are_valid<T, I>(rows, lo, hi, s.num_features)) {
        *s.invalid = true;
        break;
      }
      const CsrRows seq = visit_range<I>(rows, lo, hi);
      loss_sum += lazy_sgd_rows<T, I, OnlineMethod::sgd, kL1, false>(seq, block_hyper, s);
      continue;
    }
    if (stamp == UINT32_MAX) {
      for (PartState& p : parts) std::fill(p.mark.begin(), p.mark.end(), 0u);
      stamp = 0;
    }
    ++stamp;
    const std::int64_t n = hi - lo;
    const auto count = static_cast<std::int64_t>(num_parts);
    for (std::size_t k = 0; k < num_parts; ++k) {
      PartState& p = parts[k];
      p.lo = lo + n * static_cast<std::int64_t>(k) / count;
      p.hi = lo + n * static_cast<std::int64_t>(k + 1) / count;
      std::copy(g, g + kNumLazySgdGlobals, p.globals);
      p.t = *s.t + (p.lo - lo);
    }
    ++gen;
    if (threaded && skip == 1) {
      // The next block is offered: wake a sleeping helper now, so that it
      // spins through this block instead of waking up after the offer.
      board->ready.fetch_add(1, std::memory_order_release);
      if (board->helpers_sleeping.load() > 0) board->notify();
    }
    if (!threaded || skip > 0) {
      // Backing off: every part runs here, and the helpers see no new block.
      for (std::size_t k = 0; k < num_tasks; ++k) {
        run_task(k, gen);
        board->done[k].store(gen);
      }
      skip -= skip > 0 ? 1 : 0;
    } else {
      const auto offered = std::chrono::steady_clock::now();
      board->claim.store(gen << 32);
      if (board->helpers_sleeping.load() > 0) board->notify();
      std::size_t k;
      // Parts this thread ran; all of them means no helper came in time.
      std::size_t mine = 0;
      while (claim_part(*board, gen, num_tasks, k)) {
        run_task(k, gen);
        board->done[k].store(gen);
        if (board->task_waiters.load() > 0) board->notify();
        ++mine;
      }
      // Parts of uneven work make this thread wait. A wait longer than its own
      // parts took (and than kSpinTime) means that the helper has stalled.
      const auto own_end = std::chrono::steady_clock::now();
      const auto patience = std::max<std::chrono::steady_clock::duration>(own_end - offered,
                                                                         kSpinTime);
      bool stalled = false;
      for (std::size_t o = 0; o < num_tasks; ++o)
        stalled = wait_for_task(*board, o, gen, own_end, patience) || stalled;
      // A stall (a helper descheduled while it held a part) or a miss (no
      // helper came in time to take a part) doubles the blocks run alone
      // before the next offer. A block that a helper shared without a stall
      // halves them.
      const bool missed =
          mine == num_tasks && board->helper_started.load(std::memory_order_acquire);
      const bool backs_off = stalled || missed;
      backoff = backs_off ? std::min(backoff + 1, kMaxBackoff) : std::max(backoff - 1, 0);
      skip = backs_off ? (std::int64_t{1} << backoff) - 1 : 0;
    }
    if (std::any_of(parts.begin(), parts.end(), [](const PartState& p) { return p.invalid; })) {
      *s.invalid = true;
      break;
    }
    if (narrow) {
      double scale, u;
      path_of(gen, scale, u);
      if constexpr (kL1) {
        for (std::size_t o = 0; o < num_parts; ++o)
          merge_part<kL1>(parts, o, s, stamp, true, scale, u);
      } else {
        merge_narrow(parts, s, stamp, merge_change.data(), merge_sharing.data(), scale);
      }
    }
    finish_block(gen);
  }
  if (threaded) {
    board->stop.store(true, std::memory_order_release);
    board->notify();
    g_parallel_backoff.store(backoff, std::memory_order_relaxed);
  }
  return loss_sum;
}

// FTRL-Proximal weight of one coordinate from its z and sqrt(n): exactly 0
// when |z| <= l1. Computed without a branch, which a sparse model's mix of
// zero and nonzero weights would mispredict.
inline double ftrl_weight(double z, double sqrt_n, double alpha, double beta, double l1,
                          double l2) {
  const double magnitude = z < 0.0 ? -z : z;
  const double shrunk = z < 0.0 ? z + l1 : z - l1;
  const double w = -shrunk / ((beta + sqrt_n) / alpha + l2);
  return magnitude <= l1 ? 0.0 : w;
}

// One coordinate's FTRL-Proximal update with gradient gj at weight w; sqrt_n
// is sqrt(n), computed once for the weight and reused here.
inline void ftrl_update(double& z, double& n, double sqrt_n, double w, double gj, double alpha) {
  const double n_new = n + gj * gj;
  const double sigma = (std::sqrt(n_new) - sqrt_n) / alpha;
  z += gj - sigma * w;
  n = n_new;
}

// Scratch arrays of one row's FTRL step, one value per stored entry. The
// square roots and divisions then run in loops over contiguous memory, which
// the compiler vectorizes.
struct FtrlRowScratch {
  std::vector<double> z, n, sqrt_n, w;
  void reserve(std::size_t nnz) {
    if (z.size() >= nnz) return;
    z.resize(nnz);
    n.resize(nnz);
    sqrt_n.resize(nnz);
    w.resize(nnz);
  }
};

// Whether the row's column indices increase strictly, as in canonical CSR.
template <typename I>
inline bool strictly_increasing(const I* idx, std::int64_t count) {
  bool increasing = true;
  for (std::int64_t k = 1; k < count; ++k) increasing &= idx[k] > idx[k - 1];
  return increasing;
}

template <typename T, typename I>
double ftrl_rows(const CsrRows& rows, const FtrlHyper& h, const FtrlState& s,
                 double loss_start = 0.0) {
  const T* data = static_cast<const T*>(rows.data);
  const I* indices = static_cast<const I*>(rows.indices);
  const I* indptr = static_cast<const I*>(rows.indptr);
  double* z = s.z;
  double* n = s.n;
  double* g = s.globals;
  std::int64_t t = *s.t;
  const bool prefetch = s.num_features >= kPrefetchMinFeatures && !h.checked;
  double loss_sum = loss_start;
  FtrlRowScratch scratch;

  std::int64_t valid_end = 0;  // visits before it have passed the check
  for (std::int64_t k = 0; k < rows.num_visits; ++k) {
    const std::int64_t r = visited_row(rows, k);
    if (h.checked && k >= valid_end) {
      valid_end = valid_visits_from<T, I>(rows, k, s.num_features);
      if (valid_end == k) {
        *s.invalid = true;
        return loss_sum;
      }
    }
    const std::int64_t begin = static_cast<std::int64_t>(indptr[r]);
    const std::int64_t count = static_cast<std::int64_t>(indptr[r + 1]) - begin;
    const T* x = data + begin;
    const I* idx = indices + begin;
    scratch.reserve(static_cast<std::size_t>(count));
    double* zs = scratch.z.data();
    double* ns = scratch.n.data();
    double* sq = scratch.sqrt_n.data();
    double* ws = scratch.w.data();
    ++t;

    if (prefetch && k + kPrefetchRows < rows.num_visits) {
      prefetch_row(indices, indptr, visited_row(rows, k + kPrefetchRows), z, n);
    }
    for (std::int64_t e = 0; e < count; ++e) {
      const std::int64_t j = static_cast<std::int64_t>(idx[e]);
      zs[e] = z[j];
      ns[e] = n[j];
    }
    for (std::int64_t e = 0; e < count; ++e) {
      sq[e] = std::sqrt(ns[e]);
      ws[e] = ftrl_weight(zs[e], sq[e], h.alpha, h.beta, h.l1, h.l2);
    }
    double d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0;
    std::int64_t e = 0;
    for (; e + 4 <= count; e += 4) {
      d0 += static_cast<double>(x[e]) * ws[e];
      d1 += static_cast<double>(x[e + 1]) * ws[e + 1];
      d2 += static_cast<double>(x[e + 2]) * ws[e + 2];
      d3 += static_cast<double>(x[e + 3]) * ws[e + 3];
    }
    for (; e < count; ++e) d0 += static_cast<double>(x[e]) * ws[e];
    const double dot = (d0 + d1) + (d2 + d3);
    // The intercept is a coordinate with x = 1 and no penalty.
    const double sqrt_nb = h.fit_intercept ? std::sqrt(g[kFtrlInterceptN]) : 0.0;
    const double b = h.fit_intercept
                         ? ftrl_weight(g[kFtrlInterceptZ], sqrt_nb, h.alpha, h.beta, 0.0, 0.0)
                         : 0.0;
    const double y = rows.y[r];
    const double dl = row_derivative(h.loss, h.compute_loss, y, 1.0, dot, b, h.epsilon, loss_sum);
    const double d = rows.sample_weight != nullptr ? rows.sample_weight[r] * dl : dl;

    if (strictly_increasing(idx, count)) {
      // Each column once: the new states are computed from the gathered ones
      // in a loop that vectorizes, then stored.
      for (std::int64_t c = 0; c < count; ++c) {
        ftrl_update(zs[c], ns[c], sq[c], ws[c], d * static_cast<double>(x[c]), h.alpha);
      }
      for (std::int64_t c = 0; c < count; ++c) {
        const std::int64_t j = static_cast<std::int64_t>(idx[c]);
        z[j] = zs[c];
        n[j] = ns[c];
      }
    } else {
      // Unsorted or repeated columns (the compiled pass accepts CSR that is not
      // canonical): a repeated column's updates each read the state that the
      // previous one wrote, as before the vectorized loops.
      for (std::int64_t c = 0; c < count; ++c) {
        const std::int64_t j = static_cast<std::int64_t>(idx[c]);
        ftrl_update(z[j], n[j], sq[c], ws[c], d * static_cast<double>(x[c]), h.alpha);
      }
    }
    if (h.fit_intercept) {
      ftrl_update(g[kFtrlInterceptZ], g[kFtrlInterceptN], sqrt_nb, b, d, h.alpha);
    }
  }
  *s.t = t;
  return loss_sum;
}

// Below this many stored values (about 50 MB of float64 data and int32
// indices) the summary runs on one thread. One thread checks a million values
// in about half a millisecond. Waking the other threads can cost far more when
// every core is busy: on a loaded 2-core machine, a9a's 451,592 values took
// 12-20 ms with two threads instead of 0.2 ms with one.
constexpr std::int64_t kParallelSummaryMin = std::int64_t{1} << 22;

template <typename T, typename I>
CsrSummary summarize_csr(const CsrRows& rows, std::int64_t nnz, int num_threads) {
  using Bits = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;
  constexpr Bits exponent =
      static_cast<Bits>(sizeof(T) == 8 ? 0x7ff0000000000000ull : 0x7f800000ull);
  const T* data = static_cast<const T*>(rows.data);
  const I* indices = static_cast<const I*>(rows.indices);
  const I* indptr = static_cast<const I*>(rows.indptr);
  const std::int64_t num_rows = rows.num_rows;
  const std::int64_t* order = rows.order;
  const std::int64_t num_visits = order != nullptr ? rows.num_visits : 0;
  I lowest = 0;
  I highest = nnz > 0 ? indices[0] : I{0};
  Bits nonfinite = 0;
  std::int64_t broken_rows = 0;
  std::int64_t first_order = 0;
  std::int64_t last_order = -1;
  if (num_visits > 0) last_order = order[0];
  [[maybe_unused]] const int threads = nnz >= kParallelSummaryMin ? num_threads : 1;
  // Each loop is a reduction that the compiler vectorizes. The threads split
  // every loop, and nowait lets a thread start the next loop without waiting.
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
#ifdef _OPENMP
#pragma omp for reduction(min : lowest) reduction(max : highest) nowait
#endif
    for (std::int64_t e = 0; e < nnz; ++e) {
      lowest = indices[e] < lowest ? indices[e] : lowest;
      highest = indices[e] > highest ? indices[e] : highest;
    }
#ifdef _OPENMP
#pragma omp for reduction(| : nonfinite) nowait
#endif
    for (std::int64_t e = 0; e < nnz; ++e) {
      Bits bits;
      std::memcpy(&bits, data + e, sizeof(T));
      nonfinite |= static_cast<Bits>((bits & exponent) == exponent);
    }
#ifdef _OPENMP
#pragma omp for reduction(+ : broken_rows) nowait
#endif
    for (std::int64_t r = 0; r < num_rows; ++r) {
      const std::int64_t end = static_cast<std::int64_t>(indptr[r + 1]);
      broken_rows += (end < static_cast<std::int64_t>(indptr[r]) || end > nnz) ? 1 : 0;
    }
#ifdef _OPENMP
#pragma omp for reduction(min : first_order) reduction(max : last_order) nowait
#endif
    for (std::int64_t k = 0; k < num_visits; ++k) {
      first_order = order[k] < first_order ? order[k] : first_order;
      last_order = order[k] > last_order ? order[k] : last_order;
    }
  }
  CsrSummary out;
  out.indptr_valid = indptr[0] == 0 && broken_rows == 0;
  out.min_index = static_cast<std::int64_t>(lowest);
  out.max_index = nnz > 0 ? static_cast<std::int64_t>(highest) : -1;
  out.finite = nonfinite == 0;
  out.min_order = first_order;
  out.max_order = last_order;
  return out;
}

// Visits per chunk of a shuffled pass. Visiting the caller's rows in a random
// order made each visit wait on memory: on a9a (5.8 MB of CSR) a pass took
// 2.2 times as long as over the same rows stored in visit order. So a
// shuffled pass copies a chunk of rows into visit order, where the loads of
// different rows do not wait on each other's updates, and then reads the copy
// in order. Copying the next chunk on a second thread was faster on an idle
// machine, but it needs a barrier per chunk, and such barriers cost
// milliseconds each on a busy one (see the block-parallel pass below).
constexpr std::int64_t kGatherVisits = 2048;

// The visited rows of one chunk, in visit order, and the CsrRows over them.
template <typename T, typename I>
struct GatheredChunk {
  std::vector<T> data;
  std::vector<I> indices;
  std::vector<I> indptr = std::vector<I>(kGatherVisits + 1);
  std::vector<double> y = std::vector<double>(kGatherVisits);
  std::vector<double> weight;
  CsrRows rows;
};

// Copies visits [first, first + count) of rows into out.
template <typename T, typename I>
void gather_chunk(const CsrRows& rows, std::int64_t first, std::int64_t count,
                  GatheredChunk<T, I>& out) {
  const T* data = static_cast<const T*>(rows.data);
  const I* indices = static_cast<const I*>(rows.indices);
  const I* indptr = static_cast<const I*>(rows.indptr);
  std::int64_t nnz = 0;
  bool consecutive = true;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t r = rows.order[first + k];
    consecutive = consecutive && r == rows.order[first] + k;
    nnz += static_cast<std::int64_t>(indptr[r + 1]) - static_cast<std::int64_t>(indptr[r]);
  }
  out.rows = rows;
  // Visits of consecutive rows (an in-order pass given as an explicit order)
  // already lie in visit order, and copying them made five a9a passes 27%
  // slower.
  if (consecutive || nnz > static_cast<std::int64_t>(std::numeric_limits<I>::max())) {
    // An order that repeats long rows can give a chunk more entries than I
    // counts; such a chunk runs on the caller's rows in place.
    out.rows.order = rows.order + first;
    out.rows.num_visits = count;
    return;
  }
  out.data.resize(static_cast<std::size_t>(nnz));
  out.indices.resize(static_cast<std::size_t>(nnz));
  if (rows.sample_weight != nullptr) out.weight.resize(kGatherVisits);
  out.indptr[0] = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t r = rows.order[first + k];
    const auto begin = static_cast<std::int64_t>(indptr[r]);
    const auto length = static_cast<std::int64_t>(indptr[r + 1]) - begin;
    const auto at = static_cast<std::int64_t>(out.indptr[k]);
    std::copy(data + begin, data + begin + length, out.data.data() + at);
    std::copy(indices + begin, indices + begin + length, out.indices.data() + at);
    out.indptr[k + 1] = static_cast<I>(at + length);
    out.y[k] = rows.y[r];
    if (rows.sample_weight != nullptr) out.weight[k] = rows.sample_weight[r];
  }
  out.rows.data = out.data.data();
  out.rows.indices = out.indices.data();
  out.rows.indptr = out.indptr.data();
  out.rows.num_rows = count;
  out.rows.y = out.y.data();
  out.rows.sample_weight = rows.sample_weight != nullptr ? out.weight.data() : nullptr;
  out.rows.order = nullptr;
  out.rows.num_visits = count;
}

// Runs pass(chunk, loss) over the visits of rows in order, each chunk a
// CsrRows whose rows are the visited rows in visit order, and returns the
// running loss that the last call returns. The visits and their arithmetic are
// those of one pass over rows, so the state and the loss do not depend on the
// chunks. Rows without an order run as they are.
template <typename T, typename I, typename Pass>
double gathered_pass(const CsrRows& rows, Pass&& pass) {
  if (rows.order == nullptr) return pass(rows, 0.0);
  GatheredChunk<T, I> chunk;
  double loss = 0.0;
  for (std::int64_t first = 0; first < rows.num_visits; first += kGatherVisits) {
    gather_chunk(rows, first, std::min(kGatherVisits, rows.num_visits - first), chunk);
    loss = pass(chunk.rows, loss);
  }
  return loss;
}

// Calls visit(T{}, I{}) with the value type T and index type I of the rows.

template <typename Visit>
auto with_csr_types(const CsrRows& rows, Visit&& visit) {
  const bool f32 = rows.dtype == DType::float32;
  if (rows.index64) {
    return f32 ? visit(float{}, std::int64_t{}) : visit(double{}, std::int64_t{});
  }
  return f32 ? visit(float{}, std::int32_t{}) : visit(double{}, std::int32_t{});
}

// ---------------------------------------------------------------------------
// One-vs-rest outputs in one pass. Each output's own pass (lazy_sgd_rows)
// reads every row again, and its weights sit apart from the other outputs'.
// Here the weights of a group of outputs are interleaved, (num_features, K)
// row-major, so a stored x_ij reaches the K weights of column j in adjacent
// doubles, and the loops over outputs vectorize. Each output still goes
// through the operations of its own plain SGD pass in the same order, so its
// state and loss keep their bits (once weights overflow, a NaN's sign may
// differ). The margins are summed in sparse_dot's four
// partial sums, and the steps are those of lazy_sgd_rows without L1 or
// averaging.

// Whether lazy_sgd_pass_many may run the outputs of h in groups.
inline bool fusable(const LazySgdHyper& h) {
  return h.method == OnlineMethod::sgd && h.momentum == 0.0 && h.jobs == 1 && h.l1 == 0.0 &&
         h.average_start == 0;
}

// Largest interleaved copy of a group's weights. Beyond it, each output runs
// its own pass, which needs no copy.
constexpr std::int64_t kMaxFusedBytes = std::int64_t{256} << 20;

// Outputs whose margins a fused pass sums side by side: one AVX-512 vector.
constexpr int kLanes = 8;

// Per-output scalars of a fused pass, one array each, so that the loops over
// outputs run over adjacent doubles.
struct FusedScalars {
  std::vector<double> scale, b, eta0, loss, dots, descent;
  std::vector<std::int64_t> t;
  explicit FusedScalars(std::size_t k)
      : scale(k), b(k), eta0(k), loss(k), dots(k), descent(k), t(k) {}
};

// Multiplies output c's column of the interleaved weights vt by factor and
// updates the output's globals g as fold_scale does for one output without
// L1 or averaging. Those two globals are unused by plain SGD, but set_state
// accepts any value, and the state must match that of the output's own pass.
inline void fold_column(double* vt, std::int64_t num_features, std::int64_t k, std::int64_t c,
                        double factor, double* g) {
  for (std::int64_t j = 0; j < num_features; ++j) vt[j * k + c] *= factor;
  g[kL1Cumulative] *= factor;
  g[kAverageScaleSum] = 0.0;
}

// Runs the k outputs of rows and states over the rows, with their weights
// interleaved in vt. Returns false when a checked pass met a bad row, after
// applying the rows before it, as lazy_sgd_rows does.
template <typename T, typename I>
bool fused_sgd_rows(const CsrRows* rows, const LazySgdHyper& h, const LazySgdState* states,
                    std::int64_t k, double* vt, double* losses) {
  const CsrRows& shape = rows[0];
  const T* data = static_cast<const T*>(shape.data);
  const I* indices = static_cast<const I*>(shape.indices);
  const I* indptr = static_cast<const I*>(shape.indptr);
  const std::int64_t d = states[0].num_features;
  const auto ku = static_cast<std::size_t>(k);
  FusedScalars f(ku);
  std::vector<const double*> y(ku);
  for (std::size_t c = 0; c < ku; ++c) {
    const double* g = states[c].globals;
    f.scale[c] = g[kScale];
    f.b[c] = g[kIntercept];
    f.eta0[c] = g[kEta];
    f.t[c] = *states[c].t;
    f.loss[c] = 0.0;
    y[c] = rows[c].y;
  }
  const bool ratio = h.loss == OnlineLoss::log_loss;
  const bool prefetch = d * k >= kPrefetchMinFeatures && !h.checked;
  std::int64_t valid_end = 0;
  bool ok = true;
  double* __restrict dots = f.dots.data();
  double* __restrict descent = f.descent.data();
  for (std::int64_t visit = 0; visit < shape.num_visits; ++visit) {
    const std::int64_t r = visited_row(shape, visit);
    if (h.checked && visit >= valid_end) {
      valid_end = valid_visits_from<T, I>(shape, visit, d);
      if (valid_end == visit) {
        ok = false;
        break;
      }
    }
    const std::int64_t begin = static_cast<std::int64_t>(indptr[r]);
    const std::int64_t end = static_cast<std::int64_t>(indptr[r + 1]);
    if (prefetch && visit + kPrefetchRows < shape.num_visits) {
      const std::int64_t ahead = visited_row(shape, visit + kPrefetchRows);
      for (std::int64_t e = indptr[ahead]; e < indptr[ahead + 1]; ++e) {
        const double* w = vt + static_cast<std::int64_t>(indices[e]) * k;
        __builtin_prefetch(w, 1);
        __builtin_prefetch(w + k - 1, 1);
      }
    }
    // sparse_dot for every output at once, kLanes outputs at a time so that
    // the four partial sums stay in registers (summed in memory, each step
    // waited on the store of the one before). A chunk reads kLanes weights
    // even past output k - 1: those lanes contain another column's weights or
    // the copy's padding, and their sums are dropped.
    for (std::int64_t c0 = 0; c0 < k; c0 += kLanes) {
      double a0[kLanes] = {}, a1[kLanes] = {}, a2[kLanes] = {}, a3[kLanes] = {};
      std::int64_t e = begin;
      for (; e + 4 <= end; e += 4) {
        const double x0 = static_cast<double>(data[e]), x1 = static_cast<double>(data[e + 1]);
        const double x2 = static_cast<double>(data[e + 2]);
        const double x3 = static_cast<double>(data[e + 3]);
        const double* __restrict w0 = vt + static_cast<std::int64_t>(indices[e]) * k + c0;
        const double* __restrict w1 = vt + static_cast<std::int64_t>(indices[e + 1]) * k + c0;
        const double* __restrict w2 = vt + static_cast<std::int64_t>(indices[e + 2]) * k + c0;
        const double* __restrict w3 = vt + static_cast<std::int64_t>(indices[e + 3]) * k + c0;
#pragma omp simd
        for (int c = 0; c < kLanes; ++c) {
          a0[c] += x0 * w0[c];
          a1[c] += x1 * w1[c];
          a2[c] += x2 * w2[c];
          a3[c] += x3 * w3[c];
        }
      }
      for (; e < end; ++e) {
        const double x = static_cast<double>(data[e]);
        const double* __restrict w = vt + static_cast<std::int64_t>(indices[e]) * k + c0;
#pragma omp simd
        for (int c = 0; c < kLanes; ++c) a0[c] += x * w[c];
      }
      const std::int64_t lanes = std::min<std::int64_t>(kLanes, k - c0);
      for (std::int64_t c = 0; c < lanes; ++c) dots[c0 + c] = (a0[c] + a1[c]) + (a2[c] + a3[c]);
    }
    const double weight = shape.sample_weight != nullptr ? shape.sample_weight[r] : 1.0;
    for (std::size_t c = 0; c < ku; ++c) {
      const double dot = dots[c];
      const double yc = y[c][r];
      double scale = f.scale[c];
      double numerator = 0.0, denominator = 1.0, dd = 0.0;
      if (ratio) {
        const LogisticRatio terms = logistic_ratio(yc, scale, dot, f.b[c]);
        numerator = terms.numerator;
        denominator = terms.denominator;
        if (h.compute_loss) {
          f.loss[c] += (terms.m < 0.0 ? -terms.m : 0.0) + std::log1p(terms.e);
        } else {
          f.loss[c] += terms.m * 0.0;
        }
      } else {
        dd = weight * row_derivative(h.loss, h.compute_loss, yc, scale, dot, f.b[c], h.epsilon,
                                     f.loss[c]);
      }
      const double eta = learning_rate(h, f.eta0[c], ++f.t[c]);
      if (h.l2 > 0.0) {
        const double decay = 1.0 - eta * h.l2;
        if (decay <= 0.0) {
          fold_column(vt, d, k, static_cast<std::int64_t>(c), 0.0, states[c].globals);
          scale = 1.0;
        } else {
          scale *= decay;
          if (scale < kMinScale && h.fold) {
            fold_column(vt, d, k, static_cast<std::int64_t>(c), scale, states[c].globals);
            scale = 1.0;
          }
        }
      }
      f.scale[c] = scale;
      const double inv_scale = 1.0 / scale;
      descent[c] = ratio ? ((eta * inv_scale) * (yc * weight) * numerator) / denominator
                         : -(eta * dd * inv_scale);
      if (h.fit_intercept) {
        f.b[c] += ratio ? ((eta * h.intercept_decay) * (yc * weight) * numerator) / denominator
                        : (-eta * dd) * h.intercept_decay;
      }
    }
    for (std::int64_t e = begin; e < end; ++e) {
      const double x = static_cast<double>(data[e]);
      double* __restrict w = vt + static_cast<std::int64_t>(indices[e]) * k;
#pragma omp simd
      for (std::int64_t c = 0; c < k; ++c) w[c] += descent[c] * x;
    }
  }
  for (std::size_t c = 0; c < ku; ++c) {
    double* g = states[c].globals;
    g[kScale] = f.scale[c];
    g[kIntercept] = f.b[c];
    *states[c].t = f.t[c];
    losses[c] = f.loss[c];
    if (!ok) *states[c].invalid = true;
  }
  return ok;
}

// Calls copy(j, c) for every column j < d and output c < k in tiles of 16
// columns, so that both the k separate arrays and the interleaved one move
// through the cache a few lines at a time. Either loop order alone touched
// one of the two layouts a double per cache line. On news20 (62061 columns,
// 20 outputs, one thread) the two copies took 27-30% of the time of the pass
// itself with either order, and 15% in tiles.
template <typename Copy>
inline void transpose_tiles(std::int64_t d, std::int64_t k, Copy&& copy) {
  constexpr std::int64_t kTile = 16;
  for (std::int64_t j0 = 0; j0 < d; j0 += kTile) {
    const std::int64_t j1 = std::min(d, j0 + kTile);
    for (std::int64_t c = 0; c < k; ++c)
      for (std::int64_t j = j0; j < j1; ++j) copy(j, c);
  }
}

// Runs the k outputs of rows and states as one fused pass: copies their
// weights into an interleaved array, runs the rows and copies them back.
inline void fused_group(const CsrRows* rows, const LazySgdHyper& h, const LazySgdState* states,
                        std::int64_t k, double* losses) {
  const std::int64_t d = states[0].num_features;
  // The copy starts on a cache line. The kLanes doubles of padding at its
  // end are read by the last column's margins and dropped. The buffer is left
  // uninitialized because the copy overwrites all of it but the padding.
  const auto size = static_cast<std::size_t>(d * k + 2 * kLanes);
  const std::unique_ptr<double[]> buffer(new double[size]);
  const auto address = reinterpret_cast<std::uintptr_t>(buffer.get());
  double* vt = buffer.get() + ((64 - address % 64) % 64) / sizeof(double);
  std::fill(vt + d * k, vt + d * k + kLanes, 0.0);
  std::vector<double*> coef(static_cast<std::size_t>(k));
  for (std::int64_t c = 0; c < k; ++c) coef[static_cast<std::size_t>(c)] = states[c].coef;
  transpose_tiles(d, k, [&](std::int64_t j, std::int64_t c) {
    vt[j * k + c] = coef[static_cast<std::size_t>(c)][j];
  });
  with_csr_types(rows[0], [&](auto value, auto index) {
    return fused_sgd_rows<decltype(value), decltype(index)>(rows, h, states, k, vt, losses);
  });
  transpose_tiles(d, k, [&](std::int64_t j, std::int64_t c) {
    coef[static_cast<std::size_t>(c)][j] = vt[j * k + c];
  });
}

}  // namespace

CsrSummary csr_summary(const CsrRows& rows, std::int64_t nnz, int num_threads) {
  return with_csr_types(rows, [&](auto value, auto index) {
    return summarize_csr<decltype(value), decltype(index)>(rows, nnz, num_threads);
  });
}

double lazy_sgd_pass(const CsrRows& rows, const LazySgdHyper& h, const LazySgdState& s) {
  return with_csr_types(rows, [&](auto value, auto index) {
    using T = decltype(value);
    using I = decltype(index);
    // The bindings allow jobs > 1 with plain SGD without averaging only.
    if (h.jobs > 1) {
      return h.l1 > 0.0 ? parallel_sgd_rows<T, I, true>(rows, h, s)
                        : parallel_sgd_rows<T, I, false>(rows, h, s);
    }
    return gathered_pass<T, I>(rows, [&](const CsrRows& chunk, double loss) {
      return lazy_sgd_method<T, I>(chunk, h, s, loss);
    });
  });
}

double ftrl_pass(const CsrRows& rows, const FtrlHyper& h, const FtrlState& s) {
  return with_csr_types(rows, [&](auto value, auto index) {
    using T = decltype(value);
    using I = decltype(index);
    return gathered_pass<T, I>(rows, [&](const CsrRows& chunk, double loss) {
      return ftrl_rows<T, I>(chunk, h, s, loss);
    });
  });
}

// Independent outputs (one-vs-rest classes) over the same rows: each output's
// pass is the single-output pass on its own state, so the result does not
// depend on the thread count or on which thread runs which output.
// With h.jobs > 1 and several outputs, each thread runs whole outputs with
// every part of their blocks, which gives the same result because the parts
// define it. Running news20's 20 classes in turn, each on a thread and its
// helper, took 8 times as long as one thread per output without parts.
void lazy_sgd_pass_many(const CsrRows* rows, const LazySgdHyper& h, const LazySgdState* states,
                        std::int64_t count, double* losses, int num_threads) {
  LazySgdHyper hk = h;
  hk.part_helpers = h.part_helpers && count == 1;
  const int threads = static_cast<int>(count < num_threads ? count : num_threads);
  // With more outputs than threads, each thread runs a contiguous group of
  // outputs in one fused pass. Groups never change an output's result.
  // Groups of kLanes outputs (each column's weights one cache line), three
  // of them for news20's 20 classes, ran no faster on one thread than one
  // group of 20, and left two threads unevenly loaded.
  const std::int64_t groups = threads > 1 ? threads : 1;
  const std::int64_t widest = (count + groups - 1) / groups;
  if (count > groups && fusable(h) &&
      states[0].num_features * widest * static_cast<std::int64_t>(sizeof(double)) <=
          kMaxFusedBytes) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
#endif
    for (std::int64_t gi = 0; gi < groups; ++gi) {
      const std::int64_t first = count * gi / groups, last = count * (gi + 1) / groups;
      fused_group(rows + first, hk, states + first, last - first, losses + first);
    }
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t k = 0; k < count; ++k) losses[k] = lazy_sgd_pass(rows[k], hk, states[k]);
}

void ftrl_pass_many(const CsrRows* rows, const FtrlHyper& h, const FtrlState* states,
                    std::int64_t count, double* losses, int num_threads) {
  const int threads = static_cast<int>(count < num_threads ? count : num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t k = 0; k < count; ++k) losses[k] = ftrl_pass(rows[k], h, states[k]);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
