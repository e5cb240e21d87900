// Confusion counts over label codes. Each fixed chunk of samples fills its
// own matrix and the matrices are added in chunk order, so weighted sums do
// not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "cpu/threads.hpp"
#include "metrics/metrics.hpp"

namespace fastopt::metrics {
namespace {

constexpr std::int64_t kChunkSamples = 65536;
constexpr std::int64_t kMaxChunks = 64;
// Bound on the entries of all chunk matrices together (128 MiB of doubles).
constexpr std::int64_t kMaxChunkEntries = std::int64_t{1} << 24;

// The chunk count depends only on the sample and label counts.
std::int64_t chunk_count(std::int64_t size, std::int64_t num_labels) {
  std::int64_t chunks = std::clamp<std::int64_t>((size + kChunkSamples - 1) / kChunkSamples, 1,
                                                 kMaxChunks);
  const std::int64_t entries = num_labels * num_labels;
  return std::max<std::int64_t>(1, std::min(chunks, kMaxChunkEntries / std::max<std::int64_t>(entries, 1)));
}

}  // namespace

template <typename Acc>
void confusion_counts(const std::int64_t* true_codes, const std::int64_t* pred_codes,
                      const double* weight, std::int64_t size, std::int64_t num_labels, Acc* out,
                      int num_threads) {
  const std::int64_t entries = num_labels * num_labels;
  const std::int64_t chunks = chunk_count(size, num_labels);
  std::vector<Acc> partial(static_cast<std::size_t>(chunks * entries), Acc{0});
  const int threads = cpu::threads_for(size, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t c = 0; c < chunks; ++c) {
    Acc* matrix = partial.data() + c * entries;
    const std::int64_t lo = size * c / chunks;
    const std::int64_t hi = size * (c + 1) / chunks;
    for (std::int64_t i = lo; i < hi; ++i) {
      const std::int64_t t = true_codes[i];
      const std::int64_t p = pred_codes[i];
      // One unsigned comparison per code also rejects negative codes.
      if (static_cast<std::uint64_t>(t) >= static_cast<std::uint64_t>(num_labels) ||
          static_cast<std::uint64_t>(p) >= static_cast<std::uint64_t>(num_labels)) {
        continue;
      }
      if constexpr (std::is_same_v<Acc, double>) {
        matrix[t * num_labels + p] += weight != nullptr ? weight[i] : 1.0;
      } else {
        matrix[t * num_labels + p] += 1;
      }
    }
  }
  for (std::int64_t c = 0; c < chunks; ++c) {
    const Acc* matrix = partial.data() + c * entries;
    for (std::int64_t e = 0; e < entries; ++e) out[e] += matrix[e];
  }
}

template void confusion_counts<std::int64_t>(const std::int64_t*, const std::int64_t*,
                                             const double*, std::int64_t, std::int64_t,
                                             std::int64_t*, int);
template void confusion_counts<double>(const std::int64_t*, const std::int64_t*, const double*,
                                       std::int64_t, std::int64_t, double*, int);

}  // namespace fastopt::metrics
