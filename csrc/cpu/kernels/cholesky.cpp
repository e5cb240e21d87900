// Cholesky factorization A = U^T U of a symmetric positive definite matrix,
// right-looking by rows of the upper triangle, and the two triangular solves.
//
// Row-major storage makes every inner loop a contiguous axpy or dot product:
// after row j of U is final, each later row k subtracts U[j][k] times row j
// from its own upper part. Every element receives its updates in the order of
// j, whichever thread owns its row, so the factor does not depend on the
// thread count. The updates are element-wise, so it does not depend on the
// vector width of the instruction set either.
#include <cmath>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/cholesky.hpp"
#include "cpu/kernel_list.hpp"

namespace fastopt::cpu::FASTOPT_ISA {

bool cholesky_factor(std::int64_t m, double* a, int num_threads) {
  for (std::int64_t j = 0; j < m; ++j) {
    double* row_j = a + j * m;
    const double pivot = row_j[j];
    // Not positive definite, or NaN: the caller adds a multiple of the identity.
    if (!(pivot > 0.0) || !std::isfinite(pivot)) return false;
    const double diagonal = std::sqrt(pivot);
    row_j[j] = diagonal;
    for (std::int64_t k = j + 1; k < m; ++k) row_j[k] /= diagonal;
    const std::int64_t trailing = m - j - 1;
    const bool parallel = num_threads > 1 && trailing * trailing / 2 >= kCholeskyParallelWork;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(num_threads) if (parallel)
#endif
    for (std::int64_t k = j + 1; k < m; ++k) {
      const double factor = row_j[k];
      double* __restrict row_k = a + k * m;
      const double* __restrict source = row_j;
      for (std::int64_t l = k; l < m; ++l) row_k[l] -= factor * source[l];
    }
    (void)parallel;
  }
  // The strict lower triangle still contains A. Clear it so the array is U alone.
  for (std::int64_t i = 1; i < m; ++i) {
    for (std::int64_t k = 0; k < i; ++k) a[i * m + k] = 0.0;
  }
  return true;
}

void cholesky_solve(std::int64_t m, const double* u, double* b) {
  // U^T y = b, forward: once y_i is known, subtract y_i times row i of U from
  // the later entries.
  for (std::int64_t i = 0; i < m; ++i) {
    const double* __restrict row_i = u + i * m;
    const double yi = b[i] / row_i[i];
    b[i] = yi;
    for (std::int64_t k = i + 1; k < m; ++k) b[k] -= yi * row_i[k];
  }
  // U x = y, backward, by dot products of the rows of U with the solved part.
  for (std::int64_t i = m - 1; i >= 0; --i) {
    const double* __restrict row_i = u + i * m;
    double sum = 0.0;
    for (std::int64_t k = i + 1; k < m; ++k) sum += row_i[k] * b[k];
    b[i] = (b[i] - sum) / row_i[i];
  }
}

}  // namespace fastopt::cpu::FASTOPT_ISA
