// Philox4x32-10 over 16 or 32 blocks at a time, in the vector width of the
// instruction set that this kernel translation unit is compiled for. An
// AVX-512 register holds 4 blocks and an AVX2 register 2. Without either, a
// portable loop computes one block at a time, which the compiler may
// vectorize. Every variant returns the words of fastopt::philox::stream_block,
// so masks do not depend on the instruction set.
//
// Vector layout: a 128-bit lane holds one block as (c0, c3, c2, c1), not
// (c0, c1, c2, c3). A round (Salmon et al., SC'11, section 4.2) computes
//   c0' = hi(M1 c2) ^ c1 ^ k0,  c1' = lo(M1 c2),
//   c2' = hi(M0 c0) ^ c3 ^ k1,  c3' = lo(M0 c0).
// In this layout the 32 x 32 -> 64-bit multiply of the even words
// (vpmuludq) leaves (lo0, hi0, lo1, hi1), hi0 beside c3 and hi1 beside c1.
// One xor of the odd words with the key gives c2' and c0', and one shuffle
// restores the layout: 3 instructions a round with AVX-512, 5 with AVX2.
//
// Include this header only from csrc/cpu/kernels: its functions live in the
// per-instruction-set namespace, so each build gets its own copy.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "fastopt/philox.hpp"

#ifndef FASTOPT_ISA
#error "philox_simd.hpp belongs to the per-instruction-set kernels (FASTOPT_ISA undefined)"
#endif

namespace fastopt::cpu::FASTOPT_ISA::philox_simd {

// Blocks per call, kVecs registers of them: enough independent registers
// that a round issues at the rate of the vector ports instead of waiting on
// the multiply latency of one register (5 cycles on recent Intel cores).
#if defined(__AVX512F__) && defined(__AVX512BW__)
#define FASTOPT_PHILOX_AVX512 1
using Vec = __m512i;
inline constexpr int kBlocks = 32;
inline constexpr int kVecs = kBlocks / 4;
#elif defined(__AVX2__)
#define FASTOPT_PHILOX_AVX2 1
using Vec = __m256i;
inline constexpr int kBlocks = 16;
inline constexpr int kVecs = kBlocks / 2;
#else
inline constexpr int kBlocks = 16;
#endif

// 64-bit words of bits for the 16 * kBlocks dropout bytes of one call.
inline constexpr int kBitWords = kBlocks / 4;

// The key schedule and counter words of one stream (seed, offset).
struct Stream {
  std::uint64_t seed;
  std::uint64_t offset;
#if defined(FASTOPT_PHILOX_AVX512) || defined(FASTOPT_PHILOX_AVX2)
  Vec round_key[philox::kRounds];  // (0, k1, 0, k0) per lane, the key of each round
  Vec multiplier;                  // (M0, 0, M1, 0) per lane
  Vec first_counter;               // (block j, offset) in 64-bit halves for j = 0, 1, ...
  Vec counter_step;                // blocks per register, added to the block halves
#endif

#if defined(FASTOPT_PHILOX_AVX512)
  static Vec broadcast128(__m128i lane) { return _mm512_broadcast_i32x4(lane); }
#elif defined(FASTOPT_PHILOX_AVX2)
  static Vec broadcast128(__m128i lane) { return _mm256_broadcastsi128_si256(lane); }
#endif

  Stream(std::uint64_t seed_, std::uint64_t offset_) : seed(seed_), offset(offset_) {
#if defined(FASTOPT_PHILOX_AVX512) || defined(FASTOPT_PHILOX_AVX2)
    const __m128i mul = _mm_set_epi32(0, static_cast<int>(philox::kMul1), 0,
                                      static_cast<int>(philox::kMul0));
    multiplier = broadcast128(mul);
    auto k0 = static_cast<std::uint32_t>(seed);
    auto k1 = static_cast<std::uint32_t>(seed >> 32);
    for (int r = 0; r < philox::kRounds; ++r) {
      if (r > 0) {
        k0 += philox::kWeyl0;
        k1 += philox::kWeyl1;
      }
      round_key[r] = broadcast128(_mm_set_epi32(static_cast<int>(k0), 0, static_cast<int>(k1), 0));
    }
    const auto off = static_cast<long long>(offset);
#if defined(FASTOPT_PHILOX_AVX512)
    first_counter = _mm512_set_epi64(off, 3, off, 2, off, 1, off, 0);
    counter_step = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
#else
    first_counter = _mm256_set_epi64x(off, 1, off, 0);
    counter_step = _mm256_set_epi64x(0, 2, 0, 2);
#endif
#endif
  }
};

#if defined(FASTOPT_PHILOX_AVX512)

inline Vec add64(Vec a, Vec b) { return _mm512_add_epi64(a, b); }
inline Vec broadcast64(std::uint64_t v) { return _mm512_set1_epi64(static_cast<long long>(v)); }
inline Vec blocks_only(Vec counter) {  // zero the offset halves
  return _mm512_maskz_mov_epi64(0x55, counter);
}

// c2', c0' into the odd words with the key, the low products kept in the even.
inline Vec mix(Vec product, Vec x, Vec key) {
  return _mm512_mask_ternarylogic_epi32(product, 0xAAAA, x, key, 0x96);
}
inline Vec mul_even(Vec x, Vec m) { return _mm512_mul_epu32(x, m); }
template <int kImm>
inline Vec shuffle(Vec x) {
  return _mm512_shuffle_epi32(x, static_cast<_MM_PERM_ENUM>(kImm));
}

#elif defined(FASTOPT_PHILOX_AVX2)

inline Vec add64(Vec a, Vec b) { return _mm256_add_epi64(a, b); }
inline Vec broadcast64(std::uint64_t v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }
inline Vec blocks_only(Vec counter) {
  return _mm256_blend_epi32(counter, _mm256_setzero_si256(), 0xCC);
}

inline Vec mix(Vec product, Vec x, Vec key) {
  const Vec all = _mm256_xor_si256(_mm256_xor_si256(product, x), key);
  return _mm256_blend_epi32(product, all, 0xAA);
}
inline Vec mul_even(Vec x, Vec m) { return _mm256_mul_epu32(x, m); }
template <int kImm>
inline Vec shuffle(Vec x) {
  return _mm256_shuffle_epi32(x, kImm);
}

#endif

#if defined(FASTOPT_PHILOX_AVX512) || defined(FASTOPT_PHILOX_AVX2)

// Runs the ten rounds on counters already in the (c0, c3, c2, c1) layout. The
// words come out in stream order.
inline void apply_rounds(const Stream& s, Vec (&x)[kVecs]) {
  for (int r = 0; r < philox::kRounds - 1; ++r) {
    for (int v = 0; v < kVecs; ++v) {
      const Vec product = mul_even(x[v], s.multiplier);
      // (lo0, c2', lo1, c0') -> (c0', c3', c2', c1'): control 0b10'01'00'11.
      x[v] = shuffle<0x93>(mix(product, x[v], s.round_key[r]));
    }
  }
  for (int v = 0; v < kVecs; ++v) {
    const Vec product = mul_even(x[v], s.multiplier);
    // The last round leaves (c0, c1, c2, c3) for the caller: control 0b00'01'10'11.
    x[v] = shuffle<0x1B>(mix(product, x[v], s.round_key[philox::kRounds - 1]));
  }
}

// Blocks [first, first + kBlocks) into x, words in stream order: register v
// holds blocks first + v * (kBlocks / kVecs) onward, word k of a block in its
// lane's 32-bit element k.
inline void generate(const Stream& s, std::uint64_t first, Vec (&x)[kVecs]) {
  // The first counter's offset halves pass through blocks_only's zeros, so
  // adding `first` moves only the block halves (with 64-bit wrap-around, as
  // the scalar generator's uint64 arithmetic has).
  Vec counter = add64(s.first_counter, blocks_only(broadcast64(first)));
  for (int v = 0; v < kVecs; ++v) {
    // (c0, c1, c2, c3) -> (c0, c3, c2, c1): shuffle control 0b01'10'11'00.
    x[v] = shuffle<0x6C>(counter);
    counter = add64(counter, s.counter_step);
  }
  apply_rounds(s, x);
}

// The blocks blocks[0 .. kBlocks) of the stream, in any order, into x as
// generate lays them out.
inline void generate_listed(const Stream& s, const std::uint64_t (&blocks)[kBlocks],
                            Vec (&x)[kVecs]) {
  const auto off = static_cast<long long>(s.offset);
  auto block = [&](int j) { return static_cast<long long>(blocks[j]); };
  for (int v = 0; v < kVecs; ++v) {
#if defined(FASTOPT_PHILOX_AVX512)
    const int j = 4 * v;
    const Vec counter =
        _mm512_set_epi64(off, block(j + 3), off, block(j + 2), off, block(j + 1), off, block(j));
#else
    const int j = 2 * v;
    const Vec counter = _mm256_set_epi64x(off, block(j + 1), off, block(j));
#endif
    x[v] = shuffle<0x6C>(counter);
  }
  apply_rounds(s, x);
}

// Stores the registers' 4 * kBlocks words in order.
inline void store_words(const Vec (&x)[kVecs], std::uint32_t* words) {
  for (int v = 0; v < kVecs; ++v) {
    std::uint32_t* dst = words + v * static_cast<int>(sizeof(Vec) / 4);
#if defined(FASTOPT_PHILOX_AVX512)
    _mm512_storeu_si512(dst, x[v]);
#else
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), x[v]);
#endif
  }
}

#endif

// Blocks [first, first + kBlocks) as 4 * kBlocks words in stream order.
inline void store_blocks(const Stream& s, std::uint64_t first, std::uint32_t* words) {
#if defined(FASTOPT_PHILOX_AVX512) || defined(FASTOPT_PHILOX_AVX2)
  Vec x[kVecs];
  generate(s, first, x);
  store_words(x, words);
#else
  // Structure of arrays: the loop over blocks has no interleaved stores, so
  // the compiler can vectorize it with 32 x 32 -> 64-bit vector multiplies.
  std::uint32_t w0[kBlocks], w1[kBlocks], w2[kBlocks], w3[kBlocks];
  const auto k0 = static_cast<std::uint32_t>(s.seed);
  const auto k1 = static_cast<std::uint32_t>(s.seed >> 32);
  const auto c2 = static_cast<std::uint32_t>(s.offset);
  const auto c3 = static_cast<std::uint32_t>(s.offset >> 32);
  for (int j = 0; j < kBlocks; ++j) {
    const std::uint64_t block = first + static_cast<std::uint64_t>(j);
    const philox::Block b = philox::generate(static_cast<std::uint32_t>(block),
                                             static_cast<std::uint32_t>(block >> 32), c2, c3,
                                             k0, k1);
    w0[j] = b.v[0];
    w1[j] = b.v[1];
    w2[j] = b.v[2];
    w3[j] = b.v[3];
  }
  for (int j = 0; j < kBlocks; ++j) {
    words[4 * j] = w0[j];
    words[4 * j + 1] = w1[j];
    words[4 * j + 2] = w2[j];
    words[4 * j + 3] = w3[j];
  }
#endif
}

// The words of the listed blocks: block blocks[j] as words[4 j .. 4 j + 4).
inline void store_listed_blocks(const Stream& s, const std::uint64_t (&blocks)[kBlocks],
                                std::uint32_t (&words)[4 * kBlocks]) {
#if defined(FASTOPT_PHILOX_AVX512) || defined(FASTOPT_PHILOX_AVX2)
  Vec x[kVecs];
  generate_listed(s, blocks, x);
  store_words(x, words);
#else
  for (int j = 0; j < kBlocks; ++j) {
    const philox::Block b = philox::stream_block(s.seed, s.offset, blocks[j]);
    std::memcpy(words + 4 * j, b.v, sizeof(b.v));
  }
#endif
}

// Dropout's high bytes h_i of the 16 * kBlocks elements of blocks
// [first, first + kBlocks), compared with t_high: bit j of ge[j / 64] is set
// when h_(16 first + j) >= t_high, and bit j of eq[j / 64] when it is equal.
// A register's bytes are its blocks' words in stream order, low byte first,
// so byte j of the registers is element j and a byte mask needs no shuffle.
inline void compare_bytes(const Stream& s, std::uint64_t first, std::uint32_t t_high,
                          std::uint64_t (&ge)[kBitWords], std::uint64_t (&eq)[kBitWords]) {
#if defined(FASTOPT_PHILOX_AVX512)
  Vec x[kVecs];
  generate(s, first, x);
  const Vec t = _mm512_set1_epi8(static_cast<char>(t_high));
  for (int w = 0; w < kBitWords; ++w) {
    ge[w] = _mm512_cmpge_epu8_mask(x[w], t);
    eq[w] = _mm512_cmpeq_epi8_mask(x[w], t);
  }
#elif defined(FASTOPT_PHILOX_AVX2)
  Vec x[kVecs];
  generate(s, first, x);
  const Vec t = _mm256_set1_epi8(static_cast<char>(t_high));
  auto bits_of = [](Vec v) {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(v)));
  };
  for (int w = 0; w < kBitWords; ++w) {
    // A register contains 32 bytes, so two make a 64-bit word of bits.
    const Vec a = x[2 * w], b = x[2 * w + 1];
    // Unsigned a >= t exactly when max(a, t) == a.
    const Vec a_ge = _mm256_cmpeq_epi8(_mm256_max_epu8(a, t), a);
    const Vec b_ge = _mm256_cmpeq_epi8(_mm256_max_epu8(b, t), b);
    ge[w] = bits_of(a_ge) | (bits_of(b_ge) << 32);
    eq[w] = bits_of(_mm256_cmpeq_epi8(a, t)) | (bits_of(_mm256_cmpeq_epi8(b, t)) << 32);
  }
#else
  // Byte-wide compares vectorize; the multiply then gathers the low bits of
  // 8 bytes into one byte, byte k's bit at position k (in 8 k + 7 (7 - k) + 7
  // = 56 + k, and no two partial products share a bit below 56, so nothing
  // carries into the top byte).
  std::uint32_t words[4 * kBlocks];
  store_blocks(s, first, words);
  std::uint8_t bytes[16 * kBlocks];
  std::memcpy(bytes, words, sizeof(bytes));
  std::uint8_t ge_bytes[16 * kBlocks], eq_bytes[16 * kBlocks];
  for (int j = 0; j < 16 * kBlocks; ++j) {
    ge_bytes[j] = bytes[j] >= t_high;
    eq_bytes[j] = bytes[j] == t_high;
  }
  constexpr std::uint64_t kGather = 0x0102040810204080u;
  for (int w = 0; w < kBitWords; ++w) {
    std::uint64_t ge_bits = 0, eq_bits = 0;
    for (int b = 0; b < 8; ++b) {
      std::uint64_t ge8, eq8;
      std::memcpy(&ge8, ge_bytes + 64 * w + 8 * b, 8);
      std::memcpy(&eq8, eq_bytes + 64 * w + 8 * b, 8);
      ge_bits |= ((ge8 * kGather) >> 56) << (8 * b);
      eq_bits |= ((eq8 * kGather) >> 56) << (8 * b);
    }
    ge[w] = ge_bits;
    eq[w] = eq_bits;
  }
#endif
}

}  // namespace fastopt::cpu::FASTOPT_ISA::philox_simd
