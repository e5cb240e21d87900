// Plain-C++ views of a GLM design matrix X and of the data term of the
// objective, shared by the GLM kernels and their bindings.
//
// X is read in its own layout and dtype, never copied. Parameters, gradients
// and every vector of length n or n * K are float64; coefficients are laid
// out as coef (K, p) row-major, then the K intercepts.
//
// Reductions run over fixed blocks whose count depends only on the shape of
// the problem (see glm_row_blocks and glm_column_blocks), never on the thread
// count, and partial results are combined in block order. So every thread
// count returns the same bits.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/tensor_group.hpp"
#include "fastopt/glm/losses.hpp"

namespace fastopt::cpu {

enum class GlmLayout : int { dense_c = 0, dense_f = 1, csr = 2, csc = 3 };
enum class IndexType : int { int32 = 0, int64 = 1 };

// The design matrix, validated by the binding: for sparse layouts indptr has
// major + 1 entries with indptr[0] == 0, is non-decreasing and ends at nnz,
// and indices[0 .. nnz) lie in [0, minor). The kernels re-check the bounds
// of every row or column range and every index they read, because a caller
// may change the arrays in place after validation.
struct GlmDesign {
  GlmLayout layout = GlmLayout::dense_c;
  DType dtype = DType::float64;
  IndexType index_type = IndexType::int32;  // of indptr and indices alike
  std::int64_t n_rows = 0;
  std::int64_t n_cols = 0;
  const void* data = nullptr;     // dense values, or the sparse values
  const void* indptr = nullptr;   // sparse only
  const void* indices = nullptr;  // sparse only
  std::int64_t nnz = 0;           // stored values read: n_rows * n_cols when dense

  bool row_major() const { return layout == GlmLayout::dense_c || layout == GlmLayout::csr; }
  bool sparse() const { return layout == GlmLayout::csr || layout == GlmLayout::csc; }
  // Bytes of X that one pass reads.
  std::int64_t bytes() const {
    const std::int64_t value_bytes = dtype == DType::float32 ? 4 : 8;
    if (!sparse()) return nnz * value_bytes;
    const std::int64_t index_bytes = index_type == IndexType::int32 ? 4 : 8;
    const std::int64_t major = layout == GlmLayout::csr ? n_rows : n_cols;
    return nnz * (value_bytes + index_bytes) + (major + 1) * index_bytes;
  }
};

// The data term (1/n) sum_i s_i loss(y_i, z_i) with s rescaled to sum to n,
// stored here as weights[i] = s_i / sum(s), or nullptr for s_i = 1.
struct GlmTarget {
  glm::Loss loss = glm::Loss::logistic;
  const double* y = nullptr;        // n labels; class indices 0..K-1 for multinomial
  const double* weights = nullptr;  // n weights summing to 1, or nullptr for 1/n each
  double huber_delta = 1.0;
  std::int64_t n_outputs = 1;       // K
  bool fit_intercept = true;
};

// Caller-owned float64 scratch memory of at least glm_work_size() elements.
struct GlmWork {
  double* data = nullptr;
  std::int64_t size = 0;
};

// Status of a kernel that reads X or the labels. invalid is set when an
// index, a row or column range or a class label is out of bounds. The
// outputs are then unspecified, but nothing was read or written out of
// bounds.
struct GlmStatus {
  double value = 0.0;
  bool invalid = false;
};

// Bounds on the fixed reduction blocks. Row layouts give every row block its
// own partial gradient of K * p doubles, and CSC gives every column block its
// own partial margins of n * K doubles. All partials together use about an
// eighth of the bytes of X at most (beyond one block), so zeroing and summing
// them adds about a quarter of a pass over X at most.
// NOTE: when K * p is close to the bytes of X (multinomial on wide sparse
// data, such as news20 with 20 classes) this allows a single row block, so
// the CSR gradient runs on one thread. CSC splits that work by feature.
constexpr std::int64_t kGlmMaxBlocks = 64;
constexpr std::int64_t kGlmMinRowsPerBlock = 512;
constexpr std::int64_t kGlmMinColumnsPerBlock = 64;
// Rows per block of the O(n K) loss and intercept reductions.
constexpr std::int64_t kGlmLossBlock = 4096;

inline std::int64_t glm_partial_blocks(std::int64_t items, std::int64_t min_per_block,
                                       std::int64_t partial_size, std::int64_t x_bytes) {
  std::int64_t blocks = (items + min_per_block - 1) / min_per_block;
  const std::int64_t budget = x_bytes / 8 / 8;
  if (partial_size > 0) blocks = std::min(blocks, 1 + budget / partial_size);
  return std::max<std::int64_t>(1, std::min(blocks, kGlmMaxBlocks));
}

// Coefficients (K * p) from which CSR passes that gather from one vector and
// scatter into another run in two phases per row block (see row_pass in
// kernels/glm.cpp), keeping the residuals of every row (n * K) in between.
// NOTE: the threshold is an estimate from one machine's 2 MiB L2 cache, not
// tuned on others.
constexpr std::int64_t kPhasedMinCoefficients = std::int64_t{1} << 14;

inline bool glm_phased(const GlmDesign& x, std::int64_t n_outputs) {
  return x.layout == GlmLayout::csr && n_outputs * x.n_cols >= kPhasedMinCoefficients;
}

// Row blocks of the passes over a row layout that scatter into a gradient.
inline std::int64_t glm_row_blocks(const GlmDesign& x, std::int64_t n_outputs) {
  return glm_partial_blocks(x.n_rows, kGlmMinRowsPerBlock, n_outputs * (x.n_cols + 1),
                            x.bytes());
}

// Column blocks of the margins pass over CSC, each with partial margins.
inline std::int64_t glm_column_blocks(const GlmDesign& x, std::int64_t n_outputs) {
  return glm_partial_blocks(x.n_cols, kGlmMinColumnsPerBlock, x.n_rows * n_outputs, x.bytes());
}

inline std::int64_t glm_loss_blocks(std::int64_t n) {
  return std::max<std::int64_t>(1, (n + kGlmLossBlock - 1) / kGlmLossBlock);
}

// Scratch elements any GLM kernel needs for X with K outputs.
inline std::int64_t glm_work_size(const GlmDesign& x, std::int64_t n_outputs) {
  const std::int64_t n = x.n_rows, p = x.n_cols, k = n_outputs;
  const std::int64_t loss_partials = glm_loss_blocks(n) * (k + 1);
  if (x.row_major()) {
    // For K > 1 the coefficients transposed to (p, K) and a transposed
    // partial gradient per block; for K = 1 partial gradients of blocks 1..
    // only, because block 0 writes the output. Then the partial intercept
    // gradients and partial values.
    // Last, for phased CSR, the residuals of every row (n * K).
    const std::int64_t blocks = glm_row_blocks(x, k);
    const std::int64_t gradients = k > 1 ? k * p + blocks * k * (p + 1) : (blocks - 1) * (p + 1);
    const std::int64_t residuals = glm_phased(x, k) ? n * k : 0;
    return gradients + blocks * (k + 1) + residuals + loss_partials;
  }
  // Two n * K vectors (margins and residuals, or X v and H X v), the partial
  // margins of CSC column blocks 1.., and the loss reductions.
  const std::int64_t column_partials =
      x.layout == GlmLayout::csc ? (glm_column_blocks(x, k) - 1) * n * k : 0;
  return 2 * n * k + column_partials + loss_partials;
}

}  // namespace fastopt::cpu
