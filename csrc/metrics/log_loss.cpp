// Log loss in one pass over the probabilities, which also validates them and
// counts rows that do not sum to one. Fixed blocks, summed in block order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "cpu/threads.hpp"
#include "metrics/metrics.hpp"

namespace fastopt::metrics {
namespace {

constexpr std::int64_t kBlock = 8192;

struct BlockSums {
  double loss = 0.0;
  double weight = 0.0;
  std::int64_t first_invalid = -1;
  std::int64_t rows_not_normalized = 0;
};

template <typename T>
bool valid_probability(T p) {
  return p >= T(0) && p <= T(1);  // false for NaN
}

}  // namespace

template <typename T>
LogLossResult log_loss(const T* prob, std::int64_t size, std::int64_t num_columns,
                       const std::uint8_t* positive, const std::int64_t* true_codes,
                       const double* weight, int num_threads) {
  const T eps = std::numeric_limits<T>::epsilon();
  const T lo = eps;
  const T hi = T(1) - eps;
  // Tolerance of scikit-learn's row-sum check: isclose(sum, 1, rtol=sqrt(eps)), atol 1e-8.
  const double row_tolerance = 1e-8 + std::sqrt(static_cast<double>(eps));
  const std::int64_t blocks = (size + kBlock - 1) / kBlock;
  std::vector<BlockSums> sums(static_cast<std::size_t>(blocks));
  const int threads = cpu::threads_for(size * num_columns, num_threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
    BlockSums s;
    const std::int64_t end = std::min(size, (b + 1) * kBlock);
    for (std::int64_t i = b * kBlock; i < end; ++i) {
      T p;
      if (num_columns == 1) {
        const T v = prob[i];
        if (!valid_probability(v)) {
          if (s.first_invalid < 0) s.first_invalid = i;
          continue;
        }
        p = positive[i] ? v : T(1) - v;
      } else {
        const T* row = prob + i * num_columns;
        T row_sum = T(0);
        bool row_valid = true;
        for (std::int64_t k = 0; k < num_columns; ++k) {
          row_valid = row_valid && valid_probability(row[k]);
          row_sum += row[k];
        }
        if (!row_valid) {
          if (s.first_invalid < 0) s.first_invalid = i;
          continue;
        }
        if (std::fabs(static_cast<double>(row_sum) - 1.0) > row_tolerance) {
          ++s.rows_not_normalized;
        }
        p = row[true_codes[i]];
      }
      p = std::min(std::max(p, lo), hi);
      const double w = weight != nullptr ? weight[i] : 1.0;
      s.loss -= w * std::log(static_cast<double>(p));
      s.weight += w;
    }
    sums[static_cast<std::size_t>(b)] = s;
  }
  LogLossResult result;
  for (const BlockSums& s : sums) {
    result.loss_sum += s.loss;
    result.weight_sum += s.weight;
    result.rows_not_normalized += s.rows_not_normalized;
    if (result.first_invalid < 0) result.first_invalid = s.first_invalid;
  }
  return result;
}

template LogLossResult log_loss<float>(const float*, std::int64_t, std::int64_t,
                                       const std::uint8_t*, const std::int64_t*, const double*,
                                       int);
template LogLossResult log_loss<double>(const double*, std::int64_t, std::int64_t,
                                        const std::uint8_t*, const std::int64_t*, const double*,
                                        int);

}  // namespace fastopt::metrics
