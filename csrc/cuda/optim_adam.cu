// GPU steps of the Adam family: Adam/AdamW, Adamax, NAdam and RAdam. The
// element updates are the functions of fastopt/rules/*.hpp that the CPU
// kernels call; only loading, storing and the dtype conversions live here.
#include <cstdint>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/optim_kernels.cuh"
#include "fastopt/rules/adam.hpp"
#include "fastopt/rules/adamax.hpp"
#include "fastopt/rules/nadam.hpp"
#include "fastopt/rules/radam.hpp"

namespace fastopt::cuda {

namespace {

// Roles: params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs (AMSGrad only).
template <Decay D, bool Amsgrad>
struct AdamRule : NoAdvance {
  static constexpr int kDepth = 5;
  template <typename S>
  using Coef = AdamCoef<S>;
  AdamHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>& b, int t) const {
    return adam_coef<S>(h, step_of(b, t));
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2, 3, Amsgrad ? 4 : kNoRole>(
        b, t, i, factor, [&](S& param, S g, S& avg, S& avg_sq, S& max_sq) {
          adam_update<S, D, Amsgrad>(param, g, avg, avg_sq, max_sq, c);
        });
  }

};

// Roles: params, grads, exp_avgs, exp_infs.
template <Decay D>
struct AdamaxRule : NoAdvance {
  static constexpr int kDepth = 4;
  template <typename S>
  using Coef = AdamaxCoef<S>;
  AdamaxHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>& b, int t) const {
    return adamax_coef<S>(h, step_of(b, t));
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2, 3>(b, t, i, factor, [&](S& param, S g, S& avg, S& inf_norm) {
      adamax_update<S, D>(param, g, avg, inf_norm, c);
    });
  }

};

// Roles: params, grads, exp_avgs, exp_avg_sqs. aux[t] is the tensor's
// product of momentum coefficients mu_1 .. mu_{t-1} on the device; the kernel
// uses the product with this step's mu and stores it once the step applies.
template <Decay D>
struct NAdamRule {
  static constexpr int kDepth = 4;
  template <typename S>
  using Coef = NAdamCoef<S>;
  NAdamHyper h;

  __device__ double product(const TensorBatch<kDepth>& b, int t) const {
    return *b.aux[t] * nadam_mu(h, step_of(b, t));
  }

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>& b, int t) const {
    return nadam_coef<S>(h, step_of(b, t), product(b, t));
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2, 3>(b, t, i, factor, [&](S& param, S g, S& avg, S& avg_sq) {
      nadam_update<S, D>(param, g, avg, avg_sq, c);
    });
  }


  // Runs before the step counter advances, so step_of is still this step.
  __device__ void advance(const TensorBatch<kDepth>& b, int t) const { *b.aux[t] = product(b, t); }
};

// Roles: params, grads, exp_avgs, exp_avg_sqs. Whether the variance is
// rectified depends on the step, so both variants sit in one kernel and each
// tensor's coefficients choose.
template <Decay D>
struct RAdamRule : NoAdvance {
  static constexpr int kDepth = 4;
  template <typename S>
  using Coef = RAdamCoef<S>;
  RAdamHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>& b, int t) const {
    return radam_coef<S>(h, step_of(b, t));
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2, 3>(b, t, i, factor, [&](S& param, S g, S& avg, S& avg_sq) {
      if (c.rectified) {
        radam_update<S, D, true>(param, g, avg, avg_sq, c);
      } else {
        radam_update<S, D, false>(param, g, avg, avg_sq, c);
      }
    });
  }

};

void adam_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
               Addresses counters, Addresses aux, const ControlArgs& control,
               std::uintptr_t stream, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool decoupled) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  AdamHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.amsgrad = amsgrad;
  with_decay(decay_mode(weight_decay, decoupled), [&](auto decay) {
    with_bool(amsgrad, [&](auto ams) {
      using Rule = AdamRule<decltype(decay)::value, decltype(ams)::value>;
      launch_step(dtype, args, control, stream, Rule{{}, h});
    });
  });
}

void adamax_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
                 Addresses counters, Addresses aux, const ControlArgs& control,
                 std::uintptr_t stream, double lr, double beta1, double beta2, double eps,
                 double weight_decay) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  AdamaxHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  if (weight_decay == 0.0) {
    launch_step(dtype, args, control, stream, AdamaxRule<Decay::none>{{}, h});
  } else {
    launch_step(dtype, args, control, stream, AdamaxRule<Decay::l2>{{}, h});
  }
}

void nadam_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
                Addresses counters, Addresses aux, const ControlArgs& control,
                std::uintptr_t stream, double lr, double beta1, double beta2, double eps,
                double weight_decay, double momentum_decay, bool decoupled) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  if (args.aux.size() != args.size()) {
    throw pybind11::value_error("aux: expected the device address of each tensor's mu_product");
  }
  for (std::size_t t = 0; t < args.aux.size(); ++t) {
    if (args.aux[t] == 0) {
      throw pybind11::value_error("aux[" + std::to_string(t) +
                                  "]: expected a device address, got 0");
    }
  }
  NAdamHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.momentum_decay = momentum_decay;
  with_decay(decay_mode(weight_decay, decoupled), [&](auto decay) {
    launch_step(dtype, args, control, stream, NAdamRule<decltype(decay)::value>{h});
  });
}

void radam_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
                Addresses counters, Addresses aux, const ControlArgs& control,
                std::uintptr_t stream, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  RAdamHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  with_decay(decay_mode(weight_decay, decoupled), [&](auto decay) {
    launch_step(dtype, args, control, stream, RAdamRule<decltype(decay)::value>{{}, h});
  });
}

}  // namespace

void register_optim_adam(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("adam_step", &adam_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"),
        py::arg("decoupled"),
        "Enqueue one fused Adam/AdamW step. Roles: params, grads, exp_avgs, exp_avg_sqs, "
        "max_exp_avg_sqs.");
  m.def("adamax_step", &adamax_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        "Enqueue one fused Adamax step. Roles: params, grads, exp_avgs, exp_infs.");
  m.def("nadam_step", &nadam_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("momentum_decay"),
        py::arg("decoupled"),
        "Enqueue one fused NAdam step. Roles: params, grads, exp_avgs, exp_avg_sqs; aux holds "
        "each tensor's float64 mu_product, updated in place when the step applies.");
  m.def("radam_step", &radam_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("decoupled"),
        "Enqueue one fused RAdam step. Roles: params, grads, exp_avgs, exp_avg_sqs.");
}

}  // namespace fastopt::cuda
