// Loss and gradient of the generalized linear models on the GPU: margins
// z = X coef^T + intercept, the per-sample losses of fastopt/glm/losses.hpp
// (the same inline functions the CPU kernels call) and the gradient X^T r.
//
// X is dense (C or Fortran order) or CSR with int32 or int64 indices, float32
// or float64; every sum accumulates in float64. No reduction uses atomics:
// - a row's margin is one warp's sum (C order, CSR) or one thread's (Fortran
//   order), combined in a fixed shuffle order;
// - the loss and the intercept gradient are summed over the fixed chunks of
//   reduce.cuh;
// - a column of X^T r is one warp's sum over the column's entries for CSR
//   (through the transposed matrix, which the caller builds once) and Fortran
//   order, and for C order the sum of fixed 256-row tiles in tile order.
// So the results depend on the data and n only, never on the launch.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"
#include "fastopt/glm/losses.hpp"

namespace fastopt::cuda {

namespace {

using fastopt::glm::Loss;

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
// Rows per tile of the C-order gradient: a constant, so the tile sums and
// their order do not depend on the launch.
constexpr std::int64_t kTileRows = 256;

enum class Layout : int { dense_c = 0, dense_f = 1, csr = 2 };

// The design as the kernels read it. For CSR, indptr/indices/data are the
// rows of X; the gradient kernel receives the rows of X^T in the same struct.
template <typename T, typename I>
struct Matrix {
  const T* data;
  const I* indptr;
  const I* indices;
  std::int64_t rows;
  std::int64_t cols;
};

__device__ __forceinline__ double warp_sum(double v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// z[i * K + k] = sum_j X_ij coef[k * p + j] + intercept[k], one warp per row
// (C order or CSR): lanes take strided entries, then a fixed shuffle tree.
template <typename T, typename I>
__global__ void margins_rowwise_kernel(Matrix<T, I> x, bool sparse, const double* coef,
                                       const double* intercept, int outputs, double* z) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= x.rows) return;  // the whole warp leaves together
  const std::int64_t p = x.cols;
  const std::int64_t begin = sparse ? static_cast<std::int64_t>(x.indptr[row]) : row * p;
  const std::int64_t end = sparse ? static_cast<std::int64_t>(x.indptr[row + 1]) : begin + p;
  for (int k = 0; k < outputs; ++k) {
    const double* c = coef + static_cast<std::int64_t>(k) * p;
    double acc = 0.0;
    for (std::int64_t e = begin + lane; e < end; e += kWarp) {
      const std::int64_t col = sparse ? static_cast<std::int64_t>(x.indices[e]) : e - begin;
      acc += static_cast<double>(x.data[e]) * c[col];
    }
    acc = warp_sum(acc);
    if (lane == 0) z[row * outputs + k] = acc + (intercept != nullptr ? intercept[k] : 0.0);
  }
}

// Fortran order: one thread per row, so consecutive threads read consecutive
// elements of each column.
template <typename T>
__global__ void margins_fortran_kernel(const T* x, std::int64_t n, std::int64_t p,
                                       const double* coef, const double* intercept, int outputs,
                                       double* z) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (row >= n) return;
  for (int k = 0; k < outputs; ++k) {
    const double* c = coef + static_cast<std::int64_t>(k) * p;
    double acc = 0.0;
    for (std::int64_t j = 0; j < p; ++j) acc += static_cast<double>(x[j * n + row]) * c[j];
    z[row * outputs + k] = acc + (intercept != nullptr ? intercept[k] : 0.0);
  }
}

// Per sample: the weighted loss into the chunk partials and, when residual is
// set, r = s_i dloss/dz (multinomial: s_i (softmax(z_i) - onehot(y_i))). The
// weight s_i is weight[i], or 1/n without weights.
__global__ void loss_kernel(Loss loss, const double* y, const double* weight, const double* z,
                            std::int64_t n, int outputs, double huber_delta, double* residual,
                            double* partials) {
  __shared__ double shared[kReduceThreads];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  const double uniform = 1.0 / static_cast<double>(n);
  double acc = 0.0;
  for (int j = 0; j < kPerThread; ++j) {
    const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
    if (i >= n) break;
    const double s = weight != nullptr ? weight[i] : uniform;
    if (loss == Loss::multinomial) {
      const auto label = static_cast<std::int64_t>(y[i]);
      const double* zi = z + i * outputs;
      if (residual != nullptr) {
        double* ri = residual + i * outputs;
        const double value = fastopt::glm::multinomial_terms(zi, outputs, label, ri);
        for (int k = 0; k < outputs; ++k) ri[k] = s * (ri[k] - (k == label ? 1.0 : 0.0));
        acc += s * value;
      } else {
        // Without a residual buffer the probabilities are not kept: the value
        // is log-sum-exp minus the label's margin, shifted by the max.
        double zmax = zi[0];
        for (int k = 1; k < outputs; ++k) zmax = zi[k] > zmax ? zi[k] : zmax;
        double total = 0.0;
        for (int k = 0; k < outputs; ++k) total += exp(zi[k] - zmax);
        acc += s * (log(total) + zmax - zi[label]);
      }
    } else {
      const auto terms = fastopt::glm::loss_terms(loss, y[i], z[i], huber_delta);
      acc += s * terms.value;
      if (residual != nullptr) residual[i] = s * terms.d1;
    }
  }
  const double total = block_combine(shared, acc, Combine::sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

// Partials of the column sums of r (n x K, row-major): the intercept gradient.
__global__ void column_sums_kernel(const double* r, std::int64_t n, int outputs,
                                   std::int64_t chunks, double* partials) {
  __shared__ double shared[kReduceThreads];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  for (int k = 0; k < outputs; ++k) {
    double acc = 0.0;
    for (int j = 0; j < kPerThread; ++j) {
      const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
      if (i < n) acc += r[i * outputs + k];
    }
    const double total = block_combine(shared, acc, Combine::sum);
    if (threadIdx.x == 0) partials[k * chunks + blockIdx.x] = total;
  }
}

// grad[k * p + j] = sum_i X_ij r[i * K + k], one warp per column j: xt contains
// the rows of X^T (CSR of the transpose), or Fortran-order X (column j is
// contiguous, xt.indptr == nullptr).
template <typename T, typename I>
__global__ void gradient_columnwise_kernel(Matrix<T, I> xt, const double* r, int outputs,
                                           double* grad) {
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (col >= xt.rows) return;
  const bool sparse = xt.indptr != nullptr;
  const std::int64_t n = xt.cols;
  const std::int64_t begin = sparse ? static_cast<std::int64_t>(xt.indptr[col]) : col * n;
  const std::int64_t end = sparse ? static_cast<std::int64_t>(xt.indptr[col + 1]) : begin + n;
  for (int k = 0; k < outputs; ++k) {
    double acc = 0.0;
    for (std::int64_t e = begin + lane; e < end; e += kWarp) {
      const std::int64_t row = sparse ? static_cast<std::int64_t>(xt.indices[e]) : e - begin;
      acc += static_cast<double>(xt.data[e]) * r[row * outputs + k];
    }
    acc = warp_sum(acc);
    if (lane == 0) grad[static_cast<std::int64_t>(k) * xt.rows + col] = acc;
  }
}

// C order: thread j of tile t sums X_ij r_ik over the tile's kTileRows rows
// into partials[(k * p + j) * tiles + t]; consecutive threads read
// consecutive elements of a row.
template <typename T>
__global__ void gradient_tiles_kernel(const T* x, std::int64_t n, std::int64_t p, const double* r,
                                      int outputs, std::int64_t tiles, double* partials) {
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t tile = blockIdx.y;
  if (col >= p) return;
  const std::int64_t first = tile * kTileRows;
  const std::int64_t last = first + kTileRows < n ? first + kTileRows : n;
  for (int k = 0; k < outputs; ++k) {
    double acc = 0.0;
    for (std::int64_t i = first; i < last; ++i) acc += static_cast<double>(x[i * p + col]) * r[i * outputs + k];
    partials[(static_cast<std::int64_t>(k) * p + col) * tiles + tile] = acc;
  }
}

// ---------------------------------------------------------------- bindings

Layout parse_layout(const std::string& layout) {
  if (layout == "dense_c") return Layout::dense_c;
  if (layout == "dense_f") return Layout::dense_f;
  if (layout == "csr") return Layout::csr;
  throw std::invalid_argument("layout: expected 'dense_c', 'dense_f' or 'csr', got '" + layout + "'");
}

Loss parse_loss(const std::string& loss) {
  if (loss == "logistic") return Loss::logistic;
  if (loss == "squared") return Loss::squared;
  if (loss == "huber") return Loss::huber;
  if (loss == "multinomial") return Loss::multinomial;
  throw std::invalid_argument("loss: expected 'logistic', 'squared', 'huber' or 'multinomial', got '" +
                              loss + "'");
}

void check_shape(std::int64_t n, std::int64_t p, int outputs) {
  if (n < 1 || p < 0 || outputs < 1) {
    throw std::invalid_argument("expected n >= 1, p >= 0 and outputs >= 1, got n=" + std::to_string(n) +
                                ", p=" + std::to_string(p) + ", outputs=" + std::to_string(outputs));
  }
}

// Calls f(T{}, I{}) with the value and index types named by the strings.
template <typename F>
void with_types(const std::string& dtype, const std::string& index_dtype, F&& f) {
  const bool f64 = dtype == "float64";
  if (!f64 && dtype != "float32") {
    throw std::invalid_argument("dtype: expected 'float32' or 'float64', got '" + dtype + "'");
  }
  const bool i64 = index_dtype == "int64";
  if (!i64 && index_dtype != "int32") {
    throw std::invalid_argument("index_dtype: expected 'int32' or 'int64', got '" + index_dtype + "'");
  }
  if (f64 && i64) f(double{}, std::int64_t{});
  else if (f64) f(double{}, std::int32_t{});
  else if (i64) f(float{}, std::int64_t{});
  else f(float{}, std::int32_t{});
}

unsigned warp_grid(std::int64_t items) {
  return static_cast<unsigned>((items + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

// z (n x K float64) = X coef^T + intercept; intercept = 0 for none.
void margins(const std::string& layout_name, const std::string& dtype, const std::string& index_dtype,
             std::int64_t n, std::int64_t p, int outputs, std::uintptr_t data, std::uintptr_t indptr,
             std::uintptr_t indices, std::uintptr_t coef, std::uintptr_t intercept, std::uintptr_t z,
             std::uintptr_t stream_handle) {
  check_shape(n, p, outputs);
  const Layout layout = parse_layout(layout_name);
  const cudaStream_t stream = as_stream(stream_handle);
  with_types(dtype, index_dtype, [&](auto value, auto index) {
    using T = decltype(value);
    using I = decltype(index);
    const auto* c = device_pointer<const double>(coef);
    const auto* b = intercept != 0 ? device_pointer<const double>(intercept) : nullptr;
    if (layout == Layout::dense_f) {
      margins_fortran_kernel<T><<<grid_for(n, 256, (n + 255) / 256), 256, 0, stream>>>(
          device_pointer<const T>(data), n, p, c, b, outputs, device_pointer<double>(z));
    } else {
      const Matrix<T, I> x{device_pointer<const T>(data), device_pointer<const I>(indptr),
                           device_pointer<const I>(indices), n, p};
      margins_rowwise_kernel<T, I><<<warp_grid(n), kWarpsPerBlock * kWarp, 0, stream>>>(
          x, layout == Layout::csr, c, b, outputs, device_pointer<double>(z));
    }
  });
  check_launch("glm margins kernel");
}

// out[0] = sum_i s_i loss_i; with residual != 0 also r and out[1..K] = the
// column sums of r (the intercept gradient). work: max(1, K) * chunk_count(n) doubles.
void loss(const std::string& loss_name, std::int64_t n, int outputs, std::uintptr_t y,
          std::uintptr_t weight, std::uintptr_t z, double huber_delta, std::uintptr_t residual,
          std::uintptr_t work, std::uintptr_t out, std::uintptr_t stream_handle) {
  check_shape(n, 0, outputs);
  const Loss kind = parse_loss(loss_name);
  if (kind != Loss::multinomial && outputs != 1) {
    throw std::invalid_argument("outputs: expected 1 for loss '" + loss_name + "', got " +
                                std::to_string(outputs));
  }
  const cudaStream_t stream = as_stream(stream_handle);
  const std::int64_t chunks = chunk_count(n);
  double* partials = device_pointer<double>(work);
  double* r = residual != 0 ? device_pointer<double>(residual) : nullptr;
  loss_kernel<<<static_cast<unsigned>(chunks), kReduceThreads, 0, stream>>>(
      kind, device_pointer<const double>(y), weight != 0 ? device_pointer<const double>(weight) : nullptr,
      device_pointer<const double>(z), n, outputs, huber_delta, r, partials);
  check_launch("glm loss_kernel");
  combine_partials(partials, chunks, 1, Combine::sum, device_pointer<double>(out), stream);
  if (r != nullptr) {
    column_sums_kernel<<<static_cast<unsigned>(chunks), kReduceThreads, 0, stream>>>(r, n, outputs, chunks,
                                                                                     partials);
    check_launch("glm column_sums_kernel");
    combine_partials(partials, chunks, outputs, Combine::sum, device_pointer<double>(out) + 1, stream);
  }
}

// grad (K x p float64) = r^T X. For CSR pass the transpose's arrays (p rows
// of length n); for C order, work must have room for K * p * ceil(n / 256) doubles.
void gradient(const std::string& layout_name, const std::string& dtype, const std::string& index_dtype,
              std::int64_t n, std::int64_t p, int outputs, std::uintptr_t data, std::uintptr_t indptr,
              std::uintptr_t indices, std::uintptr_t r, std::uintptr_t grad, std::uintptr_t work,
              std::uintptr_t stream_handle) {
  check_shape(n, p, outputs);
  if (p == 0) return;
  const Layout layout = parse_layout(layout_name);
  const cudaStream_t stream = as_stream(stream_handle);
  with_types(dtype, index_dtype, [&](auto value, auto index) {
    using T = decltype(value);
    using I = decltype(index);
    const auto* residual = device_pointer<const double>(r);
    if (layout == Layout::dense_c) {
      const std::int64_t tiles = (n + kTileRows - 1) / kTileRows;
      if (tiles > 65535) {  // the y dimension of a CUDA grid
        throw std::invalid_argument("X: a C-order design supports at most " +
                                    std::to_string(65535 * kTileRows) + " rows, got " +
                                    std::to_string(n) + "; pass it in Fortran order or as CSR");
      }
      const dim3 grid(static_cast<unsigned>((p + 255) / 256), static_cast<unsigned>(tiles));
      double* partials = device_pointer<double>(work);
      gradient_tiles_kernel<T><<<grid, 256, 0, stream>>>(device_pointer<const T>(data), n, p, residual,
                                                         outputs, tiles, partials);
      check_launch("glm gradient_tiles_kernel");
      combine_partials(partials, tiles, static_cast<int>(p * outputs), Combine::sum,
                       device_pointer<double>(grad), stream);
      return;
    }
    const bool sparse = layout == Layout::csr;
    const Matrix<T, I> xt{device_pointer<const T>(data), sparse ? device_pointer<const I>(indptr) : nullptr,
                          sparse ? device_pointer<const I>(indices) : nullptr, p, n};
    gradient_columnwise_kernel<T, I><<<warp_grid(p), kWarpsPerBlock * kWarp, 0, stream>>>(
        xt, residual, outputs, device_pointer<double>(grad));
    check_launch("glm gradient_columnwise_kernel");
  });
}

}  // namespace

void register_glm(pybind11::module_& m) {
  namespace py = pybind11;
  using py::arg;
  m.attr("glm_tile_rows") = kTileRows;
  m.def("glm_margins", &margins, arg("layout"), arg("dtype"), arg("index_dtype"), arg("n"), arg("p"),
        arg("outputs"), arg("data"), arg("indptr"), arg("indices"), arg("coef"), arg("intercept"),
        arg("z"), arg("stream"), "Enqueue z = X coef^T + intercept (float64, n x outputs).");
  m.def("glm_loss", &loss, arg("loss"), arg("n"), arg("outputs"), arg("y"), arg("weight"), arg("z"),
        arg("huber_delta"), arg("residual"), arg("work"), arg("out"), arg("stream"),
        "Enqueue out[0] = the weighted loss sum and, with a residual buffer, r and its column sums.");
  m.def("glm_gradient", &gradient, arg("layout"), arg("dtype"), arg("index_dtype"), arg("n"), arg("p"),
        arg("outputs"), arg("data"), arg("indptr"), arg("indices"), arg("r"), arg("grad"), arg("work"),
        arg("stream"), "Enqueue grad = r^T X (outputs x p, float64).");
}

}  // namespace fastopt::cuda
