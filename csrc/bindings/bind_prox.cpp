// Bindings of the proximal kernels. Every array and value is checked with the
// GIL held and before the kernel writes anything; the kernel then runs with
// the GIL released. `out` may be `x` itself (in place) but may not otherwise
// share memory with any argument.
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
using cpu::ProxArgs;
using cpu::ProxParam;
using cpu::ProxPenalty;

// The constraint a penalty parameter must meet, checked on every element.
enum class Rule { nonneg_finite, bound };

bool meets(Rule rule, double v) {
  // NaN fails both rules, so it is rejected wherever it appears.
  return rule == Rule::nonneg_finite ? (v >= 0.0 && std::isfinite(v)) : !std::isnan(v);
}

const char* rule_text(Rule rule) {
  return rule == Rule::nonneg_finite ? "a finite value >= 0" : "a number (not NaN)";
}

// A parameter argument: a Python number, or an array of x's dtype and shape
// that joins the gather call as a read role.
struct ParamArg {
  const char* name;
  py::handle obj;
  Rule rule;
  bool is_array = false;
  double scalar = 0.0;
};

void classify(ParamArg& p) {
  if (py::isinstance<py::array>(p.obj)) {
    p.is_array = true;
    return;
  }
  if (py::isinstance<py::bool_>(p.obj) ||
      !(py::isinstance<py::float_>(p.obj) || py::isinstance<py::int_>(p.obj))) {
    throw py::type_error(std::string(p.name) + ": expected a float or a numpy.ndarray, got " +
                         describe(p.obj));
  }
  p.scalar = p.obj.cast<double>();
  if (!meets(p.rule, p.scalar)) {
    throw py::value_error(std::string(p.name) + ": expected " + rule_text(p.rule) + ", got " +
                          number_text(p.scalar));
  }
}

template <typename T>
void check_elements(const ParamArg& p, const void* data, std::int64_t n) {
  const T* v = static_cast<const T*>(data);
  for (std::int64_t i = 0; i < n; ++i) {
    if (!meets(p.rule, static_cast<double>(v[i]))) {
      throw py::value_error(std::string(p.name) + "[" + std::to_string(i) + "]: expected " +
                            rule_text(p.rule) + ", got " + number_text(static_cast<double>(v[i])));
    }
  }
}

template <typename T>
void check_ordered(const ProxParam& lo, const ProxParam& hi, std::int64_t n) {
  const T* lv = static_cast<const T*>(lo.values);
  const T* hv = static_cast<const T*>(hi.values);
  for (std::int64_t i = 0; i < n; ++i) {
    const double l = lv != nullptr ? static_cast<double>(lv[i]) : lo.scalar;
    const double h = hv != nullptr ? static_cast<double>(hv[i]) : hi.scalar;
    if (l > h) {
      const std::string at = "[" + std::to_string(i) + "]";
      throw py::value_error("lower" + std::string(lv ? at : "") + " = " + number_text(l) +
                            " exceeds upper" + std::string(hv ? at : "") + " = " +
                            number_text(h) + "; expected lower <= upper");
    }
  }
}

void check_step(double step) {
  if (!(step > 0.0) || !std::isfinite(step)) {
    throw py::value_error("step: expected a finite value > 0, got " + number_text(step));
  }
}

// Validates x, grad, out and the parameter arrays together, then fills the
// pointers of `args`. Returns the dtype.
DType gather_arrays(py::handle x, py::handle grad, py::handle out, std::vector<ParamArg*> params,
                    ProxArgs& args, std::vector<ProxParam*> slots) {
  for (ParamArg* p : params) classify(*p);
  std::vector<py::tuple> keep;
  std::vector<Role> roles;
  roles.push_back(single_role("x", x, Access::read, keep));
  if (!grad.is_none()) roles.push_back(single_role("grad", grad, Access::read, keep));
  std::vector<int> param_role(params.size(), -1);
  for (std::size_t j = 0; j < params.size(); ++j) {
    if (params[j]->is_array) {
      param_role[j] = static_cast<int>(roles.size());
      roles.push_back(single_role(params[j]->name, params[j]->obj, Access::read, keep));
    }
  }
  const int out_role = static_cast<int>(roles.size());
  roles.push_back(single_role("out", out, Access::write, keep, 0));
  DType dtype{};
  const cpu::TensorGroup tg = gather(roles, &dtype);
  args.n = tg.size[0];
  args.x = tg.data[0];
  args.grad = grad.is_none() ? nullptr : tg.data[1];
  args.out = tg.data[static_cast<std::size_t>(out_role)];
  for (std::size_t j = 0; j < params.size(); ++j) {
    ProxParam& slot = *slots[j];
    if (param_role[j] < 0) {
      slot.values = nullptr;
      slot.scalar = params[j]->scalar;
      continue;
    }
    slot.values = tg.data[static_cast<std::size_t>(param_role[j])];
    if (dtype == DType::float32) {
      check_elements<float>(*params[j], slot.values, args.n);
    } else {
      check_elements<double>(*params[j], slot.values, args.n);
    }
  }
  return dtype;
}

void run(const ProxArgs& args, DType dtype) {
  py::gil_scoped_release release;
  cpu::kernels().prox(args, dtype, cpu::get_num_threads());
}

void prox_l1(py::handle x, py::handle out, py::handle l1, py::handle grad, double step,
             const std::string& name) {
  check_step(step);
  ProxArgs args;
  args.penalty = ProxPenalty::l1;
  args.step = step;
  ParamArg p_l1{name.c_str(), l1, Rule::nonneg_finite};
  const DType dtype = gather_arrays(x, grad, out, {&p_l1}, args, {&args.l1});
  run(args, dtype);
}

void prox_elastic_net(py::handle x, py::handle out, py::handle l1, py::handle l2,
                      py::handle grad, double step) {
  check_step(step);
  ProxArgs args;
  args.penalty = ProxPenalty::elastic_net;
  args.step = step;
  ParamArg p_l1{"l1", l1, Rule::nonneg_finite};
  ParamArg p_l2{"l2", l2, Rule::nonneg_finite};
  const DType dtype = gather_arrays(x, grad, out, {&p_l1, &p_l2}, args, {&args.l1, &args.l2});
  run(args, dtype);
}

void prox_l2(py::handle x, py::handle out, py::handle l2, py::handle grad, double step) {
  check_step(step);
  ProxArgs args;
  args.penalty = ProxPenalty::l2;
  args.step = step;
  ParamArg p_l2{"l2", l2, Rule::nonneg_finite};
  const DType dtype = gather_arrays(x, grad, out, {&p_l2}, args, {&args.l2});
  run(args, dtype);
}

void prox_box(py::handle x, py::handle out, py::handle lower, py::handle upper, py::handle grad,
              double step) {
  check_step(step);
  ProxArgs args;
  args.penalty = ProxPenalty::box;
  args.step = step;
  ParamArg p_lo{"lower", lower, Rule::bound};
  ParamArg p_hi{"upper", upper, Rule::bound};
  const DType dtype =
      gather_arrays(x, grad, out, {&p_lo, &p_hi}, args, {&args.lower, &args.upper});
  if (dtype == DType::float32) {
    check_ordered<float>(args.lower, args.upper, p_lo.is_array || p_hi.is_array ? args.n : 1);
  } else {
    check_ordered<double>(args.lower, args.upper, p_lo.is_array || p_hi.is_array ? args.n : 1);
  }
  run(args, dtype);
}

void prox_nonneg(py::handle x, py::handle out, py::handle grad, double step) {
  check_step(step);
  ProxArgs args;
  args.penalty = ProxPenalty::nonneg;
  args.step = step;
  const DType dtype = gather_arrays(x, grad, out, {}, args, {});
  run(args, dtype);
}

// Checks the group boundaries against the element count of x: an int64
// vector that starts at 0, increases strictly and ends at n.
py::array checked_offsets(py::handle groups, std::int64_t n) {
  if (!py::isinstance<py::array>(groups)) {
    throw py::type_error("groups: expected a numpy.ndarray of int64 offsets, got " +
                         describe(groups));
  }
  py::array a = py::reinterpret_borrow<py::array>(groups);
  if (!a.dtype().equal(py::dtype::of<std::int64_t>())) {
    throw py::type_error("groups: expected dtype int64, got " + describe(groups));
  }
  if (a.ndim() != 1 || a.shape(0) < 1) {
    throw py::value_error("groups: expected a 1-D array of at least one offset, got " +
                          describe(groups));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error("groups: expected a C-contiguous array");
  }
  const auto* o = static_cast<const std::int64_t*>(a.data());
  const std::int64_t count = a.shape(0);
  if (o[0] != 0) {
    throw py::value_error("groups[0]: expected 0 (the first group starts at element 0), got " +
                          std::to_string(o[0]));
  }
  for (std::int64_t k = 1; k < count; ++k) {
    if (o[k] <= o[k - 1]) {
      throw py::value_error("groups[" + std::to_string(k) + "]: expected an offset > groups[" +
                            std::to_string(k - 1) + "] = " + std::to_string(o[k - 1]) +
                            " (offsets increase strictly, so no group is empty), got " +
                            std::to_string(o[k]));
    }
  }
  if (o[count - 1] != n) {
    throw py::value_error("groups[" + std::to_string(count - 1) +
                          "]: expected the last offset to equal x.size = " + std::to_string(n) +
                          " so that the groups cover x, got " + std::to_string(o[count - 1]));
  }
  return a;
}

py::array checked_weights(py::handle weights, std::int64_t num_groups) {
  if (!py::isinstance<py::array>(weights) ||
      !py::reinterpret_borrow<py::array>(weights).dtype().equal(py::dtype::of<double>())) {
    throw py::type_error("weights: expected a float64 numpy.ndarray, got " + describe(weights));
  }
  py::array a = py::reinterpret_borrow<py::array>(weights);
  if (a.ndim() != 1 || a.shape(0) != num_groups) {
    throw py::value_error("weights: expected shape (" + std::to_string(num_groups) +
                          ",), one weight per group, got " + describe(weights));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error("weights: expected a C-contiguous array");
  }
  const auto* w = static_cast<const double*>(a.data());
  for (std::int64_t k = 0; k < num_groups; ++k) {
    if (!(w[k] >= 0.0) || !std::isfinite(w[k])) {
      throw py::value_error("weights[" + std::to_string(k) + "]: expected a finite value >= 0, got " +
                            number_text(w[k]));
    }
  }
  return a;
}

void prox_group(py::handle x, py::handle out, py::handle groups, double threshold,
                py::handle weights, py::handle grad, double step) {
  check_step(step);
  if (!(threshold >= 0.0) || !std::isfinite(threshold)) {
    throw py::value_error("threshold: expected a finite value >= 0, got " +
                          number_text(threshold));
  }
  ProxArgs args;
  args.penalty = ProxPenalty::group;
  args.step = step;
  args.group_lambda = threshold;
  const DType dtype = gather_arrays(x, grad, out, {}, args, {});
  py::array offsets = checked_offsets(groups, args.n);
  args.group_offsets = static_cast<const std::int64_t*>(offsets.data());
  args.num_groups = offsets.shape(0) - 1;
  py::array weight_arr;
  if (!weights.is_none()) {
    weight_arr = checked_weights(weights, args.num_groups);
    args.group_weights = static_cast<const double*>(weight_arr.data());
  }
  // The offsets and weights are only read, and out is the only array the
  // kernel writes, so out must not share their bytes.
  const auto out_lo = reinterpret_cast<std::uintptr_t>(args.out);
  const auto out_hi = out_lo + static_cast<std::uintptr_t>(
                                   py::reinterpret_borrow<py::array>(out).nbytes());
  std::vector<std::pair<const char*, py::array>> readers = {{"groups", offsets}};
  if (weight_arr) readers.emplace_back("weights", weight_arr);
  for (const auto& [name, arr] : readers) {
    const auto lo = reinterpret_cast<std::uintptr_t>(arr.data());
    const auto hi = lo + static_cast<std::uintptr_t>(arr.nbytes());
    if (lo < out_hi && out_lo < hi) {
      throw py::value_error(std::string("out and ") + name +
                            " share memory; every array that fastopt writes must be a "
                            "separate buffer (pass a copy)");
    }
  }
  run(args, dtype);
}

}  // namespace

void bind_prox(py::module_& m) {
  using namespace py::literals;
  m.def("prox_l1", &prox_l1, "x"_a, "out"_a, "l1"_a, "grad"_a = py::none(), "step"_a = 1.0,
        "name"_a = "l1",
        "Write prox_{t h}(x - t grad) for h = sum_i l1_i |x_i| into out (soft-thresholding by "
        "t l1); without grad, prox_{t h}(x). l1 is a float or an array of x's dtype and shape; "
        "messages call it `name`.");
  m.def("prox_elastic_net", &prox_elastic_net, "x"_a, "out"_a, "l1"_a, "l2"_a,
        "grad"_a = py::none(), "step"_a = 1.0,
        "Write soft_threshold(v, t l1) / (1 + t l2) into out, v = x - t grad (or x).");
  m.def("prox_l2", &prox_l2, "x"_a, "out"_a, "l2"_a, "grad"_a = py::none(), "step"_a = 1.0,
        "Write v / (1 + t l2) into out, v = x - t grad (or x).");
  m.def("prox_box", &prox_box, "x"_a, "out"_a, "lower"_a, "upper"_a, "grad"_a = py::none(),
        "step"_a = 1.0, "Write v clipped to [lower, upper] into out, v = x - t grad (or x).");
  m.def("prox_nonneg", &prox_nonneg, "x"_a, "out"_a, "grad"_a = py::none(), "step"_a = 1.0,
        "Write max(v, 0) into out, v = x - t grad (or x).");
  m.def("prox_group", &prox_group, "x"_a, "out"_a, "groups"_a, "threshold"_a,
        "weights"_a = py::none(), "grad"_a = py::none(), "step"_a = 1.0,
        "Write max(0, 1 - t threshold w_g / ||v_g||) v_g into out for each group g given by "
        "int64 offsets, v = x - t grad (or x).");
}

}  // namespace fastopt::bindings
