// GPU steps of SGD, Adagrad, RMSprop, Adadelta and Lion. The element updates
// are the functions of fastopt/rules/*.hpp that the CPU kernels call.
#include <cstdint>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/optim_kernels.cuh"
#include "fastopt/rules/adadelta.hpp"
#include "fastopt/rules/adagrad.hpp"
#include "fastopt/rules/lion.hpp"
#include "fastopt/rules/rmsprop.hpp"
#include "fastopt/rules/sgd.hpp"

namespace fastopt::cuda {

namespace {

// Roles: params, grads, momentum_buffers (with momentum only). A tensor's
// first step sets the buffer to the gradient, which coef.first selects.
template <Decay D, SgdMomentum M>
struct SgdRule : NoAdvance {
  static constexpr int kDepth = 3;
  template <typename S>
  using Coef = SgdCoef<S>;
  SgdHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>& b, int t) const {
    return sgd_coef<S>(h, step_of(b, t));
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    // On a tensor's first step the buffer is read but not used.
    update_element<P, S, M == SgdMomentum::none ? kNoRole : 2>(
        b, t, i, factor, [&](S& param, S g, S& buf) {
          if (c.first) {
            sgd_update<S, D, M, true>(param, g, buf, c);
          } else {
            sgd_update<S, D, M, false>(param, g, buf, c);
          }
        });
  }

};

// Roles: params, grads, state_sums.
template <Decay D>
struct AdagradRule : NoAdvance {
  static constexpr int kDepth = 3;
  template <typename S>
  using Coef = AdagradCoef<S>;
  AdagradHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>& b, int t) const {
    return adagrad_coef<S>(h, step_of(b, t));
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2>(b, t, i, factor,
                            [&](S& param, S g, S& sum) { adagrad_update<S, D>(param, g, sum, c); });
  }

};

// Roles: params, grads, square_avgs, grad_avgs (centered only),
// momentum_buffers (with momentum only).
template <Decay D, bool Centered, bool Momentum>
struct RmspropRule : NoAdvance {
  static constexpr int kDepth = 5;
  template <typename S>
  using Coef = RmspropCoef<S>;
  RmspropHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>&, int) const {
    return rmsprop_coef<S>(h);
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2, Centered ? 3 : kNoRole, Momentum ? 4 : kNoRole>(
        b, t, i, factor, [&](S& param, S g, S& square_avg, S& grad_avg, S& buf) {
          rmsprop_update<S, D, Centered, Momentum>(param, g, square_avg, grad_avg, buf, c);
        });
  }

};

// Roles: params, grads, square_avgs, acc_deltas.
template <Decay D>
struct AdadeltaRule : NoAdvance {
  static constexpr int kDepth = 4;
  template <typename S>
  using Coef = AdadeltaCoef<S>;
  AdadeltaHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>&, int) const {
    return adadelta_coef<S>(h);
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2, 3>(b, t, i, factor, [&](S& param, S g, S& square_avg, S& acc_delta) {
      adadelta_update<S, D>(param, g, square_avg, acc_delta, c);
    });
  }

};

// Roles: params, grads, exp_avgs.
template <Decay D>
struct LionRule : NoAdvance {
  static constexpr int kDepth = 3;
  template <typename S>
  using Coef = LionCoef<S>;
  LionHyper h;

  template <typename S>
  __device__ Coef<S> coef(const TensorBatch<kDepth>&, int) const {
    return lion_coef<S>(h);
  }

  template <typename P, typename S>
  __device__ void element(const TensorBatch<kDepth>& b, int t, std::int64_t i, S factor,
                          const Coef<S>& c) const {
    update_element<P, S, 2>(b, t, i, factor,
                            [&](S& param, S g, S& avg) { lion_update<S, D>(param, g, avg, c); });
  }

};

void sgd_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
              Addresses counters, Addresses aux, const ControlArgs& control, std::uintptr_t stream,
              double lr, double momentum, double dampening, double weight_decay, bool nesterov) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  SgdHyper h;
  h.lr = lr;
  h.momentum = momentum;
  h.dampening = dampening;
  h.weight_decay = weight_decay;
  h.nesterov = nesterov;
  const SgdMomentum mode = momentum == 0.0 ? SgdMomentum::none
                           : nesterov      ? SgdMomentum::nesterov
                                           : SgdMomentum::heavy_ball;
  auto run = [&](auto decay) {
    constexpr Decay D = decltype(decay)::value;
    switch (mode) {
      case SgdMomentum::none:
        launch_step(dtype, args, control, stream, SgdRule<D, SgdMomentum::none>{{}, h});
        break;
      case SgdMomentum::heavy_ball:
        launch_step(dtype, args, control, stream, SgdRule<D, SgdMomentum::heavy_ball>{{}, h});
        break;
      case SgdMomentum::nesterov:
        launch_step(dtype, args, control, stream, SgdRule<D, SgdMomentum::nesterov>{{}, h});
        break;
    }
  };
  if (weight_decay == 0.0) {
    run(std::integral_constant<Decay, Decay::none>{});
  } else {
    run(std::integral_constant<Decay, Decay::l2>{});
  }
}

void adagrad_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
                  Addresses counters, Addresses aux, const ControlArgs& control,
                  std::uintptr_t stream, double lr, double lr_decay, double weight_decay,
                  double eps) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  AdagradHyper h;
  h.lr = lr;
  h.lr_decay = lr_decay;
  h.weight_decay = weight_decay;
  h.eps = eps;
  if (weight_decay == 0.0) {
    launch_step(dtype, args, control, stream, AdagradRule<Decay::none>{{}, h});
  } else {
    launch_step(dtype, args, control, stream, AdagradRule<Decay::l2>{{}, h});
  }
}

void rmsprop_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
                  Addresses counters, Addresses aux, const ControlArgs& control,
                  std::uintptr_t stream, double lr, double alpha, double eps, double weight_decay,
                  double momentum, bool centered) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  RmspropHyper h;
  h.lr = lr;
  h.alpha = alpha;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.momentum = momentum;
  h.centered = centered;
  with_decay(decay_mode(weight_decay, false), [&](auto decay) {
    if constexpr (decltype(decay)::value != Decay::decoupled) {
      with_bool(centered, [&](auto c) {
        with_bool(momentum > 0.0, [&](auto mom) {
          launch_step(dtype, args, control, stream,
                      RmspropRule<decltype(decay)::value, decltype(c)::value,
                                  decltype(mom)::value>{{}, h});
        });
      });
    }
  });
}

void adadelta_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
                   Addresses counters, Addresses aux, const ControlArgs& control,
                   std::uintptr_t stream, double lr, double rho, double eps, double weight_decay) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  AdadeltaHyper h;
  h.lr = lr;
  h.rho = rho;
  h.eps = eps;
  h.weight_decay = weight_decay;
  if (weight_decay == 0.0) {
    launch_step(dtype, args, control, stream, AdadeltaRule<Decay::none>{{}, h});
  } else {
    launch_step(dtype, args, control, stream, AdadeltaRule<Decay::l2>{{}, h});
  }
}

void lion_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
               Addresses counters, Addresses aux, const ControlArgs& control, std::uintptr_t stream,
               double lr, double beta1, double beta2, double weight_decay) {
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  LionHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.weight_decay = weight_decay;
  if (weight_decay == 0.0) {
    launch_step(dtype, args, control, stream, LionRule<Decay::none>{{}, h});
  } else {
    launch_step(dtype, args, control, stream, LionRule<Decay::decoupled>{{}, h});
  }
}

}  // namespace

void register_optim_sgd(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("sgd_step", &sgd_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("momentum"),
        py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
        "Enqueue one fused SGD step. Roles: params, grads, momentum_buffers.");
  m.def("adagrad_step", &adagrad_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("lr_decay"),
        py::arg("weight_decay"), py::arg("eps"),
        "Enqueue one fused Adagrad step. Roles: params, grads, state_sums.");
  m.def("rmsprop_step", &rmsprop_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("alpha"),
        py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"),
        "Enqueue one fused RMSprop step. Roles: params, grads, square_avgs, grad_avgs, "
        "momentum_buffers.");
  m.def("adadelta_step", &adadelta_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("rho"),
        py::arg("eps"), py::arg("weight_decay"),
        "Enqueue one fused Adadelta step. Roles: params, grads, square_avgs, acc_deltas.");
  m.def("lion_step", &lion_step, FASTOPT_STEP_ARGS, py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("weight_decay"),
        "Enqueue one fused Lion step. Roles: params, grads, exp_avgs.");
}

}  // namespace fastopt::cuda
