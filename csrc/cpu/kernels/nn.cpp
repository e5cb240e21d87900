// Gaussian feature noise and row mixing (mixup): one pass over memory each.
// The noise comes from the Philox stream (seed, offset), a pure function of
// the element index, so it does not depend on the thread count or the
// instruction set. Dropout is in dropout.cpp.
#include <cmath>

#include "cpu/nn_kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/threads.hpp"
#include "fastopt/philox.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

template <typename T>
void noise_typed(const NoiseArgs& a, int num_threads) {
  const T* x = static_cast<const T*>(a.x);
  T* out = static_cast<T*>(a.out);
  constexpr double kTwoPi = 6.283185307179586;
  run_shares(threads_for(a.n, num_threads), [&](int t, int nt) {
    const std::int64_t begin = share_begin(a.n, t, nt);
    const std::int64_t end = share_begin(a.n, t + 1, nt);
    for (std::int64_t i = begin; i < end; ++i) {
      // Block i / 2 gives elements 2b and 2b + 1 one word pair each.
      const philox::Block b =
          philox::stream_block(a.seed, a.offset, static_cast<std::uint64_t>(i) >> 1);
      const int pair = static_cast<int>(i & 1) * 2;
      // u1 in (0, 1] keeps the logarithm finite; u2 in [0, 1).
      const double u1 = (static_cast<double>(b.v[pair]) + 1.0) * 2.3283064365386963e-10;
      const double u2 = philox::uniform01(b.v[pair + 1]);
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
      out[i] = x[i] + static_cast<T>(a.sigma * z);
    }
  });
}

template <typename T>
void mix_rows_typed(const MixRowsArgs& a, int num_threads) {
  const T* x = static_cast<const T*>(a.x);
  T* out = static_cast<T*>(a.out);
  const std::int64_t cols = a.cols;
  const int threads = threads_for(a.rows * cols, num_threads);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t r = 0; r < a.rows; ++r) {
    const T lam = static_cast<T>(a.lam[r]);
    const T rest = static_cast<T>(1.0 - a.lam[r]);
    const T* __restrict xi = x + r * cols;
    const T* __restrict xj = x + a.partner[r] * cols;
    T* __restrict o = out + r * cols;
    for (std::int64_t k = 0; k < cols; ++k) o[k] = lam * xi[k] + rest * xj[k];
  }
}

}  // namespace

void gaussian_noise(const NoiseArgs& args, DType dtype, int num_threads) {
  if (dtype == DType::float32) {
    noise_typed<float>(args, num_threads);
  } else {
    noise_typed<double>(args, num_threads);
  }
}

void mix_rows(const MixRowsArgs& args, DType dtype, int num_threads) {
  if (dtype == DType::float32) {
    mix_rows_typed<float>(args, num_threads);
  } else {
    mix_rows_typed<double>(args, num_threads);
  }
}

}  // namespace fastopt::cpu::FASTOPT_ISA
