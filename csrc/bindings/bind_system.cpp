// Bindings for threads, instruction-set dispatch and the roofline kernel.
#include <string>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/threads.hpp"

namespace fastopt::bindings {
namespace {

void set_num_threads(py::handle n) {
  if (!py::isinstance<py::int_>(n) || py::isinstance<py::bool_>(n)) {
    throw py::type_error("num_threads: expected an int, got " + describe(n));
  }
  const long long value = n.cast<long long>();
  if (value < 1 || value > 4096) {
    throw py::value_error("num_threads: expected an int in [1, 4096], got " +
                          std::to_string(value));
  }
  cpu::set_num_threads(static_cast<int>(value));
}

void select_isa(const std::string& name) {
  if (!cpu::select_isa(name)) {
    std::string names;
    for (const std::string& s : cpu::available_isas()) names += (names.empty() ? "" : ", ") + s;
    throw py::value_error("isa: expected one of the instruction sets available here (" + names +
                          "), got '" + name + "'");
  }
}

// Reads every array and writes the last `len(read_write)` of them, with no
// arithmetic: the memory traffic of an update that moves the same bytes.
void roofline(py::handle read_only, py::handle read_write) {
  cpu::DType dtype{};
  const std::size_t num_ro = py::len(read_only);
  if (num_ro > 1) {
    throw py::value_error("read_only: expected at most 1 list, got " + std::to_string(num_ro));
  }
  const std::size_t num_rw = py::len(read_write);
  if (num_rw < 1 || num_rw > 5) {
    throw py::value_error("read_write: expected 1 to 5 lists, got " + std::to_string(num_rw));
  }
  py::sequence ro = py::reinterpret_borrow<py::sequence>(read_only);
  py::sequence rw = py::reinterpret_borrow<py::sequence>(read_write);
  std::vector<Role> roles;
  for (std::size_t i = 0; i < num_ro; ++i) roles.push_back({"read_only", ro[i], Access::read});
  for (std::size_t i = 0; i < num_rw; ++i) roles.push_back({"read_write", rw[i], Access::write});
  cpu::TensorGroup tg = gather(roles, &dtype);
  py::gil_scoped_release release;
  cpu::kernels().roofline(tg, dtype, static_cast<int>(num_ro), cpu::get_num_threads());
}

// Reads every element of every array once and writes nothing: the memory
// traffic of a kernel that only reads, such as an inner-product pass.
double roofline_read(py::handle arrays) {
  cpu::DType dtype{};
  cpu::TensorGroup tg = gather({{"arrays", arrays, Access::read}}, &dtype);
  py::gil_scoped_release release;
  return cpu::kernels().roofline_read(tg, dtype, cpu::get_num_threads());
}

}  // namespace

void bind_system(py::module_& m) {
  using namespace py::literals;
  m.def("get_num_threads", &cpu::get_num_threads, "Threads used by fastopt's kernels.");
  m.def("set_num_threads", &set_num_threads, "num_threads"_a,
        "Set the threads used by fastopt's kernels.");
  m.def("max_threads", &cpu::max_threads, "Threads the OpenMP runtime offers.");
  m.def("openmp_enabled", &cpu::openmp_enabled, "Return whether the module was built with OpenMP.");
  m.def("active_isa", &cpu::active_isa, "Instruction set of the kernels in use.");
  m.def("available_isas", &cpu::available_isas,
        "Instruction sets compiled in and supported by this CPU.");
  m.def("select_isa", &select_isa, "isa"_a, "Switch kernels to another instruction set.");
  m.def("roofline", &roofline, "read_only"_a, "read_write"_a,
        "Move the bytes of an update over the arrays with no arithmetic.");
  m.def("roofline_read", &roofline_read, "arrays"_a,
        "Read every element of the arrays once (their sum, for timing only).");
}

}  // namespace fastopt::bindings
