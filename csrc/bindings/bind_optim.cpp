// Bindings of the fused optimizer steps. Each step validates every array of
// the call with the GIL held, then releases the GIL for the kernel. With
// validate_only=True it returns after the checks, so a caller with several
// parameter groups can check all of them before it updates any.
#include <string>
#include <vector>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/threads.hpp"

namespace fastopt::bindings {
namespace {

using cpu::DType;
using cpu::StepContext;
using cpu::TensorGroup;

StepContext make_context(DType dtype, double grad_factor) {
  check_finite_factor("grad_factor", grad_factor);
  StepContext ctx;
  ctx.dtype = dtype;
  ctx.grad_factor = grad_factor;
  ctx.num_threads = cpu::get_num_threads();
  return ctx;
}

py::handle required(py::handle list, const char* name, const char* option) {
  if (list.is_none()) {
    throw py::value_error(std::string(name) + ": expected a list of arrays because " + option +
                          " is set, got None");
  }
  return list;
}

void adam_step(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_avg_sqs,
               py::handle max_exp_avg_sqs, py::handle steps, double lr, double beta1,
               double beta2, double eps, double weight_decay, bool amsgrad, bool decoupled,
               double grad_factor, bool validate_only) {
  DType dtype{};
  TensorGroup tg =
      amsgrad ? gather({{"params", params, Access::write},
                        {"grads", grads, Access::read},
                        {"exp_avgs", exp_avgs, Access::write},
                        {"exp_avg_sqs", exp_avg_sqs, Access::write},
                        {"max_exp_avg_sqs", required(max_exp_avg_sqs, "max_exp_avg_sqs", "amsgrad"),
                         Access::write}},
                       &dtype)
              : gather({{"params", params, Access::write},
                        {"grads", grads, Access::read},
                        {"exp_avgs", exp_avgs, Access::write},
                        {"exp_avg_sqs", exp_avg_sqs, Access::write}},
                       &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  AdamHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.amsgrad = amsgrad;
  h.decay = decoupled ? Decay::decoupled : Decay::l2;
  py::gil_scoped_release release;
  cpu::kernels().adam_step(tg, ctx, h, step_counts.data());
}

void sgd_step(py::handle params, py::handle grads, py::handle momentum_buffers, py::handle steps,
              double lr, double momentum, double dampening, double weight_decay, bool nesterov,
              double grad_factor, bool validate_only) {
  DType dtype{};
  TensorGroup tg =
      momentum != 0.0
          ? gather({{"params", params, Access::write},
                    {"grads", grads, Access::read},
                    {"momentum_buffers", required(momentum_buffers, "momentum_buffers", "momentum"),
                     Access::write}},
                   &dtype)
          : gather({{"params", params, Access::write}, {"grads", grads, Access::read}}, &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  SgdHyper h;
  h.lr = lr;
  h.momentum = momentum;
  h.dampening = dampening;
  h.weight_decay = weight_decay;
  h.nesterov = nesterov;
  py::gil_scoped_release release;
  cpu::kernels().sgd_step(tg, ctx, h, step_counts.data());
}

void adagrad_step(py::handle params, py::handle grads, py::handle state_sums, py::handle steps,
                  double lr, double lr_decay, double weight_decay, double eps, double grad_factor,
                  bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"state_sums", state_sums, Access::write}},
                          &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  AdagradHyper h;
  h.lr = lr;
  h.lr_decay = lr_decay;
  h.weight_decay = weight_decay;
  h.eps = eps;
  py::gil_scoped_release release;
  cpu::kernels().adagrad_step(tg, ctx, h, step_counts.data());
}

void rmsprop_step(py::handle params, py::handle grads, py::handle square_avgs,
                  py::handle momentum_buffers, py::handle grad_avgs, py::handle steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered,
                  double grad_factor, bool validate_only) {
  // The kernel expects the optional roles in this order: momentum_buffers,
  // then grad_avgs.
  std::vector<Role> roles = {{"params", params, Access::write},
                             {"grads", grads, Access::read},
                             {"square_avgs", square_avgs, Access::write}};
  if (momentum > 0.0) {
    roles.push_back({"momentum_buffers", required(momentum_buffers, "momentum_buffers", "momentum"),
                     Access::write});
  }
  if (centered) {
    roles.push_back({"grad_avgs", required(grad_avgs, "grad_avgs", "centered"), Access::write});
  }
  DType dtype{};
  TensorGroup tg = gather(roles, &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  RmspropHyper h;
  h.lr = lr;
  h.alpha = alpha;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.momentum = momentum;
  h.centered = centered;
  py::gil_scoped_release release;
  cpu::kernels().rmsprop_step(tg, ctx, h, step_counts.data());
}

void adadelta_step(py::handle params, py::handle grads, py::handle square_avgs,
                   py::handle acc_deltas, py::handle steps, double lr, double rho, double eps,
                   double weight_decay, double grad_factor, bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"square_avgs", square_avgs, Access::write},
                           {"acc_deltas", acc_deltas, Access::write}},
                          &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  AdadeltaHyper h;
  h.lr = lr;
  h.rho = rho;
  h.eps = eps;
  h.weight_decay = weight_decay;
  py::gil_scoped_release release;
  cpu::kernels().adadelta_step(tg, ctx, h, step_counts.data());
}

void adamax_step(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_infs,
                 py::handle steps, double lr, double beta1, double beta2, double eps,
                 double weight_decay, double grad_factor, bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"exp_avgs", exp_avgs, Access::write},
                           {"exp_infs", exp_infs, Access::write}},
                          &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  AdamaxHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  py::gil_scoped_release release;
  cpu::kernels().adamax_step(tg, ctx, h, step_counts.data());
}

std::vector<double> gather_mu_products(py::handle mu_products, std::int64_t num_tensors) {
  std::vector<double> out;
  try {
    out = mu_products.cast<std::vector<double>>();
  } catch (const py::cast_error&) {
    throw py::type_error("mu_products: expected a sequence of floats, got " +
                         describe(mu_products));
  }
  if (static_cast<std::int64_t>(out.size()) != num_tensors) {
    throw py::value_error("mu_products: expected " + std::to_string(num_tensors) +
                          " values to match params, got " + std::to_string(out.size()));
  }
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (!(out[k] >= 0.0 && out[k] <= 1.0)) {
      throw py::value_error("mu_products[" + std::to_string(k) +
                            "]: expected a number in [0, 1], got " +
                            py::repr(py::float_(out[k])).cast<std::string>());
    }
  }
  return out;
}

// Returns the mu_product of each tensor after this step, or None with
// validate_only; the caller stores them only once the step is applied.
py::object nadam_step(py::handle params, py::handle grads, py::handle exp_avgs,
                      py::handle exp_avg_sqs, py::handle mu_products, py::handle steps, double lr,
                      double beta1, double beta2, double eps, double weight_decay,
                      double momentum_decay, bool decoupled, double grad_factor,
                      bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"exp_avgs", exp_avgs, Access::write},
                           {"exp_avg_sqs", exp_avg_sqs, Access::write}},
                          &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  std::vector<double> products = gather_mu_products(mu_products, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return py::none();
  NAdamHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.momentum_decay = momentum_decay;
  h.decay = decoupled ? Decay::decoupled : Decay::l2;
  for (std::size_t k = 0; k < products.size(); ++k) products[k] *= nadam_mu(h, step_counts[k]);
  {
    py::gil_scoped_release release;
    cpu::kernels().nadam_step(tg, ctx, h, step_counts.data(), products.data());
  }
  return py::cast(products);
}

void radam_step(py::handle params, py::handle grads, py::handle exp_avgs,
                py::handle exp_avg_sqs, py::handle steps, double lr, double beta1, double beta2,
                double eps, double weight_decay, bool decoupled, double grad_factor,
                bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"exp_avgs", exp_avgs, Access::write},
                           {"exp_avg_sqs", exp_avg_sqs, Access::write}},
                          &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  RAdamHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.decay = decoupled ? Decay::decoupled : Decay::l2;
  py::gil_scoped_release release;
  cpu::kernels().radam_step(tg, ctx, h, step_counts.data());
}

void lion_step(py::handle params, py::handle grads, py::handle exp_avgs, double lr, double beta1,
               double beta2, double weight_decay, double grad_factor, bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"exp_avgs", exp_avgs, Access::write}},
                          &dtype);
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  LionHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.weight_decay = weight_decay;
  py::gil_scoped_release release;
  cpu::kernels().lion_step(tg, ctx, h);
}

void lamb_step(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_avg_sqs,
               py::handle steps, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool bias_correction, double grad_factor,
               bool validate_only) {
  DType dtype{};
  TensorGroup tg = gather({{"params", params, Access::write},
                           {"grads", grads, Access::read},
                           {"exp_avgs", exp_avgs, Access::write},
                           {"exp_avg_sqs", exp_avg_sqs, Access::write}},
                          &dtype);
  const auto step_counts = gather_steps(steps, tg.num_tensors());
  const StepContext ctx = make_context(dtype, grad_factor);
  if (validate_only) return;
  LambHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.bias_correction = bias_correction;
  py::gil_scoped_release release;
  cpu::kernels().lamb_step(tg, ctx, h, step_counts.data());
}

// Returns (sum of squares, all finite) over every gradient, float32 and
// float64 alike, in one read-only pass.

// Returns (sum of squares, all finite) over every gradient, float32 and
// float64 alike, in one read-only pass.
py::tuple grad_stats(py::handle grads) {
  if (!py::isinstance<py::list>(grads) && !py::isinstance<py::tuple>(grads)) {
    throw py::type_error("grads: expected a list of numpy arrays, got " + describe(grads));
  }
  py::list by_dtype[2];
  py::sequence seq = py::reinterpret_borrow<py::sequence>(grads);
  for (std::size_t k = 0; k < py::len(seq); ++k) {
    py::handle g = seq[k];
    py::list single;
    single.append(g);
    DType dtype{};
    gather({{"grads", single, Access::read, k}}, &dtype);
    by_dtype[static_cast<int>(dtype)].append(g);
  }
  TensorGroup groups[2];
  for (int d = 0; d < 2; ++d) {
    DType dtype{};
    if (py::len(by_dtype[d]) > 0) groups[d] = gather({{"grads", by_dtype[d], Access::read}}, &dtype);
  }
  double sumsq = 0.0;
  bool finite = true;
  {
    py::gil_scoped_release release;
    const int threads = cpu::get_num_threads();
    for (int d = 0; d < 2; ++d) {
      if (groups[d].num_tensors() == 0) continue;
      const cpu::GradStats s = cpu::kernels().grad_stats(groups[d], static_cast<DType>(d), threads);
      sumsq += s.sumsq;
      finite = finite && s.finite;
    }
  }
  return py::make_tuple(sumsq, finite);
}

}  // namespace

void bind_optim(py::module_& m) {
  using namespace py::literals;
  m.def("adam_step", &adam_step, "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a,
        "max_exp_avg_sqs"_a.none(true), "steps"_a, py::kw_only(), "lr"_a, "beta1"_a, "beta2"_a,
        "eps"_a, "weight_decay"_a, "amsgrad"_a, "decoupled"_a, "grad_factor"_a = 1.0,
        "validate_only"_a = false,
        "Fused Adam/AdamW step over lists of arrays, updated in place.");
  m.def("sgd_step", &sgd_step, "params"_a, "grads"_a, "momentum_buffers"_a.none(true), "steps"_a,
        py::kw_only(), "lr"_a, "momentum"_a, "dampening"_a, "weight_decay"_a, "nesterov"_a,
        "grad_factor"_a = 1.0, "validate_only"_a = false,
        "Fused SGD step (optionally with momentum) over lists of arrays, updated in place.");
  m.def("adagrad_step", &adagrad_step, "params"_a, "grads"_a, "state_sums"_a, "steps"_a,
        py::kw_only(), "lr"_a, "lr_decay"_a, "weight_decay"_a, "eps"_a, "grad_factor"_a = 1.0,
        "validate_only"_a = false,
        "Fused Adagrad step over lists of arrays, updated in place.");
  m.def("rmsprop_step", &rmsprop_step, "params"_a, "grads"_a, "square_avgs"_a,
        "momentum_buffers"_a.none(true), "grad_avgs"_a.none(true), "steps"_a, py::kw_only(),
        "lr"_a, "alpha"_a, "eps"_a, "weight_decay"_a, "momentum"_a, "centered"_a,
        "grad_factor"_a = 1.0, "validate_only"_a = false,
        "Fused RMSprop step over lists of arrays, updated in place.");
  m.def("adadelta_step", &adadelta_step, "params"_a, "grads"_a, "square_avgs"_a, "acc_deltas"_a,
        "steps"_a, py::kw_only(), "lr"_a, "rho"_a, "eps"_a, "weight_decay"_a,
        "grad_factor"_a = 1.0, "validate_only"_a = false,
        "Fused Adadelta step over lists of arrays, updated in place.");
  m.def("adamax_step", &adamax_step, "params"_a, "grads"_a, "exp_avgs"_a, "exp_infs"_a,
        "steps"_a, py::kw_only(), "lr"_a, "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a,
        "grad_factor"_a = 1.0, "validate_only"_a = false,
        "Fused Adamax step over lists of arrays, updated in place.");
  m.def("nadam_step", &nadam_step, "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a,
        "mu_products"_a, "steps"_a, py::kw_only(), "lr"_a, "beta1"_a, "beta2"_a, "eps"_a,
        "weight_decay"_a, "momentum_decay"_a, "decoupled"_a, "grad_factor"_a = 1.0,
        "validate_only"_a = false,
        "Fused NAdam step over lists of arrays, updated in place; returns the new "
        "mu_products (None with validate_only).");
  m.def("radam_step", &radam_step, "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a,
        "steps"_a, py::kw_only(), "lr"_a, "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a,
        "decoupled"_a, "grad_factor"_a = 1.0, "validate_only"_a = false,
        "Fused RAdam step over lists of arrays, updated in place.");
  m.def("lion_step", &lion_step, "params"_a, "grads"_a, "exp_avgs"_a, py::kw_only(), "lr"_a,
        "beta1"_a, "beta2"_a, "weight_decay"_a, "grad_factor"_a = 1.0,
        "validate_only"_a = false, "Fused Lion step over lists of arrays, updated in place.");
  m.def("lamb_step", &lamb_step, "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a,
        "steps"_a, py::kw_only(), "lr"_a, "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a,
        "bias_correction"_a, "grad_factor"_a = 1.0, "validate_only"_a = false,
        "Fused two-pass LAMB step over lists of arrays, updated in place.");
  m.def("grad_stats", &grad_stats, "grads"_a,
        "Return (sum of squares, all finite) over a list of gradient arrays.");
}

}  // namespace fastopt::bindings
