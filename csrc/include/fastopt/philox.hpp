// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
// "Parallel random numbers: as easy as 1, 2, 3" (SC'11): ten rounds of a
// multiply-xor bijection over a 128-bit counter under a 64-bit key. A random
// word is a pure function of (key, counter), so element i of a mask can be
// computed by any thread, on the CPU or the GPU, without a shared state.
//
// fastopt's stream layout: the key is the 64-bit seed. Block b of the stream
// (seed, offset) is the output for the counter (b low, b high, offset low,
// offset high), and word i of the stream is word i % 4 of block i / 4.
// Compiled by the host compiler and by nvcc (FASTOPT_HD), so both produce the
// same words. The SIMD kernels in csrc/cpu/philox_simd.hpp produce them too.
#pragma once

#include <cstdint>

#include "fastopt/common.hpp"

namespace fastopt::philox {

// Round multipliers and Weyl key increments of Philox4x32 (Salmon et al.,
// table 2; the same constants as the Random123 library).
inline constexpr std::uint32_t kMul0 = 0xD2511F53u;
inline constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
inline constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;
inline constexpr int kRounds = 10;

struct Block {
  std::uint32_t v[4];
};

// One round: two 32 x 32 -> 64-bit products, whose high halves are mixed with
// the other two words and the key.
FASTOPT_HD void round(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2, std::uint32_t& c3,
                      std::uint32_t k0, std::uint32_t k1) {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c0;
  const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c2;
  const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32);
  const std::uint32_t lo0 = static_cast<std::uint32_t>(p0);
  const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32);
  const std::uint32_t lo1 = static_cast<std::uint32_t>(p1);
  c0 = hi1 ^ c1 ^ k0;
  c1 = lo1;
  c2 = hi0 ^ c3 ^ k1;
  c3 = lo0;
}

// The four words of Philox4x32-10 for counter (c0, c1, c2, c3) and key
// (k0, k1). The key is bumped between rounds, not after the last one.
FASTOPT_HD Block generate(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                          std::uint32_t k0, std::uint32_t k1) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    round(c0, c1, c2, c3, k0, k1);
  }
  return Block{{c0, c1, c2, c3}};
}

// Block `block` of the stream (seed, offset): its words
// [4 * block, 4 * block + 4).
FASTOPT_HD Block stream_block(std::uint64_t seed, std::uint64_t offset, std::uint64_t block) {
  return generate(static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                  static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(offset >> 32),
                  static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

// Word i of the stream (seed, offset).
FASTOPT_HD std::uint32_t stream_word(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
  return stream_block(seed, offset, i >> 2).v[i & 3];
}

// Dropout's keep test. Element i of a mask has a 32-bit value
// u_i = h_i * 2^24 + l_i, and it is kept when u_i >= threshold:
//   - h_i is byte i % 16 (the low byte of a word first) of block i / 16, that
//     is, byte i % 4 of word (i / 4) % 4 of that block;
//   - l_i is the low 24 bits of word i % 4 of block 2^63 + i / 4, a block that
//     no h_j uses for any mask shorter than 2^65 elements.
// u_i is uniform on [0, 2^32), so an element is kept with probability
// 1 - threshold / 2^32 exactly. The kernels read l_i only on a tie
// (h_i == threshold / 2^24, probability 2^-8), so one block serves 16
// elements instead of 4 and the generator does a quarter of the work.
inline constexpr std::uint64_t kTieBlock = std::uint64_t{1} << 63;

// Dropout keeps an element whose value u_i is >= this threshold = floor(p 2^32), so
// the keep probability is 1 - p rounded up to a multiple of 2^-32. Integer compares
// give the CPU and the GPU the same mask, with no float rounding involved.
inline std::uint32_t drop_threshold(double p) {
  const double t = p * 4294967296.0;  // p in [0, 1), so t < 2^32
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(t);
}

// The byte k (0 to 15, the low byte of a word first) of block b.
FASTOPT_HD std::uint32_t block_byte(const Block& b, int k) {
  return (b.v[k >> 2] >> (8 * (k & 3))) & 0xFFu;
}

// l_i of dropout's keep test: the low 24 bits of element i's value.
FASTOPT_HD std::uint32_t dropout_low_bits(std::uint64_t seed, std::uint64_t offset,
                                          std::uint64_t i) {
  return stream_block(seed, offset, kTieBlock | (i >> 2)).v[i & 3] & 0xFFFFFFu;
}

// Tests whether element i, whose high byte h_i is `high`, is kept. The low
// bits decide only on a tie, and not even then when they cannot fall below
// the threshold's.
FASTOPT_HD bool dropout_keeps(std::uint32_t high, std::uint64_t seed, std::uint64_t offset,
                              std::uint64_t i, std::uint32_t threshold) {
  const std::uint32_t t_high = threshold >> 24;
  const std::uint32_t t_low = threshold & 0xFFFFFFu;
  if (high != t_high) return high > t_high;
  return t_low == 0 || dropout_low_bits(seed, offset, i) >= t_low;
}

// The keep bits of elements [16 b, 16 b + 16), bit k for element 16 b + k: two
// bytes of the packed mask, from block b.
FASTOPT_HD unsigned dropout_bits16(std::uint64_t seed, std::uint64_t offset, std::uint64_t b,
                                   std::uint32_t threshold) {
  const Block block = stream_block(seed, offset, b);
  unsigned bits = 0;
  for (int k = 0; k < 16; ++k) {
    const bool keep = dropout_keeps(block_byte(block, k), seed, offset,
                                    16 * b + static_cast<std::uint64_t>(k), threshold);
    bits |= static_cast<unsigned>(keep) << k;
  }
  return bits;
}

// A uniform double in [0, 1) from a word: exact, 32 bits of resolution.
FASTOPT_HD double uniform01(std::uint32_t word) {
  return static_cast<double>(word) * 2.3283064365386963e-10;  // 2^-32
}

}  // namespace fastopt::philox
