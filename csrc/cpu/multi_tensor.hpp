// Drivers that spread the work of a multi-tensor call over OpenMP threads in
// one parallel region. Element-wise updates split the total element count
// evenly, crossing tensor boundaries, so many small tensors balance as well as
// one large one. Reductions use fixed blocks whose partial sums are combined
// in block order, so their result does not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/tensor_group.hpp"
#include "cpu/threads.hpp"

namespace fastopt::cpu {

// Thread shares start on multiples of this many elements, so two threads
// never write the same cache line of a tensor that starts aligned.
constexpr std::int64_t kShareAlign = 64;

// Elements per reduction block; each block's partial sum is computed by one
// thread in a fixed order.
constexpr std::int64_t kReduceBlock = 8192;

inline std::int64_t share_begin(std::int64_t total, int t, int nt) {
  if (t >= nt) return total;
  const std::int64_t raw = static_cast<std::int64_t>(
      static_cast<double>(total) * static_cast<double>(t) / static_cast<double>(nt));
  return std::min(total, raw - raw % kShareAlign);
}

// Calls share(t, nt) once on each of `threads` threads (t = 0 .. nt - 1), or
// share(0, 1) on the calling thread when threads <= 1 or OpenMP is off.
template <typename Share>
void run_shares(int threads, Share&& share) {
  if (threads <= 1) {
    share(0, 1);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  share(omp_get_thread_num(), omp_get_num_threads());
#else
  share(0, 1);
#endif
}

// Calls body(k, begin, end) on disjoint ranges [begin, end) of tensor k that
// together cover every element of the group exactly once.
template <typename Body>
void for_each_range(const TensorGroup& tg, int num_threads, Body&& body) {
  const std::int64_t ntensors = tg.num_tensors();
  std::vector<std::int64_t> offset(static_cast<std::size_t>(ntensors + 1), 0);
  for (std::int64_t k = 0; k < ntensors; ++k) offset[k + 1] = offset[k] + tg.size[k];
  const std::int64_t total = offset[ntensors];
  if (total == 0) return;

  auto run_share = [&](int t, int nt) {
    std::int64_t lo = share_begin(total, t, nt);
    const std::int64_t hi = share_begin(total, t + 1, nt);
    if (lo >= hi) return;
    std::int64_t k = std::upper_bound(offset.begin(), offset.end(), lo) - offset.begin() - 1;
    while (lo < hi) {
      const std::int64_t end = std::min(hi, offset[k + 1]);
      if (end > lo) body(k, lo - offset[k], end - offset[k]);
      lo = end;
      ++k;
    }
  };

  run_shares(threads_for(total, num_threads), run_share);
}

// Computes per-tensor sums of block_fn(k, begin, end) -> Acc, where Acc
// supports += and value-initializes to zero. Blocks are kReduceBlock long and
// combined in order, so the sums are identical for every thread count.
template <typename Acc, typename BlockFn>
std::vector<Acc> reduce_per_tensor(const TensorGroup& tg, int num_threads, BlockFn&& block_fn) {
  const std::int64_t ntensors = tg.num_tensors();
  std::vector<std::int64_t> first_block(static_cast<std::size_t>(ntensors + 1), 0);
  std::int64_t total = 0;
  for (std::int64_t k = 0; k < ntensors; ++k) {
    first_block[k + 1] = first_block[k] + (tg.size[k] + kReduceBlock - 1) / kReduceBlock;
    total += tg.size[k];
  }
  const std::int64_t nblocks = first_block[ntensors];
  std::vector<Acc> partial(static_cast<std::size_t>(nblocks));

  auto run_block = [&](std::int64_t j) {
    const std::int64_t k =
        std::upper_bound(first_block.begin(), first_block.end(), j) - first_block.begin() - 1;
    const std::int64_t begin = (j - first_block[k]) * kReduceBlock;
    const std::int64_t end = std::min(tg.size[k], begin + kReduceBlock);
    partial[j] = block_fn(k, begin, end);
  };

  const int threads = threads_for(total, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t j = 0; j < nblocks; ++j) run_block(j);

  std::vector<Acc> sums(static_cast<std::size_t>(ntensors));
  for (std::int64_t k = 0; k < ntensors; ++k)
    for (std::int64_t j = first_block[k]; j < first_block[k + 1]; ++j) sums[k] += partial[j];
  return sums;
}

template <typename F>
void with_dtype(DType dtype, F&& f) {
  if (dtype == DType::float32) {
    f(float{});
  } else {
    f(double{});
  }
}

}  // namespace fastopt::cpu
