// GLM kernels: margins z = X coef^T + intercept, the fused data term and
// gradient, X^T r, and Hessian-vector products, on dense C- or
// Fortran-ordered X and on CSR or CSC X with int32 or int64 indices.
//
// Row layouts (dense C, CSR) need one pass over X for the value and the
// gradient: each row's margins, loss and residual are computed while the row
// is in cache, then the row is scattered into the gradient. With many
// features CSR blocks take that pass in two phases (see row_pass). Column layouts
// (dense Fortran, CSC) take two passes: the margins, then one dot product per
// feature with the residuals.
//
// Every sum is accumulated in float64 whatever X's dtype, over fixed blocks
// combined in block order (see cpu/glm.hpp), so the thread count never
// changes a bit of the result.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/glm.hpp"
#include "cpu/kernel_list.hpp"
#include "cpu/threads.hpp"
#include "cpu/vector_math.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

using glm::Loss;

// Rows (or columns) per chunk of the element-wise passes that any thread
// split leaves bit-identical.
constexpr std::int64_t kChunk = 256;

// Samples per batch of the loss terms (binary_terms) in the passes over rows
// and over margins.
constexpr std::int64_t kTermsBatch = 256;

inline bool out_of_range(std::int64_t j, std::int64_t size) {
  return static_cast<std::uint64_t>(j) >= static_cast<std::uint64_t>(size);
}

// ---------------------------------------------------------------------------
// One row (or column) of X as a dense slice or a list of stored values.

template <typename T>
struct DenseSlice {
  const T* x;
  std::int64_t len;
};

template <typename T, typename I>
struct SparseSlice {
  const T* x;
  const I* idx;
  std::int64_t len;
};

// sum_j x_j c_j with four partial sums in a fixed lane order; c has the
// slice's full length.
template <typename T>
inline double dot(const DenseSlice<T>& s, const double* __restrict c, std::int64_t, bool&) {
  const T* __restrict x = s.x;
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  std::int64_t j = 0;
  for (; j + 4 <= s.len; j += 4) {
    a0 += static_cast<double>(x[j]) * c[j];
    a1 += static_cast<double>(x[j + 1]) * c[j + 1];
    a2 += static_cast<double>(x[j + 2]) * c[j + 2];
    a3 += static_cast<double>(x[j + 3]) * c[j + 3];
  }
  double total = (a0 + a1) + (a2 + a3);
  for (; j < s.len; ++j) total += static_cast<double>(x[j]) * c[j];
  return total;
}

// sum over stored entries of x_e c[idx_e]; an index outside [0, size) sets
// bad and is skipped.
template <typename T, typename I>
inline double dot(const SparseSlice<T, I>& s, const double* __restrict c, std::int64_t size,
                  bool& bad) {
  const T* __restrict x = s.x;
  const I* __restrict idx = s.idx;
  double total = 0.0;
  std::int64_t e = 0;
  // Two entries per step, summed in storage order. With four, rows of
  // varied length (w8a: 0 to 33 and more) mispredicted the exits of both
  // loops more often. The margins took 0.785 ms on w8a against 0.708 ms with
  // two, and 0.264 against 0.259 ms on a9a (AMD EPYC, one thread).
  for (; e + 2 <= s.len; e += 2) {
    const std::int64_t j0 = static_cast<std::int64_t>(idx[e]);
    const std::int64_t j1 = static_cast<std::int64_t>(idx[e + 1]);
    if (out_of_range(j0, size) || out_of_range(j1, size)) break;  // the checked loop reports them
    total += static_cast<double>(x[e]) * c[j0];
    total += static_cast<double>(x[e + 1]) * c[j1];
  }
  for (; e < s.len; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(idx[e]);
    if (out_of_range(j, size)) {
      bad = true;
      continue;
    }
    total += static_cast<double>(x[e]) * c[j];
  }
  return total;
}

// g += a x, or g += a x * x when kSquare.
template <bool kSquare, typename T>
inline void axpy(const DenseSlice<T>& s, double a, double* __restrict g, std::int64_t, bool&) {
  const T* __restrict x = s.x;
  for (std::int64_t j = 0; j < s.len; ++j) {
    const double v = static_cast<double>(x[j]);
    g[j] += kSquare ? a * (v * v) : a * v;
  }
}

template <bool kSquare, typename T, typename I>
inline void axpy(const SparseSlice<T, I>& s, double a, double* __restrict g, std::int64_t size,
                 bool& bad) {
  const T* __restrict x = s.x;
  const I* __restrict idx = s.idx;
  auto term = [a](T value) {
    const double v = static_cast<double>(value);
    return kSquare ? a * (v * v) : a * v;
  };
  std::int64_t e = 0;
  // Two loads, then two read-modify-writes of g. Interleaved, the loads
  // waited on the stores before them, and a9a's scatter ran 2.7 times slower
  // on Zen 1. Two rather than four for the reason given at dot: X^T r took
  // 0.918 against 0.79 ms on w8a and 0.36 against 0.34 ms on a9a.
  for (; e + 2 <= s.len; e += 2) {
    const std::int64_t j0 = static_cast<std::int64_t>(idx[e]);
    const std::int64_t j1 = static_cast<std::int64_t>(idx[e + 1]);
    if (out_of_range(j0, size) || out_of_range(j1, size)) break;  // the checked loop reports them
    const double t0 = term(x[e]), t1 = term(x[e + 1]);
    g[j0] += t0;
    g[j1] += t1;
  }
  for (; e < s.len; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(idx[e]);
    if (out_of_range(j, size)) {
      bad = true;
      continue;
    }
    g[j] += term(x[e]);
  }
}

// With K > 1 outputs the row kernels read coefficients and accumulate
// gradients transposed, as (p, K) row-major, so each stored x_ij touches K
// adjacent doubles instead of K cache lines p apart. For K = 1 both layouts
// are the same vector.

// z[c] = sum_j x_j coef_t[j, c] for every output c, summed in storage order.
template <typename T>
inline void dot_outputs(const DenseSlice<T>& s, const double* __restrict coef_t, std::int64_t k,
                        double* __restrict z, std::int64_t, bool&) {
  std::fill(z, z + k, 0.0);
  for (std::int64_t j = 0; j < s.len; ++j) {
    const double v = static_cast<double>(s.x[j]);
    const double* __restrict row = coef_t + j * k;
    for (std::int64_t c = 0; c < k; ++c) z[c] += v * row[c];
  }
}

template <typename T, typename I>
inline void dot_outputs(const SparseSlice<T, I>& s, const double* __restrict coef_t,
                        std::int64_t k, double* __restrict z, std::int64_t size, bool& bad) {
  std::fill(z, z + k, 0.0);
  for (std::int64_t e = 0; e < s.len; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(s.idx[e]);
    if (out_of_range(j, size)) {
      bad = true;
      continue;
    }
    const double v = static_cast<double>(s.x[e]);
    const double* __restrict row = coef_t + j * k;
    for (std::int64_t c = 0; c < k; ++c) z[c] += v * row[c];
  }
}

// g_t[j, c] += a[c] x_j (a[c] x_j^2 when kSquare) for every output c.
template <bool kSquare, typename T>
inline void axpy_outputs(const DenseSlice<T>& s, const double* a, std::int64_t k,
                         double* __restrict g_t, std::int64_t, bool&) {
  for (std::int64_t j = 0; j < s.len; ++j) {
    const double v = static_cast<double>(s.x[j]);
    const double factor = kSquare ? v * v : v;
    double* __restrict row = g_t + j * k;
    for (std::int64_t c = 0; c < k; ++c) row[c] += a[c] * factor;
  }
}

template <bool kSquare, typename T, typename I>
inline void axpy_outputs(const SparseSlice<T, I>& s, const double* a, std::int64_t k,
                         double* __restrict g_t, std::int64_t size, bool& bad) {
  for (std::int64_t e = 0; e < s.len; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(s.idx[e]);
    if (out_of_range(j, size)) {
      bad = true;
      continue;
    }
    const double v = static_cast<double>(s.x[e]);
    const double factor = kSquare ? v * v : v;
    double* __restrict row = g_t + j * k;
    for (std::int64_t c = 0; c < k; ++c) row[c] += a[c] * factor;
  }
}

// Margins of one row without intercepts: coef is (p, K) when K > 1.
template <typename Slice>
inline void row_margins(const Slice& s, const double* coef, std::int64_t k, double* z,
                        std::int64_t p, bool& bad) {
  if (k == 1) {
    z[0] = dot(s, coef, p, bad);
  } else {
    dot_outputs(s, coef, k, z, p, bad);
  }
}

// Scatters a[c] times one row into the gradient g, which is (p, K) when K > 1.
template <bool kSquare, typename Slice>
inline void row_scatter(const Slice& s, const double* a, std::int64_t k, double* g,
                        std::int64_t p, bool& bad) {
  if (k == 1) {
    if (a[0] != 0.0) axpy<kSquare>(s, a[0], g, p, bad);
  } else {
    axpy_outputs<kSquare>(s, a, k, g, p, bad);
  }
}

// Writes the (K, p) matrix src as (p, K) into dst and returns dst, or
// returns src itself when K = 1.
inline const double* transpose_outputs(const double* src, std::int64_t k, std::int64_t p,
                                       double* dst) {
  if (k == 1) return src;
  for (std::int64_t c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < p; ++j) dst[j * k + c] = src[c * p + j];
  return dst;
}

// Access to the major slices (rows of C/CSR, columns of F/CSC) of X.
template <typename T>
struct DenseMajor {
  using Slice = DenseSlice<T>;
  const T* x;
  std::int64_t minor;
  bool slice(std::int64_t i, Slice& out) const {
    out = {x + i * minor, minor};
    return true;
  }
};

template <typename T, typename I>
struct SparseMajor {
  using Slice = SparseSlice<T, I>;
  const T* x;
  const I* indptr;
  const I* idx;
  std::int64_t nnz;
  // Returns false when the stored range of slice i is not within [0, nnz).
  bool slice(std::int64_t i, Slice& out) const {
    const std::int64_t b = static_cast<std::int64_t>(indptr[i]);
    const std::int64_t e = static_cast<std::int64_t>(indptr[i + 1]);
    if (b < 0 || b > e || e > nnz) return false;
    out = {x + b, idx + b, e - b};
    return true;
  }
};

// Calls f(major) with the slice accessor of X's layout and dtypes.
template <typename F>
void with_major(const GlmDesign& x, F&& f) {
  const std::int64_t minor = x.row_major() ? x.n_cols : x.n_rows;
  auto with_index = [&](auto value) {
    using T = decltype(value);
    if (!x.sparse()) {
      f(DenseMajor<T>{static_cast<const T*>(x.data), minor});
    } else if (x.index_type == IndexType::int32) {
      f(SparseMajor<T, std::int32_t>{static_cast<const T*>(x.data),
                                     static_cast<const std::int32_t*>(x.indptr),
                                     static_cast<const std::int32_t*>(x.indices), x.nnz});
    } else {
      f(SparseMajor<T, std::int64_t>{static_cast<const T*>(x.data),
                                     static_cast<const std::int64_t*>(x.indptr),
                                     static_cast<const std::int64_t*>(x.indices), x.nnz});
    }
  };
  if (x.dtype == DType::float32) {
    with_index(float{});
  } else {
    with_index(double{});
  }
}

inline int clamp_threads(std::int64_t work, std::int64_t tasks, int requested) {
  return static_cast<int>(std::min<std::int64_t>(threads_for(work, requested), tasks));
}

inline double sample_weight(const GlmTarget& t, std::int64_t i, double inv_n) {
  return t.weights ? t.weights[i] : inv_n;
}

// ---------------------------------------------------------------------------
// Row layouts: fixed row blocks, each scattering into its own partial
// gradient. With K = 1, block 0 writes into the output directly.

// Scratch regions of a row-layout call, in the order glm_work_size counts.
struct RowWork {
  double* coef_t;  // K > 1: coefficients transposed to (p, K)
  double* coef_partials;
  double* intercept_partials;
  double* value_partials;
  double* residuals;  // phased CSR: n * K, the margins and then residuals of every row
};

RowWork row_work(const GlmDesign& x, std::int64_t k, const GlmWork& work) {
  const std::int64_t p = x.n_cols, blocks = glm_row_blocks(x, k);
  RowWork w;
  w.coef_t = work.data;
  w.coef_partials = w.coef_t + (k > 1 ? k * p : 0);
  w.intercept_partials = w.coef_partials + (k > 1 ? blocks : blocks - 1) * k * (p + 1);
  w.value_partials = w.intercept_partials + blocks * k;
  w.residuals = w.value_partials + blocks;
  return w;
}

// Phased CSR passes (glm_phased in cpu/glm.hpp): fused, each row reads the
// coefficients and writes the gradient while the row is in cache, so both
// vectors and the streamed rows share the core's cache. Once the two vectors
// pass a few hundred KiB they no longer stay there. One case: 500,000 x
// 100,000 with 20 entries a row, one thread, on a Xeon with a 2 MiB L2. There
// the fused value and gradient took 54-57 ms, and scipy's X w and X^T r run
// one after the other took 26 ms. Phased, the block first computes every row's residual,
// reading only the coefficients, then scatters the rows, writing only its
// gradient. Each row still goes through the same operations in the same
// order, so the result keeps its bits. The cost is a second read of the
// block's rows.

struct RowBlockSums {
  double value = 0.0;
  bool bad = false;
};

// Computes every row's K residuals a_i in batches of kTermsBatch rows.
// First margins(i, slice, z, bad) writes row i's K margins into z. Then
// terms(lo, hi, zr, value, bad) turns the margins of rows [lo, hi) (zr contains
// (hi - lo) x K of them) into residuals in place. It also adds the rows'
// values to value, summed in row order. Unless out is nullptr, each block then
// adds a_i x_i (a_i x_i^2 when kSquare) to its partial gradient g, (p, K)
// row-major, and a_i to its K intercept sums, writes the combined gradient
// into out (K * p, followed by K intercepts when fit_intercept) and returns
// the sum of the values. gathers says whether margins reads a vector of
// length K * p, which allows the phased pass above. A row whose stored range
// is out of bounds gets margins 0, is never scattered and makes bad true.
template <bool kSquare, typename Major, typename Margins, typename Terms>
RowBlockSums row_pass(const GlmDesign& x, const Major& major, std::int64_t k, bool fit_intercept,
                      double* out, const GlmWork& work, int num_threads, bool gathers,
                      Margins&& margins, Terms&& terms) {
  const std::int64_t n = x.n_rows, p = x.n_cols, kp = k * p;
  const std::int64_t blocks = glm_row_blocks(x, k);
  const RowWork rw = row_work(x, k, work);
  double* coef_partials = rw.coef_partials;
  double* intercept_partials = rw.intercept_partials;
  double* value_partials = rw.value_partials;
  const bool phased = gathers && out != nullptr && glm_phased(x, k);
  // Partials of K > 1 are transposed, so every block has its own buffer.
  const std::int64_t first_partial = k > 1 ? 0 : 1;
  bool bad = false;
  const int threads = clamp_threads(x.nnz * k, blocks, num_threads);
  // Static, because with schedule(dynamic, 1) the second thread rarely got a
  // block of a pass this short. On w8a the gradient took 1.7 ms on two
  // threads with dynamic, as long as on one, and 0.86 ms with static.
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1) \
    reduction(|| : bad)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = n * b / blocks, hi = n * (b + 1) / blocks;
    double* g = nullptr;
    if (out != nullptr) {
      g = b < first_partial ? out : coef_partials + (b - first_partial) * kp;
      std::fill(g, g + kp, 0.0);
    }
    double* g_intercept = intercept_partials + b * k;
    std::fill(g_intercept, g_intercept + k, 0.0);
    double value = 0.0;
    bool block_bad = false;
    typename Major::Slice slice;
    // Margins, then residuals, of the current batch, or of the whole block
    // when phased; residuals_at(from) is where row from's are.
    std::vector<double> batch(phased ? 0 : static_cast<std::size_t>(kTermsBatch * k));
    auto residuals_at = [&](std::int64_t from) {
      return phased ? rw.residuals + from * k : batch.data();
    };
    auto scatter = [&](std::int64_t from, std::int64_t to, const double* zr) {
      for (std::int64_t i = from; i < to; ++i) {
        if (!major.slice(i, slice)) continue;
        const double* a = zr + (i - from) * k;
        // Without an intercept the sums are never read.
        if (fit_intercept) {
          for (std::int64_t c = 0; c < k; ++c) g_intercept[c] += a[c];
        }
        row_scatter<kSquare>(slice, a, k, g, p, block_bad);
      }
    };
    for (std::int64_t from = lo; from < hi; from += kTermsBatch) {
      const std::int64_t to = std::min(hi, from + kTermsBatch);
      double* zr = residuals_at(from);
      for (std::int64_t i = from; i < to; ++i) {
        double* z = zr + (i - from) * k;
        if (major.slice(i, slice)) {
          margins(i, slice, z, block_bad);
        } else {
          block_bad = true;
          std::fill(z, z + k, 0.0);
        }
      }
      terms(from, to, zr, value, block_bad);
      if (g != nullptr && !phased) scatter(from, to, zr);
    }
    if (g != nullptr && phased) scatter(lo, hi, residuals_at(lo));
    value_partials[b] = value;
    bad = bad || block_bad;
  }

  if (out != nullptr && (blocks > 1 || k > 1)) {
    // Sums the partials of feature j in block order into out[c, j].
    const std::int64_t chunks = (p + kChunk - 1) / kChunk;
    const int reduce_threads = clamp_threads(kp * blocks, chunks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(reduce_threads) if (reduce_threads > 1)
#endif
    for (std::int64_t ch = 0; ch < chunks; ++ch) {
      const std::int64_t hi = std::min(p, (ch + 1) * kChunk);
      for (std::int64_t j = ch * kChunk; j < hi; ++j) {
        for (std::int64_t c = 0; c < k; ++c) {
          double s = first_partial == 1 ? out[j] : 0.0;
          for (std::int64_t b = first_partial; b < blocks; ++b)
            s += coef_partials[(b - first_partial) * kp + j * k + c];
          out[c * p + j] = s;
        }
      }
    }
  }
  if (out != nullptr && fit_intercept) {
    for (std::int64_t c = 0; c < k; ++c) {
      double s = 0.0;
      for (std::int64_t b = 0; b < blocks; ++b) s += intercept_partials[b * k + c];
      out[kp + c] = s;
    }
  }
  RowBlockSums sums;
  for (std::int64_t b = 0; b < blocks; ++b) sums.value += value_partials[b];
  sums.bad = bad;
  return sums;
}

// ---------------------------------------------------------------------------
// Per-sample loss terms shared by every layout.

// Value of sample i at margins z (K of them), its residual s_i dloss/dz
// written into r, and, when curvature is not nullptr, s_i d2loss/dz2 (binary
// losses) or the class probabilities (multinomial). prob has room for K
// doubles. Returns false for a multinomial label outside 0..K-1.
inline bool sample_terms(const GlmTarget& t, std::int64_t i, double s, const double* z,
                         double* r, double* curvature, double* prob, double& value) {
  const std::int64_t k = t.n_outputs;
  if (t.loss == Loss::multinomial) {
    const double yi = t.y[i];
    const auto label = static_cast<std::int64_t>(yi);
    if (!(yi >= 0.0) || out_of_range(label, k)) return false;
    value += s * glm::multinomial_terms<double>(z, k, label, prob);
    for (std::int64_t c = 0; c < k; ++c) r[c] = s * (prob[c] - (c == label ? 1.0 : 0.0));
    if (curvature != nullptr) std::copy(prob, prob + k, curvature);
    return true;
  }
  const glm::LossTerms<double> terms = glm::loss_terms<double>(t.loss, t.y[i], z[0], t.huber_delta);
  value += s * terms.value;
  r[0] = s * terms.d1;
  if (curvature != nullptr) curvature[0] = s * terms.d2;
  return true;
}

// Terms of samples lo + 0 .. lo + m - 1 of a binary or regression loss at
// margins z[0 .. m): values[i] = s loss, r[i] = s dloss/dz and, unless h is
// nullptr, h[i] = s d2loss/dz2, with the sample's weight s. r may be z. The
// logistic loss runs as a loop that vectorizes (see cpu/vector_math.hpp);
// element for element it is glm::logistic_terms with other exp and log1p.
void binary_terms(const GlmTarget& t, std::int64_t lo, std::int64_t m, double inv_n,
                  const double* z, double* values, double* r, double* h) {
  if (t.loss != Loss::logistic) {
    for (std::int64_t i = 0; i < m; ++i) {
      const double s = sample_weight(t, lo + i, inv_n);
      const glm::LossTerms<double> terms =
          glm::loss_terms<double>(t.loss, t.y[lo + i], z[i], t.huber_delta);
      values[i] = s * terms.value;
      r[i] = s * terms.d1;
      if (h != nullptr) h[i] = s * terms.d2;
    }
    return;
  }
  const double* y = t.y + lo;
  // One loop for weighted and one for unweighted samples. With the choice of
  // weights[i] or inv_n inside the loop, GCC loaded the weights with a masked
  // load even when weights is nullptr. Those loads from unmapped addresses
  // took 38% of this function's samples on w8a (AMD EPYC, AVX-512).
  auto terms = [&](auto weight_of) {
#pragma omp simd
    for (std::int64_t i = 0; i < m; ++i) {
      const double s = weight_of(i);
      const double mi = y[i] * z[i];
      const double e = exp_nonpositive(mi < 0.0 ? mi : -mi);
      const double one_plus = 1.0 + e;
      const double p_wrong = (mi >= 0.0 ? e : 1.0) / one_plus;  // sigmoid(-m)
      values[i] = s * ((mi < 0.0 ? -mi : 0.0) + log1p_unit(e));
      const double d1 = -y[i] * p_wrong;
      r[i] = s * d1;
      if (h != nullptr) h[i] = s * (e / (one_plus * one_plus));
    }
  };
  if (t.weights != nullptr) {
    const double* weights = t.weights + lo;
    terms([weights](std::int64_t i) { return weights[i]; });
  } else {
    terms([inv_n](std::int64_t) { return inv_n; });
  }
}

// Turns the margins zr of samples [lo, hi), (hi - lo) x K, into their
// residuals in place, writes their curvature (as sample_terms does) into h
// unless it is nullptr, and adds their values to value in sample order.
// Returns false when a multinomial label is out of range.
bool terms_in_place(const GlmTarget& t, std::int64_t lo, std::int64_t hi, double inv_n,
                    double* zr, double* h, double& value) {
  const std::int64_t k = t.n_outputs;
  if (t.loss == Loss::multinomial) {
    std::vector<double> prob(static_cast<std::size_t>(k));
    bool ok = true;
    for (std::int64_t i = lo; i < hi; ++i) {
      double* zi = zr + (i - lo) * k;
      double* hi_out = h != nullptr ? h + (i - lo) * k : nullptr;
      if (!sample_terms(t, i, sample_weight(t, i, inv_n), zi, zi, hi_out, prob.data(), value))
        ok = false;
    }
    return ok;
  }
  double values[kTermsBatch];
  for (std::int64_t from = lo; from < hi; from += kTermsBatch) {
    const std::int64_t m = std::min(kTermsBatch, hi - from);
    binary_terms(t, from, m, inv_n, zr + (from - lo), values, zr + (from - lo),
                 h != nullptr ? h + (from - lo) : nullptr);
    for (std::int64_t i = 0; i < m; ++i) value += values[i];
  }
  return true;
}

// Sums terms over samples in fixed blocks of kGlmLossBlock rows, with
// margins z0 + step * dz (dz may be nullptr). Writes residuals and curvature
// when those are not nullptr. partials has room for glm_loss_blocks(n)
// doubles.
GlmStatus loss_pass(const GlmTarget& t, std::int64_t n, const double* z0, const double* dz,
                    double step, double* residual, double* curvature, double* partials,
                    int num_threads) {
  const std::int64_t k = t.n_outputs;
  const std::int64_t blocks = glm_loss_blocks(n);
  const double inv_n = 1.0 / static_cast<double>(n);
  bool bad = false;
  const int threads = clamp_threads(n * k * 8, blocks, num_threads);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    std::vector<double> local(static_cast<std::size_t>(kTermsBatch * k));
#ifdef _OPENMP
#pragma omp for schedule(static) reduction(|| : bad)
#endif
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t lo = b * kGlmLossBlock, hi = std::min(n, lo + kGlmLossBlock);
      double value = 0.0;
      for (std::int64_t from = lo; from < hi; from += kTermsBatch) {
        const std::int64_t to = std::min(hi, from + kTermsBatch);
        double* zr = residual ? residual + from * k : local.data();
        for (std::int64_t e = from * k; e < to * k; ++e)
          zr[e - from * k] = dz ? z0[e] + step * dz[e] : z0[e];
        double* h = curvature ? curvature + from * k : nullptr;
        if (!terms_in_place(t, from, to, inv_n, zr, h, value)) bad = true;
      }
      partials[b] = value;
    }
  }
  GlmStatus status;
  for (std::int64_t b = 0; b < blocks; ++b) status.value += partials[b];
  status.invalid = bad;
  return status;
}

// ---------------------------------------------------------------------------
// Margins z = X coef^T + intercept, (n, K) row-major.

// coef is (p, K) when K > 1 (see transpose_outputs).
template <typename Major>
bool matvec_rows(const GlmDesign& x, const Major& major, std::int64_t k, const double* coef,
                 const double* intercept, double* z, int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols;
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  bool bad = false;
  const int threads = clamp_threads(x.nnz * k, chunks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1) \
    reduction(|| : bad)
#endif
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t hi = std::min(n, (ch + 1) * kChunk);
    typename Major::Slice slice;
    for (std::int64_t i = ch * kChunk; i < hi; ++i) {
      if (!major.slice(i, slice)) {
        bad = true;
        continue;
      }
      double* zi = z + i * k;
      row_margins(slice, coef, k, zi, p, bad);
      if (intercept != nullptr)
        for (std::int64_t c = 0; c < k; ++c) zi[c] += intercept[c];
    }
  }
  return !bad;
}

// Dense Fortran order: chunks of rows, each sweeping the columns in order,
// so every z_i sums its terms in column order for any thread split.
template <typename T>
bool matvec_dense_f(const GlmDesign& x, std::int64_t k, const double* coef,
                    const double* intercept, double* z, int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols;
  const T* data = static_cast<const T*>(x.data);
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  const int threads = clamp_threads(x.nnz * k, chunks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t lo = ch * kChunk, hi = std::min(n, lo + kChunk), len = hi - lo;
    double acc[kChunk];
    for (std::int64_t c = 0; c < k; ++c) {
      std::fill(acc, acc + len, 0.0);
      for (std::int64_t j = 0; j < p; ++j) {
        const double w = coef[c * p + j];
        if (w == 0.0) continue;
        const T* __restrict col = data + j * n + lo;
        for (std::int64_t i = 0; i < len; ++i) acc[i] += static_cast<double>(col[i]) * w;
      }
      const double b = intercept ? intercept[c] : 0.0;
      for (std::int64_t i = 0; i < len; ++i) z[(lo + i) * k + c] = acc[i] + b;
    }
  }
  return true;
}

// CSC: fixed column blocks scatter into their own partial margins (block 0
// into z), summed in block order per row.
template <typename T, typename I>
bool matvec_csc(const GlmDesign& x, const SparseMajor<T, I>& major, std::int64_t k,
                const double* coef, const double* intercept, double* z, double* partials,
                int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols, nk = n * k;
  const std::int64_t blocks = glm_column_blocks(x, k);
  bool bad = false;
  const int threads = clamp_threads(x.nnz * k, blocks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1) \
    reduction(|| : bad)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
    double* acc = b == 0 ? z : partials + (b - 1) * nk;
    std::fill(acc, acc + nk, 0.0);
    const std::int64_t lo = p * b / blocks, hi = p * (b + 1) / blocks;
    SparseSlice<T, I> col;
    for (std::int64_t j = lo; j < hi; ++j) {
      if (!major.slice(j, col)) {
        bad = true;
        continue;
      }
      for (std::int64_t e = 0; e < col.len; ++e) {
        const std::int64_t i = static_cast<std::int64_t>(col.idx[e]);
        if (out_of_range(i, n)) {
          bad = true;
          continue;
        }
        const double v = static_cast<double>(col.x[e]);
        for (std::int64_t c = 0; c < k; ++c) acc[i * k + c] += v * coef[c * p + j];
      }
    }
  }
  const std::int64_t chunks = (nk + kChunk - 1) / kChunk;
  const int sum_threads = clamp_threads(nk * blocks, chunks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(sum_threads) if (sum_threads > 1)
#endif
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t hi = std::min(nk, (ch + 1) * kChunk);
    for (std::int64_t e = ch * kChunk; e < hi; ++e) {
      double s = z[e];
      for (std::int64_t b = 1; b < blocks; ++b) s += partials[(b - 1) * nk + e];
      z[e] = s + (intercept ? intercept[e % k] : 0.0);
    }
  }
  return !bad;
}

// Scratch regions of a column-layout call, in the order glm_work_size counts.
struct ColumnWork {
  double* z;
  double* r;
  double* column_partials;
  double* loss_partials;
};

ColumnWork column_work(const GlmDesign& x, std::int64_t k, const GlmWork& work) {
  const std::int64_t nk = x.n_rows * k;
  const std::int64_t column_partials =
      x.layout == GlmLayout::csc ? (glm_column_blocks(x, k) - 1) * nk : 0;
  ColumnWork w;
  w.z = work.data;
  w.r = w.z + nk;
  w.column_partials = w.r + nk;
  w.loss_partials = w.column_partials + column_partials;
  return w;
}

bool matvec(const GlmDesign& x, std::int64_t k, const double* coef, const double* intercept,
            double* z, const GlmWork& work, int num_threads) {
  bool ok = true;
  with_major(x, [&](const auto& major) {
    using Major = std::decay_t<decltype(major)>;
    if (x.row_major()) {
      const double* coef_t = transpose_outputs(coef, k, x.n_cols, row_work(x, k, work).coef_t);
      ok = matvec_rows(x, major, k, coef_t, intercept, z, num_threads);
    } else if constexpr (std::is_same_v<typename Major::Slice,
                                        DenseSlice<std::decay_t<decltype(*major.x)>>>) {
      using T = std::decay_t<decltype(*major.x)>;
      ok = matvec_dense_f<T>(x, k, coef, intercept, z, num_threads);
    } else {
      ok = matvec_csc(x, major, k, coef, intercept, z, column_work(x, k, work).column_partials,
                      num_threads);
    }
  });
  return ok;
}

// ---------------------------------------------------------------------------
// out = r^T X (or r^T (X * X) when kSquare) for column layouts: one dot
// product per feature, summed in storage order; features run in parallel.

template <bool kSquare, typename Major>
bool rmatvec_columns(const GlmDesign& x, const Major& major, std::int64_t k, const double* r,
                     double* out, int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols;
  const std::int64_t chunks = (p + kChunk - 1) / kChunk;
  bool bad = false;
  const int threads = clamp_threads(x.nnz * k, chunks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1) \
    reduction(|| : bad)
#endif
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t hi = std::min(p, (ch + 1) * kChunk);
    typename Major::Slice col;
    for (std::int64_t j = ch * kChunk; j < hi; ++j) {
      if (!major.slice(j, col)) {
        bad = true;
        for (std::int64_t c = 0; c < k; ++c) out[c * p + j] = 0.0;
        continue;
      }
      for (std::int64_t c = 0; c < k; ++c) {
        double s = 0.0;
        if constexpr (std::is_same_v<typename Major::Slice,
                                     DenseSlice<std::decay_t<decltype(*col.x)>>>) {
          for (std::int64_t i = 0; i < n; ++i) {
            const double v = static_cast<double>(col.x[i]);
            s += (kSquare ? v * v : v) * r[i * k + c];
          }
        } else {
          for (std::int64_t e = 0; e < col.len; ++e) {
            const std::int64_t i = static_cast<std::int64_t>(col.idx[e]);
            if (out_of_range(i, n)) {
              bad = true;
              continue;
            }
            const double v = static_cast<double>(col.x[e]);
            s += (kSquare ? v * v : v) * r[i * k + c];
          }
        }
        out[c * p + j] = s;
      }
    }
  }
  return !bad;
}

// out[c] = sum_i r[i, c] over fixed loss blocks; partials has room for
// glm_loss_blocks(n) * k doubles.
void column_sums(const double* r, std::int64_t n, std::int64_t k, double* out, double* partials,
                 int num_threads) {
  const std::int64_t blocks = glm_loss_blocks(n);
  const int threads = clamp_threads(n * k, blocks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * kGlmLossBlock, hi = std::min(n, lo + kGlmLossBlock);
    double* part = partials + b * k;
    std::fill(part, part + k, 0.0);
    for (std::int64_t i = lo; i < hi; ++i)
      for (std::int64_t c = 0; c < k; ++c) part[c] += r[i * k + c];
  }
  for (std::int64_t c = 0; c < k; ++c) {
    double s = 0.0;
    for (std::int64_t b = 0; b < blocks; ++b) s += partials[b * k + c];
    out[c] = s;
  }
}

template <bool kSquare>
bool rmatvec(const GlmDesign& x, std::int64_t k, bool fit_intercept, const double* r, double* out,
             const GlmWork& work, int num_threads) {
  const std::int64_t p = x.n_cols;
  bool ok = true;
  with_major(x, [&](const auto& major) {
    if (x.row_major()) {
      const RowBlockSums sums = row_pass<kSquare>(
          x, major, k, fit_intercept, out, work, num_threads, false,
          [](std::int64_t, const auto&, double*, bool&) {},
          [&](std::int64_t lo, std::int64_t hi, double* a, double&, bool&) {
            std::copy(r + lo * k, r + hi * k, a);
          });
      ok = !sums.bad;
    } else {
      ok = rmatvec_columns<kSquare>(x, major, k, r, out, num_threads);
      if (fit_intercept)
        column_sums(r, x.n_rows, k, out + k * p, column_work(x, k, work).loss_partials,
                    num_threads);
    }
  });
  return ok;
}

// ---------------------------------------------------------------------------
// Fused value and gradient.

GlmStatus value_grad_rows(const GlmDesign& x, const GlmTarget& t, const double* w, double* grad,
                          double* margins, const GlmWork& work, int num_threads) {
  const std::int64_t p = x.n_cols, k = t.n_outputs;
  const double* intercept = t.fit_intercept ? w + k * p : nullptr;
  const double inv_n = 1.0 / static_cast<double>(x.n_rows);
  const double* coef = transpose_outputs(w, k, p, row_work(x, k, work).coef_t);
  GlmStatus status;
  with_major(x, [&](const auto& major) {
    const RowBlockSums sums = row_pass<false>(
        x, major, k, t.fit_intercept, grad, work, num_threads, true,
        [&](std::int64_t i, const auto& row, double* z, bool& bad) {
          row_margins(row, coef, k, z, p, bad);
          if (intercept != nullptr)
            for (std::int64_t c = 0; c < k; ++c) z[c] += intercept[c];
          if (margins != nullptr) std::copy(z, z + k, margins + i * k);
        },
        [&](std::int64_t lo, std::int64_t hi, double* zr, double& value, bool& bad) {
          if (!terms_in_place(t, lo, hi, inv_n, zr, nullptr, value)) bad = true;
        });
    status.value = sums.value;
    status.invalid = sums.bad;
  });
  return status;
}

GlmStatus value_grad_columns(const GlmDesign& x, const GlmTarget& t, const double* w,
                             double* grad, double* margins, const GlmWork& work,
                             int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols, k = t.n_outputs;
  const ColumnWork cw = column_work(x, k, work);
  double* z = margins ? margins : cw.z;
  const double* intercept = t.fit_intercept ? w + k * p : nullptr;
  GlmStatus status;
  if (!matvec(x, k, w, intercept, z, work, num_threads)) {
    status.invalid = true;
    return status;
  }
  status = loss_pass(t, n, z, nullptr, 0.0, grad ? cw.r : nullptr, nullptr, cw.loss_partials,
                     num_threads);
  if (status.invalid || grad == nullptr) return status;
  status.invalid = !rmatvec<false>(x, k, t.fit_intercept, cw.r, grad, work, num_threads);
  return status;
}

// ---------------------------------------------------------------------------
// Hessian-vector product H v = X^T D X v (plus the intercept rows), where D
// is s_i d2loss/dz2 per sample, or the softmax block
// s_i (diag(p_i) - p_i p_i^T) for multinomial.

// hz = D zv for one sample.
inline void apply_curvature(const GlmTarget& t, std::int64_t i, double inv_n,
                            const double* curvature, const double* zv, double* hz) {
  const std::int64_t k = t.n_outputs;
  if (t.loss != Loss::multinomial) {
    hz[0] = curvature[i] * zv[0];
    return;
  }
  const double* prob = curvature + i * k;
  double mean = 0.0;
  for (std::int64_t c = 0; c < k; ++c) mean += prob[c] * zv[c];
  const double s = sample_weight(t, i, inv_n);
  for (std::int64_t c = 0; c < k; ++c) hz[c] = s * (prob[c] * zv[c] - prob[c] * mean);
}

GlmStatus hessp_impl(const GlmDesign& x, const GlmTarget& t, const double* curvature,
                     const double* v, double* out, const GlmWork& work, int num_threads) {
  const std::int64_t n = x.n_rows, p = x.n_cols, k = t.n_outputs;
  const double* v_intercept = t.fit_intercept ? v + k * p : nullptr;
  const double inv_n = 1.0 / static_cast<double>(n);
  GlmStatus status;
  if (x.row_major()) {
    const double* v_t = transpose_outputs(v, k, p, row_work(x, k, work).coef_t);
    with_major(x, [&](const auto& major) {
      const RowBlockSums sums = row_pass<false>(
          x, major, k, t.fit_intercept, out, work, num_threads, true,
          [&](std::int64_t, const auto& row, double* zv, bool& bad) {
            row_margins(row, v_t, k, zv, p, bad);
            if (v_intercept != nullptr)
              for (std::int64_t c = 0; c < k; ++c) zv[c] += v_intercept[c];
          },
          [&](std::int64_t lo, std::int64_t hi, double* zv, double&, bool&) {
            // In place: sample i's outputs depend on its own zv only.
            for (std::int64_t i = lo; i < hi; ++i) {
              double* zi = zv + (i - lo) * k;
              apply_curvature(t, i, inv_n, curvature, zi, zi);
            }
          });
      status.invalid = sums.bad;
    });
    return status;
  }
  const ColumnWork cw = column_work(x, k, work);
  if (!matvec(x, k, v, v_intercept, cw.z, work, num_threads)) {
    status.invalid = true;
    return status;
  }
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  const int threads = clamp_threads(n * k * 4, chunks, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t hi = std::min(n, (ch + 1) * kChunk);
    for (std::int64_t i = ch * kChunk; i < hi; ++i)
      apply_curvature(t, i, inv_n, curvature, cw.z + i * k, cw.r + i * k);
  }
  status.invalid = !rmatvec<false>(x, k, t.fit_intercept, cw.r, out, work, num_threads);
  return status;
}

}  // namespace

GlmStatus glm_value_grad(const GlmDesign& x, const GlmTarget& t, const double* w, double* grad,
                         double* margins, const GlmWork& work, int num_threads) {
  if (x.row_major()) return value_grad_rows(x, t, w, grad, margins, work, num_threads);
  return value_grad_columns(x, t, w, grad, margins, work, num_threads);
}

GlmStatus glm_matvec(const GlmDesign& x, std::int64_t n_outputs, bool fit_intercept,
                     const double* w, double* z, const GlmWork& work, int num_threads) {
  const double* intercept = fit_intercept ? w + n_outputs * x.n_cols : nullptr;
  GlmStatus status;
  status.invalid = !matvec(x, n_outputs, w, intercept, z, work, num_threads);
  return status;
}

GlmStatus glm_rmatvec(const GlmDesign& x, std::int64_t n_outputs, bool fit_intercept,
                      const double* r, bool squared, double* out, const GlmWork& work,
                      int num_threads) {
  GlmStatus status;
  const bool ok = squared ? rmatvec<true>(x, n_outputs, fit_intercept, r, out, work, num_threads)
                          : rmatvec<false>(x, n_outputs, fit_intercept, r, out, work,
                                           num_threads);
  status.invalid = !ok;
  return status;
}

GlmStatus glm_loss(const GlmTarget& t, std::int64_t n, const double* z0, const double* dz,
                   double step, double* residual, double* curvature, double* partials,
                   int num_threads) {
  return loss_pass(t, n, z0, dz, step, residual, curvature, partials, num_threads);
}

GlmStatus glm_hessp(const GlmDesign& x, const GlmTarget& t, const double* curvature,
                    const double* v, double* out, const GlmWork& work, int num_threads) {
  return hessp_impl(x, t, curvature, v, out, work, num_threads);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
