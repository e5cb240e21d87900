// Cholesky factorization A = L L^T of a symmetric positive definite matrix,
// column by column (the Cholesky-Crout order), and the two triangular solves.
//
// Each entry L[i][j] is one dot product of the rows i and j of L, summed in a
// fixed order by the thread that owns row i, so the factor does not depend on
// the thread count.
#include <cmath>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/cholesky.hpp"
#include "cpu/kernel_list.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Sum of a[k] * b[k] over k < len in four interleaved partial sums, which
// the compiler keeps in one vector register without reordering a sum.
inline double row_dot(const double* __restrict a, const double* __restrict b, std::int64_t len) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t k = 0;
  for (; k + 4 <= len; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < len; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

bool cholesky_factor(std::int64_t m, double* a, int num_threads) {
  for (std::int64_t j = 0; j < m; ++j) {
    double* row_j = a + j * m;
    const double pivot = row_j[j] - row_dot(row_j, row_j, j);
    // Not positive definite, or NaN: the caller adds a multiple of the identity.
    if (!(pivot > 0.0) || !std::isfinite(pivot)) return false;
    const double diagonal = std::sqrt(pivot);
    row_j[j] = diagonal;
    const std::int64_t below = m - j - 1;
    const bool parallel = num_threads > 1 && below * j >= kCholeskyParallelWork;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(num_threads) if (parallel)
#endif
    for (std::int64_t i = j + 1; i < m; ++i) {
      double* row_i = a + i * m;
      row_i[j] = (row_i[j] - row_dot(row_i, row_j, j)) / diagonal;
    }
    (void)parallel;
  }
  // The strict upper triangle held A; clear it so the array is L alone.
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t k = i + 1; k < m; ++k) a[i * m + k] = 0.0;
  }
  return true;
}

void cholesky_solve(std::int64_t m, const double* l, double* b) {
  // L y = b, forward, by rows of L.
  for (std::int64_t i = 0; i < m; ++i) {
    b[i] = (b[i] - row_dot(l + i * m, b, i)) / l[i * m + i];
  }
  // L^T x = y, backward: subtract each solved x_i times column i of L^T (row i of L).
  for (std::int64_t i = m - 1; i >= 0; --i) {
    const double* row_i = l + i * m;
    const double xi = b[i] / row_i[i];
    b[i] = xi;
    for (std::int64_t k = 0; k < i; ++k) b[k] -= xi * row_i[k];
  }
}

}  // namespace fastopt::cpu::FASTOPT_ISA
