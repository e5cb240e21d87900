// The weighted Gram matrix G = [X, 1]^T diag(d) [X, 1] of a GLM design, and
// coordinate descent on a dense quadratic model with that matrix.
//
// Row layouts (dense C, CSR) add each row's outer product, scaled by d_i,
// into G: for every stored pair (a, b) with b at or after a in storage order,
// G[j_a][j_b] += d_i x_a x_b. Sorted indices put every pair in the upper
// triangle; with unsorted indices some land below the diagonal, and the fold
// at the end adds the two triangles. Threads own rows of G (see gram_rows),
// so every thread count gives the same bits. Cost: about sum_i nnz_i^2 / 2
// multiply-adds, plus one read of X's indices per thread.
//
// Column layouts (dense F, CSC) compute each upper-triangle entry as one dot
// product of two columns, and a thread owns whole rows of G, so no reduction
// is needed. CSC scatters d * x_j into a dense n-vector and reads every
// later column against it: about p * nnz / 2 operations, more than a CSR
// pass on sparse data.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/gram.hpp"
#include "cpu/kernel_list.hpp"
#include "cpu/threads.hpp"
#include "fastopt/prox.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

inline bool out_of_range(std::int64_t j, std::int64_t size) {
  return static_cast<std::uint64_t>(j) >= static_cast<std::uint64_t>(size);
}

inline int threads_for_work(double work, std::int64_t tasks, int requested) {
  if (work < static_cast<double>(kParallelThreshold)) return 1;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(tasks, requested)));
}

// Adds d_i times the outer product of CSR row i to the rows [lo, hi) of G
// (m x m, row-major): the pairs (a, b), b at or after a in storage order,
// whose first index j_a lies in [lo, hi). The intercept is column p.
template <typename T, typename I>
bool add_sparse_row(const T* x, const I* idx, std::int64_t len, double di, std::int64_t p,
                    bool intercept, std::int64_t m, std::int64_t lo, std::int64_t hi,
                    double* __restrict G) {
  bool bad = false;
  for (std::int64_t a = 0; a < len; ++a) {
    const std::int64_t ja = static_cast<std::int64_t>(idx[a]);
    if (out_of_range(ja, p)) {
      bad = true;
      continue;
    }
    if (ja < lo || ja >= hi) continue;
    const double va = di * static_cast<double>(x[a]);
    double* __restrict row = G + ja * m;
    std::int64_t b = a;
    // Four loads, then four read-modify-writes of G. Interleaved, each load
    // waited on the store before it, and the loop ran 2.4 times slower on a9a
    // and w8a (Zen 1). Each entry of G gets its terms in the same order.
    for (; b + 4 <= len; b += 4) {
      const std::int64_t j0 = static_cast<std::int64_t>(idx[b]);
      const std::int64_t j1 = static_cast<std::int64_t>(idx[b + 1]);
      const std::int64_t j2 = static_cast<std::int64_t>(idx[b + 2]);
      const std::int64_t j3 = static_cast<std::int64_t>(idx[b + 3]);
      if (out_of_range(j0, p) || out_of_range(j1, p) || out_of_range(j2, p) ||
          out_of_range(j3, p)) {
        break;  // the checked loop skips the bad ones
      }
      const double t0 = va * static_cast<double>(x[b]);
      const double t1 = va * static_cast<double>(x[b + 1]);
      const double t2 = va * static_cast<double>(x[b + 2]);
      const double t3 = va * static_cast<double>(x[b + 3]);
      row[j0] += t0;
      row[j1] += t1;
      row[j2] += t2;
      row[j3] += t3;
    }
    for (; b < len; ++b) {
      const std::int64_t jb = static_cast<std::int64_t>(idx[b]);
      if (out_of_range(jb, p)) continue;  // reported as bad when it is `a`
      row[jb] += va * static_cast<double>(x[b]);
    }
    if (intercept) row[p] += va;
  }
  return bad;
}

template <typename T>
void add_dense_row(const T* __restrict x, double di, std::int64_t p, bool intercept,
                   std::int64_t m, std::int64_t lo, std::int64_t hi, double* __restrict G) {
  for (std::int64_t a = lo; a < hi; ++a) {
    const double va = di * static_cast<double>(x[a]);
    // Skipping a zero product adds nothing: X is finite, so every skipped
    // term would be a signed zero.
    if (va == 0.0) continue;
    double* __restrict row = G + a * m;
    for (std::int64_t b = a; b < p; ++b) row[b] += va * static_cast<double>(x[b]);
    if (intercept) row[p] += va;
  }
}

// Row layouts: thread t owns the rows [lo_t, hi_t) of G and reads every row
// of X, adding only the pairs whose first entry falls in its range. Each
// entry of G is then summed by one thread in row order, whatever the split,
// so no partial matrices and no reduction are needed.
template <typename T, typename I>
bool gram_rows(const GlmDesign& x, const double* d, bool intercept, double* out,
               int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols, m = p + (intercept ? 1 : 0);
  const T* data = static_cast<const T*>(x.data);
  const I* indptr = static_cast<const I*>(x.indptr);
  const I* indices = static_cast<const I*>(x.indices);
  const bool sparse = x.sparse();
  const double per_row = sparse ? static_cast<double>(x.nnz) / static_cast<double>(n)
                                : static_cast<double>(p);
  const double work_estimate = static_cast<double>(n) * per_row * (per_row + 1.0) / 2.0;
  const int threads = threads_for_work(work_estimate, p, num_threads);
  std::fill(out, out + m * m, 0.0);
  // Split the rows of G by their share of the pairs: for every stored entry,
  // the entries at or after it in its row of X.
  std::vector<std::int64_t> bounds(static_cast<std::size_t>(threads) + 1, p);
  bounds[0] = 0;
  if (threads > 1) {
    std::vector<double> cost(static_cast<std::size_t>(p), 0.0);
    double total = 0.0;
    // The split only balances the threads, and the sums do not depend on it,
    // so a sample of the rows is enough to choose it.
    const std::int64_t stride = std::max<std::int64_t>(1, std::min<std::int64_t>(16, n / 4096));
    for (std::int64_t i = 0; i < n; i += stride) {
      if (sparse) {
        const std::int64_t begin = static_cast<std::int64_t>(indptr[i]);
        const std::int64_t end = static_cast<std::int64_t>(indptr[i + 1]);
        if (begin < 0 || begin > end || end > x.nnz) continue;  // reported below
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = static_cast<std::int64_t>(indices[e]);
          if (out_of_range(j, p)) continue;
          cost[static_cast<std::size_t>(j)] += static_cast<double>(end - e);
        }
      } else {
        for (std::int64_t j = 0; j < p; ++j) cost[static_cast<std::size_t>(j)] += static_cast<double>(p - j);
      }
    }
    for (double c : cost) total += c;
    double running = 0.0;
    int next = 1;
    for (std::int64_t j = 0; j < p && next < threads; ++j) {
      running += cost[static_cast<std::size_t>(j)];
      while (next < threads && running >= total * next / threads) bounds[static_cast<std::size_t>(next++)] = j + 1;
    }
  }
  bool bad = false;
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1) \
    reduction(|| : bad)
#endif
  for (int t = 0; t < threads; ++t) {
    const std::int64_t lo = bounds[static_cast<std::size_t>(t)];
    const std::int64_t hi = bounds[static_cast<std::size_t>(t) + 1];
    for (std::int64_t i = 0; i < n; ++i) {
      const double di = d[i];
      if (sparse) {
        const std::int64_t begin = static_cast<std::int64_t>(indptr[i]);
        const std::int64_t end = static_cast<std::int64_t>(indptr[i + 1]);
        if (begin < 0 || begin > end || end > x.nnz) {
          bad = true;
          continue;
        }
        bad = add_sparse_row(data + begin, indices + begin, end - begin, di, p, intercept, m, lo,
                             hi, out) || bad;
      } else {
        add_dense_row(data + i * p, di, p, intercept, m, lo, hi, out);
      }
    }
  }
  if (intercept) {
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) total += d[i];
    out[p * m + p] = total;
  }
  // Fold the pairs that unsorted indices put below the diagonal, then mirror.
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t k = j + 1; k < m; ++k) {
      const double sum = out[j * m + k] + out[k * m + j];
      out[j * m + k] = sum;
      out[k * m + j] = sum;
    }
  }
  return bad;
}

// Column layouts: thread-owned rows of G, each entry one fixed-order dot.
template <typename T, typename I>
bool gram_columns(const GlmDesign& x, const double* d, bool intercept, double* out,
                  double* work, int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols, m = p + (intercept ? 1 : 0);
  const T* data = static_cast<const T*>(x.data);
  const I* indptr = static_cast<const I*>(x.indptr);
  const I* indices = static_cast<const I*>(x.indices);
  const bool sparse = x.sparse();
  const double work_estimate = sparse ? static_cast<double>(p) * static_cast<double>(x.nnz) / 2.0
                                      : static_cast<double>(n) * p * (p + 1) / 2.0;
  const int threads = threads_for_work(work_estimate, p, num_threads);
  bool bad = false;
  // A column's stored range, or false when it is not within [0, nnz).
  auto range = [&](std::int64_t j, std::int64_t& begin, std::int64_t& end) {
    begin = static_cast<std::int64_t>(indptr[j]);
    end = static_cast<std::int64_t>(indptr[j + 1]);
    return begin >= 0 && begin <= end && end <= x.nnz;
  };
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1) reduction(|| : bad)
#endif
  {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    double* u = sparse ? work + static_cast<std::int64_t>(t) * n : nullptr;
    if (sparse) std::fill(u, u + n, 0.0);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 4)
#endif
    for (std::int64_t j = 0; j < p; ++j) {
      double* row = out + j * m;
      if (sparse) {
        std::int64_t bj, ej;
        if (!range(j, bj, ej)) {
          bad = true;
          std::fill(row + j, row + m, 0.0);
          continue;
        }
        double linear = 0.0;
        for (std::int64_t e = bj; e < ej; ++e) {
          const std::int64_t i = static_cast<std::int64_t>(indices[e]);
          if (out_of_range(i, n)) {
            bad = true;
            continue;
          }
          const double v = d[i] * static_cast<double>(data[e]);
          u[i] += v;
          linear += v;
        }
        for (std::int64_t k = j; k < p; ++k) {
          std::int64_t bk, ek;
          if (!range(k, bk, ek)) {
            bad = true;
            row[k] = 0.0;
            continue;
          }
          double sum = 0.0;
          for (std::int64_t e = bk; e < ek; ++e) {
            const std::int64_t i = static_cast<std::int64_t>(indices[e]);
            if (out_of_range(i, n)) continue;  // reported when column j is i's column
            sum += static_cast<double>(data[e]) * u[i];
          }
          row[k] = sum;
        }
        if (intercept) row[p] = linear;
        for (std::int64_t e = bj; e < ej; ++e) {
          const std::int64_t i = static_cast<std::int64_t>(indices[e]);
          if (!out_of_range(i, n)) u[i] = 0.0;
        }
      } else {
        const T* __restrict xj = data + j * n;
        for (std::int64_t k = j; k < p; ++k) {
          const T* __restrict xk = data + k * n;
          double sum = 0.0;
          for (std::int64_t i = 0; i < n; ++i) {
            sum += (d[i] * static_cast<double>(xj[i])) * static_cast<double>(xk[i]);
          }
          row[k] = sum;
        }
        if (intercept) {
          double linear = 0.0;
          for (std::int64_t i = 0; i < n; ++i) linear += d[i] * static_cast<double>(xj[i]);
          row[p] = linear;
        }
      }
    }
  }
  if (intercept) {
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) total += d[i];
    out[p * m + p] = total;
  }
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t k = j + 1; k < m; ++k) out[k * m + j] = out[j * m + k];
  }
  return bad;
}

template <typename T, typename I>
bool gram_typed(const GlmDesign& x, const double* d, bool intercept, double* out, double* work,
                int num_threads) {
  return x.row_major() ? gram_rows<T, I>(x, d, intercept, out, num_threads)
                       : gram_columns<T, I>(x, d, intercept, out, work, num_threads);
}

template <typename T>
bool gram_index(const GlmDesign& x, const double* d, bool intercept, double* out, double* work,
                int num_threads) {
  if (x.sparse() && x.index_type == IndexType::int64) {
    return gram_typed<T, std::int64_t>(x, d, intercept, out, work, num_threads);
  }
  return gram_typed<T, std::int32_t>(x, d, intercept, out, work, num_threads);
}

inline double model_violation(double g, double w, double a1) {
  if (!(a1 > 0.0)) return std::abs(g);
  if (w == 0.0) {
    const double excess = std::abs(g) - a1;
    return excess < 0.0 ? 0.0 : excess;
  }
  return std::abs(g + a1 * (w > 0.0 ? 1.0 : -1.0));
}

// One cyclic sweep over `coords`; returns the largest model violation seen
// before each update.
double gram_sweep(const GramCdArgs& a, const std::int64_t* coords, std::int64_t count) {
  const std::int64_t m = a.m;
  double* __restrict step = a.step;
  double* __restrict hd = a.hd;
  double worst = 0.0;
  for (std::int64_t c = 0; c < count; ++c) {
    const std::int64_t j = coords[c];
    const double* __restrict hrow = a.H + j * m;
    const double current = a.w[j] + step[j];
    const double gradient = a.q[j] + hd[j];
    const double v = model_violation(gradient + a.a2 * current, current, a.a1);
    worst = (v > worst || std::isnan(v)) ? v : worst;
    const double curvature = hrow[j];
    double next;
    if (curvature + a.a2 > 0.0) {
      // argmin_u gradient (u - current) + curvature/2 (u - current)^2 + a1 |u| + a2/2 u^2.
      next = soft_threshold(curvature * current - gradient, a.a1) / (curvature + a.a2);
    } else {
      // Flat model along j (an empty column, no L2 term): 0 is optimal when a1 > 0.
      next = a.a1 > 0.0 ? 0.0 : current;
    }
    const double delta = next - current;
    if (delta == 0.0) continue;
    step[j] += delta;
    for (std::int64_t k = 0; k < m; ++k) hd[k] += delta * hrow[k];
  }
  return worst;
}

}  // namespace

GlmStatus glm_gram(const GlmDesign& x, const double* d, bool fit_intercept, double* out,
                   double* work, int num_threads) {
  GlmStatus status;
  status.invalid = x.dtype == DType::float32
                       ? gram_index<float>(x, d, fit_intercept, out, work, num_threads)
                       : gram_index<double>(x, d, fit_intercept, out, work, num_threads);
  return status;
}

GramCdResult gram_cd(const GramCdArgs& args) {
  GramCdResult result;
  const std::int64_t m = args.m;
  std::vector<std::int64_t> all(static_cast<std::size_t>(m));
  for (std::int64_t j = 0; j < m; ++j) all[static_cast<std::size_t>(j)] = j;
  std::vector<std::int64_t> active;
  active.reserve(static_cast<std::size_t>(m));
  // glmnet's active-set cycling: a sweep over every coordinate, then sweeps
  // over the nonzero ones until they settle, then a full sweep again. A
  // coordinate at zero that stays there costs O(1) per sweep.
  std::int64_t passes = 0;
  double violation = 0.0;
  while (passes < args.max_passes) {
    ++passes;
    violation = gram_sweep(args, all.data(), m);
    if (violation <= args.tol) break;
    active.clear();
    for (std::int64_t j = 0; j < m; ++j) {
      if (args.w[j] + args.step[j] != 0.0) active.push_back(j);
    }
    if (static_cast<std::int64_t>(active.size()) == m) continue;
    while (passes < args.max_passes) {
      ++passes;
      if (gram_sweep(args, active.data(), static_cast<std::int64_t>(active.size())) <=
          args.tol) {
        break;
      }
    }
  }
  result.passes = passes;
  result.violation = violation;
  return result;
}

}  // namespace fastopt::cpu::FASTOPT_ISA
