// OWL-QN's per-element steps, each one pass over its arrays: the
// pseudo-gradient with its inf-norm, the sign projection of the direction,
// and the trial point projected onto the orthant. The arithmetic is done in
// the storage type in the same order as the NumPy reference
// (fastopt.minimize._owlqn), so both give the same bits.
#include <algorithm>
#include <cmath>

#include "cpu/kernel_list.hpp"
#include "cpu/threads.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T>
inline T sign_of(T v) {
  return static_cast<T>((v > T(0)) - (v < T(0)));
}

template <typename T>
double run(OwlqnOp op, const OwlqnArgs& a, int num_threads) {
  const std::int64_t n = a.n;
  const T* x = static_cast<const T*>(a.x);
  const double* l1 = a.l1;
  const double l1_scalar = a.l1_scalar;
  const int threads = threads_for(3 * n, num_threads);
  double max_abs = 0.0;
  if (op == OwlqnOp::pseudo_gradient) {
    const T* g = static_cast<const T*>(a.g);
    T* pg = static_cast<T*>(a.pg);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1) \
    reduction(max : max_abs)
#endif
    for (std::int64_t i = 0; i < n; ++i) {
      const T lam = static_cast<T>(l1 != nullptr ? l1[i] : l1_scalar);
      const T right = g[i] + lam;
      const T left = g[i] - lam;
      T v;
      if (x[i] > T(0)) {
        v = right;
      } else if (x[i] < T(0)) {
        v = left;
      } else {
        // At zero: the one-sided derivative that decreases F, or 0 if neither does.
        v = right < T(0) ? right : (left > T(0) ? left : T(0));
      }
      pg[i] = v;
      max_abs = std::max(max_abs, static_cast<double>(std::abs(v)));
    }
  } else if (op == OwlqnOp::project_direction) {
    const T* pg = static_cast<const T*>(a.pg);
    T* d = static_cast<T*>(a.d);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
    for (std::int64_t i = 0; i < n; ++i) {
      const double lam = l1 != nullptr ? l1[i] : l1_scalar;
      if (lam != 0.0 && d[i] * pg[i] >= T(0)) d[i] = T(0);
    }
  } else {
    const T* pg = static_cast<const T*>(a.pg);
    const T* d = static_cast<const T*>(a.d);
    T* out = static_cast<T*>(a.out);
    const T alpha = static_cast<T>(a.alpha);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
    for (std::int64_t i = 0; i < n; ++i) {
      const T t = x[i] + d[i] * alpha;
      const double lam = l1 != nullptr ? l1[i] : l1_scalar;
      const T orthant = x[i] != T(0) ? sign_of(x[i]) : -sign_of(pg[i]);
      out[i] = (lam != 0.0 && sign_of(t) != orthant) ? T(0) : t;
    }
  }
  return max_abs;
}

}  // namespace

double owlqn(OwlqnOp op, const OwlqnArgs& args, DType dtype, int num_threads) {
  return dtype == DType::float32 ? run<float>(op, args, num_threads)
                                 : run<double>(op, args, num_threads);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
