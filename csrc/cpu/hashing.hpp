// Feature hashing: MurmurHash3 (x86, 32-bit) and the batch layout of hashed rows.
//
// The hash reads its input as little-endian 32-bit blocks assembled byte by
// byte, so the same bytes hash to the same value on every platform.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastopt::cpu {

namespace detail {

inline std::uint32_t rotl32(std::uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

inline std::uint32_t fmix32(std::uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

inline std::uint32_t scramble_block(std::uint32_t k) {
  k *= 0xcc9e2d51u;
  k = rotl32(k, 15);
  k *= 0x1b873593u;
  return k;
}

}  // namespace detail

// MurmurHash3_x86_32 by Austin Appleby (public domain algorithm, SMHasher),
// written from its published description.
inline std::uint32_t murmurhash3_32(const unsigned char* data, std::size_t len,
                                    std::uint32_t seed) {
  std::uint32_t h = seed;
  const std::size_t blocks = len / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    const unsigned char* p = data + 4 * i;
    const std::uint32_t k = static_cast<std::uint32_t>(p[0]) |
                            (static_cast<std::uint32_t>(p[1]) << 8) |
                            (static_cast<std::uint32_t>(p[2]) << 16) |
                            (static_cast<std::uint32_t>(p[3]) << 24);
    h ^= detail::scramble_block(k);
    h = detail::rotl32(h, 13);
    h = h * 5u + 0xe6546b64u;
  }
  const unsigned char* tail = data + 4 * blocks;
  std::uint32_t k = 0;
  switch (len & 3u) {
    case 3:
      k ^= static_cast<std::uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<std::uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= static_cast<std::uint32_t>(tail[0]);
      h ^= detail::scramble_block(k);
      break;
    default:
      break;
  }
  h ^= static_cast<std::uint32_t>(len);
  return detail::fmix32(h);
}

// Maps a hash to a bucket in [0, 2^n_bits) and a sign, as scikit-learn's
// FeatureHasher does: the hash is read as a signed 32-bit integer h, the
// bucket is |h| mod 2^n_bits and the sign is + for h >= 0, - otherwise.
struct Bucket {
  std::int32_t index;
  bool negative;
};

inline Bucket bucket_of(std::uint32_t hash, int n_bits) {
  const bool negative = (hash & 0x80000000u) != 0;
  // |h| as an unsigned number; for h = -2^31 this is 2^31, whose low bits are 0.
  const std::uint32_t magnitude = negative ? 0u - hash : hash;
  const std::uint32_t mask = (n_bits >= 32) ? 0xffffffffu : ((1u << n_bits) - 1u);
  return {static_cast<std::int32_t>(magnitude & mask), negative};
}

// Tokens of a batch of rows: token j is bytes[token_offsets[j], token_offsets[j + 1])
// with weight values[j], and row r owns tokens [row_offsets[r], row_offsets[r + 1]).
struct HashBatch {
  const char* bytes = nullptr;
  const std::int64_t* token_offsets = nullptr;
  const double* values = nullptr;
  const std::int64_t* row_offsets = nullptr;
  std::int64_t num_rows = 0;
  std::uint32_t seed = 0;
  int n_bits = 20;
  bool alternate_sign = true;
};

// CSR output with room for one entry per token. Within a row the indices come
// out sorted, and tokens that share a bucket are summed in token order.
struct HashedRows {
  std::int64_t* indptr = nullptr;  // num_rows + 1
  std::int32_t* indices = nullptr;
  double* data = nullptr;
};

}  // namespace fastopt::cpu
