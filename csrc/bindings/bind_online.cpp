// Bindings of the online solvers. fastopt.online's classes own the state and
// check the values (labels, weights, NaN); these functions check every array's
// dtype, shape, layout and every index that the kernel dereferences, with the
// GIL held and before any write, then release the GIL for the pass.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/threads.hpp"

namespace fastopt::bindings {
namespace {

using cpu::DType;

std::string shape_text(const py::array& a) {
  return py::str(a.attr("shape")).cast<std::string>();
}

// Returns obj as a 1-D C-contiguous array of the given dtype and length
// (length < 0 accepts any), writeable when write is set.
py::array vector_arg(const char* name, py::handle obj, const py::dtype& dtype, py::ssize_t length,
                     bool write) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(dtype)) {
    throw py::type_error(std::string(name) + ": expected dtype " +
                         py::str(dtype).cast<std::string>() + ", got " + describe(obj));
  }
  if (a.ndim() != 1 || (length >= 0 && a.shape(0) != length)) {
    throw py::value_error(std::string(name) + ": expected shape (" +
                          (length >= 0 ? std::to_string(length) : std::string("n")) +
                          ",), got " + shape_text(a));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  }
  if (write && !a.writeable()) {
    throw py::value_error(std::string(name) + ": expected a writeable array");
  }
  return a;
}

template <typename I>
void check_structure(const I* indptr, const I* indices, std::int64_t num_rows, std::int64_t nnz,
                     std::int64_t num_features) {
  if (static_cast<std::int64_t>(indptr[0]) != 0) {
    throw py::value_error("indptr[0]: expected 0, got " + std::to_string(indptr[0]));
  }
  for (std::int64_t r = 0; r < num_rows; ++r) {
    const std::int64_t lo = static_cast<std::int64_t>(indptr[r]);
    const std::int64_t hi = static_cast<std::int64_t>(indptr[r + 1]);
    if (hi < lo || hi > nnz) {
      throw py::value_error("indptr[" + std::to_string(r + 1) + "]: expected a value in [" +
                            std::to_string(lo) + ", " + std::to_string(nnz) + "], got " +
                            std::to_string(hi));
    }
  }
  for (std::int64_t e = 0; e < nnz; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(indices[e]);
    if (j < 0 || j >= num_features) {
      // indptr was checked above, so the search finds the row that stores entry e.
      const I* row_end = std::upper_bound(indptr, indptr + num_rows + 1, static_cast<I>(e));
      const std::int64_t row = static_cast<std::int64_t>(row_end - indptr) - 1;
      const std::string where =
          row < num_rows ? "row " + std::to_string(row) : "past indptr[-1]";
      throw py::value_error("indices[" + std::to_string(e) + "]: expected a column in [0, " +
                            std::to_string(num_features) + "), got " + std::to_string(j) +
                            " (" + where + ")");
    }
  }
}

// Raises on the first stored value that is not finite, naming its row and
// column in the words of fastopt.online's own input check. Done here, after
// the structure check, so the Python side need not allocate a mask.
template <typename T, typename I>
void check_finite_data(const T* data, const I* indptr, const I* indices, std::int64_t num_rows,
                       std::int64_t nnz) {
  for (std::int64_t e = 0; e < nnz; ++e) {
    if (std::isfinite(data[e])) continue;
    const I* row_end = std::upper_bound(indptr, indptr + num_rows + 1, static_cast<I>(e));
    const std::int64_t row = static_cast<std::int64_t>(row_end - indptr) - 1;
    throw py::value_error("X: expected finite values, got " +
                          py::repr(py::float_(static_cast<double>(data[e]))).cast<std::string>() +
                          " at row " + std::to_string(row) + ", column " +
                          std::to_string(static_cast<std::int64_t>(indices[e])));
  }
}

template <typename I>
void check_data(DType dtype, const void* data, const I* indptr, const I* indices,
                std::int64_t num_rows, std::int64_t nnz) {
  if (dtype == DType::float32) {
    check_finite_data(static_cast<const float*>(data), indptr, indices, num_rows, nnz);
  } else {
    check_finite_data(static_cast<const double*>(data), indptr, indices, num_rows, nnz);
  }
}

// Checks every index that a pass dereferences and every stored value. One
// vectorized pass (the csr_summary kernel) computes bounds over the arrays. Only
// when they reveal a bad entry do the sequential loops above run, to name it.
void check_rows(const cpu::CsrRows& rows, std::int64_t nnz, std::int64_t num_features) {
  const cpu::CsrSummary summary =
      cpu::kernels().csr_summary(rows, nnz, cpu::get_num_threads());
  const bool indices_valid = summary.min_index >= 0 && summary.max_index < num_features;
  if (!summary.indptr_valid || !indices_valid || !summary.finite) {
    if (rows.index64) {
      const auto* ptr = static_cast<const std::int64_t*>(rows.indptr);
      const auto* idx = static_cast<const std::int64_t*>(rows.indices);
      check_structure(ptr, idx, rows.num_rows, nnz, num_features);
      check_data(rows.dtype, rows.data, ptr, idx, rows.num_rows, nnz);
    } else {
      const auto* ptr = static_cast<const std::int32_t*>(rows.indptr);
      const auto* idx = static_cast<const std::int32_t*>(rows.indices);
      check_structure(ptr, idx, rows.num_rows, nnz, num_features);
      check_data(rows.dtype, rows.data, ptr, idx, rows.num_rows, nnz);
    }
  }
  if (summary.min_order < 0 || summary.max_order >= rows.num_rows) {
    for (std::int64_t k = 0; k < rows.num_visits; ++k) {
      const std::int64_t r = rows.order[k];
      if (r < 0 || r >= rows.num_rows) {
        throw py::value_error("order[" + std::to_string(k) + "]: expected a row in [0, " +
                              std::to_string(rows.num_rows) + "), got " + std::to_string(r));
      }
    }
  }
}

// Arrays of the CSR rows, kept alive for the duration of the call.
struct RowsArgs {
  cpu::CsrRows rows;
  std::vector<py::array> keep;
};

// With check false the caller checks the rows: with check_rows, or in the
// pass itself (see run_checked_passes).
RowsArgs gather_rows(py::handle data, py::handle indices, py::handle indptr, py::handle y,
                     py::handle sample_weight, py::handle order, std::int64_t num_features,
                     bool check = true) {
  RowsArgs out;
  cpu::CsrRows& rows = out.rows;
  if (!py::isinstance<py::array>(data)) {
    throw py::type_error("data: expected a numpy.ndarray, got " + describe(data));
  }
  py::array data_any = py::reinterpret_borrow<py::array>(data);
  if (data_any.dtype().equal(py::dtype::of<float>())) {
    rows.dtype = DType::float32;
  } else if (data_any.dtype().equal(py::dtype::of<double>())) {
    rows.dtype = DType::float64;
  } else {
    throw py::type_error("data: expected a float32 or float64 numpy.ndarray, got " +
                         describe(data));
  }
  py::array data_arr = vector_arg("data", data, data_any.dtype(), -1, false);
  const py::ssize_t nnz = data_arr.shape(0);
  if (!py::isinstance<py::array>(indices)) {
    throw py::type_error("indices: expected a numpy.ndarray, got " + describe(indices));
  }
  py::array indices_any = py::reinterpret_borrow<py::array>(indices);
  if (indices_any.dtype().equal(py::dtype::of<std::int32_t>())) {
    rows.index64 = false;
  } else if (indices_any.dtype().equal(py::dtype::of<std::int64_t>())) {
    rows.index64 = true;
  } else {
    throw py::type_error("indices: expected an int32 or int64 numpy.ndarray, got " +
                         describe(indices));
  }
  const py::dtype index_dtype = indices_any.dtype();
  py::array indices_arr = vector_arg("indices", indices, index_dtype, nnz, false);
  py::array indptr_arr = vector_arg("indptr", indptr, index_dtype, -1, false);
  if (indptr_arr.shape(0) < 1) {
    throw py::value_error("indptr: expected at least 1 element, got 0");
  }
  const std::int64_t num_rows = indptr_arr.shape(0) - 1;
  const py::dtype f64 = py::dtype::of<double>();
  py::array y_arr = vector_arg("y", y, f64, num_rows, false);
  if (num_features < 0) {
    throw py::value_error("n_features: expected a value >= 0, got " +
                          std::to_string(num_features));
  }
  rows.data = data_arr.data();
  rows.indices = indices_arr.data();
  rows.indptr = indptr_arr.data();
  rows.num_rows = num_rows;
  rows.nnz = nnz;
  rows.y = static_cast<const double*>(y_arr.data());
  rows.num_visits = num_rows;
  out.keep = {data_arr, indices_arr, indptr_arr, y_arr};
  // None visits every row in turn without an index array to build and check.
  if (!order.is_none()) {
    py::array order_arr = vector_arg("order", order, py::dtype::of<std::int64_t>(), -1, false);
    rows.order = static_cast<const std::int64_t*>(order_arr.data());
    rows.num_visits = order_arr.shape(0);
    out.keep.push_back(order_arr);
  }
  if (check) check_rows(rows, nnz, num_features);
  if (!sample_weight.is_none()) {
    py::array sw_arr = vector_arg("sample_weight", sample_weight, f64, num_rows, false);
    rows.sample_weight = static_cast<const double*>(sw_arr.data());
    out.keep.push_back(sw_arr);
  }
  return out;
}

double* state_arg(const char* name, py::handle obj, py::ssize_t length,
                  std::vector<py::array>& keep) {
  if (obj.is_none()) return nullptr;
  py::array a = vector_arg(name, obj, py::dtype::of<double>(), length, true);
  keep.push_back(a);
  return static_cast<double*>(a.mutable_data());
}

std::int64_t* step_arg(py::handle obj, std::vector<py::array>& keep) {
  py::array a = vector_arg("t", obj, py::dtype::of<std::int64_t>(), 1, true);
  keep.push_back(a);
  return static_cast<std::int64_t*>(a.mutable_data());
}

// Raises unless no written array shares memory with any other array.
void check_separate(const std::vector<py::array>& read, const std::vector<py::array>& written) {
  auto span = [](const py::array& a) {
    const auto lo = reinterpret_cast<std::uintptr_t>(a.data());
    return std::pair<std::uintptr_t, std::uintptr_t>(lo, lo + static_cast<std::uintptr_t>(a.nbytes()));
  };
  for (std::size_t i = 0; i < written.size(); ++i) {
    const auto a = span(written[i]);
    auto clash = [&](const py::array& other) {
      const auto b = span(other);
      return a.first < b.second && b.first < a.second && a.first != a.second &&
             b.first != b.second;
    };
    for (std::size_t k = i + 1; k < written.size(); ++k) {
      if (clash(written[k])) {
        throw py::value_error("state arrays share memory; every array that fastopt writes "
                              "must be a separate buffer (pass a copy)");
      }
    }
    for (const py::array& r : read) {
      if (clash(r)) {
        throw py::value_error("a state array shares memory with the input rows; pass a copy");
      }
    }
  }
}

template <typename Enum>
Enum enum_arg(const char* name, int value, int count) {
  if (value < 0 || value >= count) {
    throw py::value_error(std::string(name) + ": expected a code in [0, " +
                          std::to_string(count) + "), got " + std::to_string(value));
  }
  return static_cast<Enum>(value);
}

void check_finite(const char* name, double x) {
  if (!std::isfinite(x)) {
    throw py::value_error(std::string(name) + ": expected a finite value, got " +
                          std::to_string(x));
  }
}

cpu::LazySgdHyper sgd_hyper(int loss, int method, int learning_rate, double power_t,
                            double optimal_t0, double alpha, double l1, double l2,
                            double momentum, double beta1, double beta2, double eps,
                            double epsilon, bool fit_intercept, std::int64_t average_start,
                            double intercept_decay, bool compute_loss, int n_jobs,
                            std::int64_t block_rows) {
  cpu::LazySgdHyper h;
  h.loss = enum_arg<cpu::OnlineLoss>("loss", loss, 4);
  h.method = enum_arg<cpu::OnlineMethod>("method", method, 4);
  h.learning_rate = enum_arg<cpu::LearningRate>("learning_rate", learning_rate, 4);
  for (auto [name, x] : {std::pair<const char*, double>{"power_t", power_t},
                         {"optimal_t0", optimal_t0}, {"alpha", alpha}, {"l1", l1}, {"l2", l2},
                         {"momentum", momentum}, {"beta1", beta1}, {"beta2", beta2},
                         {"eps", eps}, {"epsilon", epsilon},
                         {"intercept_decay", intercept_decay}}) {
    check_finite(name, x);
  }
  if (l1 < 0.0 || l2 < 0.0) {
    throw py::value_error("l1, l2: expected values >= 0, got " + std::to_string(l1) + ", " +
                          std::to_string(l2));
  }
  if (l1 > 0.0 && average_start > 0) {
    throw py::value_error("average_start: averaging with l1 > 0 is not supported, got " +
                          std::to_string(average_start));
  }
  if (h.learning_rate == cpu::LearningRate::optimal && !(alpha > 0.0)) {
    throw py::value_error("alpha: the optimal schedule needs alpha > 0, got " +
                          std::to_string(alpha));
  }
  if (intercept_decay < 0.0) {
    throw py::value_error("intercept_decay: expected a value >= 0, got " +
                          std::to_string(intercept_decay));
  }
  h.power_t = power_t;
  h.optimal_t0 = optimal_t0;
  h.alpha = alpha;
  h.l1 = l1;
  h.l2 = l2;
  h.momentum = momentum;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.epsilon = epsilon;
  h.fit_intercept = fit_intercept;
  h.average_start = average_start < 0 ? 0 : average_start;
  h.intercept_decay = intercept_decay;
  h.compute_loss = compute_loss;
  if (n_jobs < 1) {
    throw py::value_error("n_jobs: expected an integer >= 1, got " + std::to_string(n_jobs));
  }
  if (block_rows < 1) {
    throw py::value_error("block_rows: expected an integer >= 1, got " +
                          std::to_string(block_rows));
  }
  if (n_jobs > 1 && (h.method != cpu::OnlineMethod::sgd || h.average_start > 0)) {
    throw py::value_error("n_jobs: values above 1 need plain SGD without momentum or averaging, "
                          "got n_jobs=" + std::to_string(n_jobs) + " with method code " +
                          std::to_string(method) + " and average_start " +
                          std::to_string(h.average_start));
  }
  h.jobs = n_jobs;
  h.block_rows = block_rows;
  return h;
}

// The state arrays of one lazy SGD solver, checked against h; their arrays are
// appended to written.
cpu::LazySgdState sgd_state(const cpu::LazySgdHyper& h, py::handle coef, py::handle l1_applied,
                            py::handle state1, py::handle state2, py::handle average_offset,
                            py::handle globals, py::handle t, std::int64_t num_features,
                            std::vector<py::array>& written) {
  cpu::LazySgdState s;
  s.num_features = num_features;
  s.coef = state_arg("coef", coef, num_features, written);
  const bool uses_s1 = h.method != cpu::OnlineMethod::sgd;
  const bool uses_s2 = h.method == cpu::OnlineMethod::adam;
  if (h.l1 > 0.0 && l1_applied.is_none()) {
    throw py::value_error("l1_applied: expected an array when l1 > 0, got None");
  }
  if (uses_s1 && state1.is_none()) {
    throw py::value_error("state1: expected an array for this method, got None");
  }
  if (uses_s2 && state2.is_none()) {
    throw py::value_error("state2: expected an array for adam, got None");
  }
  if (h.average_start > 0 && average_offset.is_none()) {
    throw py::value_error("average_offset: expected an array when averaging, got None");
  }
  s.l1_applied = h.l1 > 0.0 ? state_arg("l1_applied", l1_applied, num_features, written) : nullptr;
  s.state1 = uses_s1 ? state_arg("state1", state1, num_features, written) : nullptr;
  s.state2 = uses_s2 ? state_arg("state2", state2, num_features, written) : nullptr;
  s.average_offset = h.average_start > 0
                         ? state_arg("average_offset", average_offset, num_features, written)
                         : nullptr;
  s.globals = state_arg("globals", globals, cpu::kNumLazySgdGlobals, written);
  s.t = step_arg(t, written);
  if (!(s.globals[cpu::kScale] > 0.0) || !std::isfinite(s.globals[cpu::kScale])) {
    throw py::value_error("globals[0]: expected a finite scale > 0, got " +
                          std::to_string(s.globals[cpu::kScale]));
  }
  return s;
}

double lazy_sgd_pass(py::handle data, py::handle indices, py::handle indptr, py::handle y,
                     py::handle sample_weight, py::handle order, py::handle coef,
                     py::handle l1_applied, py::handle state1, py::handle state2,
                     py::handle average_offset, py::handle globals, py::handle t, int loss,
                     int method, int learning_rate, double power_t, double optimal_t0,
                     double alpha, double l1, double l2, double momentum, double beta1,
                     double beta2, double eps, double epsilon, bool fit_intercept,
                     std::int64_t average_start, double intercept_decay, bool compute_loss,
                     int n_jobs, std::int64_t block_rows) {
  const cpu::LazySgdHyper h =
      sgd_hyper(loss, method, learning_rate, power_t, optimal_t0, alpha, l1, l2, momentum, beta1,
                beta2, eps, epsilon, fit_intercept, average_start, intercept_decay,
                compute_loss, n_jobs, block_rows);
  py::array coef_any = vector_arg("coef", coef, py::dtype::of<double>(), -1, true);
  const std::int64_t num_features = coef_any.shape(0);
  RowsArgs rows = gather_rows(data, indices, indptr, y, sample_weight, order, num_features);
  std::vector<py::array> written;
  const cpu::LazySgdState s = sgd_state(h, coef, l1_applied, state1, state2, average_offset,
                                        globals, t, num_features, written);
  check_separate(rows.keep, written);
  py::gil_scoped_release release;
  return cpu::kernels().lazy_sgd_pass(rows.rows, h, s);
}

// Rows shared by several outputs: one CsrRows per row of the (count, n)
// target matrix Y, all pointing at the same checked X, order and weights.
std::vector<cpu::CsrRows> rows_per_output(RowsArgs& rows, py::handle Y, std::int64_t count) {
  if (!py::isinstance<py::array>(Y)) {
    throw py::type_error("Y: expected a numpy.ndarray, got " + describe(Y));
  }
  py::array y_arr = py::reinterpret_borrow<py::array>(Y);
  if (!y_arr.dtype().equal(py::dtype::of<double>())) {
    throw py::type_error("Y: expected dtype float64, got " + describe(Y));
  }
  if (y_arr.ndim() != 2 || y_arr.shape(0) != count || y_arr.shape(1) != rows.rows.num_rows) {
    throw py::value_error("Y: expected shape (" + std::to_string(count) + ", " +
                          std::to_string(rows.rows.num_rows) + "), got " + shape_text(y_arr));
  }
  if (!(y_arr.flags() & py::array::c_style)) {
    throw py::value_error("Y: expected a C-contiguous array");
  }
  rows.keep.push_back(y_arr);
  std::vector<cpu::CsrRows> out(static_cast<std::size_t>(count), rows.rows);
  const auto* base = static_cast<const double*>(y_arr.data());
  for (std::int64_t k = 0; k < count; ++k) {
    out[static_cast<std::size_t>(k)].y = base + k * rows.rows.num_rows;
  }
  return out;
}

std::vector<py::tuple> state_tuples(const char* name, py::handle states, std::size_t size) {
  if (!py::isinstance<py::sequence>(states) || py::isinstance<py::str>(states)) {
    throw py::type_error(std::string(name) + ": expected a sequence of tuples, got " +
                         describe(states));
  }
  std::vector<py::tuple> out;
  py::sequence seq = py::reinterpret_borrow<py::sequence>(states);
  for (std::size_t k = 0; k < seq.size(); ++k) {
    py::object item = seq[k];
    if (!py::isinstance<py::tuple>(item) || py::len(item) != size) {
      throw py::type_error(std::string(name) + "[" + std::to_string(k) + "]: expected a tuple of " +
                           std::to_string(size) + " arrays, got " + describe(item));
    }
    out.push_back(py::reinterpret_borrow<py::tuple>(item));
  }
  if (out.empty()) throw py::value_error(std::string(name) + ": expected at least one state");
  return out;
}

// Checks Y (one row of targets per state) and gathers the rows of X, with the first row of Y
// standing in for y while X, order and weights are checked.
RowsArgs gather_rows_many(py::handle data, py::handle indices, py::handle indptr, py::handle Y,
                          py::handle sample_weight, py::handle order, std::int64_t num_features,
                          std::int64_t count, bool check = true) {
  if (!py::isinstance<py::array>(Y) || py::reinterpret_borrow<py::array>(Y).ndim() != 2 ||
      py::reinterpret_borrow<py::array>(Y).shape(0) != count) {
    throw py::value_error("Y: expected a 2-D float64 array with one row per state (" +
                          std::to_string(count) + ")");
  }
  py::object first_y = py::reinterpret_borrow<py::object>(Y)[py::int_(0)];
  return gather_rows(data, indices, indptr, first_y, sample_weight, order, num_features, check);
}

// Runs pass() over rows that gather_rows left unchecked. When the written
// state is small against X, every row is checked by the pass before it is
// read (LazySgdHyper::checked), which costs less than the separate pass of
// check_rows: on a9a (451,592 stored values, 123 features) that pass took
// about 0.2 ms of a 1.2 ms partial_fit. The state is copied first, and a bad
// row restores it before check_rows raises the error that names the row.
// Otherwise check_rows runs first. pass(checked) returns whether the pass
// found a bad row. Used by the lazy SGD and FTRL passes of the estimators.
template <typename Pass>
void run_checked_passes(const cpu::CsrRows& rows, std::int64_t num_features,
                        const std::vector<py::array>& written, Pass&& pass) {
  std::int64_t state_elements = 0;
  for (const py::array& a : written) state_elements += static_cast<std::int64_t>(a.size());
  // NOTE: the factor of 8 stored entries per state element is an estimate:
  // copying an element reads and writes 16 bytes where the check pass reads
  // 12 per entry (int32 index, float64 value), so the copy stays well below it.
  // A row-by-row check reads only the entries that some row delimits, so the
  // offsets must span every stored entry, as check_rows requires.
  auto offset = [&](std::int64_t r) -> std::int64_t {
    if (rows.index64) return static_cast<const std::int64_t*>(rows.indptr)[r];
    return static_cast<const std::int32_t*>(rows.indptr)[r];
  };
  const bool checked = rows.order == nullptr &&
                       num_features < cpu::kPrefetchMinFeatures &&
                       state_elements * 8 <= rows.nnz && offset(0) == 0 &&
                       offset(rows.num_rows) == rows.nnz;
  if (!checked) {
    check_rows(rows, rows.nnz, num_features);
    pass(false);
    return;
  }
  std::vector<std::vector<char>> saved;
  for (const py::array& a : written) {
    const auto* bytes = static_cast<const char*>(a.data());
    saved.emplace_back(bytes, bytes + a.nbytes());
  }
  if (!pass(true)) return;
  for (std::size_t k = 0; k < written.size(); ++k) {
    py::array a = written[k];
    std::memcpy(a.mutable_data(), saved[k].data(), saved[k].size());
  }
  check_rows(rows, rows.nnz, num_features);
  throw py::value_error("X: a row failed its check during the pass but passed the check "
                        "after it; X must not change while fastopt reads it");
}

py::array_t<double> lazy_sgd_pass_many(
    py::handle data, py::handle indices, py::handle indptr, py::handle Y,
    py::handle sample_weight, py::handle order, py::handle states, int loss, int method,
    int learning_rate, double power_t, double optimal_t0, double alpha, double l1, double l2,
    double momentum, double beta1, double beta2, double eps, double epsilon, bool fit_intercept,
    std::int64_t average_start, double intercept_decay, bool compute_loss, int n_jobs,
    std::int64_t block_rows) {
  const cpu::LazySgdHyper h =
      sgd_hyper(loss, method, learning_rate, power_t, optimal_t0, alpha, l1, l2, momentum, beta1,
                beta2, eps, epsilon, fit_intercept, average_start, intercept_decay,
                compute_loss, n_jobs, block_rows);
  const std::vector<py::tuple> tuples = state_tuples("states", states, 7);
  const std::int64_t count = static_cast<std::int64_t>(tuples.size());
  py::array coef_any = vector_arg("coef", tuples[0][0], py::dtype::of<double>(), -1, true);
  const std::int64_t num_features = coef_any.shape(0);
  RowsArgs rows = gather_rows_many(data, indices, indptr, Y, sample_weight, order, num_features,
                                   count, false);
  std::vector<cpu::CsrRows> per_output = rows_per_output(rows, Y, count);
  std::vector<py::array> written;
  std::vector<cpu::LazySgdState> s;
  for (const py::tuple& st : tuples) {
    s.push_back(sgd_state(h, st[0], st[1], st[2], st[3], st[4], st[5], st[6], num_features,
                          written));
  }
  check_separate(rows.keep, written);
  py::array_t<double> losses(count);
  double* out = losses.mutable_data();
  const int threads = cpu::get_num_threads();
  std::unique_ptr<bool[]> invalid(new bool[static_cast<std::size_t>(count)]());
  for (std::int64_t k = 0; k < count; ++k) s[static_cast<std::size_t>(k)].invalid = &invalid[k];
  run_checked_passes(rows.rows, num_features, written, [&](bool checked) {
    cpu::LazySgdHyper hk = h;
    hk.checked = checked;
    py::gil_scoped_release release;
    cpu::kernels().lazy_sgd_pass_many(per_output.data(), hk, s.data(), count, out, threads);
    return std::any_of(invalid.get(), invalid.get() + count, [](bool b) { return b; });
  });
  return losses;
}

cpu::FtrlHyper ftrl_hyper(int loss, double alpha, double beta, double l1, double l2,
                          double epsilon, bool fit_intercept, bool compute_loss) {
  cpu::FtrlHyper h;
  h.loss = enum_arg<cpu::OnlineLoss>("loss", loss, 4);
  for (auto [name, x] : {std::pair<const char*, double>{"alpha", alpha}, {"beta", beta},
                         {"l1", l1}, {"l2", l2}, {"epsilon", epsilon}}) {
    check_finite(name, x);
  }
  if (!(alpha > 0.0) || beta < 0.0 || l1 < 0.0 || l2 < 0.0) {
    throw py::value_error("alpha, beta, l1, l2: expected alpha > 0 and the others >= 0, got " +
                          std::to_string(alpha) + ", " + std::to_string(beta) + ", " +
                          std::to_string(l1) + ", " + std::to_string(l2));
  }
  h.alpha = alpha;
  h.beta = beta;
  h.l1 = l1;
  h.l2 = l2;
  h.epsilon = epsilon;
  h.fit_intercept = fit_intercept;
  h.compute_loss = compute_loss;
  return h;
}

cpu::FtrlState ftrl_state(py::handle z, py::handle n, py::handle globals, py::handle t,
                          std::int64_t num_features, std::vector<py::array>& written) {
  cpu::FtrlState s;
  s.num_features = num_features;
  s.z = state_arg("z", z, num_features, written);
  s.n = state_arg("n", n, num_features, written);
  s.globals = state_arg("globals", globals, cpu::kNumFtrlGlobals, written);
  s.t = step_arg(t, written);
  return s;
}

double ftrl_pass(py::handle data, py::handle indices, py::handle indptr, py::handle y,
                 py::handle sample_weight, py::handle order, py::handle z, py::handle n,
                 py::handle globals, py::handle t, int loss, double alpha, double beta,
                 double l1, double l2, double epsilon, bool fit_intercept, bool compute_loss) {
  const cpu::FtrlHyper h =
      ftrl_hyper(loss, alpha, beta, l1, l2, epsilon, fit_intercept, compute_loss);
  py::array z_any = vector_arg("z", z, py::dtype::of<double>(), -1, true);
  const std::int64_t num_features = z_any.shape(0);
  RowsArgs rows = gather_rows(data, indices, indptr, y, sample_weight, order, num_features);
  std::vector<py::array> written;
  const cpu::FtrlState s = ftrl_state(z, n, globals, t, num_features, written);
  check_separate(rows.keep, written);
  py::gil_scoped_release release;
  return cpu::kernels().ftrl_pass(rows.rows, h, s);
}

py::array_t<double> ftrl_pass_many(py::handle data, py::handle indices, py::handle indptr,
                                   py::handle Y, py::handle sample_weight, py::handle order,
                                   py::handle states, int loss, double alpha, double beta,
                                   double l1, double l2, double epsilon, bool fit_intercept, bool compute_loss) {
  const cpu::FtrlHyper h =
      ftrl_hyper(loss, alpha, beta, l1, l2, epsilon, fit_intercept, compute_loss);
  const std::vector<py::tuple> tuples = state_tuples("states", states, 4);
  const std::int64_t count = static_cast<std::int64_t>(tuples.size());
  py::array z_any = vector_arg("z", tuples[0][0], py::dtype::of<double>(), -1, true);
  const std::int64_t num_features = z_any.shape(0);
  RowsArgs rows = gather_rows_many(data, indices, indptr, Y, sample_weight, order, num_features,
                                   count, false);
  std::vector<cpu::CsrRows> per_output = rows_per_output(rows, Y, count);
  std::vector<py::array> written;
  std::vector<cpu::FtrlState> s;
  for (const py::tuple& st : tuples) {
    s.push_back(ftrl_state(st[0], st[1], st[2], st[3], num_features, written));
  }
  check_separate(rows.keep, written);
  py::array_t<double> losses(count);
  double* out = losses.mutable_data();
  const int threads = cpu::get_num_threads();
  std::unique_ptr<bool[]> invalid(new bool[static_cast<std::size_t>(count)]());
  for (std::int64_t k = 0; k < count; ++k) s[static_cast<std::size_t>(k)].invalid = &invalid[k];
  run_checked_passes(rows.rows, num_features, written, [&](bool checked) {
    cpu::FtrlHyper hk = h;
    hk.checked = checked;
    py::gil_scoped_release release;
    cpu::kernels().ftrl_pass_many(per_output.data(), hk, s.data(), count, out, threads);
    return std::any_of(invalid.get(), invalid.get() + count, [](bool b) { return b; });
  });
  return losses;
}

}  // namespace

void bind_online(py::module_& m) {
  using namespace py::literals;
  m.def("lazy_sgd_pass", &lazy_sgd_pass, "data"_a, "indices"_a, "indptr"_a, "y"_a,
        "sample_weight"_a, "order"_a, "coef"_a, "l1_applied"_a, "state1"_a, "state2"_a,
        "average_offset"_a, "globals"_a, "t"_a, py::kw_only(), "loss"_a, "method"_a,
        "learning_rate"_a, "power_t"_a, "optimal_t0"_a, "alpha"_a, "l1"_a, "l2"_a,
        "momentum"_a, "beta1"_a, "beta2"_a, "eps"_a, "epsilon"_a, "fit_intercept"_a,
        "average_start"_a, "intercept_decay"_a = 1.0, "compute_loss"_a = true,
        "n_jobs"_a = 1, "block_rows"_a = 1024,
        "One lazy SGD/Adagrad/Adam pass over CSR rows in the given order (None: every row in "
        "turn), updating the state in place; returns the sum of the losses measured before each row's update (with compute_loss=False: 0, or NaN when a margin was not finite). n_jobs > 1 runs plain SGD in blocks of block_rows visits split into n_jobs parts that start from the block's model, with results that depend on n_jobs and block_rows only.");
  m.def("ftrl_pass", &ftrl_pass, "data"_a, "indices"_a, "indptr"_a, "y"_a, "sample_weight"_a,
        "order"_a, "z"_a, "n"_a, "globals"_a, "t"_a, py::kw_only(), "loss"_a, "alpha"_a,
        "beta"_a, "l1"_a, "l2"_a, "epsilon"_a, "fit_intercept"_a, "compute_loss"_a = true,
        "One FTRL-Proximal pass over CSR rows in the given order (None: every row in turn), "
        "updating (z, n) in place; "
        "returns the sum of the losses measured before each row's update (with compute_loss=False: 0, or NaN when a margin was not finite).");
  m.def("lazy_sgd_pass_many", &lazy_sgd_pass_many, "data"_a, "indices"_a, "indptr"_a, "Y"_a,
        "sample_weight"_a, "order"_a, "states"_a, py::kw_only(), "loss"_a, "method"_a,
        "learning_rate"_a, "power_t"_a, "optimal_t0"_a, "alpha"_a, "l1"_a, "l2"_a,
        "momentum"_a, "beta1"_a, "beta2"_a, "eps"_a, "epsilon"_a, "fit_intercept"_a,
        "average_start"_a, "intercept_decay"_a = 1.0, "compute_loss"_a = true,
        "n_jobs"_a = 1, "block_rows"_a = 1024,
        "lazy_sgd_pass for several independent solvers with the same settings over the same "
        "rows: Y[k] holds the targets of states[k], a tuple (coef, l1_applied, state1, "
        "state2, average_offset, globals, t). The solvers run in parallel over fastopt's "
        "threads (with n_jobs > 1 and several solvers, each thread runs every part of its "
        "solvers' blocks); each result equals its "
        "single-solver pass. Returns the loss sums.");
  m.def("ftrl_pass_many", &ftrl_pass_many, "data"_a, "indices"_a, "indptr"_a, "Y"_a,
        "sample_weight"_a, "order"_a, "states"_a, py::kw_only(), "loss"_a, "alpha"_a,
        "beta"_a, "l1"_a, "l2"_a, "epsilon"_a, "fit_intercept"_a, "compute_loss"_a = true,
        "ftrl_pass for several independent solvers with the same settings over the same rows: "
        "Y[k] holds the targets of states[k], a tuple (z, n, globals, t). The solvers run in "
        "parallel over fastopt's threads; each result equals its single-solver pass. Returns "
        "the loss sums.");
  m.attr("lazy_sgd_num_globals") = static_cast<int>(cpu::kNumLazySgdGlobals);
  m.attr("ftrl_num_globals") = static_cast<int>(cpu::kNumFtrlGlobals);
}

}  // namespace fastopt::bindings
