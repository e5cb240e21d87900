// Bindings of the L-BFGS kernels. fastopt.minimize.LBFGSState owns every
// array; these functions check them with the GIL held, before any write,
// then release the GIL for the kernel.
#include <algorithm>
#include <cmath>
#include <cstdint>
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

// Returns `obj` as an array after checking its type, dtype, shape,
// C-contiguity and, for written arrays, writeability.
py::array checked(const char* name, py::handle obj, const py::dtype& dtype,
                  const std::vector<py::ssize_t>& shape, bool write) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(dtype)) {
    throw py::type_error(std::string(name) + ": expected dtype " +
                         py::str(dtype).cast<std::string>() + ", got " + describe(obj));
  }
  bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (std::size_t i = 0; same && i < shape.size(); ++i) same = a.shape(i) == shape[i];
  if (!same) {
    py::tuple want(shape.size());
    for (std::size_t i = 0; i < shape.size(); ++i) want[i] = shape[i];
    throw py::value_error(std::string(name) + ": expected shape " +
                          py::str(want).cast<std::string>() + ", got " + shape_text(a));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  }
  if (write && !a.writeable()) {
    throw py::value_error(std::string(name) + ": expected a writeable array");
  }
  return a;
}

DType dtype_of(const char* name, py::handle obj) {
  if (py::isinstance<py::array>(obj)) {
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.dtype().equal(py::dtype::of<float>())) return DType::float32;
    if (a.dtype().equal(py::dtype::of<double>())) return DType::float64;
  }
  throw py::type_error(std::string(name) + ": expected a float32 or float64 numpy.ndarray, got " +
                       describe(obj));
}

struct Span {
  const char* name;
  std::uintptr_t lo, hi;
  bool writes;
};

Span span_of(const char* name, const py::array& a, bool writes) {
  const auto lo = reinterpret_cast<std::uintptr_t>(a.data());
  return {name, lo, lo + static_cast<std::uintptr_t>(a.nbytes()), writes};
}

// Raises if an array that the kernel writes shares bytes with any other.
void check_no_overlap(const std::vector<Span>& spans) {
  for (std::size_t i = 0; i < spans.size(); ++i) {
    for (std::size_t j = i + 1; j < spans.size(); ++j) {
      const Span& a = spans[i];
      const Span& b = spans[j];
      if (!(a.writes || b.writes)) continue;
      if (a.lo < b.hi && b.lo < a.hi && a.lo != a.hi && b.lo != b.hi) {
        throw py::value_error(std::string(a.name) + " and " + b.name +
                              " share memory; every array that fastopt writes must be a "
                              "separate buffer (pass a copy)");
      }
    }
  }
}

double lbfgs_direction(py::handle s, py::handle y, py::handle order, int new_slot, py::handle sy,
                       py::handle yy, double gamma, py::handle g, py::handle d,
                       py::handle work) {
  const DType dtype = dtype_of("s", s);
  py::array s_arr = py::reinterpret_borrow<py::array>(s);
  if (s_arr.ndim() != 2) {
    throw py::value_error("s: expected a 2-D array (slots, n), got shape " + shape_text(s_arr));
  }
  const py::ssize_t slots = s_arr.shape(0);
  const py::ssize_t n = s_arr.shape(1);
  const py::dtype t = s_arr.dtype();
  const py::dtype f64 = py::dtype::of<double>();
  checked("s", s, t, {slots, n}, false);
  py::array y_arr = checked("y", y, t, {slots, n}, false);
  py::array g_arr = checked("g", g, t, {n}, false);
  py::array d_arr = checked("d", d, t, {n}, true);
  py::array sy_arr = checked("sy", sy, f64, {slots, slots}, true);
  py::array yy_arr = checked("yy", yy, f64, {slots, slots}, true);
  if (!py::isinstance<py::array>(order)) {
    throw py::type_error("order: expected a numpy.ndarray of int64, got " + describe(order));
  }
  py::array order_any = py::reinterpret_borrow<py::array>(order);
  const py::ssize_t count = order_any.ndim() == 1 ? order_any.shape(0) : -1;
  py::array order_arr = checked("order", order, py::dtype::of<std::int64_t>(), {count}, false);
  if (count > cpu::kLbfgsMaxHistory || count > slots) {
    throw py::value_error("order: expected at most min(slots, " +
                          std::to_string(cpu::kLbfgsMaxHistory) + ") = " +
                          std::to_string(std::min<py::ssize_t>(slots, cpu::kLbfgsMaxHistory)) +
                          " active pairs, got " + std::to_string(count));
  }
  const auto* ord = static_cast<const std::int64_t*>(order_arr.data());
  std::vector<bool> seen(static_cast<std::size_t>(slots), false);
  bool new_active = new_slot < 0;
  for (py::ssize_t a = 0; a < count; ++a) {
    if (ord[a] < 0 || ord[a] >= slots || seen[static_cast<std::size_t>(ord[a])]) {
      throw py::value_error("order[" + std::to_string(a) + "]: expected a distinct slot in [0, " +
                            std::to_string(slots) + "), got " + std::to_string(ord[a]));
    }
    seen[static_cast<std::size_t>(ord[a])] = true;
    new_active = new_active || ord[a] == new_slot;
  }
  if (new_slot >= slots || !new_active) {
    throw py::value_error("new_slot: expected -1 or one of the active slots in order, got " +
                          std::to_string(new_slot));
  }
  const std::int64_t need = cpu::lbfgs_work_size(n, static_cast<int>(slots));
  py::array work_arr = checked("work", work, f64, {static_cast<py::ssize_t>(need)}, true);
  if (!(gamma > 0.0) || !std::isfinite(gamma)) {
    throw py::value_error("gamma: expected a finite value > 0, got " + std::to_string(gamma));
  }
  check_no_overlap({span_of("s", s_arr, false), span_of("y", y_arr, false),
                    span_of("g", g_arr, false), span_of("d", d_arr, true),
                    span_of("sy", sy_arr, true), span_of("yy", yy_arr, true),
                    span_of("work", work_arr, true), span_of("order", order_arr, false)});

  cpu::LbfgsHistory h;
  h.n = n;
  h.slots = static_cast<int>(slots);
  h.s = s_arr.data();
  h.y = y_arr.data();
  h.order = ord;
  h.count = static_cast<int>(count);
  h.new_slot = new_slot;
  h.sy = static_cast<double*>(sy_arr.mutable_data());
  h.yy = static_cast<double*>(yy_arr.mutable_data());
  h.gamma = gamma;
  h.work = static_cast<double*>(work_arr.mutable_data());
  const void* g_ptr = g_arr.data();
  void* d_ptr = d_arr.mutable_data();
  py::gil_scoped_release release;
  return cpu::kernels().lbfgs_direction(h, dtype, g_ptr, d_ptr, cpu::get_num_threads());
}

py::tuple lbfgs_pair(py::handle x_new, py::handle x, py::handle g_new, py::handle g,
                     py::handle s, py::handle y, py::handle work) {
  const DType dtype = dtype_of("x_new", x_new);
  py::array xn_arr = py::reinterpret_borrow<py::array>(x_new);
  if (xn_arr.ndim() != 1) {
    throw py::value_error("x_new: expected a 1-D array, got shape " + shape_text(xn_arr));
  }
  const py::ssize_t n = xn_arr.shape(0);
  const py::dtype t = xn_arr.dtype();
  checked("x_new", x_new, t, {n}, false);
  py::array x_arr = checked("x", x, t, {n}, false);
  py::array gn_arr = checked("g_new", g_new, t, {n}, false);
  py::array g_arr = checked("g", g, t, {n}, false);
  py::array s_arr = checked("s", s, t, {n}, true);
  py::array y_arr = checked("y", y, t, {n}, true);
  py::array work_arr = py::reinterpret_borrow<py::array>(work);
  if (!py::isinstance<py::array>(work) || work_arr.ndim() != 1 ||
      work_arr.shape(0) < cpu::lbfgs_work_size(n, 1)) {
    throw py::value_error("work: expected a float64 array of at least " +
                          std::to_string(cpu::lbfgs_work_size(n, 1)) + " elements, got " +
                          describe(work));
  }
  checked("work", work, py::dtype::of<double>(), {work_arr.shape(0)}, true);
  check_no_overlap({span_of("x_new", xn_arr, false), span_of("x", x_arr, false),
                    span_of("g_new", gn_arr, false), span_of("g", g_arr, false),
                    span_of("s", s_arr, true), span_of("y", y_arr, true),
                    span_of("work", work_arr, true)});
  cpu::LbfgsPairDots dots;
  {
    const void* xn = xn_arr.data();
    const void* xo = x_arr.data();
    const void* gn = gn_arr.data();
    const void* go = g_arr.data();
    void* sp = s_arr.mutable_data();
    void* yp = y_arr.mutable_data();
    double* wp = static_cast<double*>(work_arr.mutable_data());
    py::gil_scoped_release release;
    dots = cpu::kernels().lbfgs_pair(n, dtype, xn, xo, gn, go, sp, yp, wp,
                                     cpu::get_num_threads());
  }
  return py::make_tuple(dots.sy, dots.yy, dots.ss);
}

// Strengths of the L1 term: a Python float or a float64 array of shape (n,).
struct L1Strength {
  const double* values = nullptr;
  double scalar = 0.0;
  py::array keep;
};

L1Strength l1_strength(py::handle l1, py::ssize_t n) {
  L1Strength out;
  if (py::isinstance<py::float_>(l1)) {
    out.scalar = l1.cast<double>();
    return out;
  }
  out.keep = checked("l1", l1, py::dtype::of<double>(), {n}, false);
  out.values = static_cast<const double*>(out.keep.data());
  return out;
}

double run_owlqn(cpu::OwlqnOp op, cpu::OwlqnArgs& args, DType dtype) {
  py::gil_scoped_release release;
  return cpu::kernels().owlqn(op, args, dtype, cpu::get_num_threads());
}

double owlqn_pseudo_gradient(py::handle x, py::handle g, py::handle l1, py::handle pg) {
  const DType dtype = dtype_of("x", x);
  py::array x_arr = py::reinterpret_borrow<py::array>(x);
  const py::ssize_t n = x_arr.ndim() == 1 ? x_arr.shape(0) : -1;
  const py::dtype t = x_arr.dtype();
  checked("x", x, t, {n}, false);
  py::array g_arr = checked("g", g, t, {n}, false);
  py::array pg_arr = checked("pg", pg, t, {n}, true);
  L1Strength lam = l1_strength(l1, n);
  check_no_overlap({span_of("x", x_arr, false), span_of("g", g_arr, false),
                    span_of("pg", pg_arr, true)});
  cpu::OwlqnArgs args;
  args.n = n;
  args.x = x_arr.data();
  args.g = g_arr.data();
  args.l1 = lam.values;
  args.l1_scalar = lam.scalar;
  args.pg = pg_arr.mutable_data();
  return run_owlqn(cpu::OwlqnOp::pseudo_gradient, args, dtype);
}

void owlqn_project_direction(py::handle pg, py::handle l1, py::handle d) {
  const DType dtype = dtype_of("pg", pg);
  py::array pg_arr = py::reinterpret_borrow<py::array>(pg);
  const py::ssize_t n = pg_arr.ndim() == 1 ? pg_arr.shape(0) : -1;
  const py::dtype t = pg_arr.dtype();
  checked("pg", pg, t, {n}, false);
  py::array d_arr = checked("d", d, t, {n}, true);
  L1Strength lam = l1_strength(l1, n);
  check_no_overlap({span_of("pg", pg_arr, false), span_of("d", d_arr, true)});
  cpu::OwlqnArgs args;
  args.n = n;
  args.l1 = lam.values;
  args.l1_scalar = lam.scalar;
  args.pg = const_cast<void*>(pg_arr.data());  // read only in this op
  args.d = d_arr.mutable_data();
  run_owlqn(cpu::OwlqnOp::project_direction, args, dtype);
}

void owlqn_trial(py::handle x, py::handle d, double alpha, py::handle pg, py::handle l1,
                 py::handle out) {
  const DType dtype = dtype_of("x", x);
  py::array x_arr = py::reinterpret_borrow<py::array>(x);
  const py::ssize_t n = x_arr.ndim() == 1 ? x_arr.shape(0) : -1;
  const py::dtype t = x_arr.dtype();
  checked("x", x, t, {n}, false);
  py::array d_arr = checked("d", d, t, {n}, false);
  py::array pg_arr = checked("pg", pg, t, {n}, false);
  py::array out_arr = checked("out", out, t, {n}, true);
  L1Strength lam = l1_strength(l1, n);
  check_no_overlap({span_of("x", x_arr, false), span_of("d", d_arr, false),
                    span_of("pg", pg_arr, false), span_of("out", out_arr, true)});
  cpu::OwlqnArgs args;
  args.n = n;
  args.x = x_arr.data();
  args.d = const_cast<void*>(d_arr.data());  // read only in this op
  args.alpha = alpha;
  args.pg = const_cast<void*>(pg_arr.data());  // read only in this op
  args.l1 = lam.values;
  args.l1_scalar = lam.scalar;
  args.out = out_arr.mutable_data();
  run_owlqn(cpu::OwlqnOp::trial, args, dtype);
}

// Returns the 1-D array `obj` of `dtype`, or raises naming `name`.
py::array checked_vector(const char* name, py::handle obj, const py::dtype& dtype,
                         py::ssize_t n, bool write) {
  return checked(name, obj, dtype, {n}, write);
}

void lbfgs_trial(py::handle x, py::handle d, double step, py::handle out, py::handle lower,
                 py::handle upper) {
  const DType dtype = dtype_of("x", x);
  py::array x_arr = py::reinterpret_borrow<py::array>(x);
  if (x_arr.ndim() != 1) {
    throw py::value_error("x: expected a 1-D array, got shape " + shape_text(x_arr));
  }
  const py::ssize_t n = x_arr.shape(0);
  const py::dtype t = x_arr.dtype();
  checked_vector("x", x, t, n, false);
  py::array d_arr = checked_vector("d", d, t, n, false);
  py::array out_arr = checked_vector("out", out, t, n, true);
  if (!std::isfinite(step)) {
    throw py::value_error("step: expected a finite number, got " + std::to_string(step));
  }
  if (lower.is_none() != upper.is_none()) {
    throw py::value_error("lower, upper: expected both arrays or both None");
  }
  std::vector<Span> spans = {span_of("x", x_arr, false), span_of("d", d_arr, false),
                             span_of("out", out_arr, true)};
  const void* lo = nullptr;
  const void* hi = nullptr;
  py::array lo_arr, hi_arr;
  if (!lower.is_none()) {
    lo_arr = checked_vector("lower", lower, t, n, false);
    hi_arr = checked_vector("upper", upper, t, n, false);
    spans.push_back(span_of("lower", lo_arr, false));
    spans.push_back(span_of("upper", hi_arr, false));
    lo = lo_arr.data();
    hi = hi_arr.data();
  }
  check_no_overlap(spans);
  const void* xp = x_arr.data();
  const void* dp = d_arr.data();
  void* op = out_arr.mutable_data();
  py::gil_scoped_release release;
  cpu::kernels().lbfgs_trial(n, dtype, xp, dp, step, lo, hi, op, cpu::get_num_threads());
}

py::tuple lbfgs_gradient(py::handle g, py::handle out, py::handle d) {
  const DType dtype = dtype_of("out", out);
  py::array out_arr = py::reinterpret_borrow<py::array>(out);
  if (out_arr.ndim() != 1) {
    throw py::value_error("out: expected a 1-D array, got shape " + shape_text(out_arr));
  }
  const py::ssize_t n = out_arr.shape(0);
  const py::dtype t = out_arr.dtype();
  checked_vector("out", out, t, n, true);
  py::array g_arr = checked_vector("g", g, t, n, false);
  // g may be out itself (a check of a gradient already in place); any other
  // sharing of memory with out is an error.
  const bool in_place = g_arr.data() == out_arr.data();
  std::vector<Span> spans = {span_of("out", out_arr, true)};
  if (!in_place) spans.push_back(span_of("g", g_arr, false));
  const void* dp = nullptr;
  py::array d_arr;
  if (!d.is_none()) {
    d_arr = checked_vector("d", d, t, n, false);
    spans.push_back(span_of("d", d_arr, false));
    dp = d_arr.data();
  }
  check_no_overlap(spans);
  std::vector<double> work(static_cast<std::size_t>(cpu::lbfgs_reduce_work_size(n)));
  cpu::LbfgsGradientStats stats;
  {
    const void* gp = g_arr.data();
    void* op = out_arr.mutable_data();
    py::gil_scoped_release release;
    stats = cpu::kernels().lbfgs_gradient(n, dtype, gp, op, dp, work.data(),
                                          cpu::get_num_threads());
  }
  return py::make_tuple(stats.dot, stats.inf_norm, stats.finite);
}

double lbfgs_dot(py::handle a, py::handle b) {
  const DType dtype = dtype_of("a", a);
  py::array a_arr = py::reinterpret_borrow<py::array>(a);
  if (a_arr.ndim() != 1) {
    throw py::value_error("a: expected a 1-D array, got shape " + shape_text(a_arr));
  }
  const py::ssize_t n = a_arr.shape(0);
  checked_vector("a", a, a_arr.dtype(), n, false);
  py::array b_arr = checked_vector("b", b, a_arr.dtype(), n, false);
  std::vector<double> work(static_cast<std::size_t>(cpu::lbfgs_reduce_work_size(n)));
  const void* ap = a_arr.data();
  const void* bp = b_arr.data();
  py::gil_scoped_release release;
  return cpu::kernels().lbfgs_dot(n, dtype, ap, bp, work.data(), cpu::get_num_threads());
}

}  // namespace

void bind_lbfgs(py::module_& m) {
  using namespace py::literals;
  m.def("lbfgs_direction", &lbfgs_direction, "s"_a, "y"_a, "order"_a, "new_slot"_a, "sy"_a,
        "yy"_a, "gamma"_a, "g"_a, "d"_a, "work"_a,
        "Write the L-BFGS direction d = -H g from the pairs in `order` (oldest first); with "
        "new_slot >= 0, first fill that slot's column of the cached sy and yy matrices. Return "
        "g'd, summed as lbfgs_dot(g, d) sums it.");
  m.def("lbfgs_pair", &lbfgs_pair, "x_new"_a, "x"_a, "g_new"_a, "g"_a, "s"_a, "y"_a, "work"_a,
        "Write s = x_new - x and y = g_new - g; return (s'y, y'y, s's).");
  m.def("owlqn_pseudo_gradient", &owlqn_pseudo_gradient, "x"_a, "g"_a, "l1"_a, "pg"_a,
        "Write the pseudo-gradient of f + sum_i l1_i |x_i| into pg; return its inf-norm.");
  m.def("owlqn_project_direction", &owlqn_project_direction, "pg"_a, "l1"_a, "d"_a,
        "Set d_i = 0 where l1_i > 0 and d_i pg_i >= 0.");
  m.def("owlqn_trial", &owlqn_trial, "x"_a, "d"_a, "alpha"_a, "pg"_a, "l1"_a, "out"_a,
        "Write x + alpha d into out, with 0 where a penalized coordinate leaves the orthant "
        "of x (of -pg where x_i = 0).");
  m.def("lbfgs_trial", &lbfgs_trial, "x"_a, "d"_a, "step"_a, "out"_a, "lower"_a = py::none(),
        "upper"_a = py::none(),
        "Write out = x + step * d in the arrays' dtype, clipped to [lower, upper] when given.");
  m.def("lbfgs_gradient", &lbfgs_gradient, "g"_a, "out"_a, "d"_a = py::none(),
        "Copy g into out (g may be out) and return (g'd, max |g_i|, all finite) from the same "
        "pass; g'd is 0.0 without d. The sums do not depend on the thread count.");
  m.def("lbfgs_dot", &lbfgs_dot, "a"_a, "b"_a,
        "Return a'b summed in float64 in an order that does not depend on the thread count.");
  m.attr("lbfgs_max_history") = cpu::kLbfgsMaxHistory;
  m.attr("lbfgs_block") = cpu::kLbfgsBlock;
}

}  // namespace fastopt::bindings
