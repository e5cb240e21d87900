// The GPU step of LAMB. The trust ratio ||p|| / ||u|| of a tensor needs both
// norms before any element of p changes, so a step takes two launches per
// batch. The first updates m and v and adds each tensor's sums of p^2 and u^2
// to device accumulators. The second recomputes u from m, v and p through the
// same lamb_direction, so both passes see identical u, and writes p.
#include <cub/block/block_reduce.cuh>

#include <cstdint>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/optim_kernels.cuh"
#include "fastopt/rules/lamb.hpp"

namespace fastopt::cuda {

namespace {

constexpr int kLambDepth = 4;  // params, grads, exp_avgs, exp_avg_sqs

template <typename P, bool Decayed>
__global__ void __launch_bounds__(kBlockSize)
    lamb_moments_kernel(TensorBatch<kLambDepth> batch, StepControl control, LambHyper h,
                        double* sums) {
  using S = typename ComputeOf<P>::type;
  using BlockReduce = cub::BlockReduce<double, kBlockSize>;
  __shared__ typename BlockReduce::TempStorage scratch;
  if (step_skipped(control)) return;
  const S factor = static_cast<S>(step_factor(control));
  const std::int64_t chunks = batch.chunk_begin[batch.count];
  for (std::int64_t chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x) {
    const int t = tensor_of_chunk(batch, chunk);
    const LambCoef<S> c = lamb_coef<S>(h, step_of(batch, t));
    const P* p = role<const P>(batch, 0, t);
    const P* g = role<const P>(batch, 1, t);
    S* m = role<S>(batch, 2, t);
    S* v = role<S>(batch, 3, t);
    const std::int64_t begin = (chunk - batch.chunk_begin[t]) * kChunk;
    const std::int64_t end = begin + kChunk < batch.numel[t] ? begin + kChunk : batch.numel[t];
    double p_sq = 0.0;
    double u_sq = 0.0;
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const S param = load_as<S>(p, i);
      S avg = m[i];
      S avg_sq = v[i];
      lamb_moments<S>(load_as<S>(g, i) * factor, avg, avg_sq, c);
      m[i] = avg;
      v[i] = avg_sq;
      const double u = static_cast<double>(lamb_direction<S, Decayed>(param, avg, avg_sq, c));
      p_sq += static_cast<double>(param) * static_cast<double>(param);
      u_sq += u * u;
    }
    const double block_p = BlockReduce(scratch).Sum(p_sq);
    __syncthreads();  // scratch is reused by the second reduction
    const double block_u = BlockReduce(scratch).Sum(u_sq);
    __syncthreads();
    if (threadIdx.x == 0) {
      atomicAdd(&sums[2 * t], block_p);
      atomicAdd(&sums[2 * t + 1], block_u);
    }
  }
}

template <typename P, bool Decayed>
__global__ void __launch_bounds__(kBlockSize)
    lamb_apply_kernel(TensorBatch<kLambDepth> batch, StepControl control, LambHyper h,
                      const double* sums) {
  using S = typename ComputeOf<P>::type;
  if (step_skipped(control)) return;
  const std::int64_t chunks = batch.chunk_begin[batch.count];
  for (std::int64_t chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x) {
    const int t = tensor_of_chunk(batch, chunk);
    const LambCoef<S> c = lamb_coef<S>(h, step_of(batch, t));
    const S scale = static_cast<S>(h.lr * lamb_trust_ratio(sums[2 * t], sums[2 * t + 1]));
    P* p = role<P>(batch, 0, t);
    const S* m = role<const S>(batch, 2, t);
    const S* v = role<const S>(batch, 3, t);
    const std::int64_t begin = (chunk - batch.chunk_begin[t]) * kChunk;
    const std::int64_t end = begin + kChunk < batch.numel[t] ? begin + kChunk : batch.numel[t];
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const S param = load_as<S>(p, i);
      store_as(p, i, param - scale * lamb_direction<S, Decayed>(param, m[i], v[i], c));
    }
  }
  advance_if_last_block(batch, control, NoAdvance{});
}

// `sums` is a zeroed float64 device array of 2 * MAX_TENSORS_PER_LAUNCH
// entries per launch: the sums of p^2 and u^2 of each tensor of a batch.
void lamb_step(const std::string& dtype, Pointers pointers, Sizes numel, Sizes steps,
               Addresses counters, Addresses aux, const ControlArgs& control_args,
               std::uintptr_t stream, std::uintptr_t sums, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool bias_correction) {
  if (sums == 0) throw pybind11::value_error("sums: expected a device address, got 0");
  const TensorArgs args = make_args(std::move(pointers), std::move(numel), std::move(steps),
                                    std::move(counters), std::move(aux));
  LambHyper h;
  h.lr = lr;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  h.bias_correction = bias_correction;
  const StepControl base = control_args.to_device();
  with_storage(parse_dtype(dtype), [&](auto zero) {
    using P = decltype(zero);
    with_bool(weight_decay != 0.0, [&](auto decayed) {
      constexpr bool Decayed = decltype(decayed)::value;
      for_each_batch<kLambDepth>(args, [&](const TensorBatch<kLambDepth>& batch,
                                           std::int64_t chunks, int index) {
        double* batch_sums = device_pointer<double>(sums) + 2 * kMaxTensorsPerLaunch * index;
        StepControl moments = base;
        moments.done = nullptr;  // the counters advance after the second pass only
        StepControl apply = base;
        if (apply.done != nullptr) apply.done += index;
        const unsigned grid = grid_for_chunks(chunks);
        lamb_moments_kernel<P, Decayed>
            <<<grid, kBlockSize, 0, as_stream(stream)>>>(batch, moments, h, batch_sums);
        check_launch("lamb_moments_kernel");
        lamb_apply_kernel<P, Decayed>
            <<<grid, kBlockSize, 0, as_stream(stream)>>>(batch, apply, h, batch_sums);
        check_launch("lamb_apply_kernel");
      });
    });
  });
}

}  // namespace

void register_optim_lamb(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("lamb_step", &lamb_step, FASTOPT_STEP_ARGS, py::arg("sums"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("bias_correction"),
        "Enqueue one fused LAMB step (two launches per batch). Roles: params, grads, exp_avgs, "
        "exp_avg_sqs.");
}

}  // namespace fastopt::cuda
