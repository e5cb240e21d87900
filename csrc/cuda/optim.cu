// The gradient pre-pass of a GPU step, which accumulates on the device the sum
// of squares of all gradients (for clipping and the reported norm) and a flag
// for any inf or NaN. Every rule's kernel reads both through StepControl.
#include <cub/block/block_reduce.cuh>

#include <cstdint>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"
#include "cuda/multi_tensor.cuh"
#include "cuda/optim_kernels.cuh"

namespace fastopt::cuda {

namespace {

// Destinations of the statistics. `done` is null except in the last launch of
// the pre-pass, whose last block then writes the unscaled norm and the flag
// as the step's reported results.
struct StatsOutput {
  double* sumsq;
  unsigned* nonfinite;
  unsigned* done;
  double* grad_norm;
  bool* found_inf;
  double inv_scale;
};

template <typename P>
__global__ void __launch_bounds__(kBlockSize)
    grad_stats_kernel(TensorBatch<1> batch, StatsOutput out) {
  using S = typename ComputeOf<P>::type;
  using BlockReduce = cub::BlockReduce<double, kBlockSize>;
  __shared__ typename BlockReduce::TempStorage scratch;
  __shared__ bool is_last;

  double local = 0.0;
  int bad = 0;
  const std::int64_t chunks = batch.chunk_begin[batch.count];
  for (std::int64_t chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x) {
    const int t = tensor_of_chunk(batch, chunk);
    const P* g = static_cast<const P*>(batch.ptr[0][t]);
    const std::int64_t begin = (chunk - batch.chunk_begin[t]) * kChunk;
    const std::int64_t end = begin + kChunk < batch.numel[t] ? begin + kChunk : batch.numel[t];
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const double x = static_cast<double>(load_as<S>(g, i));
      local += x * x;
      bad |= isfinite(x) ? 0 : 1;
    }
  }
  const double block_sum = BlockReduce(scratch).Sum(local);
  const int block_bad = __syncthreads_or(bad);
  if (threadIdx.x == 0) {
    // NOTE: blocks add in the order they finish, so the sum of squares (and
    // a clipped step) can differ between runs in the last bits of a double.
    if (block_sum != 0.0) atomicAdd(out.sumsq, block_sum);
    if (block_bad) atomicOr(out.nonfinite, 1u);
  }
  if (out.done == nullptr) return;

  if (threadIdx.x == 0) {
    __threadfence();
    is_last = atomicAdd(out.done, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (is_last && threadIdx.x == 0) {
    // Read through volatile so the other blocks' atomics are seen, not a cached value.
    const double sumsq = *static_cast<volatile double*>(out.sumsq);
    *out.grad_norm = sqrt(sumsq) * out.inv_scale;
    *out.found_inf = *static_cast<volatile unsigned*>(out.nonfinite) != 0u;
    *out.done = 0u;
  }
}

// Accumulates the statistics of one dtype's gradients. With finalize, the
// last launch also writes grad_norm and found_inf; it then runs even over no
// elements, so the outputs are always written.
void grad_stats(const std::string& dtype, const Addresses& grads, const Sizes& numel,
                std::uintptr_t sumsq, std::uintptr_t nonfinite, std::uintptr_t done,
                std::uintptr_t grad_norm, std::uintptr_t found_inf, double inv_scale,
                std::uintptr_t stream) {
  if (sumsq == 0 || nonfinite == 0) {
    throw pybind11::value_error("sumsq, nonfinite: expected device addresses, got 0");
  }
  if (done != 0 && (grad_norm == 0 || found_inf == 0)) {
    throw pybind11::value_error("grad_norm, found_inf: expected device addresses when done is set");
  }
  TensorArgs args;
  args.pointers = {grads};
  args.numel = numel;
  args.steps.assign(numel.size(), 0);
  args.counters.assign(numel.size(), 0);
  const std::int64_t launches = [&] {
    std::int64_t nonempty = 0;
    for (const std::int64_t n : numel) nonempty += n > 0 ? 1 : 0;
    return max_launches(nonempty);
  }();
  StatsOutput out{device_pointer<double>(sumsq),     device_pointer<unsigned>(nonfinite),
                  nullptr,                           device_pointer<double>(grad_norm),
                  device_pointer<bool>(found_inf),   inv_scale};
  with_storage(parse_dtype(dtype), [&](auto zero) {
    using P = decltype(zero);
    auto launch = [&](const TensorBatch<1>& batch, std::int64_t chunks, int index) {
      StatsOutput launch_out = out;
      const bool last = index + 1 >= launches;
      launch_out.done = last ? device_pointer<unsigned>(done) : nullptr;
      grad_stats_kernel<P><<<grid_for_chunks(chunks), kBlockSize, 0, as_stream(stream)>>>(
          batch, launch_out);
      check_launch("grad_stats_kernel");
    };
    for_each_batch<1>(args, launch);
    if (launches == 0 && done != 0) launch(TensorBatch<1>{}, 0, 0);
  });
}

}  // namespace

void register_optim(pybind11::module_& m) {
  m.attr("MAX_TENSORS_PER_LAUNCH") = kMaxTensorsPerLaunch;
  m.attr("CHUNK_SIZE") = kChunk;

  pybind11::class_<ControlArgs>(m, "StepControl",
                                "How gradients enter a GPU step: the host factor, the clip "
                                "threshold and the device addresses of the pre-pass results.")
      .def(pybind11::init<>())
      .def_readwrite("grad_factor", &ControlArgs::grad_factor,
                     "Host factor on every gradient: 1 / grad_scale, negated to maximize.")
      .def_readwrite("inv_scale", &ControlArgs::inv_scale,
                     "1 / grad_scale, which unscales the norm before clipping.")
      .def_readwrite("max_norm", &ControlArgs::max_norm,
                     "Global-norm clip threshold; negative for no clipping.")
      .def_readwrite("sumsq", &ControlArgs::sumsq,
                     "Device address of the gradients' float64 sum of squares, or 0.")
      .def_readwrite("nonfinite", &ControlArgs::nonfinite,
                     "Device address of the uint32 non-finite flag, or 0 for no check.")
      .def_readwrite("done", &ControlArgs::done,
                     "Device address of zeroed uint32 launch counters, or 0 without device "
                     "step counters.");

  m.def("grad_stats", &grad_stats, pybind11::arg("dtype"), pybind11::arg("grads"),
        pybind11::arg("numel"), pybind11::arg("sumsq"), pybind11::arg("nonfinite"),
        pybind11::arg("done"), pybind11::arg("grad_norm"), pybind11::arg("found_inf"),
        pybind11::arg("inv_scale"), pybind11::arg("stream"),
        "Add the gradients' sum of squares and non-finite flag to device accumulators; with "
        "done set, the last block also writes grad_norm and found_inf.");
}

}  // namespace fastopt::cuda
