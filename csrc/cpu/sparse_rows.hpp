// Scatter of one sparse row or column into a dense vector, shared by the
// kernels whose inner loops add a scaled slice of X to a dense vector. It
// lives in the per-instruction-set namespace, so each build gets its own copy.
#pragma once

#include <cstdint>

namespace fastopt::cpu::FASTOPT_ISA {

// out[idx[e]] += a * x[e] for e in [begin, end). Four loads come before their
// four read-modify-writes of out because, interleaved, each load waited on the
// store before it: on Zen 1 the a9a scatter ran 2.7 times slower. Indices must
// lie within out; callers check them first.
template <typename T, typename I>
inline void add_scaled_entries(const T* __restrict x, const I* __restrict idx, std::int64_t begin,
                               std::int64_t end, double a, double* __restrict out) {
  std::int64_t e = begin;
  for (; e + 4 <= end; e += 4) {
    const std::int64_t j0 = static_cast<std::int64_t>(idx[e]);
    const std::int64_t j1 = static_cast<std::int64_t>(idx[e + 1]);
    const std::int64_t j2 = static_cast<std::int64_t>(idx[e + 2]);
    const std::int64_t j3 = static_cast<std::int64_t>(idx[e + 3]);
    const double t0 = a * static_cast<double>(x[e]);
    const double t1 = a * static_cast<double>(x[e + 1]);
    const double t2 = a * static_cast<double>(x[e + 2]);
    const double t3 = a * static_cast<double>(x[e + 3]);
    out[j0] += t0;
    out[j1] += t1;
    out[j2] += t2;
    out[j3] += t3;
  }
  for (; e < end; ++e) out[static_cast<std::int64_t>(idx[e])] += a * static_cast<double>(x[e]);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
