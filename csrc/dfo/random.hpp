// The counter-based generator of fastopt.dfo. Draw k of row r of a call is
// SplitMix64 (Steele, Lea & Flood 2014) seeded with a key hashed from
// (seed, stream, r), advanced k times: a pure function of its four indices,
// so no state passes between rows or threads.
#pragma once

#include <cstdint>

#include "dfo/dfo.hpp"

namespace fastopt::dfo {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// SplitMix64's output function of state z + golden.
inline std::uint64_t splitmix64(std::uint64_t z) {
  z += kGolden;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class RowDraws {
 public:
  RowDraws(Draws draws, std::int64_t row)
      : key_(splitmix64(splitmix64(splitmix64(draws.seed) ^ draws.stream) ^
                        static_cast<std::uint64_t>(row))) {}

  // Draw k, uniform in [0, 1) on the 53-bit grid.
  double operator()(std::int64_t k) const {
    return static_cast<double>(splitmix64(key_ + static_cast<std::uint64_t>(k) * kGolden) >> 11) *
           0x1.0p-53;
  }

  // floor(draw k * n), kept below n against rounding.
  std::int64_t index(std::int64_t k, std::int64_t n) const {
    const auto i = static_cast<std::int64_t>((*this)(k) * static_cast<double>(n));
    return i < n ? i : n - 1;
  }

 private:
  std::uint64_t key_;
};

}  // namespace fastopt::dfo
