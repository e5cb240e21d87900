// The fused optimizer step as one multi-tensor kernel per rule, and the host
// code that launches it over a list of tensors.
//
// A rule is a small struct holding the hyperparameters. It supplies the
// per-tensor coefficients from fastopt/rules/*.hpp, computed on the device
// from the step number so that device step counters never travel to the
// host. It also supplies the update of one element, through the same header
// function the CPU kernels call, and advance(), which updates rule-specific
// per-tensor device scalars once the step is applied.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"
#include "cuda/multi_tensor.cuh"
#include "fastopt/common.hpp"

namespace fastopt::cuda {

// Arguments of StepControl as Python passes them (device addresses as ints).
struct ControlArgs {
  double grad_factor = 1.0;
  double inv_scale = 1.0;
  double max_norm = -1.0;
  std::uintptr_t sumsq = 0;
  std::uintptr_t nonfinite = 0;
  std::uintptr_t done = 0;

  StepControl to_device() const {
    StepControl c;
    c.grad_factor = grad_factor;
    c.inv_scale = inv_scale;
    c.max_norm = max_norm;
    c.sumsq = device_pointer<const double>(sumsq);
    c.nonfinite = device_pointer<const unsigned>(nonfinite);
    c.done = device_pointer<unsigned>(done);
    return c;
  }
};

template <typename P, int Depth, typename Rule>
__global__ void __launch_bounds__(kBlockSize)
    multi_tensor_step(TensorBatch<Depth> batch, StepControl control, Rule rule) {
  using S = typename ComputeOf<P>::type;
  // A skipped step returns from every block, so no counter advances either.
  if (step_skipped(control)) return;
  const S factor = static_cast<S>(step_factor(control));
  const std::int64_t chunks = batch.chunk_begin[batch.count];
  int cached = -1;
  typename Rule::template Coef<S> coef{};
  for (std::int64_t chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x) {
    const int t = tensor_of_chunk(batch, chunk);
    if (t != cached) {
      coef = rule.template coef<S>(batch, t);
      cached = t;
    }
    const std::int64_t begin = (chunk - batch.chunk_begin[t]) * kChunk;
    const std::int64_t end = begin + kChunk < batch.numel[t] ? begin + kChunk : batch.numel[t];
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      rule.template element<P, S>(batch, t, i, factor, coef);
    }
  }
  advance_if_last_block(batch, control, rule);
}

// Launches rule's step over every tensor of args, on `stream`.
template <typename Rule>
void launch_step(const std::string& dtype, const TensorArgs& args, const ControlArgs& control_args,
                 std::uintptr_t stream, const Rule& rule) {
  const StepControl base = control_args.to_device();
  with_storage(parse_dtype(dtype), [&](auto zero) {
    using P = decltype(zero);
    for_each_batch<Rule::kDepth>(args, [&](const TensorBatch<Rule::kDepth>& batch,
                                           std::int64_t chunks, int index) {
      StepControl control = base;
      if (control.done != nullptr) control.done += index;
      multi_tensor_step<P, Rule::kDepth, Rule>
          <<<grid_for_chunks(chunks), kBlockSize, 0, as_stream(stream)>>>(batch, control, rule);
      check_launch("multi_tensor_step");
    });
  });
}

// A rule without per-tensor device scalars besides the step counter.
struct NoAdvance {
  template <int Depth>
  __device__ void advance(const TensorBatch<Depth>&, int) const {}
};

template <typename T, int Depth>
__device__ __forceinline__ T* role(const TensorBatch<Depth>& batch, int r, int t) {
  return static_cast<T*>(batch.ptr[r][t]);
}

// A state argument of a rule's element update that this variant does not use
// (AMSGrad's maximum without AMSGrad, say): it is 0 and never stored.
inline constexpr int kNoRole = -1;

template <typename S, int Role, int Depth>
__device__ __forceinline__ S load_state(const TensorBatch<Depth>& batch, int t, std::int64_t i) {
  if constexpr (Role == kNoRole) {
    return S(0);
  } else {
    return role<S>(batch, Role, t)[i];
  }
}

template <typename S, int Role, int Depth>
__device__ __forceinline__ void store_state(const TensorBatch<Depth>& batch, int t, std::int64_t i,
                                            S value) {
  if constexpr (Role != kNoRole) role<S>(batch, Role, t)[i] = value;
}

template <typename P, typename S, int... Roles, int Depth, typename Update, std::size_t... K>
__device__ __forceinline__ void update_element_impl(const TensorBatch<Depth>& batch, int t,
                                                    std::int64_t i, S factor, const Update& update,
                                                    std::index_sequence<K...>) {
  P* p = role<P>(batch, 0, t);
  S param = load_as<S>(p, i);
  const S g = load_as<S>(role<const P>(batch, 1, t), i) * factor;
  S state[] = {load_state<S, Roles>(batch, t, i)...};
  update(param, g, state[K]...);
  store_as(p, i, param);
  (store_state<S, Roles>(batch, t, i, state[K]), ...);
}

// Updates one element of a rule. It loads the parameter (role 0, stored as P)
// and the gradient (role 1, times factor) in S, and the states of `Roles`
// (stored as S, or kNoRole). Then it calls update(param, grad, states...) on
// the registers and stores the parameter and the states back.
template <typename P, typename S, int... Roles, int Depth, typename Update>
__device__ __forceinline__ void update_element(const TensorBatch<Depth>& batch, int t,
                                               std::int64_t i, S factor, const Update& update) {
  update_element_impl<P, S, Roles...>(batch, t, i, factor, update,
                                      std::make_index_sequence<sizeof...(Roles)>{});
}

// Calls f(std::integral_constant<Decay, D>{}) for the runtime decay mode.
template <typename F>
void with_decay(Decay decay, F&& f) {
  switch (decay) {
    case Decay::none: f(std::integral_constant<Decay, Decay::none>{}); break;
    case Decay::l2: f(std::integral_constant<Decay, Decay::l2>{}); break;
    case Decay::decoupled: f(std::integral_constant<Decay, Decay::decoupled>{}); break;
  }
}

template <typename F>
void with_bool(bool value, F&& f) {
  if (value) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

// The keyword arguments every bound step function starts with, in order.
#define FASTOPT_STEP_ARGS                                                                 \
  pybind11::arg("dtype"), pybind11::arg("pointers"), pybind11::arg("numel"),             \
      pybind11::arg("steps"), pybind11::arg("counters"), pybind11::arg("aux"),           \
      pybind11::arg("control"), pybind11::arg("stream")

using Pointers = std::vector<std::vector<std::uintptr_t>>;
using Addresses = std::vector<std::uintptr_t>;
using Sizes = std::vector<std::int64_t>;

inline TensorArgs make_args(Pointers pointers, Sizes numel, Sizes steps, Addresses counters,
                     Addresses aux) {
  TensorArgs args;
  args.pointers = std::move(pointers);
  args.numel = std::move(numel);
  args.steps = std::move(steps);
  args.counters = std::move(counters);
  args.aux = std::move(aux);
  return args;
}

// Weight decay as the kernels apply it: none when the coefficient is 0.
inline Decay decay_mode(double weight_decay, bool decoupled) {
  if (weight_decay == 0.0) return Decay::none;
  return decoupled ? Decay::decoupled : Decay::l2;
}

}  // namespace fastopt::cuda
