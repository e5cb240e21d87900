// Dropout on the GPU with the Philox stream and keep test of
// fastopt/philox.hpp and the arithmetic of csrc/cpu/kernels/dropout.cpp:
// element i is kept when philox::dropout_keeps returns true, and
// out_i = x_i * m_i with m_i = scale or 0 in x's dtype. The mask is therefore bit for bit the CPU
// mask, and so is out (one multiplication, rounded the same way).
#include <cstdint>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"
#include "fastopt/philox.hpp"

namespace fastopt::cuda {

namespace {

// One thread per 16 elements, which is one Philox block of high bytes
// (philox::dropout_bits16) and two bytes of the packed mask.
template <typename T>
__global__ void __launch_bounds__(kBlockSize)
    dropout_kernel(const T* x, T* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset,
                   std::uint32_t threshold, T scale, const std::uint8_t* mask_in,
                   std::uint8_t* mask_out) {
  const std::int64_t groups = (n + 15) / 16;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t g = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       g < groups; g += stride) {
    const std::int64_t base = 16 * g;
    const std::int64_t valid = n - base < 16 ? n - base : 16;
    const std::int64_t mask_bytes = (valid + 7) / 8;
    unsigned bits;
    if (mask_in != nullptr) {
      bits = mask_in[2 * g];
      if (mask_bytes > 1) bits |= static_cast<unsigned>(mask_in[2 * g + 1]) << 8;
    } else {
      bits = philox::dropout_bits16(seed, offset, static_cast<std::uint64_t>(g), threshold);
      if (mask_out != nullptr) {
        // Bits past the end stay 0, as the CPU kernel leaves them.
        const unsigned in_range = bits & ((1u << valid) - 1u);
        mask_out[2 * g] = static_cast<std::uint8_t>(in_range);
        if (mask_bytes > 1) mask_out[2 * g + 1] = static_cast<std::uint8_t>(in_range >> 8);
      }
    }
#pragma unroll
    for (int k = 0; k < 16; ++k) {
      const std::int64_t i = base + k;
      if (i < n) out[i] = x[i] * (((bits >> k) & 1u) ? scale : T(0));
    }
  }
}

// Enqueues dropout over n elements of x into out (which may be x). mask_in,
// when nonzero, is the packed mask to apply instead of the generator; mask_out,
// when nonzero, receives the generated mask. All addresses are device memory
// that fastopt.nn checked.
void dropout(const std::string& dtype, std::uintptr_t x, std::uintptr_t out, std::int64_t n,
             double p, std::uint64_t seed, std::uint64_t offset, std::uintptr_t mask_in,
             std::uintptr_t mask_out, std::uintptr_t stream) {
  if (!(p >= 0.0 && p < 1.0)) {
    throw pybind11::value_error("p: expected a drop probability in [0, 1), got " +
                                std::to_string(p));
  }
  if (!has_work("n", n)) return;
  const std::uint32_t threshold = philox::drop_threshold(p);
  const double scale = 1.0 / (1.0 - p);
  const unsigned grid = grid_for((n + 15) / 16);
  with_float_type(dtype, [&](auto zero) {
    using T = decltype(zero);
    dropout_kernel<T><<<grid, kBlockSize, 0, as_stream(stream)>>>(
        device_pointer<const T>(x), device_pointer<T>(out), n, seed, offset, threshold,
        static_cast<T>(scale), device_pointer<const std::uint8_t>(mask_in),
        device_pointer<std::uint8_t>(mask_out));
    check_launch("dropout_kernel");
  });
}

}  // namespace

void register_nn(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("dropout", &dropout, py::arg("dtype"), py::arg("x"), py::arg("out"), py::arg("n"),
        py::arg("p"), py::arg("seed"), py::arg("offset"), py::arg("mask"), py::arg("mask_out"),
        py::arg("stream"),
        "Enqueue inverted dropout with the Philox mask of (seed, offset), or with a packed "
        "mask when `mask` is a nonzero address.");
}

}  // namespace fastopt::cuda
