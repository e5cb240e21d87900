// Bindings of the regularization kernels: dropout, Gaussian feature noise,
// row mixing and image augmentation. Every array and value is checked with
// the GIL held and before the kernel writes anything; the kernel then runs
// with the GIL released. fastopt.nn checks the user-facing arguments first;
// these checks keep the compiled functions safe when called directly.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/threads.hpp"
#include "fastopt/philox.hpp"

namespace fastopt::bindings {
namespace {

// Largest color factor: 1 + the largest jitter that ImageAugmentation accepts (1e6).
constexpr double kMaxColorFactor = 1e6 + 1;

using cpu::DType;

// x (read) and out (written, may be x itself) of one dtype and shape.
struct InOut {
  DType dtype;
  std::int64_t n;
  const void* x;
  void* out;
};

InOut gather_in_out(py::handle x, py::handle out) {
  std::vector<py::tuple> keep;
  std::vector<Role> roles;
  roles.push_back(single_role("x", x, Access::read, keep));
  roles.push_back(single_role("out", out, Access::write, keep, 0));
  DType dtype{};
  const cpu::TensorGroup tg = gather(roles, &dtype);
  return {dtype, tg.size[0], tg.data[0], tg.data[1]};
}

// A C-contiguous 1-D array of dtype T and the given length.
template <typename T>
py::array checked_vector(const char* name, py::handle obj, std::int64_t length, bool write) {
  if (!py::isinstance<py::array>(obj) ||
      !py::reinterpret_borrow<py::array>(obj).dtype().equal(py::dtype::of<T>())) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray of dtype " +
                         py::str(py::dtype::of<T>()).cast<std::string>() + ", got " +
                         describe(obj));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (a.ndim() != 1 || a.shape(0) != length) {
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(length) +
                          ",), got " + describe(obj));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  }
  if (write && !a.writeable()) {
    throw py::value_error(std::string(name) + ": expected a writeable array");
  }
  return a;
}

bool overlaps(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) {
  const auto alo = reinterpret_cast<std::uintptr_t>(a);
  const auto blo = reinterpret_cast<std::uintptr_t>(b);
  return alo < blo + b_bytes && blo < alo + a_bytes;
}

void check_disjoint(const char* a_name, const py::array& a, const char* b_name,
                    const void* b, std::size_t b_bytes) {
  if (overlaps(a.data(), static_cast<std::size_t>(a.nbytes()), b, b_bytes)) {
    throw py::value_error(std::string(a_name) + " and " + b_name +
                          " share memory; every array that fastopt writes must be a separate "
                          "buffer (pass a copy)");
  }
}

std::size_t element_bytes(DType dtype) { return dtype == DType::float32 ? 4 : 8; }

void check_probability(double p) {
  if (!(p >= 0.0 && p < 1.0)) {
    throw py::value_error("p: expected a drop probability in [0, 1), got " + number_text(p));
  }
}

void dropout(py::handle x, py::handle out, double p, std::uint64_t seed, std::uint64_t offset,
             py::handle mask_in, py::handle mask_out) {
  check_probability(p);
  const InOut io = gather_in_out(x, out);
  cpu::DropoutArgs args;
  args.n = io.n;
  args.x = io.x;
  args.out = io.out;
  args.seed = seed;
  args.offset = offset;
  args.threshold = philox::drop_threshold(p);
  args.scale = 1.0 / (1.0 - p);
  const std::int64_t mask_bytes = (io.n + 7) / 8;
  const std::size_t out_bytes = static_cast<std::size_t>(io.n) * element_bytes(io.dtype);
  py::array in_arr, out_arr;
  if (!mask_in.is_none()) {
    in_arr = checked_vector<std::uint8_t>("mask", mask_in, mask_bytes, false);
    check_disjoint("mask", in_arr, "out", io.out, out_bytes);
    args.mask_in = static_cast<const std::uint8_t*>(in_arr.data());
  }
  if (!mask_out.is_none()) {
    if (args.mask_in != nullptr) throw py::value_error("mask and mask_out: expected at most one of them");
    out_arr = checked_vector<std::uint8_t>("mask_out", mask_out, mask_bytes, true);
    check_disjoint("mask_out", out_arr, "out", io.out, out_bytes);
    check_disjoint("mask_out", out_arr, "x", io.x, out_bytes);
    args.mask_out = static_cast<std::uint8_t*>(out_arr.mutable_data());
  }
  py::gil_scoped_release release;
  cpu::kernels().dropout(args, io.dtype, cpu::get_num_threads());
}

void gaussian_noise(py::handle x, py::handle out, double sigma, std::uint64_t seed,
                    std::uint64_t offset) {
  if (!(sigma >= 0.0) || !std::isfinite(sigma)) {
    throw py::value_error("sigma: expected a finite value >= 0, got " + number_text(sigma));
  }
  const InOut io = gather_in_out(x, out);
  cpu::NoiseArgs args;
  args.n = io.n;
  args.x = io.x;
  args.out = io.out;
  args.seed = seed;
  args.offset = offset;
  args.sigma = sigma;
  py::gil_scoped_release release;
  cpu::kernels().gaussian_noise(args, io.dtype, cpu::get_num_threads());
}

void mix_rows(py::handle x, py::handle out, py::handle partner, py::handle lam) {
  std::vector<py::tuple> keep;
  std::vector<Role> roles;
  roles.push_back(single_role("x", x, Access::read, keep));
  roles.push_back(single_role("out", out, Access::write, keep));
  DType dtype{};
  const cpu::TensorGroup tg = gather(roles, &dtype);

  py::array xa = py::reinterpret_borrow<py::array>(x);
  if (xa.ndim() != 2) {
    throw py::value_error("x: expected a 2-D array (samples, features), got " + describe(x));
  }
  cpu::MixRowsArgs args;
  args.rows = xa.shape(0);
  args.cols = xa.shape(1);
  args.x = tg.data[0];
  args.out = tg.data[1];

  py::array partner_arr = checked_vector<std::int64_t>("partner", partner, args.rows, false);
  py::array lam_arr = checked_vector<double>("lam", lam, args.rows, false);
  const auto* pv = static_cast<const std::int64_t*>(partner_arr.data());
  for (std::int64_t i = 0; i < args.rows; ++i) {
    if (pv[i] < 0 || pv[i] >= args.rows) {
      throw py::value_error("partner[" + std::to_string(i) + "]: expected a row index in [0, " +
                            std::to_string(args.rows) + "), got " + std::to_string(pv[i]));
    }
  }

  const auto* lv = static_cast<const double*>(lam_arr.data());
  for (std::int64_t i = 0; i < args.rows; ++i) {
    if (!(lv[i] >= 0.0 && lv[i] <= 1.0)) {
      throw py::value_error("lam[" + std::to_string(i) + "]: expected a value in [0, 1], got " +
                            number_text(lv[i]));
    }
  }

  const std::size_t out_bytes =
      static_cast<std::size_t>(args.rows * args.cols) * element_bytes(dtype);
  check_disjoint("partner", partner_arr, "out", args.out, out_bytes);
  check_disjoint("lam", lam_arr, "out", args.out, out_bytes);
  args.partner = pv;
  args.lam = lv;
  py::gil_scoped_release release;
  cpu::kernels().mix_rows(args, dtype, cpu::get_num_threads());
}

// A 4-D C-contiguous image batch of uint8 or float32.
cpu::PixelType pixel_type(const char* name, const py::array& a) {
  if (a.dtype().equal(py::dtype::of<std::uint8_t>())) return cpu::PixelType::uint8;
  if (a.dtype().equal(py::dtype::of<float>())) return cpu::PixelType::float32;
  throw py::type_error(std::string(name) + ": expected dtype uint8 or float32, got " +
                       describe(a));
}

py::array checked_batch(const char* name, py::handle obj, bool write) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (a.ndim() != 4) {
    throw py::value_error(std::string(name) + ": expected a 4-D batch (N, H, W, C), got " +
                          describe(obj));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  }
  if (write && !a.writeable()) {
    throw py::value_error(std::string(name) + ": expected a writeable array");
  }
  return a;
}

void augment_images(py::handle images, py::handle out, py::handle params, std::int64_t padding,
                    bool warp, bool color, double fill, py::handle mean, py::handle std) {
  py::array in_arr = checked_batch("images", images, false);
  py::array out_arr = checked_batch("out", out, true);
  cpu::AugmentArgs a;
  a.n = in_arr.shape(0);
  a.h = in_arr.shape(1);
  a.w = in_arr.shape(2);
  a.c = in_arr.shape(3);
  a.in_type = pixel_type("images", in_arr);
  a.out_type = pixel_type("out", out_arr);
  a.out_h = out_arr.shape(1);
  a.out_w = out_arr.shape(2);
  if (out_arr.shape(0) != a.n || out_arr.shape(3) != a.c || a.out_h < 1 || a.out_w < 1) {
    throw py::value_error("out: expected shape (" + std::to_string(a.n) + ", crop height, " +
                          "crop width, " + std::to_string(a.c) + "), got " + describe(out));
  }
  if (padding < 0) {
    throw py::value_error("padding: expected a value >= 0, got " + std::to_string(padding));
  }
  if (a.out_h > a.h + 2 * padding || a.out_w > a.w + 2 * padding) {
    throw py::value_error("out: a crop of " + std::to_string(a.out_h) + " x " +
                          std::to_string(a.out_w) + " does not fit the padded image of " +
                          std::to_string(a.h + 2 * padding) + " x " +
                          std::to_string(a.w + 2 * padding));
  }
  if (!std::isfinite(fill)) {
    throw py::value_error("fill: expected a finite value, got " + number_text(fill));
  }
  if (color && a.c != 1 && a.c != 3) {
    throw py::value_error("images: color jitter needs 1 or 3 channels, got C = " +
                          std::to_string(a.c));
  }
  if (!py::isinstance<py::array>(params)) {
    throw py::type_error("params: expected a numpy.ndarray, got " + describe(params));
  }
  py::array param_arr = py::reinterpret_borrow<py::array>(params);
  if (!param_arr.dtype().equal(py::dtype::of<double>()) || param_arr.ndim() != 2 ||
      param_arr.shape(0) != a.n || param_arr.shape(1) != cpu::kAugmentParamCount ||
      !(param_arr.flags() & py::array::c_style)) {
    throw py::value_error("params: expected a C-contiguous float64 array of shape (" +
                          std::to_string(a.n) + ", " + std::to_string(cpu::kAugmentParamCount) +
                          "), got " + describe(params));
  }
  const auto* p = static_cast<const double*>(param_arr.data());
  for (std::int64_t i = 0; i < a.n; ++i) {
    const double* row = p + i * cpu::kAugmentParamCount;
    const std::string at = "params[" + std::to_string(i) + "]";
    const double top = row[cpu::kParamTop], left = row[cpu::kParamLeft];
    if (!(top >= 0.0 && top <= static_cast<double>(a.h + 2 * padding - a.out_h) &&
          std::floor(top) == top && left >= 0.0 &&
          left <= static_cast<double>(a.w + 2 * padding - a.out_w) &&
          std::floor(left) == left)) {
      throw py::value_error(at + ": crop origin (" + number_text(top) + ", " +
                            number_text(left) + ") is not an integer position inside the " +
                            "padded image");
    }
    if (!(row[cpu::kParamScale] > 0.0) || !std::isfinite(row[cpu::kParamScale]) ||
        !std::isfinite(row[cpu::kParamAngle])) {
      throw py::value_error(at + ": expected a finite angle and a finite scale > 0, got " +
                            number_text(row[cpu::kParamAngle]) + " and " +
                            number_text(row[cpu::kParamScale]));
    }
    for (int k : {cpu::kParamBrightness, cpu::kParamContrast, cpu::kParamSaturation}) {
      // The kernel computes in float32, where factors near its maximum overflow to inf.
      if (!(row[k] >= 0.0 && row[k] <= kMaxColorFactor)) {
        throw py::value_error(at + ": expected color factors in [0, 1000001], got " +
                              number_text(row[k]));
      }
    }
  }
  a.padding = padding;
  a.in = in_arr.data();
  a.params = p;
  a.warp = warp;
  a.color = color;
  a.fill = fill;
  a.max_value = a.in_type == cpu::PixelType::uint8 ? 255.0 : 1.0;
  py::array mean_arr, std_arr;
  if (!mean.is_none()) {
    mean_arr = checked_vector<double>("mean", mean, a.c, false);
    std_arr = checked_vector<double>("std", std, a.c, false);
    const auto* sv = static_cast<const double*>(std_arr.data());
    const auto* mv = static_cast<const double*>(mean_arr.data());
    for (std::int64_t ch = 0; ch < a.c; ++ch) {
      if (!(sv[ch] > 0.0) || !std::isfinite(sv[ch]) || !std::isfinite(mv[ch])) {
        throw py::value_error("std[" + std::to_string(ch) + "] and mean[" + std::to_string(ch) +
                              "]: expected a finite std > 0 and a finite mean, got " +
                              number_text(sv[ch]) + " and " + number_text(mv[ch]));
      }
    }
    if (a.out_type != cpu::PixelType::float32) {
      throw py::type_error("out: normalized images are float32, got " + describe(out));
    }
    a.mean = mv;
    a.std = sv;
  }
  const std::size_t out_bytes = static_cast<std::size_t>(out_arr.nbytes());
  void* out_ptr = out_arr.mutable_data();
  check_disjoint("images", in_arr, "out", out_ptr, out_bytes);
  check_disjoint("params", param_arr, "out", out_ptr, out_bytes);
  if (a.mean != nullptr) {
    check_disjoint("mean", mean_arr, "out", out_ptr, out_bytes);
    check_disjoint("std", std_arr, "out", out_ptr, out_bytes);
  }
  a.out = out_ptr;
  py::gil_scoped_release release;
  cpu::kernels().augment_images(a, cpu::get_num_threads());
}

// Blocks [first, first + count) of the stream (seed, offset) as a (count, 4)
// uint32 array: word 4 b + k of the stream is row b - first, column k. The
// active instruction set's generator computes them, so tests can compare the
// SIMD variants with the scalar one.
py::array_t<std::uint32_t> philox_blocks(std::uint64_t seed, std::uint64_t offset,
                                         std::uint64_t first, std::int64_t count) {
  if (count < 0) {
    throw py::value_error("count: expected a value >= 0, got " + std::to_string(count));
  }
  py::array_t<std::uint32_t> out({static_cast<py::ssize_t>(count), py::ssize_t{4}});
  std::uint32_t* words = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::kernels().philox_blocks(seed, offset, first, count, words);
  }
  return out;
}

}  // namespace

void bind_nn(py::module_& m) {
  using namespace py::literals;
  m.def("dropout", &dropout, "x"_a, "out"_a, "p"_a, "seed"_a, "offset"_a, "mask"_a = py::none(),
        "mask_out"_a = py::none(),
        "Write x * m into out (which may be x): m_i = 1 / (1 - p) for a kept element, 0 for a "
        "dropped one. The mask comes from the Philox stream (seed, offset) or, when given, from "
        "the bit-packed `mask`; `mask_out` receives the generated mask packed 8 elements a byte.");
  m.def("philox_blocks", &philox_blocks, "seed"_a, "offset"_a, "first"_a, "count"_a,
        "Philox4x32-10 blocks [first, first + count) of the stream (seed, offset): counter "
        "(block low, block high, offset low, offset high), key (seed low, seed high). The "
        "active instruction set's generator computes them.");
  m.def("gaussian_noise", &gaussian_noise, "x"_a, "out"_a, "sigma"_a, "seed"_a, "offset"_a,
        "Write x + sigma * z into out (which may be x), z standard normal from the Philox "
        "stream (seed, offset) by the Box-Muller transform.");
  m.def("mix_rows", &mix_rows, "x"_a, "out"_a, "partner"_a, "lam"_a,
        "Write lam[i] * x[i] + (1 - lam[i]) * x[partner[i]] into row i of out (2-D, not x).");
  m.def("augment_images", &augment_images, "images"_a, "out"_a, "params"_a, "padding"_a,
        "warp"_a, "color"_a, "fill"_a, "mean"_a = py::none(), "std"_a = py::none(),
        "Crop, flip, warp, color-jitter and normalize a batch (N, H, W, C) into out with the "
        "per-image parameters params (N, 9), reading each image once.");
}

}  // namespace fastopt::bindings
