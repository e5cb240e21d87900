// Software prefetch for kernels whose arithmetic fills the out-of-order window,
// which would otherwise delay the loads of later elements.
//
// Include this header only from csrc/cpu/kernels: like philox_simd.hpp, it
// lives in the per-instruction-set namespace, so each build gets its own copy.
#pragma once

#include <cstdint>

#ifndef FASTOPT_ISA
#error "prefetch.hpp belongs to the per-instruction-set kernels (FASTOPT_ISA undefined)"
#endif

namespace fastopt::cpu::FASTOPT_ISA {

inline constexpr std::int64_t kCacheLine = 64;

// Far enough ahead to cover a DRAM miss at one line per vector iteration.
// 1 KiB and 8 KiB gave the same times within noise where it was measured.
inline constexpr std::uintptr_t kPrefetchAheadBytes = 4096;

// Requests the line kPrefetchAheadBytes past p for reading. The address is
// formed as an integer and prefetches do not fault, so it may pass the end.
inline void prefetch_ahead(const void* p) {
  __builtin_prefetch(
      reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + kPrefetchAheadBytes), 0,
      3);
}

// Calls elements(begin, end) on [0, n) one cache line of T at a time, each
// after requesting the line kPrefetchAheadBytes ahead in every array, then on
// the rest. `elements` should run a loop over __restrict pointers under
// `#pragma GCC unroll 1`, so that a line compiles to one or two vector
// iterations: GCC 12 otherwise unrolled a line of 8 doubles into scalar code.
template <typename T, typename Elements, typename... Arrays>
inline __attribute__((always_inline)) void by_prefetched_lines(std::int64_t n,
                                                               Elements&& elements,
                                                               const Arrays*... arrays) {
  // NOTE: measured only on an Intel Xeon (AVX-512 and AVX2 kernels). On a Zen 1
  // AMD EPYC an earlier prefetch, 1 KiB ahead, made Adam 3x slower; this loop
  // has not run there.
  constexpr std::int64_t kLine = kCacheLine / static_cast<std::int64_t>(sizeof(T));
  std::int64_t i = 0;
  for (; i + kLine <= n; i += kLine) {
    (prefetch_ahead(arrays + i), ...);
    elements(i, i + kLine);
  }
  elements(i, n);
}

}  // namespace fastopt::cpu::FASTOPT_ISA
