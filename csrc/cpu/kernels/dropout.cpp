// Dropout forward and backward in one pass over memory, and the Philox words
// behind its masks. A tile of 16 * philox_simd::kBlocks elements takes its keep
// bits from kBlocks Philox blocks (philox_simd.hpp, one byte per element) or
// from the packed mask, then multiplies by scale or 0 in SIMD
// registers. The keep test is that of fastopt::philox::dropout_keeps, so every
// instruction set, thread count and the CUDA kernel produce the same mask.
// GCC 12 reports the AVX-512 intrinsics' internal _mm512_undefined_* placeholders as
// uninitialized once they are inlined here (a false positive of its headers); CI builds
// with -Werror, so the two warnings are off for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "cpu/multi_tensor.hpp"
#include "cpu/nn_kernel_list.hpp"
#include "cpu/philox_simd.hpp"
#include "cpu/prefetch.hpp"
#include "cpu/threads.hpp"
#include "fastopt/philox.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// Elements per tile: 16 per Philox block. Thread shares start on multiples of
// kShareAlign = 64 elements, so a tile starts on a block and owns whole mask bytes.
constexpr std::int64_t kTile = 16 * philox_simd::kBlocks;
constexpr int kWords = philox_simd::kBitWords;
static_assert(kShareAlign % 16 == 0, "a thread share must start on a Philox block");

using KeepBits = std::uint64_t[kWords];

// Elements whose high byte ties the threshold's (probability 2^-8 each) wait
// here for their low bits, with their input value: in place, the tile's pass
// writes x * 0 over it. Deciding them kBlocks at a time keeps the Philox
// rounds in vector registers, where one scalar block per tie cost about a
// third of the forward pass.
template <typename T>
struct PendingTies {
  // A flush leaves fewer than kBlocks, one tile adds at most kTile, and
  // record_tie writes one slot past the last.
  static constexpr int kCapacity = philox_simd::kBlocks + static_cast<int>(kTile);
  std::uint64_t index[kCapacity];
  T value[kCapacity];
  int count = 0;
};

// Appends the lowest tie of `tie` (bits of tile elements first, first + 1, ...)
// when it has one inside the tile's count. The slot at ties.count is written
// either way, so the capacity leaves one to spare.
template <typename T>
inline __attribute__((always_inline)) void record_tie(std::uint64_t tie, int first,
                                                      std::int64_t base, std::int64_t count,
                                                      const T* x, PendingTies<T>& ties) {
  // Integer arithmetic, not conditions, which GCC compiles into branches.
  // The top bit keeps ctz defined. With tie == 0 it names element first + 63,
  // which `inside` then discards.
  const std::int64_t j = first + __builtin_ctzll(tie | (std::uint64_t{1} << 63));
  const std::uint64_t nonzero = (tie | (0 - tie)) >> 63;
  const auto before_end = static_cast<std::uint64_t>(j - count) >> 63;
  const std::uint64_t inside = nonzero & before_end;
  ties.index[ties.count] = static_cast<std::uint64_t>(base + j);
  ties.value[ties.count] = x[static_cast<std::uint64_t>(j) & (0 - inside)];
  ties.count += static_cast<int>(inside);
}

// Keep bits of the tile at `base`: bit j of keep[j / 64] for element base + j.
// A tie's bit stays 0, and its index and x value go to resolve_ties.
template <typename T>
inline __attribute__((always_inline)) void generated_bits(const philox_simd::Stream& s,
                                                          std::uint32_t threshold,
                                                          std::int64_t base, std::int64_t count,
                                                          const T* x, KeepBits& keep,
                                                          PendingTies<T>& ties) {
  const auto first = static_cast<std::uint64_t>(base) / 16;
  const std::uint32_t t_high = threshold >> 24;
  const std::uint32_t t_low = threshold & 0xFFFFFFu;
  KeepBits ge, eq;
  philox_simd::compare_bytes(s, first, t_high, ge, eq);
  for (int w = 0; w < kWords; ++w) {
    // With t_low == 0 a tie is kept whatever the low bits, so ge decides.
    if (t_low == 0) {
      keep[w] = ge[w];
      continue;
    }
    keep[w] = ge[w] & ~eq[w];
    // A word has 0.25 ties on average and more than one in 2.6% of words.
    // The first is recorded without a branch, since a loop over a random
    // number of ties mispredicted its exit about once per tie.
    std::uint64_t tie = eq[w];
    record_tie(tie, 64 * w, base, count, x, ties);
    for (tie &= tie - 1; tie != 0; tie &= tie - 1) record_tie(tie, 64 * w, base, count, x, ties);
  }
}

// Decides the pending ties by their low bits (fastopt::philox::dropout_low_bits)
// and writes each: out[i] = x_i * scale or x_i * 0, as apply_bits computes
// them, and bit i of the mask for a kept one.
// With `all` false only whole batches of kBlocks are decided, and the rest
// stay pending, so that no Philox rounds are spent on empty lanes.
template <typename T>
void resolve_ties(const philox_simd::Stream& s, std::uint32_t threshold, T scale, T* out,
                  std::uint8_t* mask_out, PendingTies<T>& ties, bool all) {
  constexpr int kBlocks = philox_simd::kBlocks;
  const std::uint32_t t_low = threshold & 0xFFFFFFu;
  const int decided = all ? ties.count : ties.count - ties.count % kBlocks;
  for (int first = 0; first < decided; first += kBlocks) {
    const int n = std::min(kBlocks, decided - first);
    std::uint64_t blocks[kBlocks] = {};
    for (int j = 0; j < n; ++j) blocks[j] = philox::kTieBlock | (ties.index[first + j] >> 2);
    std::uint32_t words[4 * kBlocks];
    philox_simd::store_listed_blocks(s, blocks, words);
    for (int j = 0; j < n; ++j) {
      const std::uint64_t i = ties.index[first + j];
      // Without a branch, since a tie is kept at random. A dropped one gets
      // x * 0 again, the value apply_bits wrote, and scale * 1 is exactly scale.
      const std::int64_t low = words[4 * j + static_cast<int>(i & 3)] & 0xFFFFFFu;
      const auto keep_bit =
          static_cast<unsigned>(1 - (static_cast<std::uint64_t>(low - t_low) >> 63));
      out[i] = ties.value[first + j] * (scale * static_cast<T>(keep_bit));
      if (mask_out != nullptr) mask_out[i >> 3] |= static_cast<std::uint8_t>(keep_bit << (i & 7));
    }
  }
  for (int j = decided; j < ties.count; ++j) {
    ties.index[j - decided] = ties.index[j];
    ties.value[j - decided] = ties.value[j];
  }
  ties.count -= decided;
}

// The packed mask is little-endian bit order in bytes, and so are the keep
// words on the x86-64 and AArch64 targets this builds for, so bytes copy as is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "keep words are copied as mask bytes");

void read_bits(const std::uint8_t* bytes, std::int64_t count, KeepBits& keep) {
  for (int w = 0; w < kWords; ++w) keep[w] = 0;
  std::memcpy(keep, bytes, static_cast<std::size_t>((count + 7) / 8));
}

// Writes the tile's mask bytes; bits past `count` are 0.
void write_bits(const KeepBits& keep, std::int64_t count, std::uint8_t* bytes) {
  const std::int64_t nbytes = (count + 7) / 8;
  std::memcpy(bytes, keep, static_cast<std::size_t>(nbytes));
  if (count % 8 != 0) bytes[nbytes - 1] &= static_cast<std::uint8_t>((1u << (count % 8)) - 1u);
}

// The scalar loop of apply_bits over elements [k, count), 8 at a time while
// whole mask bytes remain. scale * 0 or scale * 1 is exact, so it selects the
// multiplier without a branch.
template <typename T>
void apply_tail(const T* x, T* out, std::int64_t k, std::int64_t count, const KeepBits& keep,
                T scale) {
  for (; k + 8 <= count; k += 8) {
    const auto byte = static_cast<unsigned>(keep[k >> 6] >> (k & 63));
    for (int j = 0; j < 8; ++j) out[k + j] = x[k + j] * (scale * static_cast<T>((byte >> j) & 1u));
  }
  for (; k < count; ++k) {
    out[k] = x[k] * (scale * static_cast<T>((keep[k >> 6] >> (k & 63)) & 1u));
  }
}

// The multipliers of 8 float lanes for each mask byte: lane j of row b is
// scale when bit j of b is set and 0 otherwise. With AVX2, loading a row
// from this 8 KiB table (it stays in L1) costs one instruction where
// expanding the byte into lanes costs three.
struct ByteMultipliers {
  alignas(32) float lanes[256][8];

  explicit ByteMultipliers(float scale) {
    for (int b = 0; b < 256; ++b) {
      for (int j = 0; j < 8; ++j) lanes[b][j] = ((b >> j) & 1) != 0 ? scale : 0.0f;
    }
  }
};

// out[k] = x[k] * m_k for k < count <= kTile, m_k = scale when bit k of keep is
// set and 0 otherwise. x * m rather than a select, as torch's dropout
// multiplies by its scaled mask: a dropped inf or NaN gives NaN in both.
template <typename Table>
void apply_bits(const float* x, float* out, std::int64_t count, const KeepBits& keep,
                float scale, [[maybe_unused]] const Table& table) {
  std::int64_t k = 0;
#if defined(__AVX512F__)
  const __m512 s = _mm512_set1_ps(scale);
  for (; k < count; k += 16) {
    // Otherwise a tile's loads wait for its Philox rounds (one thread, 2^24
    // floats: 6.3 ms, 2.6 ms with it). A burst per tile stalled at 3.8 ms.
    prefetch_ahead(x + k);
    const auto bits = static_cast<__mmask16>(keep[k >> 6] >> (k & 63));
    const __m512 m = _mm512_maskz_mov_ps(bits, s);
    if (count - k >= 16) {
      _mm512_storeu_ps(out + k, _mm512_mul_ps(_mm512_loadu_ps(x + k), m));
    } else {
      const auto valid = static_cast<__mmask16>((1u << (count - k)) - 1u);
      _mm512_mask_storeu_ps(out + k, valid, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, x + k), m));
    }
  }
#elif defined(__AVX2__)
  for (; k + 8 <= count; k += 8) {
    prefetch_ahead(x + k);
    const auto byte = static_cast<unsigned>((keep[k >> 6] >> (k & 63)) & 0xFFu);
    const __m256 m = _mm256_load_ps(table.lanes[byte]);
    _mm256_storeu_ps(out + k, _mm256_mul_ps(_mm256_loadu_ps(x + k), m));
  }
#endif
  apply_tail(x, out, k, count, keep, scale);
}

// The stand-in for ByteMultipliers where apply_bits reads no table: double
// lanes, and instruction sets other than AVX2.
struct NoTable {
  explicit NoTable(double /*scale*/) {}
};

#if defined(__AVX2__) && !defined(__AVX512F__)
constexpr bool kFloatTable = true;
#else
constexpr bool kFloatTable = false;
#endif

void apply_bits(const double* x, double* out, std::int64_t count, const KeepBits& keep,
                double scale, const NoTable& /*table*/) {
  std::int64_t k = 0;
#if defined(__AVX512F__)
  const __m512d s = _mm512_set1_pd(scale);
  for (; k < count; k += 8) {
    prefetch_ahead(x + k);
    const auto bits = static_cast<__mmask8>(keep[k >> 6] >> (k & 63));
    const __m512d m = _mm512_maskz_mov_pd(bits, s);
    if (count - k >= 8) {
      _mm512_storeu_pd(out + k, _mm512_mul_pd(_mm512_loadu_pd(x + k), m));
    } else {
      const auto valid = static_cast<__mmask8>((1u << (count - k)) - 1u);
      _mm512_mask_storeu_pd(out + k, valid, _mm512_mul_pd(_mm512_maskz_loadu_pd(valid, x + k), m));
    }
  }
#elif defined(__AVX2__)
  const __m256d s = _mm256_set1_pd(scale);
  const __m256i to_sign = _mm256_setr_epi64x(63, 62, 61, 60);
  for (; k + 4 <= count; k += 4) {
    prefetch_ahead(x + k);
    const auto nibble = static_cast<long long>((keep[k >> 6] >> (k & 63)) & 0xFu);
    const __m256i lanes = _mm256_sllv_epi64(_mm256_set1_epi64x(nibble), to_sign);
    const __m256d m = _mm256_blendv_pd(_mm256_setzero_pd(), s, _mm256_castsi256_pd(lanes));
    _mm256_storeu_pd(out + k, _mm256_mul_pd(_mm256_loadu_pd(x + k), m));
  }
#endif
  apply_tail(x, out, k, count, keep, scale);
}

template <typename T>
void dropout_typed(const DropoutArgs& a, int num_threads) {
  const T* x = static_cast<const T*>(a.x);
  T* out = static_cast<T*>(a.out);
  const T scale = static_cast<T>(a.scale);
  const philox_simd::Stream stream(a.seed, a.offset);
  using Table =
      std::conditional_t<std::is_same_v<T, float> && kFloatTable, ByteMultipliers, NoTable>;
  // Built once per calling thread and scale, not per call: training calls
  // dropout with one p over and over, often on small activations.
  thread_local std::unique_ptr<Table> cached;
  thread_local T cached_scale{};
  if (!cached || cached_scale != scale) {
    cached = std::make_unique<Table>(scale);
    cached_scale = scale;
  }
  const Table* table = cached.get();
  run_shares(threads_for(a.n, num_threads), [&](int t, int nt) {
    const std::int64_t begin = share_begin(a.n, t, nt);
    const std::int64_t end = share_begin(a.n, t + 1, nt);
    KeepBits keep;
    PendingTies<T> ties;
    for (std::int64_t base = begin; base < end; base += kTile) {
      const std::int64_t count = std::min(kTile, end - base);
      if (a.mask_in != nullptr) {
        read_bits(a.mask_in + base / 8, count, keep);
      } else {
        generated_bits(stream, a.threshold, base, count, x + base, keep, ties);
        if (a.mask_out != nullptr) write_bits(keep, count, a.mask_out + base / 8);
      }
      apply_bits(x + base, out + base, count, keep, scale, *table);
      if (ties.count >= philox_simd::kBlocks) {
        resolve_ties(stream, a.threshold, scale, out, a.mask_out, ties, false);
      }
    }
    resolve_ties(stream, a.threshold, scale, out, a.mask_out, ties, true);
  });
}

}  // namespace

void dropout(const DropoutArgs& args, DType dtype, int num_threads) {
  if (dtype == DType::float32) {
    dropout_typed<float>(args, num_threads);
  } else {
    dropout_typed<double>(args, num_threads);
  }
}

void philox_blocks(std::uint64_t seed, std::uint64_t offset, std::uint64_t first,
                   std::int64_t count, std::uint32_t* words) {
  const philox_simd::Stream stream(seed, offset);
  std::uint32_t tile[4 * philox_simd::kBlocks];
  for (std::int64_t j = 0; j < count; j += philox_simd::kBlocks) {
    philox_simd::store_blocks(stream, first + static_cast<std::uint64_t>(j), tile);
    const std::int64_t blocks = std::min<std::int64_t>(philox_simd::kBlocks, count - j);
    std::memcpy(words + 4 * j, tile, static_cast<std::size_t>(4 * blocks) * sizeof(std::uint32_t));
  }
}

}  // namespace fastopt::cpu::FASTOPT_ISA
