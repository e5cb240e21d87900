// Bindings of the derivative-free operators. fastopt.dfo checks bounds,
// probabilities, permutations and operator parameters; these functions check
// only what the kernels rely on (dtype, shape, contiguity) and release the
// GIL. Operators that create individuals return new arrays; mutations and
// the Metropolis step update the caller's array in place.
#include <cstdint>
#include <string>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/threads.hpp"
#include "dfo/dfo.hpp"

namespace fastopt::bindings {
namespace {

using Int = std::int64_t;

// Checks that obj is a C-contiguous numpy array of T with `ndim` dimensions
// (and `size0` rows when size0 >= 0) and, when `write`, writeable.
template <typename T>
py::array_t<T> array_of(const char* name, py::handle obj, int ndim, Int size0 = -1,
                        bool write = false) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  auto a = py::reinterpret_borrow<py::array>(obj);
  const py::dtype expected = py::dtype::of<T>();
  if (!a.dtype().equal(expected)) {
    throw py::type_error(std::string(name) + ": expected dtype " +
                         py::str(expected).cast<std::string>() + ", got " +
                         py::str(a.dtype()).cast<std::string>());
  }
  if (a.ndim() != ndim || !(a.flags() & py::array::c_style) ||
      (size0 >= 0 && a.shape(0) != size0)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous " +
                          std::to_string(ndim) + "-D array" +
                          (size0 >= 0 ? " of " + std::to_string(size0) + " rows" : "") +
                          ", got " + describe(obj));
  }
  if (write && !a.writeable()) {
    throw py::value_error(std::string(name) + ": expected a writeable array");
  }
  return py::reinterpret_borrow<py::array_t<T>>(a);
}

// Parents: rows 2p and 2p + 1 form pair p, so the row count must be even.
template <typename T>
py::array_t<T> parents_of(py::handle obj) {
  auto a = array_of<T>("parents", obj, 2);
  if (a.shape(0) % 2 != 0) {
    throw py::value_error("parents: expected an even number of rows (pairs), got shape " +
                          describe(obj));
  }
  return a;
}

const double* bound_of(const char* name, py::handle obj, Int genes) {
  return array_of<double>(name, obj, 1, genes).data();
}

int threads_for(Int rows, Int genes) {
  return cpu::threads_for(rows * genes, cpu::get_num_threads());
}

dfo::Draws draws_of(std::uint64_t seed, std::uint64_t stream) { return {seed, stream}; }

template <typename T>
py::array_t<T> like(const py::array_t<T>& a) {
  return py::array_t<T>({a.shape(0), a.shape(1)});
}

// Checks the parent pairs, allocates their children and runs
// call(parents, pairs, genes, children) without the GIL.
template <typename T, typename Call>
py::array crossover_of(py::handle parents, Call call) {
  auto p = parents_of<T>(parents);
  auto out = like(p);
  const Int pairs = p.shape(0) / 2, genes = p.shape(1);
  const T* in = p.data();
  T* o = out.mutable_data();
  py::gil_scoped_release release;
  call(in, pairs, genes, o);
  return out;
}

template <typename T>
py::array uniform_crossover(py::handle parents, double prob, std::uint64_t seed,
                            std::uint64_t stream) {
  return crossover_of<T>(parents, [&](const T* in, Int pairs, Int genes, T* o) {
    dfo::uniform_crossover(in, pairs, genes, prob, draws_of(seed, stream), o,
                           threads_for(2 * pairs, genes));
  });
}

template <typename T>
py::array point_crossover(py::handle parents, int points, double prob, std::uint64_t seed,
                          std::uint64_t stream) {
  if (points != 1 && points != 2) {
    throw py::value_error("points: expected 1 or 2, got " + std::to_string(points));
  }
  return crossover_of<T>(parents, [&](const T* in, Int pairs, Int genes, T* o) {
    dfo::point_crossover(in, pairs, genes, points, prob, draws_of(seed, stream), o,
                         threads_for(2 * pairs, genes));
  });
}

bool is_uint8(py::handle obj) {
  return py::isinstance<py::array>(obj) &&
         py::reinterpret_borrow<py::array>(obj).dtype().equal(py::dtype::of<std::uint8_t>());
}

using RealCrossover = void (*)(const double*, Int, Int, const double*, const double*, double,
                               double, dfo::Draws, double*, int);

py::array real_crossover(RealCrossover op, py::handle parents, py::handle lower, py::handle upper,
                         double param, double prob, std::uint64_t seed, std::uint64_t stream) {
  // The bounds are checked with the GIL held, before crossover_of releases it.
  const Int genes = parents_of<double>(parents).shape(1);
  const double* lo = bound_of("lower", lower, genes);
  const double* hi = bound_of("upper", upper, genes);
  return crossover_of<double>(parents, [&](const double* in, Int pairs, Int, double* o) {
    op(in, pairs, genes, lo, hi, param, prob, draws_of(seed, stream), o,
       threads_for(2 * pairs, genes));
  });
}

using PermutationCrossover = void (*)(const Int*, Int, Int, double, dfo::Draws, Int*, int);

py::array permutation_crossover(PermutationCrossover op, py::handle parents, double prob,
                                std::uint64_t seed, std::uint64_t stream) {
  return crossover_of<Int>(parents, [&](const Int* in, Int pairs, Int n, Int* o) {
    op(in, pairs, n, prob, draws_of(seed, stream), o, threads_for(2 * pairs, n));
  });
}

using RealMutation = void (*)(double*, Int, Int, const double*, const double*, double, double,
                              dfo::Draws, int);

void real_mutation(RealMutation op, py::handle x, py::handle lower, py::handle upper, double param,
                   double prob, std::uint64_t seed, std::uint64_t stream) {
  auto a = array_of<double>("x", x, 2, -1, true);
  const Int rows = a.shape(0), genes = a.shape(1);
  const double* lo = bound_of("lower", lower, genes);
  const double* hi = bound_of("upper", upper, genes);
  double* data = a.mutable_data();
  py::gil_scoped_release release;
  op(data, rows, genes, lo, hi, param, prob, draws_of(seed, stream), threads_for(rows, genes));
}

using PermutationMutation = void (*)(Int*, Int, Int, double, dfo::Draws, int);

void permutation_mutation(PermutationMutation op, py::handle x, double prob, std::uint64_t seed,
                          std::uint64_t stream) {
  auto a = array_of<Int>("x", x, 2, -1, true);
  const Int rows = a.shape(0), n = a.shape(1);
  Int* data = a.mutable_data();
  py::gil_scoped_release release;
  op(data, rows, n, prob, draws_of(seed, stream), threads_for(rows, n));
}

// Binds a crossover or mutation that takes bounds and one real parameter.
template <typename Op, typename Impl>
void def_real(py::module_& m, const char* name, Op op, Impl impl, const char* first,
              const char* param, const char* doc) {
  m.def(
      name,
      [op, impl](py::handle a, py::handle lower, py::handle upper, double value, double prob,
                 std::uint64_t seed, std::uint64_t stream) {
        return impl(op, a, lower, upper, value, prob, seed, stream);
      },
      py::arg(first), py::arg("lower"), py::arg("upper"), py::arg(param), py::arg("prob"),
      py::arg("seed"), py::arg("stream"), doc);
}

// Binds a crossover or mutation of permutations, which takes only a probability.
template <typename Op, typename Impl>
void def_permutation(py::module_& m, const char* name, Op op, Impl impl, const char* first,
                     const char* doc) {
  m.def(
      name,
      [op, impl](py::handle a, double prob, std::uint64_t seed, std::uint64_t stream) {
        return impl(op, a, prob, seed, stream);
      },
      py::arg(first), py::arg("prob"), py::arg("seed"), py::arg("stream"), doc);
}

py::array_t<double> uniform_draws(std::uint64_t seed, std::uint64_t stream, Int rows,
                                  Int num_draws) {
  if (rows < 0 || num_draws < 0) {
    throw py::value_error("rows, num_draws: expected ints >= 0, got " + std::to_string(rows) +
                          ", " + std::to_string(num_draws));
  }
  py::array_t<double> out({rows, num_draws});
  double* o = out.mutable_data();
  py::gil_scoped_release release;
  dfo::uniform_draws(draws_of(seed, stream), rows, num_draws, o, threads_for(rows, num_draws));
  return out;
}

py::array_t<Int> tournament(py::handle fitness, Int num_select, Int size, std::uint64_t seed,
                            std::uint64_t stream) {
  auto f = array_of<double>("fitness", fitness, 1);
  const Int n = f.shape(0);
  if (n < 1 || num_select < 0 || size < 1) {
    throw py::value_error("tournament: expected fitness non-empty, num_select >= 0 and "
                          "size >= 1, got " + std::to_string(n) + ", " +
                          std::to_string(num_select) + ", " + std::to_string(size));
  }
  py::array_t<Int> out(num_select);
  const double* fd = f.data();
  Int* o = out.mutable_data();
  py::gil_scoped_release release;
  dfo::tournament(fd, n, num_select, size, draws_of(seed, stream), o,
                  threads_for(num_select, size));
  return out;
}

void bit_flip(py::handle x, double prob, std::uint64_t seed, std::uint64_t stream) {
  auto a = array_of<std::uint8_t>("x", x, 2, -1, true);
  const Int rows = a.shape(0), genes = a.shape(1);
  std::uint8_t* data = a.mutable_data();
  py::gil_scoped_release release;
  dfo::bit_flip(data, rows, genes, prob, draws_of(seed, stream), threads_for(rows, genes));
}

// Returns (candidates, moved coordinates); the deduced type keeps their dtypes in the stub.
auto coordinate_move(py::handle x, py::handle step, py::handle lower, py::handle upper,
                     std::uint64_t seed, std::uint64_t stream) {
  auto a = array_of<double>("x", x, 2);
  const Int rows = a.shape(0), genes = a.shape(1);
  auto s = array_of<double>("step", step, 2, rows);
  if (s.shape(1) != genes || genes < 1) {
    throw py::value_error("step: expected the shape of x, got " + describe(step));
  }
  const double* lo = bound_of("lower", lower, genes);
  const double* hi = bound_of("upper", upper, genes);
  py::array_t<double> out({rows, genes});
  py::array_t<Int> moved(rows);
  const double* xd = a.data();
  const double* sd = s.data();
  double* o = out.mutable_data();
  Int* mv = moved.mutable_data();
  {
    py::gil_scoped_release release;
    dfo::coordinate_move(xd, rows, genes, sd, lo, hi, draws_of(seed, stream), o, mv,
                         threads_for(rows, genes));
  }
  return py::make_tuple(out, moved);
}

py::array_t<bool> metropolis(py::handle f, py::handle candidate_f, double temperature,
                             std::uint64_t seed, std::uint64_t stream) {
  auto cur = array_of<double>("f", f, 1, -1, true);
  const Int rows = cur.shape(0);
  auto cand = array_of<double>("candidate_f", candidate_f, 1, rows);
  if (!(temperature > 0.0)) {
    throw py::value_error("temperature: expected a value > 0, got " +
                          std::to_string(temperature));
  }
  py::array_t<bool> accepted(rows);
  double* fd = cur.mutable_data();
  const double* cd = cand.data();
  auto* ad = reinterpret_cast<std::uint8_t*>(accepted.mutable_data());
  {
    py::gil_scoped_release release;
    dfo::metropolis(fd, cd, rows, temperature, draws_of(seed, stream), ad, threads_for(rows, 1));
  }
  return accepted;
}

void bind_crossovers(py::module_& m) {
  def_real(m, "dfo_sbx", dfo::sbx, real_crossover, "parents", "eta",
           "Simulated binary crossover of float64 parent pairs.");
  def_real(m, "dfo_blend", dfo::blend, real_crossover, "parents", "alpha",
           "BLX-alpha crossover of float64 parent pairs.");
  m.def(
      "dfo_uniform_crossover",
      [](py::handle parents, double prob, std::uint64_t seed, std::uint64_t stream) {
        if (is_uint8(parents)) return uniform_crossover<std::uint8_t>(parents, prob, seed, stream);
        return uniform_crossover<double>(parents, prob, seed, stream);
      },
      py::arg("parents"), py::arg("prob"), py::arg("seed"), py::arg("stream"),
      "Uniform crossover of float64 or uint8 parent pairs.");
  m.def(
      "dfo_point_crossover",
      [](py::handle parents, int points, double prob, std::uint64_t seed, std::uint64_t stream) {
        if (is_uint8(parents)) {
          return point_crossover<std::uint8_t>(parents, points, prob, seed, stream);
        }
        return point_crossover<double>(parents, points, prob, seed, stream);
      },
      py::arg("parents"), py::arg("points"), py::arg("prob"), py::arg("seed"), py::arg("stream"),
      "One- or two-point crossover of float64 or uint8 parent pairs.");
  def_permutation(m, "dfo_order_crossover", dfo::order_crossover, permutation_crossover,
                  "parents", "Order crossover (OX) of int64 permutation pairs.");
  def_permutation(m, "dfo_pmx", dfo::pmx, permutation_crossover, "parents",
                  "Partially mapped crossover (PMX) of int64 permutation pairs.");
}

void bind_mutations(py::module_& m) {
  def_real(m, "dfo_polynomial_mutation", dfo::polynomial_mutation, real_mutation, "x", "eta",
           "Polynomial mutation of float64 rows, in place.");
  def_real(m, "dfo_gaussian_mutation", dfo::gaussian_mutation, real_mutation, "x", "sigma",
           "Gaussian mutation of float64 rows, in place.");
  m.def("dfo_bit_flip", &bit_flip, py::arg("x"), py::arg("prob"), py::arg("seed"),
        py::arg("stream"), "Bit-flip mutation of uint8 rows, in place.");
  def_permutation(m, "dfo_swap_mutation", dfo::swap_mutation, permutation_mutation, "x",
                  "Swap mutation of int64 permutation rows, in place.");
  def_permutation(m, "dfo_inversion_mutation", dfo::inversion_mutation, permutation_mutation,
                  "x", "Inversion mutation of int64 permutation rows, in place.");
}

}  // namespace

void bind_dfo(py::module_& m) {
  const auto seed = py::arg("seed");
  const auto stream = py::arg("stream");
  m.def("dfo_uniform_draws", &uniform_draws, seed, stream, py::arg("rows"),
        py::arg("num_draws"),
        "Draws of the operators' generator: element [r, k] is draw k of row r, in [0, 1).");
  m.def("dfo_tournament", &tournament, py::arg("fitness"), py::arg("num_select"),
        py::arg("size"), seed, stream,
        "Indices of num_select tournament winners (smallest fitness) among size candidates.");
  bind_crossovers(m);
  bind_mutations(m);
  m.def("dfo_coordinate_move", &coordinate_move, py::arg("x"), py::arg("step"),
        py::arg("lower"), py::arg("upper"), seed, stream,
        "One-coordinate annealing moves of float64 rows: (candidates, moved coordinates).");
  m.def("dfo_metropolis", &metropolis, py::arg("f"), py::arg("candidate_f"),
        py::arg("temperature"), seed, stream,
        "Metropolis acceptance; accepted rows take candidate_f into f. Returns the mask.");
}

}  // namespace fastopt::bindings
