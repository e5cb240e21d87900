// The L-BFGS two-loop recursion on the GPU, in the compact form of Byrd,
// Nocedal & Schnabel (1994), and the per-iteration vector passes of the
// quasi-Newton driver: the curvature pair, the gradient pass (slope, inf-norm,
// finiteness) and a dot product.
//
// With S and Y the stored pairs (oldest first), a = S'g, b = Y'g, R the upper
// triangle of S'Y (R_kj = s_k'y_j for k <= j), D its diagonal and gamma the
// initial scaling, the product H g is
//
//   H g = gamma g + S p - gamma Y u,   u = R^-1 a,   p = R^-T ((D + gamma Y'Y) u - gamma b)
//
// (Byrd, Nocedal & Schnabel, Math. Programming 63, 1994, eq. 2.6 applied to a
// vector). The direction -H g costs two passes over the history: one for the
// dot products a, b and the new column of S'Y and Y'Y, one that writes d. The
// small triangular solves run on one GPU thread between the two passes, so
// nothing waits for the host. Inner products accumulate in float64 in the
// fixed chunks of reduce.cuh, so every result is the same for any launch.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace fastopt::cuda {

namespace {

// The CPU kernel's limit (csrc/cpu/lbfgs.hpp); the Python state checks it.
constexpr int kMaxHistory = 256;

// Active history slots, oldest first, passed by value to the kernels.
struct Order {
  int slot[kMaxHistory + 1];
  int count;
};

template <typename T>
__device__ __forceinline__ double load(const T* p, std::int64_t i) {
  return static_cast<double>(p[i]);
}

// Pass 1 of the direction: partial sums per chunk of s_k'g and y_k'g for every
// active slot and, when new_slot >= 0, of s_k'y_new and y_k'y_new (the new
// column of S'Y and Y'Y). Quantity rows in partials: [a | b | sy column | yy column].
template <typename T>
__global__ void direction_dots_kernel(const T* s, const T* y, Order order, int new_slot,
                                      const T* g, std::int64_t n, std::int64_t chunks,
                                      double* partials) {
  __shared__ double shared[kReduceThreads];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  const int c = order.count;
  const T* y_new = new_slot >= 0 ? y + static_cast<std::int64_t>(new_slot) * n : nullptr;
  const int quantities = new_slot >= 0 ? 4 * c : 2 * c;
  for (int q = 0; q < quantities; ++q) {
    const int k = q % c;
    const int kind = q / c;  // 0: s'g, 1: y'g, 2: s'y_new, 3: y'y_new
    const T* left = ((kind == 0 || kind == 2) ? s : y) + static_cast<std::int64_t>(order.slot[k]) * n;
    const T* right = kind < 2 ? g : y_new;
    double acc = 0.0;
    for (int j = 0; j < kPerThread; ++j) {
      const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
      if (i < n) acc += load(left, i) * load(right, i);
    }
    const double total = block_combine(shared, acc, Combine::sum);
    if (threadIdx.x == 0) partials[q * chunks + blockIdx.x] = total;
  }
}

// Between the passes, on one thread: stores the new column of S'Y and Y'Y and
// solves for the coefficients coef = [p | u] of H g = gamma g + S p - gamma Y u.
// m <= 256, so the O(m^2) solves are cheap next to the O(m n) passes.
__global__ void direction_coefficients_kernel(const double* dots, double* sy, double* yy,
                                              int slots, Order order, int new_slot, double gamma,
                                              double* coef) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  const int c = order.count;
  if (new_slot >= 0) {
    for (int k = 0; k < c; ++k) {
      const int i = order.slot[k];
      sy[i * slots + new_slot] = dots[2 * c + k];
      yy[i * slots + new_slot] = dots[3 * c + k];
      yy[new_slot * slots + i] = dots[3 * c + k];
    }
  }
  double* p = coef;
  double* u = coef + c;
  auto r = [&](int k, int j) { return sy[order.slot[k] * slots + order.slot[j]]; };
  // u = R^-1 a by back substitution.
  for (int k = c - 1; k >= 0; --k) {
    double v = dots[k];
    for (int j = k + 1; j < c; ++j) v -= r(k, j) * u[j];
    u[k] = v / r(k, k);
  }
  // t = (D + gamma Y'Y) u - gamma b, kept in p, then p = R^-T t by forward substitution.
  for (int k = 0; k < c; ++k) {
    double v = 0.0;
    for (int j = 0; j < c; ++j) v += yy[order.slot[k] * slots + order.slot[j]] * u[j];
    p[k] = r(k, k) * u[k] + gamma * v - gamma * dots[c + k];
  }
  for (int k = 0; k < c; ++k) {
    double v = p[k];
    for (int j = 0; j < k; ++j) v -= r(j, k) * p[j];
    p[k] = v / r(k, k);
  }
}

// Pass 2: d = -(gamma g + S p - gamma Y u), and partial sums of g'd with d as stored.
template <typename T>
__global__ void direction_write_kernel(const T* s, const T* y, Order order, const double* coef,
                                       double gamma, const T* g, T* d, std::int64_t n,
                                       double* slope_partials) {
  __shared__ double shared[kReduceThreads];
  __shared__ double coefficients[2 * (kMaxHistory + 1)];
  const int c = order.count;
  for (int k = threadIdx.x; k < 2 * c; k += kReduceThreads) coefficients[k] = coef[k];
  __syncthreads();
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  double acc = 0.0;
  for (int j = 0; j < kPerThread; ++j) {
    const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
    if (i >= n) break;
    const double gi = load(g, i);
    double hg = gamma * gi;
    for (int k = 0; k < c; ++k) {
      const std::int64_t row = static_cast<std::int64_t>(order.slot[k]) * n;
      hg += coefficients[k] * load(s, row + i) - gamma * coefficients[c + k] * load(y, row + i);
    }
    const T di = static_cast<T>(-hg);
    d[i] = di;
    acc += gi * static_cast<double>(di);
  }
  const double total = block_combine(shared, acc, Combine::sum);
  if (threadIdx.x == 0) slope_partials[blockIdx.x] = total;
}

// s = x_new - x and y = g_new - g into their slots, and partials of s'y and y'y.
template <typename T>
__global__ void pair_kernel(const T* x_new, const T* x, const T* g_new, const T* g, T* s, T* y,
                            std::int64_t n, std::int64_t chunks, double* partials) {
  __shared__ double shared[kReduceThreads];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  double sy = 0.0;
  double yy = 0.0;
  for (int j = 0; j < kPerThread; ++j) {
    const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
    if (i >= n) break;
    const T si = x_new[i] - x[i];
    const T yi = g_new[i] - g[i];
    s[i] = si;
    y[i] = yi;
    sy += static_cast<double>(si) * static_cast<double>(yi);
    yy += static_cast<double>(yi) * static_cast<double>(yi);
  }
  const double sy_total = block_combine(shared, sy, Combine::sum);
  const double yy_total = block_combine(shared, yy, Combine::sum);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = sy_total;
    partials[chunks + blockIdx.x] = yy_total;
  }
}

// Copies g into out (unless they are the same buffer) and writes partials of
// g'd (0 without d), of max |g_i| and of the count of non-finite g_i.
template <typename T>
__global__ void gradient_kernel(const T* g, T* out, const T* d, std::int64_t n,
                                std::int64_t chunks, double* partials) {
  __shared__ double shared[kReduceThreads];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  double slope = 0.0;
  double inf_norm = 0.0;
  double nonfinite = 0.0;
  for (int j = 0; j < kPerThread; ++j) {
    const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
    if (i >= n) break;
    const T gi = g[i];
    if (out != g) out[i] = gi;
    const double v = static_cast<double>(gi);
    if (d != nullptr) slope += v * load(d, i);
    if (!isfinite(v)) nonfinite += 1.0;
    inf_norm = combine(Combine::max, inf_norm, fabs(v));
  }
  const double slope_total = block_combine(shared, slope, Combine::sum);
  const double max_total = block_combine(shared, inf_norm, Combine::max);
  const double nonfinite_total = block_combine(shared, nonfinite, Combine::sum);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = slope_total;
    partials[chunks + blockIdx.x] = nonfinite_total;
    partials[2 * chunks + blockIdx.x] = max_total;
  }
}

template <typename T>
__global__ void dot_kernel(const T* a, const T* b, std::int64_t n, double* partials) {
  __shared__ double shared[kReduceThreads];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  double acc = 0.0;
  for (int j = 0; j < kPerThread; ++j) {
    const std::int64_t i = base + static_cast<std::int64_t>(j) * kReduceThreads;
    if (i < n) acc += load(a, i) * load(b, i);
  }
  const double total = block_combine(shared, acc, Combine::sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

// ---------------------------------------------------------------- bindings

void check_size(const char* name, std::int64_t n) {
  if (n < 1) throw std::invalid_argument(std::string(name) + ": expected n >= 1, got " + std::to_string(n));
}

bool is_double(const std::string& dtype) {
  if (dtype == "float64") return true;
  if (dtype == "float32") return false;
  throw std::invalid_argument("dtype: expected 'float32' or 'float64', got '" + dtype + "'");
}

// Calls f(T{}) with T the floating-point type named by dtype.
template <typename F>
void with_dtype(const std::string& dtype, F&& f) {
  if (is_double(dtype)) {
    f(double{});
  } else {
    f(float{});
  }
}

Order make_order(const std::vector<int>& order, int slots) {
  if (order.size() > static_cast<std::size_t>(kMaxHistory)) {
    throw std::invalid_argument("order: expected at most " + std::to_string(kMaxHistory) +
                                " slots, got " + std::to_string(order.size()));
  }
  Order result{};
  result.count = static_cast<int>(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (order[k] < 0 || order[k] >= slots) {
      throw std::invalid_argument("order[" + std::to_string(k) + "]: expected a slot in [0, " +
                                  std::to_string(slots) + "), got " + std::to_string(order[k]));
    }
    result.slot[k] = order[k];
  }
  return result;
}

// Writes d = -H g and out[0] = g'd. work must have room for at least
// 4 * len(order) * chunk_count(n) partials and coef 2 * len(order) doubles.
void direction(std::uintptr_t s, std::uintptr_t y, int slots, const std::vector<int>& order_list,
               int new_slot, std::uintptr_t sy, std::uintptr_t yy, double gamma, std::uintptr_t g,
               std::uintptr_t d, std::int64_t n, const std::string& dtype, std::uintptr_t work,
               std::uintptr_t coef, std::uintptr_t out, std::uintptr_t stream_handle) {
  check_size("lbfgs_direction", n);
  is_double(dtype);  // rejects an invalid dtype before anything is enqueued
  const Order order = make_order(order_list, slots);
  if (new_slot >= slots) {
    throw std::invalid_argument("new_slot: expected -1 or a slot below " + std::to_string(slots) +
                                ", got " + std::to_string(new_slot));
  }
  const cudaStream_t stream = as_stream(stream_handle);
  const std::int64_t chunks = chunk_count(n);
  const unsigned grid = static_cast<unsigned>(chunks);
  double* partials = device_pointer<double>(work);
  double* dots = device_pointer<double>(out) + 1;  // out[0] is the slope
  const int c = order.count;
  if (c > 0) {
    const int quantities = new_slot >= 0 ? 4 * c : 2 * c;
    with_dtype(dtype, [&](auto value) {
      using T = decltype(value);
      direction_dots_kernel<T><<<grid, kReduceThreads, 0, stream>>>(
          device_pointer<T>(s), device_pointer<T>(y), order, new_slot, device_pointer<T>(g), n,
          chunks, partials);
    });
    check_launch("direction_dots_kernel");
    combine_partials(partials, chunks, quantities, Combine::sum, dots, stream);
    direction_coefficients_kernel<<<1, 1, 0, stream>>>(dots, device_pointer<double>(sy),
                                                       device_pointer<double>(yy), slots, order,
                                                       new_slot, gamma, device_pointer<double>(coef));
    check_launch("direction_coefficients_kernel");
  }
  with_dtype(dtype, [&](auto value) {
    using T = decltype(value);
    direction_write_kernel<T><<<grid, kReduceThreads, 0, stream>>>(
        device_pointer<T>(s), device_pointer<T>(y), order, device_pointer<double>(coef), gamma,
        device_pointer<T>(g), device_pointer<T>(d), n, partials);
  });
  check_launch("direction_write_kernel");
  combine_partials(partials, chunks, 1, Combine::sum, device_pointer<double>(out), stream);
}

// Writes the pair into s_slot, y_slot and out[0] = s'y, out[1] = y'y.
void pair(std::uintptr_t x_new, std::uintptr_t x, std::uintptr_t g_new, std::uintptr_t g,
          std::uintptr_t s_slot, std::uintptr_t y_slot, std::int64_t n, const std::string& dtype,
          std::uintptr_t work, std::uintptr_t out, std::uintptr_t stream_handle) {
  check_size("lbfgs_pair", n);
  const cudaStream_t stream = as_stream(stream_handle);
  const std::int64_t chunks = chunk_count(n);
  const unsigned grid = static_cast<unsigned>(chunks);
  double* partials = device_pointer<double>(work);
  with_dtype(dtype, [&](auto value) {
    using T = decltype(value);
    pair_kernel<T><<<grid, kReduceThreads, 0, stream>>>(
        device_pointer<T>(x_new), device_pointer<T>(x), device_pointer<T>(g_new),
        device_pointer<T>(g), device_pointer<T>(s_slot), device_pointer<T>(y_slot), n, chunks,
        partials);
  });
  check_launch("pair_kernel");
  combine_partials(partials, chunks, 2, Combine::sum, device_pointer<double>(out), stream);
}

// Copies g into out; writes out_stats = [g'd (0 without d), count of
// non-finite g_i, max |g_i| (NaN when some g_i is NaN)].
void gradient(std::uintptr_t g, std::uintptr_t out, std::uintptr_t d, std::int64_t n,
              const std::string& dtype, std::uintptr_t work, std::uintptr_t out_stats,
              std::uintptr_t stream_handle) {
  check_size("lbfgs_gradient", n);
  const cudaStream_t stream = as_stream(stream_handle);
  const std::int64_t chunks = chunk_count(n);
  const unsigned grid = static_cast<unsigned>(chunks);
  double* partials = device_pointer<double>(work);
  with_dtype(dtype, [&](auto value) {
    using T = decltype(value);
    gradient_kernel<T><<<grid, kReduceThreads, 0, stream>>>(
        device_pointer<T>(g), device_pointer<T>(out), device_pointer<T>(d), n, chunks, partials);
  });
  check_launch("gradient_kernel");
  double* stats = device_pointer<double>(out_stats);
  combine_partials(partials, chunks, 2, Combine::sum, stats, stream);
  combine_partials(partials + 2 * chunks, chunks, 1, Combine::max, stats + 2, stream);
}

void dot(std::uintptr_t a, std::uintptr_t b, std::int64_t n, const std::string& dtype,
         std::uintptr_t work, std::uintptr_t out, std::uintptr_t stream_handle) {
  check_size("lbfgs_dot", n);
  const cudaStream_t stream = as_stream(stream_handle);
  const std::int64_t chunks = chunk_count(n);
  const unsigned grid = static_cast<unsigned>(chunks);
  double* partials = device_pointer<double>(work);
  with_dtype(dtype, [&](auto value) {
    using T = decltype(value);
    dot_kernel<T><<<grid, kReduceThreads, 0, stream>>>(device_pointer<T>(a), device_pointer<T>(b),
                                                       n, partials);
  });
  check_launch("dot_kernel");
  combine_partials(partials, chunks, 1, Combine::sum, device_pointer<double>(out), stream);
}

}  // namespace

void register_lbfgs(pybind11::module_& m) {
  namespace py = pybind11;
  using py::arg;
  m.attr("lbfgs_max_history") = kMaxHistory;
  m.attr("reduce_chunk") = kChunk;
  m.def("reduce_chunks", &chunk_count, arg("n"),
        "Number of fixed chunks (partials per quantity) a reduction over n elements uses.");
  m.def("lbfgs_direction", &direction, arg("s"), arg("y"), arg("slots"), arg("order"),
        arg("new_slot"), arg("sy"), arg("yy"), arg("gamma"), arg("g"), arg("d"), arg("n"),
        arg("dtype"), arg("work"), arg("coef"), arg("out"), arg("stream"),
        "Enqueue d = -H g; out[0] = g'd, out[1:] the dot products of the first pass.");
  m.def("lbfgs_pair", &pair, arg("x_new"), arg("x"), arg("g_new"), arg("g"), arg("s"), arg("y"),
        arg("n"), arg("dtype"), arg("work"), arg("out"), arg("stream"),
        "Enqueue s = x_new - x, y = g_new - g; out[0] = s'y, out[1] = y'y.");
  m.def("lbfgs_gradient", &gradient, arg("g"), arg("out"), arg("d"), arg("n"), arg("dtype"),
        arg("work"), arg("stats"), arg("stream"),
        "Enqueue out = g and stats = [g'd, non-finite count, max |g_i|]; d = 0 for no slope.");
  m.def("lbfgs_dot", &dot, arg("a"), arg("b"), arg("n"), arg("dtype"), arg("work"), arg("out"),
        arg("stream"), "Enqueue out[0] = a'b, accumulated in float64 in fixed chunks.");
}

}  // namespace fastopt::cuda
