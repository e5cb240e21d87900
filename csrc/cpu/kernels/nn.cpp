// Dropout, Gaussian feature noise and row mixing (mixup): one pass over
// memory each. Random numbers come from the Philox stream (seed, offset), a
// pure function of the element index, so every thread count, instruction set
// and the CUDA kernels produce the same mask.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/nn_kernel_list.hpp"
#include "cpu/multi_tensor.hpp"
#include "cpu/threads.hpp"
#include "fastopt/philox.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Elements per tile: 16 Philox blocks, whose generation the compiler
// vectorizes across blocks, and 8 whole mask bytes.
constexpr std::int64_t kTile = 64;
constexpr int kTileBlocks = static_cast<int>(kTile / 4);

// The random words of elements [base, base + kTile). The four output words
// are kept in separate arrays (structure of arrays) so that the loop over
// blocks has no interleaved stores and vectorizes with 32 x 32 -> 64-bit
// vector multiplies.
void tile_words(std::uint64_t seed, std::uint64_t offset, std::int64_t base,
                std::uint32_t* words) {
  std::uint32_t w0[kTileBlocks], w1[kTileBlocks], w2[kTileBlocks], w3[kTileBlocks];
  const std::uint64_t first = static_cast<std::uint64_t>(base) / 4;
  const auto k0 = static_cast<std::uint32_t>(seed);
  const auto k1 = static_cast<std::uint32_t>(seed >> 32);
  const auto c2 = static_cast<std::uint32_t>(offset);
  const auto c3 = static_cast<std::uint32_t>(offset >> 32);
  for (int j = 0; j < kTileBlocks; ++j) {
    const std::uint64_t block = first + static_cast<std::uint64_t>(j);
    const philox::Block b = philox::generate(static_cast<std::uint32_t>(block),
                                             static_cast<std::uint32_t>(block >> 32), c2, c3,
                                             k0, k1);
    w0[j] = b.v[0];
    w1[j] = b.v[1];
    w2[j] = b.v[2];
    w3[j] = b.v[3];
  }
  for (int j = 0; j < kTileBlocks; ++j) {
    words[4 * j] = w0[j];
    words[4 * j + 1] = w1[j];
    words[4 * j + 2] = w2[j];
    words[4 * j + 3] = w3[j];
  }
}

// Multipliers of elements [base, base + count): scale for kept, 0 for dropped,
// from the generator or from the packed mask. Writes the packed mask of the
// tile when mask_out is set; base is a multiple of kTile, so the tile owns
// its mask bytes.
template <typename T>
void tile_multipliers(const DropoutArgs& a, std::int64_t base, std::int64_t count, T* m) {
  const T scale = static_cast<T>(a.scale);
  if (a.mask_in != nullptr) {
    const std::uint8_t* bytes = a.mask_in + base / 8;
    for (std::int64_t k = 0; k < count; ++k) {
      const bool keep = (bytes[k >> 3] >> (k & 7)) & 1u;
      m[k] = keep ? scale : T(0);
    }
    return;
  }
  std::uint32_t words[kTile];
  tile_words(a.seed, a.offset, base, words);
  for (std::int64_t k = 0; k < kTile; ++k) m[k] = words[k] >= a.threshold ? scale : T(0);
  if (a.mask_out != nullptr) {
    std::uint8_t* bytes = a.mask_out + base / 8;
    const std::int64_t nbytes = (count + 7) / 8;
    for (std::int64_t b = 0; b < nbytes; ++b) {
      unsigned byte = 0;
      for (int bit = 0; bit < 8; ++bit) {
        const std::int64_t k = 8 * b + bit;
        if (k < count && words[k] >= a.threshold) byte |= 1u << bit;
      }
      bytes[b] = static_cast<std::uint8_t>(byte);
    }
  }
}

template <typename T>
void dropout_typed(const DropoutArgs& a, int num_threads) {
  const T* x = static_cast<const T*>(a.x);
  T* out = static_cast<T*>(a.out);
  run_shares(threads_for(a.n, num_threads), [&](int t, int nt) {
    const std::int64_t begin = share_begin(a.n, t, nt);
    const std::int64_t end = share_begin(a.n, t + 1, nt);
    T m[kTile];
    for (std::int64_t base = begin; base < end; base += kTile) {
      const std::int64_t count = std::min(kTile, end - base);
      tile_multipliers(a, base, count, m);
      // x * m rather than a select, as torch's dropout multiplies by its
      // scaled mask: a dropped inf or NaN gives NaN in both.
      for (std::int64_t k = 0; k < count; ++k) out[base + k] = x[base + k] * m[k];
    }
  });
}

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

void dropout(const DropoutArgs& args, DType dtype, int num_threads) {
  if (dtype == DType::float32) {
    dropout_typed<float>(args, num_threads);
  } else {
    dropout_typed<double>(args, num_threads);
  }
}

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
