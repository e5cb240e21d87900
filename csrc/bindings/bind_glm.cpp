// Bindings of the GLM kernels. GlmDesign validates X once (shape, layout,
// dtypes, sparse structure, finite values) and keeps references to the
// caller's arrays, never copies; GlmProblem adds the labels, weights and loss.
// fastopt.linear_model._objective.GLMObjective is the Python interface.
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/dual_cd.hpp"
#include "cpu/glm.hpp"
#include "cpu/gram.hpp"
#include "cpu/threads.hpp"

namespace fastopt::bindings {
namespace {

using cpu::DType;
using cpu::GlmLayout;
using cpu::IndexType;

std::string shape_text(const py::array& a) { return py::str(a.attr("shape")).cast<std::string>(); }

std::string number_text(double v) {
  return py::str(py::float_(v)).cast<std::string>();
}

py::array as_array(const char* name, py::handle obj) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  return py::reinterpret_borrow<py::array>(obj);
}

// A float64, C-contiguous array of exactly `size` elements (any shape), and
// writeable when `write` is set.
py::array float64_vector(const char* name, py::handle obj, std::int64_t size, bool write) {
  py::array a = as_array(name, obj);
  if (!a.dtype().equal(py::dtype::of<double>())) {
    throw py::type_error(std::string(name) + ": expected dtype float64, got " + describe(obj));
  }
  if (static_cast<std::int64_t>(a.size()) != size) {
    throw py::value_error(std::string(name) + ": expected " + std::to_string(size) +
                          " elements, got shape " + shape_text(a));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  }
  if (write && !a.writeable()) {
    throw py::value_error(std::string(name) + ": expected a writeable array");
  }
  return a;
}

struct Span {
  const char* name;
  const py::array* array;
  bool writes;
};

// Raises if an array the kernel writes shares bytes with another argument.
void check_no_overlap(const std::vector<Span>& spans) {
  for (std::size_t i = 0; i < spans.size(); ++i) {
    for (std::size_t j = i + 1; j < spans.size(); ++j) {
      const Span& a = spans[i];
      const Span& b = spans[j];
      if (!(a.writes || b.writes) || a.array->nbytes() == 0 || b.array->nbytes() == 0) continue;
      const auto alo = reinterpret_cast<std::uintptr_t>(a.array->data());
      const auto blo = reinterpret_cast<std::uintptr_t>(b.array->data());
      const auto ahi = alo + static_cast<std::uintptr_t>(a.array->nbytes());
      const auto bhi = blo + static_cast<std::uintptr_t>(b.array->nbytes());
      if (alo < bhi && blo < ahi) {
        throw py::value_error(std::string(a.name) + " and " + b.name +
                              " share memory; every array that fastopt writes must be a "
                              "separate buffer");
      }
    }
  }
}

GlmLayout parse_layout(const std::string& name) {
  if (name == "dense_c") return GlmLayout::dense_c;
  if (name == "dense_f") return GlmLayout::dense_f;
  if (name == "csr") return GlmLayout::csr;
  if (name == "csc") return GlmLayout::csc;
  throw py::value_error("layout: expected 'dense_c', 'dense_f', 'csr' or 'csc', got '" + name +
                        "'");
}

glm::Loss parse_loss(const std::string& name) {
  if (name == "logistic") return glm::Loss::logistic;
  if (name == "squared") return glm::Loss::squared;
  if (name == "huber") return glm::Loss::huber;
  if (name == "multinomial") return glm::Loss::multinomial;
  throw py::value_error(
      "loss: expected 'logistic', 'squared', 'huber' or 'multinomial', got '" + name + "'");
}

DType value_dtype(const char* name, const py::array& a) {
  if (a.dtype().equal(py::dtype::of<float>())) return DType::float32;
  if (a.dtype().equal(py::dtype::of<double>())) return DType::float64;
  throw py::type_error(std::string(name) + ": expected dtype float32 or float64, got " +
                       py::str(a.dtype()).cast<std::string>());
}

IndexType index_dtype(const char* name, const py::array& a) {
  if (a.dtype().equal(py::dtype::of<std::int32_t>())) return IndexType::int32;
  if (a.dtype().equal(py::dtype::of<std::int64_t>())) return IndexType::int64;
  throw py::type_error(std::string(name) + ": expected dtype int32 or int64, got " +
                       py::str(a.dtype()).cast<std::string>());
}

void check_contiguous_1d(const char* name, const py::array& a) {
  if (a.ndim() != 1 || !(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a contiguous 1-D array, got shape " +
                          shape_text(a));
  }
}

// Position of the first value in x[0 .. n) that is NaN or infinite, or -1.
template <typename T>
std::int64_t first_non_finite(const T* x, std::int64_t n) {
  constexpr std::int64_t kBlock = 4096;
  for (std::int64_t lo = 0; lo < n; lo += kBlock) {
    const std::int64_t hi = std::min(n, lo + kBlock);
    // x - x is 0 for finite x and NaN otherwise. This sum vectorizes, so
    // only a block that contains a bad value is scanned element by element.
    T bad = T(0);
    for (std::int64_t i = lo; i < hi; ++i) bad += x[i] - x[i];
    if (bad == T(0)) continue;
    for (std::int64_t i = lo; i < hi; ++i)
      if (!std::isfinite(x[i])) return i;
  }
  return -1;
}

template <typename I>
void check_structure(const cpu::GlmDesign& d, const I* indptr, const I* indices,
                     std::int64_t stored) {
  const bool csr = d.layout == GlmLayout::csr;
  const std::int64_t major = csr ? d.n_rows : d.n_cols;
  const std::int64_t minor = csr ? d.n_cols : d.n_rows;
  const char* minor_name = csr ? "column" : "row";
  if (indptr[0] != 0) {
    throw py::value_error("X.indptr[0]: expected 0, got " + std::to_string(indptr[0]));
  }
  for (std::int64_t i = 0; i < major; ++i) {
    if (indptr[i + 1] < indptr[i]) {
      throw py::value_error("X.indptr[" + std::to_string(i + 1) +
                            "]: expected a non-decreasing index pointer, got " +
                            std::to_string(indptr[i + 1]) + " after " +
                            std::to_string(indptr[i]));
    }
  }
  if (static_cast<std::int64_t>(indptr[major]) > stored) {
    throw py::value_error("X.indptr[" + std::to_string(major) + "]: expected at most " +
                          std::to_string(stored) + " (the length of X.indices and X.data), got " +
                          std::to_string(indptr[major]));
  }
  const std::int64_t nnz = static_cast<std::int64_t>(indptr[major]);
  for (std::int64_t e = 0; e < nnz; ++e) {
    const std::int64_t j = static_cast<std::int64_t>(indices[e]);
    if (j < 0 || j >= minor) {
      throw py::value_error("X.indices[" + std::to_string(e) + "]: expected a " + minor_name +
                            " index in [0, " + std::to_string(minor) + "), got " +
                            std::to_string(j));
    }
  }
}

// The (row, column) of the e-th stored value of X.
template <typename I>
std::pair<std::int64_t, std::int64_t> position_of(const cpu::GlmDesign& d, std::int64_t e) {
  switch (d.layout) {
    case GlmLayout::dense_c: return {e / d.n_cols, e % d.n_cols};
    case GlmLayout::dense_f: return {e % d.n_rows, e / d.n_rows};
    default: break;
  }
  const I* indptr = static_cast<const I*>(d.indptr);
  const I* indices = static_cast<const I*>(d.indices);
  const std::int64_t major = d.layout == GlmLayout::csr ? d.n_rows : d.n_cols;
  std::int64_t lo = 0, hi = major;  // find the last slice whose start is <= e
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    if (static_cast<std::int64_t>(indptr[mid]) <= e) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const std::int64_t minor = static_cast<std::int64_t>(indices[e]);
  if (d.layout == GlmLayout::csr) return {lo, minor};
  return {minor, lo};
}

class GlmDesign {
 public:
  GlmDesign(const std::string& layout, std::int64_t n_rows, std::int64_t n_cols, py::handle data,
            py::handle indptr, py::handle indices) {
    view_.layout = parse_layout(layout);
    if (n_rows < 1 || n_cols < 1) {
      throw py::value_error("X: expected at least one sample and one feature, got shape (" +
                            std::to_string(n_rows) + ", " + std::to_string(n_cols) + ")");
    }
    view_.n_rows = n_rows;
    view_.n_cols = n_cols;
    data_ = as_array("X.data", data);
    view_.dtype = value_dtype("X.data", data_);
    if (!view_.sparse()) {
      const bool c_order = view_.layout == GlmLayout::dense_c;
      if (data_.ndim() != 2 || data_.shape(0) != n_rows || data_.shape(1) != n_cols) {
        throw py::value_error("X: expected shape (" + std::to_string(n_rows) + ", " +
                              std::to_string(n_cols) + "), got " + shape_text(data_));
      }
      if (!(data_.flags() & (c_order ? py::array::c_style : py::array::f_style))) {
        throw py::value_error(std::string("X: expected a ") +
                              (c_order ? "C" : "Fortran") + "-contiguous array");
      }
      view_.nnz = n_rows * n_cols;
    } else {
      indptr_ = as_array("X.indptr", indptr);
      indices_ = as_array("X.indices", indices);
      check_contiguous_1d("X.data", data_);
      check_contiguous_1d("X.indptr", indptr_);
      check_contiguous_1d("X.indices", indices_);
      view_.index_type = index_dtype("X.indptr", indptr_);
      if (index_dtype("X.indices", indices_) != view_.index_type) {
        throw py::type_error("X.indices: expected the dtype of X.indptr (" +
                             py::str(indptr_.dtype()).cast<std::string>() + "), got " +
                             py::str(indices_.dtype()).cast<std::string>());
      }
      const std::int64_t major = view_.layout == GlmLayout::csr ? n_rows : n_cols;
      if (static_cast<std::int64_t>(indptr_.size()) != major + 1) {
        throw py::value_error("X.indptr: expected " + std::to_string(major + 1) +
                              " entries, got " + std::to_string(indptr_.size()));
      }
      const std::int64_t stored =
          std::min(static_cast<std::int64_t>(data_.size()),
                   static_cast<std::int64_t>(indices_.size()));
      if (view_.index_type == IndexType::int32) {
        check_structure(view_, static_cast<const std::int32_t*>(indptr_.data()),
                        static_cast<const std::int32_t*>(indices_.data()), stored);
        view_.nnz = static_cast<const std::int32_t*>(indptr_.data())[major];
      } else {
        check_structure(view_, static_cast<const std::int64_t*>(indptr_.data()),
                        static_cast<const std::int64_t*>(indices_.data()), stored);
        view_.nnz = static_cast<const std::int64_t*>(indptr_.data())[major];
      }
      view_.indptr = indptr_.data();
      view_.indices = indices_.data();
    }
    view_.data = data_.data();
    check_finite();
  }

  const cpu::GlmDesign& view() const { return view_; }

  // Scratch memory for K outputs. Callers hold lock() while they use it.
  cpu::GlmWork work(std::int64_t n_outputs) {
    const std::int64_t need = cpu::glm_work_size(view_, n_outputs);
    if (static_cast<std::int64_t>(work_.size()) < need) work_.resize(static_cast<std::size_t>(need));
    return {work_.data(), need};
  }
  std::mutex& lock() { return mutex_; }
  // Scratch memory of the Gram kernel, under lock() like work().
  double* gram_work(std::int64_t size) {
    if (static_cast<std::int64_t>(gram_work_.size()) < size) {
      gram_work_.resize(static_cast<std::size_t>(size));
    }
    return gram_work_.data();
  }

  std::string layout_name() const {
    switch (view_.layout) {
      case GlmLayout::dense_c: return "dense_c";
      case GlmLayout::dense_f: return "dense_f";
      case GlmLayout::csr: return "csr";
      default: return "csc";
    }
  }

 private:
  void check_finite() const {
    std::int64_t bad = -1;
    double value = 0.0;
    if (view_.dtype == DType::float32) {
      const float* x = static_cast<const float*>(view_.data);
      bad = first_non_finite(x, view_.nnz);
      if (bad >= 0) value = x[bad];
    } else {
      const double* x = static_cast<const double*>(view_.data);
      bad = first_non_finite(x, view_.nnz);
      if (bad >= 0) value = x[bad];
    }
    if (bad < 0) return;
    const auto at = view_.index_type == IndexType::int32 ? position_of<std::int32_t>(view_, bad)
                                                          : position_of<std::int64_t>(view_, bad);
    throw py::value_error("X: expected finite values, got " + number_text(value) + " at row " +
                          std::to_string(at.first) + ", column " + std::to_string(at.second));
  }

  cpu::GlmDesign view_;
  py::array data_, indptr_, indices_;  // keep the caller's buffers alive
  std::vector<double> work_;
  std::vector<double> gram_work_;
  std::mutex mutex_;
};

void raise_if_invalid(const cpu::GlmStatus& status) {
  if (status.invalid) {
    throw py::value_error(
        "X or y: found an index, index pointer or class label out of range; the arrays were "
        "changed after validation (build a new objective)");
  }
}

void design_matvec(GlmDesign& d, py::handle w, std::int64_t n_outputs, bool fit_intercept,
                   py::handle out) {
  const cpu::GlmDesign& x = d.view();
  if (n_outputs < 1) {
    throw py::value_error("n_outputs: expected an int >= 1, got " + std::to_string(n_outputs));
  }
  const std::int64_t n_params = n_outputs * x.n_cols + (fit_intercept ? n_outputs : 0);
  py::array w_arr = float64_vector("w", w, n_params, false);
  py::array out_arr = float64_vector("out", out, x.n_rows * n_outputs, true);
  check_no_overlap({{"w", &w_arr, false}, {"out", &out_arr, true}});
  const double* wp = static_cast<const double*>(w_arr.data());
  double* op = static_cast<double*>(out_arr.mutable_data());
  cpu::GlmStatus status;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> guard(d.lock());
    status = cpu::kernels().glm_matvec(x, n_outputs, fit_intercept, wp, op, d.work(n_outputs),
                                       cpu::get_num_threads());
  }
  raise_if_invalid(status);
}

void design_rmatvec(GlmDesign& d, py::handle r, std::int64_t n_outputs, bool fit_intercept,
                    py::handle out, bool squared) {
  const cpu::GlmDesign& x = d.view();
  if (n_outputs < 1) {
    throw py::value_error("n_outputs: expected an int >= 1, got " + std::to_string(n_outputs));
  }
  const std::int64_t n_params = n_outputs * x.n_cols + (fit_intercept ? n_outputs : 0);
  py::array r_arr = float64_vector("r", r, x.n_rows * n_outputs, false);
  py::array out_arr = float64_vector("out", out, n_params, true);
  check_no_overlap({{"r", &r_arr, false}, {"out", &out_arr, true}});
  const double* rp = static_cast<const double*>(r_arr.data());
  double* op = static_cast<double*>(out_arr.mutable_data());
  cpu::GlmStatus status;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> guard(d.lock());
    status = cpu::kernels().glm_rmatvec(x, n_outputs, fit_intercept, rp, squared, op,
                                        d.work(n_outputs), cpu::get_num_threads());
  }
  raise_if_invalid(status);
}

// G = [X, 1]^T diag(d) [X, 1] (the last row and column only with an
// intercept), as a full symmetric float64 matrix.
py::array design_gram(GlmDesign& design, py::handle d, bool fit_intercept, py::handle out) {
  const cpu::GlmDesign& x = design.view();
  const std::int64_t m = x.n_cols + (fit_intercept ? 1 : 0);
  const double bytes = 8.0 * static_cast<double>(m) * static_cast<double>(m);
  if (bytes > static_cast<double>(cpu::kGramMaxBytes)) {
    throw py::value_error(
        "X: a Gram matrix of " + std::to_string(m) + " x " + std::to_string(m) +
        " (n_features + fit_intercept) needs " + std::to_string(static_cast<std::int64_t>(
                                                   bytes / (1 << 20))) +
        " MiB, above the limit of " + std::to_string(cpu::kGramMaxBytes >> 20) +
        " MiB; use a solver that does not form the Hessian (lbfgs, newton-cg, newton-cd)");
  }
  py::array d_arr = float64_vector("d", d, x.n_rows, false);
  const double* dp = static_cast<const double*>(d_arr.data());
  const std::int64_t bad = first_non_finite(dp, x.n_rows);
  if (bad >= 0) {
    throw py::value_error("d[" + std::to_string(bad) + "]: expected a finite value, got " +
                          number_text(dp[bad]));
  }
  py::array out_arr;
  if (out.is_none()) {
    out_arr = py::array_t<double>({m, m});
  } else {
    out_arr = float64_vector("out", out, m * m, true);
    if (out_arr.ndim() != 2 || out_arr.shape(0) != m || out_arr.shape(1) != m) {
      throw py::value_error("out: expected shape (" + std::to_string(m) + ", " +
                            std::to_string(m) + "), got " + shape_text(out_arr));
    }
  }
  check_no_overlap({{"d", &d_arr, false}, {"out", &out_arr, true}});
  double* op = static_cast<double*>(out_arr.mutable_data());
  cpu::GlmStatus status;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> guard(design.lock());
    const int threads = cpu::get_num_threads();
    double* work = design.gram_work(cpu::gram_work_size(x, threads));
    status = cpu::kernels().glm_gram(x, dp, fit_intercept, op, work, threads);
  }
  raise_if_invalid(status);
  return out_arr;
}

class GlmProblem {
 public:
  GlmProblem(py::object design, py::handle y, py::handle sample_weight, const std::string& loss,
             std::int64_t n_outputs, bool fit_intercept, double huber_delta)
      : design_obj_(design), design_(design.cast<GlmDesign*>()) {
    const std::int64_t n = design_->view().n_rows;
    target_.loss = parse_loss(loss);
    if (n_outputs < 1 || (target_.loss != glm::Loss::multinomial && n_outputs != 1)) {
      throw py::value_error("n_outputs: expected 1 for loss '" + loss +
                            "' or >= 1 for 'multinomial', got " + std::to_string(n_outputs));
    }
    if (!(huber_delta > 0.0) || !std::isfinite(huber_delta)) {
      throw py::value_error("huber_delta: expected a finite number > 0, got " +
                            number_text(huber_delta));
    }
    y_ = float64_vector("y", y, n, false);
    target_.y = static_cast<const double*>(y_.data());
    if (!sample_weight.is_none()) {
      weights_ = float64_vector("sample_weight", sample_weight, n, false);
      target_.weights = static_cast<const double*>(weights_.data());
    }
    target_.n_outputs = n_outputs;
    target_.fit_intercept = fit_intercept;
    target_.huber_delta = huber_delta;
  }

  std::int64_t n_params() const {
    const std::int64_t k = target_.n_outputs;
    return k * design_->view().n_cols + (target_.fit_intercept ? k : 0);
  }

  double value_grad(py::handle w, py::handle grad, py::handle margins) {
    const cpu::GlmDesign& x = design_->view();
    const std::int64_t k = target_.n_outputs;
    py::array w_arr = float64_vector("w", w, n_params(), false);
    std::vector<Span> spans = {{"w", &w_arr, false}};
    py::array grad_arr, margins_arr;
    double* gp = nullptr;
    double* mp = nullptr;
    if (!grad.is_none()) {
      grad_arr = float64_vector("grad", grad, n_params(), true);
      spans.push_back({"grad", &grad_arr, true});
      gp = static_cast<double*>(grad_arr.mutable_data());
    }
    if (!margins.is_none()) {
      margins_arr = float64_vector("margins", margins, x.n_rows * k, true);
      spans.push_back({"margins", &margins_arr, true});
      mp = static_cast<double*>(margins_arr.mutable_data());
    }
    check_no_overlap(spans);
    const double* wp = static_cast<const double*>(w_arr.data());
    cpu::GlmStatus status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> guard(design_->lock());
      status = cpu::kernels().glm_value_grad(x, target_, wp, gp, mp, design_->work(k),
                                             cpu::get_num_threads());
    }
    raise_if_invalid(status);
    return status.value;
  }

  double loss(py::handle z, py::handle dz, double step, py::handle residual,
              py::handle curvature) {
    const std::int64_t nk = design_->view().n_rows * target_.n_outputs;
    py::array z_arr = float64_vector("z", z, nk, false);
    std::vector<Span> spans = {{"z", &z_arr, false}};
    py::array dz_arr, r_arr, h_arr;
    const double* dzp = nullptr;
    double* rp = nullptr;
    double* hp = nullptr;
    if (!dz.is_none()) {
      dz_arr = float64_vector("dz", dz, nk, false);
      spans.push_back({"dz", &dz_arr, false});
      dzp = static_cast<const double*>(dz_arr.data());
    }
    if (!std::isfinite(step)) {
      throw py::value_error("step: expected a finite number, got " + number_text(step));
    }
    if (!residual.is_none()) {
      r_arr = float64_vector("residual", residual, nk, true);
      spans.push_back({"residual", &r_arr, true});
      rp = static_cast<double*>(r_arr.mutable_data());
    }
    if (!curvature.is_none()) {
      h_arr = float64_vector("curvature", curvature, curvature_size(), true);
      spans.push_back({"curvature", &h_arr, true});
      hp = static_cast<double*>(h_arr.mutable_data());
    }
    check_no_overlap(spans);
    const double* zp = static_cast<const double*>(z_arr.data());
    const std::int64_t n = design_->view().n_rows;
    std::vector<double> partials(static_cast<std::size_t>(cpu::glm_loss_blocks(n)));
    cpu::GlmStatus status;
    {
      py::gil_scoped_release release;
      status = cpu::kernels().glm_loss(target_, n, zp, dzp, step, rp, hp, partials.data(),
                                       cpu::get_num_threads());
    }
    raise_if_invalid(status);
    return status.value;
  }

  void hessp(py::handle curvature, py::handle v, py::handle out) {
    const std::int64_t k = target_.n_outputs;
    py::array h_arr = float64_vector("curvature", curvature, curvature_size(), false);
    py::array v_arr = float64_vector("v", v, n_params(), false);
    py::array out_arr = float64_vector("out", out, n_params(), true);
    check_no_overlap(
        {{"curvature", &h_arr, false}, {"v", &v_arr, false}, {"out", &out_arr, true}});
    const double* hp = static_cast<const double*>(h_arr.data());
    const double* vp = static_cast<const double*>(v_arr.data());
    double* op = static_cast<double*>(out_arr.mutable_data());
    cpu::GlmStatus status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> guard(design_->lock());
      status = cpu::kernels().glm_hessp(design_->view(), target_, hp, vp, op, design_->work(k),
                                        cpu::get_num_threads());
    }
    raise_if_invalid(status);
  }

  // n for the binary losses (s_i times the second derivative), n * K class
  // probabilities for multinomial.
  std::int64_t curvature_size() const {
    const std::int64_t n = design_->view().n_rows;
    return target_.loss == glm::Loss::multinomial ? n * target_.n_outputs : n;
  }

  // Runs epochs of dual coordinate descent (cpu/dual_cd.hpp) and returns
  // (epochs, newton_steps, estimate, rng_state, inner_tol) with the last two
  // updated for the next call.
  py::tuple dual_cd_epochs(py::handle upper, py::handle row_sqnorm, py::handle dual,
                           py::handle complement, py::handle w, std::uint64_t rng_state,
                           double inner_tol, double inner_tol_min, std::int64_t max_epochs,
                           double stop_estimate) {
    const cpu::GlmDesign& x = design_->view();
    if (target_.loss != glm::Loss::logistic || target_.fit_intercept) {
      throw py::value_error("dual_cd_epochs: expected the logistic loss without an intercept");
    }
    if (x.layout != GlmLayout::csr && x.layout != GlmLayout::dense_c) {
      throw py::value_error("dual_cd_epochs: expected X in layout 'csr' or 'dense_c', got '" +
                            design_->layout_name() + "'");
    }
    if (max_epochs < 1) {
      throw py::value_error("max_epochs: expected an integer >= 1, got " +
                            std::to_string(max_epochs));
    }
    if (!(inner_tol > 0.0) || !(inner_tol_min > 0.0) || !std::isfinite(inner_tol)) {
      throw py::value_error("inner_tol: expected finite numbers > 0, got " +
                            number_text(inner_tol) + " and " + number_text(inner_tol_min));
    }
    const std::int64_t n = x.n_rows;
    py::array upper_arr = float64_vector("upper", upper, n, false);
    py::array sq_arr = float64_vector("row_sqnorm", row_sqnorm, n, false);
    py::array dual_arr = float64_vector("dual", dual, n, true);
    py::array rest_arr = float64_vector("complement", complement, n, true);
    py::array w_arr = float64_vector("w", w, x.n_cols, true);
    check_no_overlap({{"upper", &upper_arr, false}, {"row_sqnorm", &sq_arr, false},
                      {"dual", &dual_arr, true}, {"complement", &rest_arr, true},
                      {"w", &w_arr, true}});
    cpu::DualCdArgs args;
    args.x = x;
    args.y = target_.y;
    args.upper = static_cast<const double*>(upper_arr.data());
    args.row_sqnorm = static_cast<const double*>(sq_arr.data());
    args.dual = static_cast<double*>(dual_arr.mutable_data());
    args.complement = static_cast<double*>(rest_arr.mutable_data());
    args.w = static_cast<double*>(w_arr.mutable_data());
    args.rng_state = &rng_state;
    args.max_epochs = max_epochs;
    args.stop_estimate = stop_estimate;
    args.inner_tol = &inner_tol;
    args.inner_tol_min = inner_tol_min;
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    args.order = order.data();
    cpu::DualCdResult result;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> guard(design_->lock());
      result = cpu::kernels().dual_cd_epochs(args);
    }
    if (result.invalid) {
      throw py::value_error("X: an index or row range is out of bounds; the arrays changed "
                            "after validation");
    }
    return py::make_tuple(result.epochs, result.newton_steps, result.estimate, rng_state,
                          inner_tol);
  }

 private:
  py::object design_obj_;  // keeps design_ alive
  GlmDesign* design_;
  cpu::GlmTarget target_;
  py::array y_, weights_;
};

}  // namespace

void bind_glm(py::module_& m) {
  using namespace py::literals;
  py::class_<GlmDesign>(m, "GlmDesign",
                        "A validated view of a design matrix X that references, never copies, "
                        "the caller's arrays.")
      .def(py::init<const std::string&, std::int64_t, std::int64_t, py::handle, py::handle,
                    py::handle>(),
           "layout"_a, "n_rows"_a, "n_cols"_a, "data"_a, "indptr"_a = py::none(),
           "indices"_a = py::none(),
           "Check X: layout 'dense_c' or 'dense_f' takes the 2-D array as data; 'csr' and "
           "'csc' take the scipy.sparse data, indptr and indices arrays (int32 or int64, one "
           "dtype for both). Raises ValueError on a malformed structure or a non-finite value.")
      .def_property_readonly("layout", &GlmDesign::layout_name, "Storage layout of X.")
      .def_property_readonly("n_rows", [](const GlmDesign& d) { return d.view().n_rows; },
                             "Samples in X.")
      .def_property_readonly("n_cols", [](const GlmDesign& d) { return d.view().n_cols; },
                             "Features in X.")
      .def_property_readonly("nnz", [](const GlmDesign& d) { return d.view().nnz; },
                             "Stored values read per pass (n_rows * n_cols when dense).")
      .def_property_readonly("nbytes", [](const GlmDesign& d) { return d.view().bytes(); },
                             "Bytes of X read per pass.")
      .def("matvec", &design_matvec, "w"_a, "n_outputs"_a, "fit_intercept"_a, "out"_a,
           "Write the margins X coef^T + intercept, (n, K) row-major, into out; w is the flat "
           "parameter vector.")
      .def("rmatvec", &design_rmatvec, "r"_a, "n_outputs"_a, "fit_intercept"_a, "out"_a,
           "squared"_a = false,
           "Write r^T X (r^T (X * X) when squared) into out in the flat parameter layout, "
           "followed by the column sums of r when fit_intercept.")
      .def("gram", &design_gram, "d"_a, "fit_intercept"_a, "out"_a = py::none(),
           "Return G = X^T diag(d) X as a full symmetric float64 (m, m) array, m = n_cols + "
           "fit_intercept; with fit_intercept the last row and column hold the column sums of "
           "diag(d) X and sum(d). Written into out when given. Raises ValueError when G would "
           "need more than 256 MiB. The result does not depend on the thread count.");
  py::class_<GlmProblem>(m, "GlmProblem",
                         "The data term of a GLM objective on a GlmDesign: labels, normalized "
                         "sample weights and loss.")
      .def(py::init<py::object, py::handle, py::handle, const std::string&, std::int64_t, bool,
                    double>(),
           "design"_a, "y"_a, "sample_weight"_a, "loss"_a, "n_outputs"_a, "fit_intercept"_a,
           "huber_delta"_a,
           "y is float64 (class indices for multinomial); sample_weight is None or float64 "
           "weights summing to 1.")
      .def_property_readonly("n_params", &GlmProblem::n_params, "Length of the flat w.")
      .def_property_readonly("curvature_size", &GlmProblem::curvature_size,
                             "Length of the curvature array that loss() writes and hessp() "
                             "reads.")
      .def("value_grad", &GlmProblem::value_grad, "w"_a, "grad"_a = py::none(),
           "margins"_a = py::none(),
           "Return the data term at w; write its gradient into grad and the margins into "
           "margins when given. One pass over row layouts, two over column layouts.")
      .def("loss", &GlmProblem::loss, "z"_a, "dz"_a = py::none(), "step"_a = 0.0,
           "residual"_a = py::none(), "curvature"_a = py::none(),
           "Return the data term at margins z + step * dz without reading X; write the "
           "residuals s_i dloss/dz and the curvature when given.")
      .def("hessp", &GlmProblem::hessp, "curvature"_a, "v"_a, "out"_a,
           "Write the Hessian of the data term times v into out, from the curvature that "
           "loss() wrote at the same margins.")
      .def("dual_cd_epochs", &GlmProblem::dual_cd_epochs, "upper"_a, "row_sqnorm"_a, "dual"_a,
           "complement"_a, "w"_a, "rng_state"_a, "inner_tol"_a, "inner_tol_min"_a,
           "max_epochs"_a, "stop_estimate"_a,
           "Run up to max_epochs epochs of dual coordinate descent for L2-regularized "
           "logistic regression without an intercept, on X in layout 'csr' or 'dense_c', "
           "updating dual, complement (upper - dual) and w = X^T (dual * y) in place. Stop "
           "after an epoch whose estimate is at most stop_estimate. Return (epochs, "
           "newton_steps, estimate, rng_state, inner_tol).");
}

}  // namespace fastopt::bindings
