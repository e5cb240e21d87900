// Hashes the tokens of a batch of rows into CSR buckets.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "cpu/hashing.hpp"
#include "cpu/kernel_list.hpp"

namespace fastopt::cpu::FASTOPT_ISA {

std::int64_t hash_rows(const HashBatch& batch, const HashedRows& out) {
  std::vector<std::pair<std::int32_t, double>> entries;
  std::int64_t nnz = 0;
  out.indptr[0] = 0;
  for (std::int64_t r = 0; r < batch.num_rows; ++r) {
    entries.clear();
    for (std::int64_t j = batch.row_offsets[r]; j < batch.row_offsets[r + 1]; ++j) {
      const std::int64_t begin = batch.token_offsets[j];
      const std::int64_t length = batch.token_offsets[j + 1] - begin;
      const std::uint32_t hash = murmurhash3_32(
          reinterpret_cast<const unsigned char*>(batch.bytes + begin),
          static_cast<std::size_t>(length), batch.seed);
      const Bucket bucket = bucket_of(hash, batch.n_bits);
      const double value = (batch.alternate_sign && bucket.negative) ? -batch.values[j]
                                                                     : batch.values[j];
      entries.emplace_back(bucket.index, value);
    }
    // A stable sort keeps equal buckets in token order, so their sum does not
    // depend on the sort implementation.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (k > 0 && entries[k].first == entries[k - 1].first) {
        out.data[nnz - 1] += entries[k].second;
      } else {
        out.indices[nnz] = entries[k].first;
        out.data[nnz] = entries[k].second;
        ++nnz;
      }
    }
    out.indptr[r + 1] = nnz;
  }
  return nnz;
}

}  // namespace fastopt::cpu::FASTOPT_ISA
