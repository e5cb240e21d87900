// Validation of array arguments at the Python boundary. Every check runs with
// the GIL held and before any kernel writes, and every message names the
// argument, the list index and the value received.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bindings/pybind.hpp"
#include "cpu/tensor_group.hpp"

namespace fastopt::bindings {

enum class Access { read, write };

// One buffer role of a multi-tensor call: a list of arrays, one per tensor.
struct Role {
  const char* name;
  py::handle arrays;  // a list or tuple of numpy arrays
  Access access;
  // Added to list positions in messages, for a caller that passes a slice
  // of the user's list.
  std::size_t index_base = 0;
  // Position in the roles vector of an earlier role whose arrays this role's
  // arrays may be exactly (same start, hence same bytes): an output that may
  // be its input for an in-place update. Any partial overlap still raises.
  int may_alias = -1;
  // True when `arrays` wraps one array the user passed directly, so messages
  // name the argument without a list position.
  bool single = false;
};

// Checks the roles against each other and builds the kernel view. The first
// role fixes the tensor count, the dtype (float32 or float64) and the shapes;
// every array must be a C-contiguous numpy.ndarray, written roles must be
// writeable, and no written array may overlap any other array of the call
// except the exact alias that Role::may_alias allows.
cpu::TensorGroup gather(const std::vector<Role>& roles, cpu::DType* dtype);

// Converts a sequence of step counts, one per tensor, each >= 1.
std::vector<std::int64_t> gather_steps(py::handle steps, std::int64_t num_tensors);

// Raises ValueError unless x is finite and within [lo, hi].
void check_finite_factor(const char* name, double x);

std::string describe(py::handle obj);

// Shortest decimal that reads back as the same double, for messages.
std::string number_text(double v);

// A role of one array passed directly. gather reads lists, so the array is
// wrapped in a one-element tuple that `keep` owns until gather returns.
Role single_role(const char* name, py::handle array, Access access, std::vector<py::tuple>& keep,
                 int may_alias = -1);
// Raises MemoryError, naming `what` and the bytes requested, when `count` items of
// `item_size` bytes overflow 64 bits or exceed the machine's physical memory. It guards
// buffers whose size comes from a caller's argument and that are then written in full.
// An overcommitting kernel accepts such a request and kills the process once the pages
// are written, so the check must come before the allocation.
void check_allocation(const char* what, std::int64_t count, std::size_t item_size);

}  // namespace fastopt::bindings
