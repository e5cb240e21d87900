// Parallel CSR to CSC conversion. Threads own contiguous blocks of rows,
// count their entries per column, and then scatter them to offsets that place
// block t's entries of a column after those of blocks 0..t-1. Each column
// therefore lists its entries in row order, as a one-thread pass would.
// scipy's tocsc makes the same two passes on one thread; on news20 (1.3
// million entries) it took about 30 ms of each newton-cd fit.
#include "sparse/transpose.hpp"

#include <algorithm>
#include <vector>

#include "cpu/threads.hpp"

namespace fastopt::sparse {

template <typename T, typename I>
bool csr_to_csc(const T* data, const I* indices, const I* indptr, std::int64_t n,
                std::int64_t p, T* out_data, I* out_indices, I* out_indptr, int num_threads,
                bool& sorted_rows) {
  if (n < 0 || p < 0 || static_cast<std::int64_t>(indptr[0]) != 0) return false;
  for (std::int64_t i = 0; i < n; ++i) {
    if (indptr[i + 1] < indptr[i]) return false;
  }
  const std::int64_t nnz = static_cast<std::int64_t>(indptr[n]);
  const int threads = std::max(1, std::min<int>(cpu::threads_for(nnz, num_threads),
                                                 static_cast<int>(std::max<std::int64_t>(n, 1))));
  // Row blocks with about nnz / threads entries each.
  std::vector<std::int64_t> first_row(static_cast<std::size_t>(threads) + 1, n);
  first_row[0] = 0;
  for (int t = 1; t < threads; ++t) {
    const auto target = static_cast<I>(nnz * t / threads);
    first_row[static_cast<std::size_t>(t)] = std::lower_bound(indptr, indptr + n, target) - indptr;
  }
  const auto width = static_cast<std::size_t>(p);
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(threads) * width, 0);
  bool bad = false;
  bool unsorted = false;
  auto block_of = [&](int t, std::int64_t& lo, std::int64_t& hi) {
    lo = first_row[static_cast<std::size_t>(t)];
    hi = first_row[static_cast<std::size_t>(t) + 1];
    return offsets.data() + static_cast<std::size_t>(t) * width;
  };
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1) \
    reduction(|| : bad, unsorted)
#endif
  for (int t = 0; t < threads; ++t) {
    std::int64_t lo, hi;
    std::int64_t* count = block_of(t, lo, hi);
    for (std::int64_t i = lo; i < hi; ++i) {
      std::int64_t previous = -1;
      const auto end = static_cast<std::int64_t>(indptr[i + 1]);
      for (auto e = static_cast<std::int64_t>(indptr[i]); e < end; ++e) {
        const auto j = static_cast<std::int64_t>(indices[e]);
        if (j < 0 || j >= p) {
          bad = true;
          continue;
        }
        unsorted = unsorted || j <= previous;
        previous = j;
        ++count[j];
      }
    }
  }
  if (bad) return false;
  // Turn the counts into each block's first position in every column.
  std::int64_t position = 0;
  for (std::size_t j = 0; j < width; ++j) {
    out_indptr[j] = static_cast<I>(position);
    for (int b = 0; b < threads; ++b) {
      std::int64_t& slot = offsets[static_cast<std::size_t>(b) * width + j];
      const std::int64_t entries = slot;
      slot = position;
      position += entries;
    }
  }
  out_indptr[width] = static_cast<I>(position);
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
#endif
  for (int t = 0; t < threads; ++t) {
    std::int64_t lo, hi;
    std::int64_t* next = block_of(t, lo, hi);
    for (std::int64_t i = lo; i < hi; ++i) {
      const auto end = static_cast<std::int64_t>(indptr[i + 1]);
      for (auto e = static_cast<std::int64_t>(indptr[i]); e < end; ++e) {
        const std::int64_t at = next[static_cast<std::int64_t>(indices[e])]++;
        out_indices[at] = static_cast<I>(i);
        out_data[at] = data[e];
      }
    }
  }
  sorted_rows = !unsorted;
  return !bad;
}

template bool csr_to_csc<float, std::int32_t>(const float*, const std::int32_t*,
                                              const std::int32_t*, std::int64_t, std::int64_t,
                                              float*, std::int32_t*, std::int32_t*, int, bool&);
template bool csr_to_csc<float, std::int64_t>(const float*, const std::int64_t*,
                                              const std::int64_t*, std::int64_t, std::int64_t,
                                              float*, std::int64_t*, std::int64_t*, int, bool&);
template bool csr_to_csc<double, std::int32_t>(const double*, const std::int32_t*,
                                               const std::int32_t*, std::int64_t, std::int64_t,
                                               double*, std::int32_t*, std::int32_t*, int, bool&);
template bool csr_to_csc<double, std::int64_t>(const double*, const std::int64_t*,
                                               const std::int64_t*, std::int64_t, std::int64_t,
                                               double*, std::int64_t*, std::int64_t*, int, bool&);

}  // namespace fastopt::sparse
