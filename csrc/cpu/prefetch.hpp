// Software prefetch for the streaming update kernels and the roofline kernel.
//
// An update streams four to six buffers at once. Intel's L2 hardware
// prefetcher follows a stream only within a 4 KiB page, so every stream stalls
// again at every page boundary. Requesting the line kPrefetchBytes ahead in
// each buffer keeps the next page's lines in flight.
// NOTE: in a standalone Adam loop over 25M float32 elements on the shared
// 2-core benchmark machine, this cut the median time by 10-15%. The machine
// was loaded, so treat the figure as an estimate.
// The roofline kernel (reduce.cpp) does not prefetch: on that machine it was
// faster without.
#pragma once

#include <cstdint>

namespace fastopt::cpu {

constexpr std::int64_t kCacheLine = 64;
constexpr std::int64_t kPrefetchBytes = 1024;

// Returns the elements of T per cache line, and the prefetch distance in elements.
template <typename T>
constexpr std::int64_t line_elements() {
  return kCacheLine / static_cast<std::int64_t>(sizeof(T));
}

template <typename T>
constexpr std::int64_t prefetch_elements() {
  return kPrefetchBytes / static_cast<std::int64_t>(sizeof(T));
}

// Returns where a kernel stops walking [0, n) in whole lines with a prefetch
// ahead. Up to there, every prefetched line is still inside the range.
template <typename T>
constexpr std::int64_t prefetched_end(std::int64_t n) {
  const std::int64_t span = n - prefetch_elements<T>();
  return span <= 0 ? 0 : span - span % line_elements<T>();
}

// Requests the line `i + prefetch_elements<T>()` of every buffer.
template <typename T, typename... Ptr>
inline void prefetch_ahead(std::int64_t i, const Ptr*... buffers) {
#if defined(__GNUC__) || defined(__clang__)
  (__builtin_prefetch(buffers + i + prefetch_elements<T>(), 0, 3), ...);
#else
  ((void)buffers, ...);
  (void)i;
#endif
}

}  // namespace fastopt::cpu
