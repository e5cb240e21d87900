// Kernels of fastopt.metrics: confusion counts over label codes, ranking
// metrics computed from one sort of the scores, and the log-loss sum. They are
// compiled once, not per instruction set, because their cost is memory traffic
// and sorting, not arithmetic. Callers validate shapes and weights and hold no
// GIL; every reduction uses fixed blocks combined in block order, so results
// do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

namespace fastopt::metrics {

// One binary ranking problem. Sample i has the score scores[i * stride], of
// type float32 when `float32` is true and float64 otherwise, is positive when
// positive[i] != 0 and weighs weight[i], or 1 when `weight` is null. Callers
// check that weights are finite and >= 0; scores are checked by the kernels.
struct RankingInput {
  const void* scores = nullptr;
  bool float32 = false;
  std::int64_t size = 0;
  std::int64_t stride = 1;
  const std::uint8_t* positive = nullptr;
  const double* weight = nullptr;
};

// Result of a ranking metric. `value` is meaningful only when first_invalid
// is -1; otherwise first_invalid is the index of the first score that is NaN
// or infinite. positive_weight and negative_weight are the total weights of
// the two classes.
struct RankingResult {
  double value = 0.0;
  double positive_weight = 0.0;
  double negative_weight = 0.0;
  std::int64_t first_invalid = -1;
};

// Area under the ROC curve: the trapezoidal area of the curve through the
// points (FP(t), TP(t)) of every distinct score t, taken in decreasing order,
// divided by P * N. Tied scores form one threshold, so a tied positive and
// negative pair counts one half. NaN when either class weighs zero.
RankingResult roc_auc(const RankingInput& input, int num_threads);

// Average precision: sum over distinct scores t, in decreasing order, of
// (R(t) - R(t_prev)) * P(t) with recall R = TP / P and precision
// P = TP / (TP + FP). Zero when the positive class weighs zero.
RankingResult average_precision(const RankingInput& input, int num_threads);

// The points of the ROC and precision-recall curves: for each distinct score
// in decreasing order, the score and the cumulative weights of negatives
// (false positives) and positives (true positives) scoring at least that
// much. Scores whose samples all weigh zero give no point.
struct BinaryCurve {
  std::vector<double> thresholds;
  std::vector<double> false_positives;
  std::vector<double> true_positives;
  std::int64_t first_invalid = -1;
};
BinaryCurve binary_curve(const RankingInput& input, int num_threads);

// Adds weight[i] (1 when null) to out[true_codes[i] * num_labels +
// pred_codes[i]] for every sample whose two codes lie in [0, num_labels);
// samples with another code are skipped. `out` has num_labels^2 zeroed
// entries. Accumulator is std::int64_t (with weight null) or double.
template <typename Acc>
void confusion_counts(const std::int64_t* true_codes, const std::int64_t* pred_codes,
                      const double* weight, std::int64_t size, std::int64_t num_labels, Acc* out,
                      int num_threads);

// Sums of the log loss over samples, before normalization.
struct LogLossResult {
  double loss_sum = 0.0;    // sum of weight[i] * -log(clipped probability of the true class)
  double weight_sum = 0.0;  // sum of weight[i], or the sample count without weights
  // Index of the first sample with a probability that is NaN or outside [0, 1], or -1.
  std::int64_t first_invalid = -1;
  // Number of rows whose probabilities do not sum to 1 within sqrt(eps) (2-D input only).
  std::int64_t rows_not_normalized = 0;
};

// Log loss of probabilities `prob` (C-contiguous, float or double). With
// num_columns == 1, prob[i] is the probability of the positive class and
// positive[i] marks the positive samples; otherwise prob is (size,
// num_columns) and true_codes[i] is the column of sample i's class. Each
// probability used is first clipped to [eps, 1 - eps] in the input's type,
// eps its machine epsilon, and for 1-D input 1 - prob[i] is also rounded to
// that type, as scikit-learn 1.9 computes it; logarithms and sums are in double.
template <typename T>
LogLossResult log_loss(const T* prob, std::int64_t size, std::int64_t num_columns,
                       const std::uint8_t* positive, const std::int64_t* true_codes,
                       const double* weight, int num_threads);

}  // namespace fastopt::metrics
