// Arguments and state of the online (one row at a time) solvers over CSR rows:
// lazy SGD / Adagrad / Adam with L2 and L1 penalties, and FTRL-Proximal.
// The bindings validate every array and index before a kernel runs; the
// kernels trust them. The Python classes in fastopt.online own the state.
#pragma once

#include <cstdint>

#include "cpu/tensor_group.hpp"

namespace fastopt::cpu {

enum class OnlineLoss : int { log_loss = 0, squared_error = 1, hinge = 2, huber = 3 };
enum class OnlineMethod : int { sgd = 0, momentum = 1, adagrad = 2, adam = 3 };
enum class LearningRate : int { constant = 0, invscaling = 1, optimal = 2, adaptive = 3 };

// A CSR matrix and the rows to visit: rows order[0], ..., order[num_visits - 1],
// or every row in turn when order is null (then num_visits == num_rows).
// data is float32 or float64; indices and indptr are both int32 or both int64,
// as scipy.sparse stores them.
struct CsrRows {
  DType dtype = DType::float64;
  bool index64 = false;
  const void* data = nullptr;
  const void* indices = nullptr;
  const void* indptr = nullptr;
  std::int64_t num_rows = 0;
  std::int64_t nnz = 0;  // length of data and indices
  const double* y = nullptr;
  const double* sample_weight = nullptr;  // null means every weight is 1
  const std::int64_t* order = nullptr;
  std::int64_t num_visits = 0;
};

// Bounds over a whole CSR matrix and visit order, from one pass that the bindings
// run before a solver pass. Only when they reveal a bad entry do the bindings
// search for it, to name it in the error.
struct CsrSummary {
  bool indptr_valid = true;  // indptr[0] == 0 and indptr[r] <= indptr[r + 1] <= nnz
  std::int64_t min_index = 0;   // min(0, smallest column index)
  std::int64_t max_index = -1;  // largest column index, -1 when nnz == 0
  bool finite = true;           // every stored value is finite
  std::int64_t min_order = 0;   // min(0, smallest visited row), when order is given
  std::int64_t max_order = -1;  // largest visited row, -1 when order is null or empty
};

// Slots of LazySgdState::globals, the scalar part of the state.
enum LazySgdGlobal : int {
  kScale = 0,            // A: the weights are w = A v
  kL1Cumulative = 1,     // Tsuruoka's u, in units of v
  kIntercept = 2,        // b
  kInterceptState1 = 3,  // velocity, Adagrad sum or Adam first moment of b
  kInterceptState2 = 4,  // Adam second moment of b
  kEta = 5,              // eta0, divided by 5 at each decay of the adaptive schedule
  kAverageScaleSum = 6,  // sum of A over the averaged steps since the last fold
  kAverageInterceptSum = 7,
  kNumLazySgdGlobals = 8
};

struct LazySgdHyper {
  OnlineLoss loss = OnlineLoss::log_loss;
  OnlineMethod method = OnlineMethod::sgd;
  LearningRate learning_rate = LearningRate::optimal;
  double power_t = 0.5;
  double optimal_t0 = 1.0;  // t0 of the "optimal" schedule, eta_t = 1 / (alpha (t0 + t - 1))
  double alpha = 1e-4;
  double l1 = 0.0;  // alpha * l1_ratio
  double l2 = 0.0;  // alpha * (1 - l1_ratio)
  double momentum = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double epsilon = 0.1;  // Huber threshold
  bool fit_intercept = true;
  // Factor on every step of the intercept; scikit-learn's SGD uses 0.01 on
  // sparse input (sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY).
  double intercept_decay = 1.0;
  // First step (1-based) included in the averaged weights; 0 turns averaging off.
  std::int64_t average_start = 0;
  // When false the pass skips each row's loss value (a log1p per row for the
  // logistic loss) and returns 0, or NaN when some margin was not finite.
  bool compute_loss = true;
  // Deterministic block-parallel SGD (lazy_sgd_pass in kernels/online.cpp):
  // with jobs > 1 the visits run in blocks of block_rows, each split into jobs
  // contiguous parts that start from the block's model. jobs == 1 is the
  // sequential pass. Only plain SGD (no momentum, no averaging) runs in parts.
  int jobs = 1;
  std::int64_t block_rows = 1024;
  // When false the calling thread runs every part of a block-parallel pass
  // itself, with the same result. lazy_sgd_pass_many clears it to run
  // several outputs side by side instead.
  bool part_helpers = true;
  // Fold the global scale into the weights when it gets small. A part of a
  // parallel block runs without folding, on copies of a few coordinates; the
  // block folds the whole model after it.
  bool fold = true;
  // When true the pass checks each visited row before it reads the row's
  // entries: the row lies within indptr and nnz, every column is in
  // [0, num_features) and every value is finite. The sequential pass checks
  // runs of rows ahead of it, the block-parallel pass each block before its
  // parts start. At the first bad row it sets *LazySgdState::invalid and
  // returns, leaving the state partly updated, so the caller must have a copy
  // to restore. Only for rows without an order. The bindings use it instead
  // of a separate pass over X (the csr_summary kernel) when the state is small.
  bool checked = false;
};

// Features from which the online passes prefetch the weights of rows ahead,
// because the weights no longer stay in cache.
constexpr std::int64_t kPrefetchMinFeatures = std::int64_t{1} << 16;

// Per-coordinate arrays of length num_features (null when the method or
// penalty does not use them) and the scalars, all float64, updated in place.
struct LazySgdState {
  std::int64_t num_features = 0;
  double* coef = nullptr;        // v, the weights divided by the global scale A
  double* l1_applied = nullptr;  // Tsuruoka's q, in units of v; used when l1 > 0
  double* state1 = nullptr;      // velocity, Adagrad sum or Adam first moment
  double* state2 = nullptr;      // Adam second moment
  double* average_offset = nullptr;  // p: the running sum of w is p + v * globals[kAverageScaleSum]
  double* globals = nullptr;     // kNumLazySgdGlobals scalars
  std::int64_t* t = nullptr;     // rows processed so far
  bool* invalid = nullptr;       // set when LazySgdHyper::checked finds a bad row
};

// Slots of FtrlState::globals.
enum FtrlGlobal : int { kFtrlInterceptZ = 0, kFtrlInterceptN = 1, kNumFtrlGlobals = 2 };

struct FtrlHyper {
  OnlineLoss loss = OnlineLoss::log_loss;
  double alpha = 0.1;
  double beta = 1.0;
  double l1 = 1.0;
  double l2 = 1.0;
  double epsilon = 0.1;
  bool fit_intercept = true;
  bool compute_loss = true;  // as LazySgdHyper::compute_loss
  bool checked = false;      // as LazySgdHyper::checked
};

struct FtrlState {
  std::int64_t num_features = 0;
  double* z = nullptr;
  double* n = nullptr;
  double* globals = nullptr;  // kNumFtrlGlobals scalars
  std::int64_t* t = nullptr;
  bool* invalid = nullptr;  // set when FtrlHyper::checked finds a bad row
};

}  // namespace fastopt::cpu
