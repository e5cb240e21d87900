// Proximal operators and proximal gradient steps on the GPU, through the
// scalar maps of fastopt/prox.hpp that the CPU kernels call. The arithmetic
// follows csrc/cpu/kernels/prox.cpp: v = x - (t * grad) in x's dtype, a
// uniform threshold t * l1 rounded once from float64, an array threshold
// formed as T(t) * l1_i, and group norms summed in float64.
#include <cub/block/block_reduce.cuh>

#include <cstdint>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"
#include "fastopt/prox.hpp"

namespace fastopt::cuda {

namespace {

// Same numbering as the CPU kernels' ProxPenalty.
enum class Penalty : int { l1 = 0, elastic_net = 1, l2 = 2, box = 3, nonneg = 4 };

// A per-coordinate parameter: values[i] (times T(step) when scaled) or one
// value for every coordinate when values is null.
template <typename T>
struct Param {
  const T* values;
  T uniform;
  T scale;

  __device__ __forceinline__ T operator()(std::int64_t i, bool scaled) const {
    if (values == nullptr) return uniform;
    return scaled ? scale * values[i] : values[i];
  }
};

template <typename T>
struct ProxArgs {
  const T* x;
  const T* grad;  // null: prox of x itself
  T* out;         // may equal x
  std::int64_t n;
  T step;
  Penalty penalty;
  Param<T> l1;
  Param<T> l2;
  Param<T> lower;
  Param<T> upper;
};

template <typename T>
__device__ __forceinline__ T apply_map(const ProxArgs<T>& a, std::int64_t i, T v) {
  switch (a.penalty) {
    case Penalty::l1: return soft_threshold(v, a.l1(i, true));
    case Penalty::elastic_net: return elastic_net_prox(v, a.l1(i, true), a.l2(i, true));
    case Penalty::l2: return l2_shrink(v, a.l2(i, true));
    case Penalty::box: return clamp_to(v, a.lower(i, false), a.upper(i, false));
    case Penalty::nonneg: return project_nonneg(v);
  }
  return v;
}

template <typename T>
__global__ void __launch_bounds__(kBlockSize) prox_kernel(ProxArgs<T> a) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += stride) {
    T v = a.x[i];
    if (a.grad != nullptr) v = v - a.step * a.grad[i];
    a.out[i] = apply_map(a, i, v);
  }
}

// One block per group at a time: the block sums v^2 over the group in
// float64, then scales the group by max(0, 1 - t lambda w_g / ||v||),
// recomputing v so that out may be x.
template <typename T>
__global__ void __launch_bounds__(kBlockSize)
    group_kernel(const T* x, const T* grad, T* out, T step, const std::int64_t* offsets,
                 std::int64_t num_groups, double t_lambda, const double* weights) {
  using BlockReduce = cub::BlockReduce<double, kBlockSize>;
  __shared__ typename BlockReduce::TempStorage scratch;
  __shared__ double factor;
  for (std::int64_t k = blockIdx.x; k < num_groups; k += gridDim.x) {
    const std::int64_t begin = offsets[k];
    const std::int64_t end = offsets[k + 1];
    double local = 0.0;
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      T v = x[i];
      if (grad != nullptr) v = v - step * grad[i];
      const double d = static_cast<double>(v);
      local += d * d;
    }
    const double sumsq = BlockReduce(scratch).Sum(local);
    if (threadIdx.x == 0) {
      const double weight = weights != nullptr ? weights[k] : 1.0;
      factor = group_shrink_factor(sqrt(sumsq), t_lambda * weight);
    }
    __syncthreads();
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      T v = x[i];
      if (grad != nullptr) v = v - step * grad[i];
      out[i] = static_cast<T>(static_cast<double>(v) * factor);
    }
    __syncthreads();  // factor and scratch are reused by the next group
  }
}

template <typename T>
Param<T> make_param(std::uintptr_t values, double scalar, double step, bool scaled) {
  Param<T> p;
  p.values = device_pointer<const T>(values);
  p.uniform = static_cast<T>(scaled ? step * scalar : scalar);
  p.scale = static_cast<T>(step);
  return p;
}

template <typename T>
void launch_prox(int penalty, std::uintptr_t x, std::uintptr_t grad, std::uintptr_t out,
                 std::int64_t n, double step, std::uintptr_t l1, double l1_scalar,
                 std::uintptr_t l2, double l2_scalar, std::uintptr_t lower, double lower_scalar,
                 std::uintptr_t upper, double upper_scalar, std::uintptr_t stream) {
  ProxArgs<T> a;
  a.x = device_pointer<const T>(x);
  a.grad = device_pointer<const T>(grad);
  a.out = device_pointer<T>(out);
  a.n = n;
  a.step = static_cast<T>(step);
  a.penalty = static_cast<Penalty>(penalty);
  a.l1 = make_param<T>(l1, l1_scalar, step, true);
  a.l2 = make_param<T>(l2, l2_scalar, step, true);
  a.lower = make_param<T>(lower, lower_scalar, step, false);
  a.upper = make_param<T>(upper, upper_scalar, step, false);
  prox_kernel<T><<<grid_for(n), kBlockSize, 0, as_stream(stream)>>>(a);
  check_launch("prox_kernel");
}

// Applies the elementwise map named by `penalty` (its name, as in
// fastopt.prox.prox_grad_step) to x, or to x - step * grad when grad is set.
// Each parameter is a device array (address) or, with address 0, a scalar.
void prox_elementwise(const std::string& dtype, const std::string& penalty, std::uintptr_t x,
                      std::uintptr_t grad, std::uintptr_t out, std::int64_t n, double step,
                      std::uintptr_t l1, double l1_scalar, std::uintptr_t l2, double l2_scalar,
                      std::uintptr_t lower, double lower_scalar, std::uintptr_t upper,
                      double upper_scalar, std::uintptr_t stream) {
  Penalty p;
  if (penalty == "l1") {
    p = Penalty::l1;
  } else if (penalty == "elasticnet") {
    p = Penalty::elastic_net;
  } else if (penalty == "l2") {
    p = Penalty::l2;
  } else if (penalty == "box") {
    p = Penalty::box;
  } else if (penalty == "nonneg") {
    p = Penalty::nonneg;
  } else {
    throw pybind11::value_error(
        "penalty: expected 'l1', 'elasticnet', 'l2', 'box' or 'nonneg', got '" + penalty + "'");
  }
  if (!has_work("n", n)) return;
  const int code = static_cast<int>(p);
  with_float_type(dtype, [&](auto zero) {
    launch_prox<decltype(zero)>(code, x, grad, out, n, step, l1, l1_scalar, l2, l2_scalar, lower,
                                lower_scalar, upper, upper_scalar, stream);
  });
}

// Block soft-thresholding over contiguous groups. `offsets` (int64, device)
// and `weights` (float64, device, or 0 for all ones) must already be checked.
void prox_group(const std::string& dtype, std::uintptr_t x, std::uintptr_t grad,
                std::uintptr_t out, std::int64_t num_groups, std::uintptr_t offsets, double step,
                double threshold, std::uintptr_t weights, std::uintptr_t stream) {
  if (!has_work("num_groups", num_groups)) return;
  const unsigned grid = grid_for(num_groups, 1);
  const double t_lambda = step * threshold;
  with_float_type(dtype, [&](auto zero) {
    using T = decltype(zero);
    group_kernel<T><<<grid, kBlockSize, 0, as_stream(stream)>>>(
        device_pointer<const T>(x), device_pointer<const T>(grad), device_pointer<T>(out),
        static_cast<T>(step), device_pointer<const std::int64_t>(offsets), num_groups, t_lambda,
        device_pointer<const double>(weights));
    check_launch("group_kernel");
  });
}

}  // namespace

void register_prox(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("prox_elementwise", &prox_elementwise, py::arg("dtype"), py::arg("penalty"),
        py::arg("x"), py::arg("grad"), py::arg("out"), py::arg("n"), py::arg("step"),
        py::arg("l1"), py::arg("l1_scalar"), py::arg("l2"), py::arg("l2_scalar"),
        py::arg("lower"), py::arg("lower_scalar"), py::arg("upper"), py::arg("upper_scalar"),
        py::arg("stream"),
        "Enqueue an elementwise proximal map (or proximal gradient step when grad is set).");
  m.def("prox_group", &prox_group, py::arg("dtype"), py::arg("x"), py::arg("grad"),
        py::arg("out"), py::arg("num_groups"), py::arg("offsets"), py::arg("step"),
        py::arg("threshold"), py::arg("weights"), py::arg("stream"),
        "Enqueue block soft-thresholding over contiguous groups.");
}

}  // namespace fastopt::cuda
