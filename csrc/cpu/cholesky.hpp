// Dense Cholesky factorization and solve for the Newton steps of the Gram
// path (python/fastopt/linear_model/_gram.py).
//
// These run on fastopt's own threads instead of LAPACK's. OpenBLAS keeps its
// worker threads spinning for a while after each call. On a machine with as
// many cores as fastopt threads they then take the cores that the next pass
// over X needs. On w8a (300 features, 2 cores) a pass that took 0.4 ms alone
// took 12 ms when it ran 10 ms after a 300 x 300 LAPACK factorization.
#pragma once

#include <cstdint>

namespace fastopt::cpu {

// Trailing updates of at least this many multiply-adds split their rows over
// threads. Below it a parallel region costs more than the work.
constexpr std::int64_t kCholeskyParallelWork = std::int64_t(1) << 15;

}  // namespace fastopt::cpu
