// Binding of the newton-cd GLM solver. fastopt.linear_model._newton_cd
// converts the user's X to CSC or Fortran order and owns w; this layer checks
// every array again with the GIL held, before the kernel writes anything,
// then releases the GIL for the solve. A hook reacquires it once per outer
// iteration to run the Python callback and to check for KeyboardInterrupt.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/threads.hpp"
#include "sparse/transpose.hpp"

namespace fastopt::bindings {
namespace {

using cpu::DType;
using cpu::IndexType;

std::string repr(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

std::string shape_text(const py::array& a) {
  return py::str(a.attr("shape")).cast<std::string>();
}

py::array as_array(const char* name, py::handle obj) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  return py::reinterpret_borrow<py::array>(obj);
}

// A C-contiguous 1-D float64 array of length n.
py::array float64_vector(const char* name, py::handle obj, py::ssize_t n, bool write) {
  py::array a = as_array(name, obj);
  if (!a.dtype().equal(py::dtype::of<double>())) {
    throw py::type_error(std::string(name) + ": expected dtype float64, got " + describe(obj));
  }
  if (a.ndim() != 1 || a.shape(0) != n) {
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(n) +
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

void check_finite_values(const char* name, const double* v, py::ssize_t n) {
  for (py::ssize_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      throw py::value_error(std::string(name) + "[" + std::to_string(i) +
                            "]: expected a finite value, got " + repr(v[i]));
    }
  }
}

template <typename T>
void check_finite_data(const T* v, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k) {
    if (!std::isfinite(v[k])) {
      throw py::value_error("X_data[" + std::to_string(k) + "]: expected a finite value, got " +
                            repr(static_cast<double>(v[k])));
    }
  }
}

// indptr must start at 0, never decrease and end at nnz; every row index
// must lie in [0, num_samples).
template <typename I>
void check_csc(const I* indices, const I* indptr, std::int64_t num_features,
               std::int64_t num_samples, std::int64_t nnz) {
  if (indptr[0] != 0) {
    throw py::value_error("X_indptr[0]: expected 0, got " + std::to_string(indptr[0]));
  }
  for (std::int64_t j = 0; j < num_features; ++j) {
    if (indptr[j + 1] < indptr[j]) {
      throw py::value_error("X_indptr[" + std::to_string(j + 1) + "]: expected >= " +
                            std::to_string(indptr[j]) + " (non-decreasing), got " +
                            std::to_string(indptr[j + 1]));
    }
  }
  if (static_cast<std::int64_t>(indptr[num_features]) != nnz) {
    throw py::value_error("X_indptr[-1]: expected the number of stored entries " +
                          std::to_string(nnz) + ", got " + std::to_string(indptr[num_features]));
  }
  for (std::int64_t k = 0; k < nnz; ++k) {
    if (indices[k] < 0 || static_cast<std::int64_t>(indices[k]) >= num_samples) {
      throw py::value_error("X_indices[" + std::to_string(k) + "]: expected a row index in [0, " +
                            std::to_string(num_samples) + "), got " + std::to_string(indices[k]));
    }
  }
}

glm::Loss loss_of(const std::string& loss) {
  if (loss == "logistic") return glm::Loss::logistic;
  if (loss == "squared") return glm::Loss::squared;
  if (loss == "huber") return glm::Loss::huber;
  throw py::value_error("loss: expected 'logistic', 'squared' or 'huber', got '" + loss + "'");
}

const char* status_name(cpu::NewtonCdStatus status) {
  switch (status) {
    case cpu::NewtonCdStatus::converged: return "converged";
    case cpu::NewtonCdStatus::max_iter: return "max_iter";
    case cpu::NewtonCdStatus::stopped: return "stopped";
    case cpu::NewtonCdStatus::line_search_failed: return "line_search_failed";
    default: return "non_finite";
  }
}

// State of the hook: the Python callback (or None). A Python error raised
// in the hook is restored as the thread's error indicator and re-raised once
// the kernel has returned.
struct HookState {
  py::object callback;
};

bool run_hook(void* context, const double* w, std::int64_t size) {
  auto* state = static_cast<HookState*>(context);
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) return true;  // KeyboardInterrupt is now pending
  if (state->callback.is_none()) return false;
  try {
    // A fresh array per call, so the callback may keep it.
    py::array_t<double> copy(static_cast<py::ssize_t>(size));
    std::memcpy(copy.mutable_data(), w, static_cast<std::size_t>(size) * sizeof(double));
    py::object answer = state->callback(copy);
    const int truth = PyObject_IsTrue(answer.ptr());
    if (truth < 0) throw py::error_already_set();
    return truth != 0;
  } catch (py::error_already_set& e) {
    e.restore();
    return true;
  }
}

py::dict newton_cd(py::handle X_data, py::handle X_indices, py::handle X_indptr,
                   std::int64_t num_samples, std::int64_t num_features, py::handle y,
                   py::handle sample_weight, py::handle w, const std::string& loss, double alpha,
                   double l1_ratio, bool fit_intercept, double huber_delta, double tol,
                   std::int64_t max_iter, py::object callback) {
  cpu::NewtonCdArgs args;
  args.loss = loss_of(loss);
  if (num_samples < 1 || num_features < 0) {
    throw py::value_error("X: expected at least 1 sample and 0 or more features, got shape (" +
                          std::to_string(num_samples) + ", " + std::to_string(num_features) + ")");
  }
  if (!(alpha >= 0.0) || !std::isfinite(alpha)) {
    throw py::value_error("alpha: expected a finite value >= 0, got " + repr(alpha));
  }
  if (!(l1_ratio >= 0.0 && l1_ratio <= 1.0)) {
    throw py::value_error("l1_ratio: expected a value in [0, 1], got " + repr(l1_ratio));
  }
  if (!(huber_delta > 0.0) || !std::isfinite(huber_delta)) {
    throw py::value_error("huber_delta: expected a finite value > 0, got " + repr(huber_delta));
  }
  if (!(tol >= 0.0) || !std::isfinite(tol)) {
    throw py::value_error("tol: expected a finite value >= 0, got " + repr(tol));
  }
  if (max_iter < 0) {
    throw py::value_error("max_iter: expected an int >= 0, got " + std::to_string(max_iter));
  }
  if (!callback.is_none() && !PyCallable_Check(callback.ptr())) {
    throw py::type_error("callback: expected a callable or None, got " + describe(callback));
  }

  // X: dense Fortran-order (indices and indptr None) or CSC arrays.
  py::array data = as_array("X_data", X_data);
  DType dtype;
  if (data.dtype().equal(py::dtype::of<float>())) {
    dtype = DType::float32;
  } else if (data.dtype().equal(py::dtype::of<double>())) {
    dtype = DType::float64;
  } else {
    throw py::type_error("X_data: expected dtype float32 or float64, got " + describe(X_data));
  }
  cpu::ColumnMatrix& X = args.X;
  X.num_samples = num_samples;
  X.num_features = num_features;
  X.dtype = dtype;
  X.data = data.data();
  py::array indices, indptr;
  std::int64_t stored = 0;
  if (X_indices.is_none() != X_indptr.is_none()) {
    throw py::value_error("X_indices, X_indptr: expected both arrays (CSC) or both None (dense)");
  }
  if (X_indices.is_none()) {
    if (data.ndim() != 2 || data.shape(0) != num_samples || data.shape(1) != num_features) {
      throw py::value_error("X_data: expected a dense array of shape (" +
                            std::to_string(num_samples) + ", " + std::to_string(num_features) +
                            "), got " + shape_text(data));
    }
    if (!(data.flags() & py::array::f_style)) {
      throw py::value_error("X_data: expected a Fortran-contiguous (column-major) array");
    }
    X.sparse = false;
    stored = num_samples * num_features;
  } else {
    indices = as_array("X_indices", X_indices);
    indptr = as_array("X_indptr", X_indptr);
    const bool idx32 = indices.dtype().equal(py::dtype::of<std::int32_t>());
    const bool idx64 = indices.dtype().equal(py::dtype::of<std::int64_t>());
    if (!(idx32 || idx64)) {
      throw py::type_error("X_indices: expected dtype int32 or int64, got " +
                           describe(X_indices));
    }
    if (!indptr.dtype().equal(indices.dtype())) {
      throw py::type_error("X_indptr: expected the dtype of X_indices (" +
                           py::str(indices.dtype()).cast<std::string>() + "), got " +
                           describe(X_indptr));
    }
    for (const auto& [name, a] : {std::pair<const char*, py::array*>{"X_data", &data},
                                  {"X_indices", &indices}, {"X_indptr", &indptr}}) {
      if (a->ndim() != 1 || !(a->flags() & py::array::c_style)) {
        throw py::value_error(std::string(name) + ": expected a contiguous 1-D array, got shape " +
                              shape_text(*a));
      }
    }
    if (indptr.shape(0) != num_features + 1) {
      throw py::value_error("X_indptr: expected shape (" + std::to_string(num_features + 1) +
                            ",), got " + shape_text(indptr));
    }
    stored = data.shape(0);
    if (indices.shape(0) != stored) {
      throw py::value_error("X_indices: expected the length of X_data (" +
                            std::to_string(stored) + "), got shape " + shape_text(indices));
    }
    X.sparse = true;
    X.index_type = idx32 ? IndexType::int32 : IndexType::int64;
    X.indices = indices.data();
    X.indptr = indptr.data();
    if (idx32) {
      check_csc(static_cast<const std::int32_t*>(X.indices),
                static_cast<const std::int32_t*>(X.indptr), num_features, num_samples, stored);
    } else {
      check_csc(static_cast<const std::int64_t*>(X.indices),
                static_cast<const std::int64_t*>(X.indptr), num_features, num_samples, stored);
    }
  }
  if (dtype == DType::float32) {
    check_finite_data(static_cast<const float*>(X.data), stored);
  } else {
    check_finite_data(static_cast<const double*>(X.data), stored);
  }

  py::array y_arr = float64_vector("y", y, num_samples, false);
  const double* y_ptr = static_cast<const double*>(y_arr.data());
  check_finite_values("y", y_ptr, num_samples);
  if (args.loss == glm::Loss::logistic) {
    for (std::int64_t i = 0; i < num_samples; ++i) {
      if (y_ptr[i] != 1.0 && y_ptr[i] != -1.0) {
        throw py::value_error("y[" + std::to_string(i) +
                              "]: expected a label in {-1, +1} for the logistic loss, got " +
                              repr(y_ptr[i]));
      }
    }
  }
  args.y = y_ptr;

  py::array sw_arr;
  args.weight_scale = 1.0 / static_cast<double>(num_samples);
  if (!sample_weight.is_none()) {
    sw_arr = float64_vector("sample_weight", sample_weight, num_samples, false);
    const double* s = static_cast<const double*>(sw_arr.data());
    check_finite_values("sample_weight", s, num_samples);
    double total = 0.0;
    for (std::int64_t i = 0; i < num_samples; ++i) {
      if (s[i] < 0.0) {
        throw py::value_error("sample_weight[" + std::to_string(i) +
                              "]: expected a value >= 0, got " + repr(s[i]));
      }
      total += s[i];
    }
    if (!(total > 0.0) || !std::isfinite(total)) {
      throw py::value_error("sample_weight: expected a positive finite sum, got " + repr(total));
    }
    args.sample_weight = s;
    args.weight_scale = 1.0 / total;
  }

  const py::ssize_t num_params = num_features + (fit_intercept ? 1 : 0);
  py::array w_arr = float64_vector("w", w, num_params, true);
  check_finite_values("w", static_cast<const double*>(w_arr.data()), num_params);
  // w is the only array written; it must not alias an input.
  const auto lo = reinterpret_cast<std::uintptr_t>(w_arr.data());
  const auto hi = lo + static_cast<std::uintptr_t>(w_arr.nbytes());
  for (const auto& [name, a] : {std::pair<const char*, const py::array*>{"X_data", &data},
                                {"X_indices", &indices}, {"X_indptr", &indptr},
                                {"y", &y_arr}, {"sample_weight", &sw_arr}}) {
    if (!a->ptr() || a->nbytes() == 0) continue;
    const auto a_lo = reinterpret_cast<std::uintptr_t>(a->data());
    const auto a_hi = a_lo + static_cast<std::uintptr_t>(a->nbytes());
    if (lo < a_hi && a_lo < hi && lo != hi) {
      throw py::value_error(std::string("w and ") + name +
                            " share memory; w is written and must be a separate buffer "
                            "(pass a copy)");
    }
  }

  args.huber_delta = huber_delta;
  args.alpha = alpha;
  args.l1_ratio = l1_ratio;
  args.fit_intercept = fit_intercept;
  args.tol = tol;
  args.max_iter = max_iter;
  args.w = static_cast<double*>(w_arr.mutable_data());
  args.num_threads = cpu::get_num_threads();
  HookState state{callback};
  args.hook = &run_hook;
  args.hook_context = &state;

  cpu::NewtonCdResult result;
  {
    py::gil_scoped_release release;
    result = cpu::kernels().newton_cd(args);
  }
  // An exception from the callback, or a KeyboardInterrupt, stopped the solve.
  if (PyErr_Occurred() != nullptr) throw py::error_already_set();

  py::dict out;
  out["n_iter"] = result.n_iter;
  out["violation"] = result.violation;
  out["violation0"] = result.violation0;
  out["objective"] = result.objective;
  out["converged"] = result.status == cpu::NewtonCdStatus::converged;
  out["status"] = status_name(result.status);
  return out;
}

double newton_cd_violation(py::handle grad_smooth, py::handle w, double alpha, double l1_ratio,
                           std::int64_t num_coef) {
  py::array g_arr = as_array("grad_smooth", grad_smooth);
  const py::ssize_t size = g_arr.ndim() == 1 ? g_arr.shape(0) : -1;
  float64_vector("grad_smooth", grad_smooth, size, false);
  py::array w_arr = float64_vector("w", w, size, false);
  if (num_coef < 0 || num_coef > size) {
    throw py::value_error("num_coef: expected a value in [0, " + std::to_string(size) +
                          "], got " + std::to_string(num_coef));
  }
  const double* g = static_cast<const double*>(g_arr.data());
  const double* x = static_cast<const double*>(w_arr.data());
  const double a1 = alpha * l1_ratio;
  double worst = 0.0;
  for (py::ssize_t j = 0; j < size; ++j) {
    const double v = j < num_coef ? cpu::coordinate_violation(g[j], x[j], a1) : std::abs(g[j]);
    worst = (v > worst || std::isnan(v)) ? v : worst;
  }
  return worst;
}

bool overlaps(const py::array& a, const py::array& b) {
  if (a.nbytes() == 0 || b.nbytes() == 0) return false;
  const auto alo = reinterpret_cast<std::uintptr_t>(a.data());
  const auto blo = reinterpret_cast<std::uintptr_t>(b.data());
  return alo < blo + static_cast<std::uintptr_t>(b.nbytes()) &&
         blo < alo + static_cast<std::uintptr_t>(a.nbytes());
}

// Coordinate descent on the dense quadratic model of the Gram path of newton-cd.
py::tuple gram_cd(py::handle H, py::handle q, py::handle w, py::handle step, py::handle hd,
                  double a1, double a2, double tol, std::int64_t max_passes) {
  py::array q_arr = as_array("q", q);
  const py::ssize_t m = q_arr.ndim() == 1 ? q_arr.shape(0) : -1;
  q_arr = float64_vector("q", q, m, false);
  py::array h_arr = as_array("H", H);
  if (!h_arr.dtype().equal(py::dtype::of<double>()) || h_arr.ndim() != 2 ||
      h_arr.shape(0) != m || h_arr.shape(1) != m || !(h_arr.flags() & py::array::c_style)) {
    throw py::value_error("H: expected a C-contiguous float64 array of shape (" +
                          std::to_string(m) + ", " + std::to_string(m) + "), got " +
                          describe(H));
  }
  py::array w_arr = float64_vector("w", w, m, false);
  py::array step_arr = float64_vector("step", step, m, true);
  py::array hd_arr = float64_vector("hd", hd, m, true);
  const std::pair<const char*, const py::array*> all[] = {
      {"H", &h_arr}, {"q", &q_arr}, {"w", &w_arr}, {"step", &step_arr}, {"hd", &hd_arr}};
  for (const auto& written : {all[3], all[4]}) {
    for (const auto& other : all) {
      if (other.second != written.second && overlaps(*written.second, *other.second)) {
        throw py::value_error(std::string(written.first) + " and " + other.first +
                              " share memory; the kernel writes " + written.first);
      }
    }
  }
  if (!(a1 >= 0.0) || !std::isfinite(a1)) {
    throw py::value_error("a1: expected a finite value >= 0, got " + repr(a1));
  }
  if (!(a2 >= 0.0) || !std::isfinite(a2)) {
    throw py::value_error("a2: expected a finite value >= 0, got " + repr(a2));
  }
  if (!(tol >= 0.0)) throw py::value_error("tol: expected a value >= 0, got " + repr(tol));
  if (max_passes < 1) {
    throw py::value_error("max_passes: expected an int >= 1, got " + std::to_string(max_passes));
  }
  cpu::GramCdArgs args;
  args.m = m;
  args.H = static_cast<const double*>(h_arr.data());
  args.q = static_cast<const double*>(q_arr.data());
  args.w = static_cast<const double*>(w_arr.data());
  args.a1 = a1;
  args.a2 = a2;
  args.tol = tol;
  args.max_passes = max_passes;
  args.step = static_cast<double*>(step_arr.mutable_data());
  args.hd = static_cast<double*>(hd_arr.mutable_data());
  cpu::GramCdResult result;
  {
    py::gil_scoped_release release;
    result = cpu::kernels().gram_cd(args);
  }
  return py::make_tuple(result.passes, result.violation);
}

// Returns `a` as a C-contiguous float64 square array, or raises ValueError
// naming it.
py::array square_matrix(const char* name, py::handle a, bool writable) {
  py::array arr = as_array(name, a);
  const bool square = arr.ndim() == 2 && arr.shape(0) == arr.shape(1);
  if (!arr.dtype().equal(py::dtype::of<double>()) || !square ||
      !(arr.flags() & py::array::c_style) || (writable && !arr.writeable())) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous" +
                          (writable ? " writable" : "") +
                          " float64 square array, got " + describe(a));
  }
  return arr;
}

// Cholesky factorization in place: A (m, m), symmetric, becomes U with A = U^T U.
bool cholesky(py::handle A) {
  py::array a_arr = square_matrix("A", A, true);
  const std::int64_t m = a_arr.shape(0);
  double* a = static_cast<double*>(a_arr.mutable_data());
  py::gil_scoped_release release;
  return cpu::kernels().cholesky_factor(m, a, cpu::get_num_threads());
}

// Solves U^T U x = b in place of b.
void cholesky_solve(py::handle U, py::handle b) {
  py::array u_arr = square_matrix("U", U, false);
  const py::ssize_t m = u_arr.shape(0);
  py::array b_arr = float64_vector("b", b, m, true);
  if (overlaps(b_arr, u_arr)) {
    throw py::value_error("b and U share memory; the kernel writes b");
  }
  const double* u = static_cast<const double*>(u_arr.data());
  double* x = static_cast<double*>(b_arr.mutable_data());
  py::gil_scoped_release release;
  cpu::kernels().cholesky_solve(m, u, x);
}

}  // namespace

namespace {

// CSC arrays of a CSR matrix, built on fastopt's threads: (data, indices,
// indptr, sorted_rows), or None when the structure is malformed, so that the
// caller falls back to scipy, which reports the fault.
template <typename T, typename I>
py::object transpose_typed(const py::array& data, const py::array& indices,
                           const py::array& indptr, std::int64_t n, std::int64_t p) {
  const auto* ptr = static_cast<const I*>(indptr.data());
  const std::int64_t stored = indices.shape(0);
  if (static_cast<std::int64_t>(ptr[n]) > stored || static_cast<std::int64_t>(ptr[n]) < 0) {
    return py::none();
  }
  const std::int64_t nnz = static_cast<std::int64_t>(ptr[n]);
  py::array_t<T> out_data(nnz);
  py::array_t<I> out_indices(nnz);
  py::array_t<I> out_indptr(p + 1);
  bool ok = false;
  bool sorted_rows = false;
  {
    py::gil_scoped_release release;
    ok = sparse::csr_to_csc(static_cast<const T*>(data.data()), static_cast<const I*>(indices.data()),
                            ptr, n, p, out_data.mutable_data(), out_indices.mutable_data(),
                            out_indptr.mutable_data(), cpu::get_num_threads(), sorted_rows);
  }
  if (!ok) return py::none();
  return py::make_tuple(out_data, out_indices, out_indptr, sorted_rows);
}

py::object csr_to_csc(py::handle data_obj, py::handle indices_obj, py::handle indptr_obj,
                      std::int64_t n_cols) {
  py::array data = as_array("data", data_obj);
  py::array indices = as_array("indices", indices_obj);
  py::array indptr = as_array("indptr", indptr_obj);
  const std::pair<const char*, const py::array*> named[] = {
      {"data", &data}, {"indices", &indices}, {"indptr", &indptr}};
  for (const auto& [name, a] : named) {
    if (a->ndim() != 1 || !(a->flags() & py::array::c_style)) {
      throw py::value_error(std::string(name) + ": expected a C-contiguous 1-D array, got shape " +
                            shape_text(*a));
    }
  }
  if (n_cols < 0) throw py::value_error("n_cols: expected >= 0, got " + std::to_string(n_cols));
  if (indptr.shape(0) < 1 || indices.shape(0) != data.shape(0)) {
    throw py::value_error("indptr, indices: expected len(indptr) >= 1 and len(indices) == "
                          "len(data), got " + std::to_string(indptr.shape(0)) + ", " +
                          std::to_string(indices.shape(0)) + " and " +
                          std::to_string(data.shape(0)));
  }
  const std::int64_t n = indptr.shape(0) - 1;
  const bool wide = indices.dtype().equal(py::dtype::of<std::int64_t>());
  if (!indices.dtype().equal(indptr.dtype()) ||
      !(wide || indices.dtype().equal(py::dtype::of<std::int32_t>()))) {
    throw py::type_error("indices, indptr: expected int32 or int64 arrays of one dtype, got " +
                         describe(indices_obj) + " and " + describe(indptr_obj));
  }
  if (data.dtype().equal(py::dtype::of<double>())) {
    return wide ? transpose_typed<double, std::int64_t>(data, indices, indptr, n, n_cols)
                : transpose_typed<double, std::int32_t>(data, indices, indptr, n, n_cols);
  }
  if (data.dtype().equal(py::dtype::of<float>())) {
    return wide ? transpose_typed<float, std::int64_t>(data, indices, indptr, n, n_cols)
                : transpose_typed<float, std::int32_t>(data, indices, indptr, n, n_cols);
  }
  throw py::type_error("data: expected dtype float32 or float64, got " + describe(data_obj));
}

}  // namespace

void bind_newton_cd(py::module_& m) {
  using namespace py::literals;
  m.def("newton_cd", &newton_cd, "X_data"_a, "X_indices"_a, "X_indptr"_a, "num_samples"_a,
        "num_features"_a, "y"_a, "sample_weight"_a, "w"_a, py::kw_only(), "loss"_a, "alpha"_a,
        "l1_ratio"_a, "fit_intercept"_a, "huber_delta"_a, "tol"_a, "max_iter"_a,
        "callback"_a = py::none(),
        "Minimize the L1 / elastic-net penalized GLM objective by working-set proximal Newton "
        "with coordinate descent, updating w (float64, coef then intercept) in place. X is CSC "
        "(X_data, X_indices, X_indptr) or a Fortran-order X_data with X_indices = X_indptr = "
        "None. Return a dict with n_iter, violation, violation0, objective, converged and "
        "status. Use fastopt.linear_model._newton_cd.newton_cd instead of calling this.");
  m.def("newton_cd_violation", &newton_cd_violation, "grad_smooth"_a, "w"_a, "alpha"_a,
        "l1_ratio"_a, "num_coef"_a,
        "Return the infinity norm of the minimum-norm subgradient, as the newton-cd kernel "
        "computes it: the first num_coef entries are penalized coefficients, the rest are "
        "intercepts.");
  m.def("csr_to_csc", &csr_to_csc, "data"_a, "indices"_a, "indptr"_a, "n_cols"_a,
        "Return the CSC arrays (data, indices, indptr, sorted_rows) of a CSR matrix, each "
        "column in row order as scipy's tocsc gives them, or None when the structure is "
        "malformed. sorted_rows: every CSR row's indices strictly increase (no duplicates).");
  m.def("cholesky", &cholesky, "A"_a,
        "Factor a symmetric positive definite float64 (m, m) C-contiguous array in place: "
        "its upper triangle becomes U with A = U^T U and the rest zeros. Returns False, with "
        "A partly overwritten, when a pivot is not positive and finite. Only the upper "
        "triangle of A is read. The result does not depend on the thread count.");
  m.def("cholesky_solve", &cholesky_solve, "U"_a, "b"_a,
        "Solve U^T U x = b for a factor U from cholesky, writing x into the float64 vector b.");
  m.def("gram_cd", &gram_cd, "H"_a, "q"_a, "w"_a, "step"_a, "hd"_a, py::kw_only(), "a1"_a,
        "a2"_a, "tol"_a, "max_passes"_a,
        "Cyclic coordinate descent on min_D q.D + D.H.D / 2 + a1 |w + D|_1 + a2/2 |w + D|^2 "
        "with a dense symmetric H (m, m): updates step (D) and hd (H D, which must equal H "
        "times the given step) in place and returns (passes, violation), the largest model "
        "violation of the last sweep over all coordinates.");
}

}  // namespace fastopt::bindings
