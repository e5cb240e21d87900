// Ranking metrics from one radix sort of the scores. Scores become unsigned
// keys whose order is the decreasing order of the scores, so a stable LSD
// radix sort puts every tie group in one contiguous run. A stable sort has one
// possible output, so the sorted arrays, and the fixed-block scans over them,
// are the same for every thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/threads.hpp"
#include "metrics/metrics.hpp"

namespace fastopt::metrics {
namespace {

// Bits per radix digit: 2048 counters per thread stay in L1/L2 cache, and a
// 64-bit key needs 6 passes, a 32-bit key 3.
constexpr int kDigitBits = 11;
constexpr std::int64_t kBuckets = std::int64_t{1} << kDigitBits;

// Samples per scan block. Block partial sums are combined in block order.
constexpr std::int64_t kScanBlock = 65536;

template <typename T>
using Buffer = std::unique_ptr<T[]>;

template <typename T>
Buffer<T> uninitialized(std::int64_t n) {
  return Buffer<T>(new T[static_cast<std::size_t>(std::max<std::int64_t>(n, 1))]);
}

// Calls body(t, nt) on each of `threads` threads, or body(0, 1) inline.
template <typename Body>
void parallel(int threads, Body&& body) {
  if (threads <= 1) {
    body(0, 1);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  body(omp_get_thread_num(), omp_get_num_threads());
#else
  body(0, 1);
#endif
}

inline std::int64_t chunk_begin(std::int64_t n, int c, int nc) {
  return static_cast<std::int64_t>(static_cast<double>(n) * c / nc);
}

// Key whose unsigned order is the decreasing order of the score. Adding 0.0
// turns -0.0 into +0.0, so the two zeros form one tie group as they compare
// equal. Flipping all bits of negative numbers and the sign bit of the others
// gives increasing order; the final complement reverses it.
inline std::uint64_t descending_key(double v) {
  v += 0.0;
  std::uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  u = (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));
  return ~u;
}

inline std::uint32_t descending_key(float v) {
  v += 0.0f;
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  u = (u >> 31) ? ~u : (u | (std::uint32_t{1} << 31));
  return ~u;
}

inline double score_of_key(std::uint64_t key) {
  std::uint64_t u = ~key;
  u = (u >> 63) ? (u & ~(std::uint64_t{1} << 63)) : ~u;
  double v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

inline double score_of_key(std::uint32_t key) {
  std::uint32_t u = ~key;
  u = (u >> 31) ? (u & ~(std::uint32_t{1} << 31)) : ~u;
  float v;
  std::memcpy(&v, &u, sizeof v);
  return static_cast<double>(v);
}

// Payload carried through the sort. Without weights it is the class (1 for
// positive); with weights it is the weight with its sign bit set for the
// negative class, so a zero weight still records its class.
struct ClassPayload {
  using type = std::uint8_t;
  static type make(bool positive, double) { return positive ? 1 : 0; }
  static double positive_weight(type p) { return p ? 1.0 : 0.0; }
  static double negative_weight(type p) { return p ? 0.0 : 1.0; }
  static bool nonzero(type) { return true; }
};

struct WeightPayload {
  using type = double;
  static type make(bool positive, double w) { return positive ? w : -w; }
  static double positive_weight(type p) { return std::signbit(p) ? 0.0 : p; }
  static double negative_weight(type p) { return std::signbit(p) ? -p : 0.0; }
  static bool nonzero(type p) { return p != 0.0; }
};

template <typename Key, typename Payload>
struct SortedScores {
  using Policy = Payload;
  Buffer<Key> keys;
  Buffer<typename Payload::type> payload;
  std::int64_t size = 0;
  std::int64_t first_invalid = -1;
};

// Fills keys and payloads, recording the first non-finite score.
template <typename Score, typename Key, typename Payload>
std::int64_t fill_keys(const RankingInput& in, Key* keys, typename Payload::type* payload,
                       int threads) {
  const Score* scores = static_cast<const Score*>(in.scores);
  const std::int64_t n = in.size;
  std::vector<std::int64_t> first_bad(static_cast<std::size_t>(std::max(threads, 1)), -1);
  parallel(threads, [&](int t, int nt) {
    const std::int64_t lo = chunk_begin(n, t, nt);
    const std::int64_t hi = chunk_begin(n, t + 1, nt);
    std::int64_t bad = -1;
    for (std::int64_t i = lo; i < hi; ++i) {
      const Score s = scores[i * in.stride];
      if (!std::isfinite(s) && bad < 0) bad = i;
      keys[i] = descending_key(s);
      const double w = in.weight != nullptr ? in.weight[i] : 1.0;
      payload[i] = Payload::make(in.positive[i] != 0, w);
    }
    first_bad[static_cast<std::size_t>(t)] = bad;
  });
  for (std::int64_t bad : first_bad) {
    if (bad >= 0) return bad;  // chunks are in index order, so the first hit is the smallest
  }
  return -1;
}

// Stable LSD radix sort of keys with their payloads. Each pass builds one
// histogram per chunk, turns them into write offsets in (bucket, chunk) order
// and scatters; a pass whose digit is the same for every key is skipped.
template <typename Key, typename P>
void radix_sort(Buffer<Key>& keys, Buffer<P>& payload, std::int64_t n, int threads) {
  Buffer<Key> keys_next = uninitialized<Key>(n);
  Buffer<P> payload_next = uninitialized<P>(n);
  const int chunks = std::max(threads, 1);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(chunks * kBuckets));
  constexpr int key_bits = static_cast<int>(sizeof(Key) * 8);
  for (int shift = 0; shift < key_bits; shift += kDigitBits) {
    const Key* src_keys = keys.get();
    const P* src_payload = payload.get();
    Key* dst_keys = keys_next.get();
    P* dst_payload = payload_next.get();
    std::int64_t* all_counts = counts.data();
    std::fill(counts.begin(), counts.end(), 0);
    parallel(threads, [=](int t, int nt) {
      for (int c = t; c < chunks; c += nt) {
        std::int64_t* row = all_counts + c * kBuckets;
        const std::int64_t hi = chunk_begin(n, c + 1, chunks);
        for (std::int64_t i = chunk_begin(n, c, chunks); i < hi; ++i) {
          ++row[(src_keys[i] >> shift) & (kBuckets - 1)];
        }
      }
    });
    bool trivial = false;
    std::int64_t offset = 0;
    for (std::int64_t b = 0; b < kBuckets; ++b) {
      std::int64_t bucket_total = 0;
      for (int c = 0; c < chunks; ++c) {
        std::int64_t& slot = counts[static_cast<std::size_t>(c * kBuckets + b)];
        const std::int64_t count = slot;
        slot = offset;
        offset += count;
        bucket_total += count;
      }
      if (bucket_total == n) trivial = true;
    }
    if (trivial) continue;
    parallel(threads, [=](int t, int nt) {
      // Local copies: the byte-sized payload stores may alias anything, so
      // values read through the closure would be reloaded on every sample.
      const Key* const keys_in = src_keys;
      const P* const payload_in = src_payload;
      Key* const keys_out = dst_keys;
      P* const payload_out = dst_payload;
      const int digit_shift = shift;
      for (int c = t; c < chunks; c += nt) {
        std::int64_t* const next = all_counts + c * kBuckets;
        const std::int64_t hi = chunk_begin(n, c + 1, chunks);
        for (std::int64_t i = chunk_begin(n, c, chunks); i < hi; ++i) {
          const Key key = keys_in[i];
          const std::int64_t pos = next[(key >> digit_shift) & (kBuckets - 1)]++;
          keys_out[pos] = key;
          payload_out[pos] = payload_in[i];
        }
      }
    });
    std::swap(keys, keys_next);
    std::swap(payload, payload_next);
  }
}

template <typename Score, typename Key, typename Payload>
SortedScores<Key, Payload> sort_scores(const RankingInput& in, int num_threads) {
  SortedScores<Key, Payload> sorted;
  sorted.size = in.size;
  sorted.keys = uninitialized<Key>(in.size);
  sorted.payload = uninitialized<typename Payload::type>(in.size);
  const int threads = cpu::threads_for(in.size, num_threads);
  sorted.first_invalid =
      fill_keys<Score, Key, Payload>(in, sorted.keys.get(), sorted.payload.get(), threads);
  if (sorted.first_invalid >= 0) return sorted;
  radix_sort(sorted.keys, sorted.payload, in.size, threads);
  return sorted;
}

// Calls fn(sorted) with the key and payload types that fit the input.
template <typename Fn>
auto with_sorted(const RankingInput& in, int num_threads, Fn&& fn) {
  if (in.float32) {
    if (in.weight == nullptr) {
      return fn(sort_scores<float, std::uint32_t, ClassPayload>(in, num_threads));
    }
    return fn(sort_scores<float, std::uint32_t, WeightPayload>(in, num_threads));
  }
  if (in.weight == nullptr) {
    return fn(sort_scores<double, std::uint64_t, ClassPayload>(in, num_threads));
  }
  return fn(sort_scores<double, std::uint64_t, WeightPayload>(in, num_threads));
}

struct ScanTotals {
  double value = 0.0;
  double positive = 0.0;
  double negative = 0.0;
};

// Sums group_fn(tp_before, fp_before, tp_group, fp_group) over the tie groups
// of the sorted scores, where *_before are the class weights of all higher
// scores. Blocks of kScanBlock samples run in parallel: a block handles the
// groups that start inside it, reading past its end to finish the last one,
// and starts from the exact prefix sums of the blocks before it.
template <typename Payload, typename Key, typename GroupFn>
ScanTotals scan_groups(const Key* keys, const typename Payload::type* payload, std::int64_t n,
                       int num_threads, GroupFn&& group_fn) {
  const std::int64_t blocks = (n + kScanBlock - 1) / kScanBlock;
  std::vector<double> block_pos(static_cast<std::size_t>(blocks));
  std::vector<double> block_neg(static_cast<std::size_t>(blocks));
  std::vector<double> block_value(static_cast<std::size_t>(blocks));
  const int threads = cpu::threads_for(n, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t hi = std::min(n, (b + 1) * kScanBlock);
    double pos = 0.0;
    double neg = 0.0;
    for (std::int64_t i = b * kScanBlock; i < hi; ++i) {
      pos += Payload::positive_weight(payload[i]);
      neg += Payload::negative_weight(payload[i]);
    }
    block_pos[static_cast<std::size_t>(b)] = pos;
    block_neg[static_cast<std::size_t>(b)] = neg;
  }
  // Exclusive prefix sums, in block order.
  std::vector<double> prefix_pos(static_cast<std::size_t>(blocks + 1), 0.0);
  std::vector<double> prefix_neg(static_cast<std::size_t>(blocks + 1), 0.0);
  for (std::int64_t b = 0; b < blocks; ++b) {
    prefix_pos[b + 1] = prefix_pos[b] + block_pos[b];
    prefix_neg[b + 1] = prefix_neg[b] + block_neg[b];
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * kScanBlock;
    const std::int64_t hi = std::min(n, lo + kScanBlock);
    double tp = prefix_pos[b];
    double fp = prefix_neg[b];
    std::int64_t i = lo;
    // Samples that continue a group started in an earlier block belong to it.
    while (b > 0 && i < hi && keys[i] == keys[lo - 1]) {
      tp += Payload::positive_weight(payload[i]);
      fp += Payload::negative_weight(payload[i]);
      ++i;
    }
    double value = 0.0;
    while (i < hi) {
      const Key key = keys[i];
      double tp_group = 0.0;
      double fp_group = 0.0;
      for (; i < n && keys[i] == key; ++i) {
        tp_group += Payload::positive_weight(payload[i]);
        fp_group += Payload::negative_weight(payload[i]);
      }
      value += group_fn(tp, fp, tp_group, fp_group);
      tp += tp_group;
      fp += fp_group;
    }
    block_value[static_cast<std::size_t>(b)] = value;
  }
  ScanTotals totals;
  for (std::int64_t b = 0; b < blocks; ++b) totals.value += block_value[b];
  totals.positive = prefix_pos[blocks];
  totals.negative = prefix_neg[blocks];
  return totals;
}

}  // namespace

RankingResult roc_auc(const RankingInput& input, int num_threads) {
  return with_sorted(input, num_threads, [&](const auto& sorted) {
    RankingResult result;
    result.first_invalid = sorted.first_invalid;
    if (result.first_invalid >= 0) return result;
    using Payload = typename std::decay_t<decltype(sorted)>::Policy;
    // Trapezoid between the points before and after a group: its negatives
    // move FP by fp_group while TP rises linearly from tp_before by tp_group.
    const ScanTotals totals = scan_groups<Payload>(
        sorted.keys.get(), sorted.payload.get(), sorted.size, num_threads,
        [](double tp, double, double tp_group, double fp_group) {
          return fp_group * (tp + 0.5 * tp_group);
        });
    result.positive_weight = totals.positive;
    result.negative_weight = totals.negative;
    if (totals.positive > 0.0 && totals.negative > 0.0) {
      // The running TP of the groups and the total P are summed in different orders. With
      // weights the quotient can then round past 1 (1.0000000000000002 for a perfect
      // ranking), although the exact area lies in [0, 1].
      result.value = std::clamp(totals.value / totals.positive / totals.negative, 0.0, 1.0);
    } else {
      result.value = std::numeric_limits<double>::quiet_NaN();
    }
    return result;
  });
}

RankingResult average_precision(const RankingInput& input, int num_threads) {
  return with_sorted(input, num_threads, [&](const auto& sorted) {
    RankingResult result;
    result.first_invalid = sorted.first_invalid;
    if (result.first_invalid >= 0) return result;
    using Payload = typename std::decay_t<decltype(sorted)>::Policy;
    // Recall rises by tp_group / P at this threshold, where precision is
    // TP / (TP + FP) over every sample scoring at least the group's score.
    const ScanTotals totals = scan_groups<Payload>(
        sorted.keys.get(), sorted.payload.get(), sorted.size, num_threads,
        [](double tp, double fp, double tp_group, double fp_group) {
          if (tp_group == 0.0) return 0.0;
          const double tp_after = tp + tp_group;
          return tp_group * (tp_after / (tp_after + fp + fp_group));
        });
    result.positive_weight = totals.positive;
    result.negative_weight = totals.negative;
    result.value = totals.positive > 0.0 ? totals.value / totals.positive : 0.0;
    return result;
  });
}

BinaryCurve binary_curve(const RankingInput& input, int num_threads) {
  return with_sorted(input, num_threads, [&](const auto& sorted) {
    BinaryCurve curve;
    curve.first_invalid = sorted.first_invalid;
    if (curve.first_invalid >= 0) return curve;
    using Payload = typename std::decay_t<decltype(sorted)>::Policy;
    const auto* keys = sorted.keys.get();
    const auto* payload = sorted.payload.get();
    double tp = 0.0;
    double fp = 0.0;
    std::int64_t i = 0;
    while (i < sorted.size) {
      const auto key = keys[i];
      bool any_weight = false;
      for (; i < sorted.size && keys[i] == key; ++i) {
        tp += Payload::positive_weight(payload[i]);
        fp += Payload::negative_weight(payload[i]);
        any_weight = any_weight || Payload::nonzero(payload[i]);
      }
      // scikit-learn drops zero-weight samples before it finds thresholds.
      if (!any_weight) continue;
      curve.thresholds.push_back(score_of_key(key));
      curve.false_positives.push_back(fp);
      curve.true_positives.push_back(tp);
    }
    return curve;
  });
}

}  // namespace fastopt::metrics
