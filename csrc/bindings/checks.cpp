#include "bindings/checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace fastopt::bindings {
namespace {

struct Span {
  std::uintptr_t lo;
  std::uintptr_t hi;
  const char* role;
  std::size_t index;
  bool writes;
  bool single;
};

std::string where(const char* role, std::size_t index) {
  return std::string(role) + "[" + std::to_string(index) + "]";
}

std::string where(const Span& s) { return s.single ? std::string(s.role) : where(s.role, s.index); }

std::string shape_of(const py::array& a) { return py::str(a.attr("shape")).cast<std::string>(); }

py::sequence as_list(const Role& role) {
  if (!py::isinstance<py::list>(role.arrays) && !py::isinstance<py::tuple>(role.arrays)) {
    throw py::type_error(std::string(role.name) + ": expected a list of numpy arrays, got " +
                         describe(role.arrays));
  }
  return py::reinterpret_borrow<py::sequence>(role.arrays);
}

// Raises on the first pair of overlapping arrays where at least one is
// written. After sorting by start address, an array overlaps an earlier one
// exactly when it starts before the furthest end seen so far.
void check_overlaps(std::vector<Span>& spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  const Span* reach_any = nullptr;
  const Span* reach_writer = nullptr;
  for (const Span& s : spans) {
    const Span* other = nullptr;
    if (s.writes && reach_any && s.lo < reach_any->hi) other = reach_any;
    if (!s.writes && reach_writer && s.lo < reach_writer->hi) other = reach_writer;
    if (other) {
      throw py::value_error(where(*other) + " and " + where(s) +
                            " share memory; every array that fastopt writes must be a "
                            "separate buffer (pass a copy)");
    }
    if (!reach_any || s.hi > reach_any->hi) reach_any = &s;
    if (s.writes && (!reach_writer || s.hi > reach_writer->hi)) reach_writer = &s;
  }
}

}  // namespace

std::string describe(py::handle obj) {
  if (py::isinstance<py::array>(obj)) {
    py::array a = py::reinterpret_borrow<py::array>(obj);
    return "array of dtype " + py::str(a.dtype()).cast<std::string>() + " and shape " +
           shape_of(a);
  }
  return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

cpu::TensorGroup gather(const std::vector<Role>& roles, cpu::DType* dtype) {
  cpu::TensorGroup tg;
  tg.num_buffers = static_cast<int>(roles.size());
  const Role& first = *roles.begin();
  py::sequence first_list = as_list(first);
  const std::size_t n = py::len(first_list);
  tg.size.resize(n);
  tg.data.resize(n * roles.size());

  std::vector<py::array> leaders;
  leaders.reserve(n);
  py::dtype leader_dtype;
  std::vector<Span> spans;
  spans.reserve(n * roles.size());
  // Index in `spans` of array k of role r, stored at k * roles.size() + r, or -1.
  std::vector<std::ptrdiff_t> span_of(n * roles.size(), -1);

  auto leader_at = [&](std::size_t k) {
    return first.single ? std::string(first.name) : where(first.name, first.index_base + k);
  };

  int r = 0;
  for (const Role& role : roles) {
    py::sequence list = as_list(role);
    const std::size_t len = py::len(list);
    if (len != n) {
      throw py::value_error(std::string(role.name) + ": expected " + std::to_string(n) +
                            " arrays to match " + first.name + ", got " + std::to_string(len));
    }
    for (std::size_t k = 0; k < n; ++k) {
      py::handle item = list[k];
      // Built only when a check fails: the hot path formats no strings.
      auto at = [&] {
        return role.single ? std::string(role.name) : where(role.name, role.index_base + k);
      };
      if (!py::isinstance<py::array>(item)) {
        throw py::type_error(at() + ": expected a numpy.ndarray, got " + describe(item));
      }
      py::array a = py::reinterpret_borrow<py::array>(item);
      if (r == 0) {
        if (k == 0) {
          if (a.dtype().equal(py::dtype::of<float>())) {
            *dtype = cpu::DType::float32;
          } else if (a.dtype().equal(py::dtype::of<double>())) {
            *dtype = cpu::DType::float64;
          } else {
            throw py::type_error(at() +
                                 ": expected dtype float32 or float64, got " +
                                 py::str(a.dtype()).cast<std::string>());
          }
          leader_dtype = a.dtype();
        }
        leaders.push_back(a);
        tg.size[k] = static_cast<std::int64_t>(a.size());
      }
      if (!a.dtype().equal(leader_dtype)) {
        throw py::type_error(at() + ": expected dtype " +
                             py::str(leader_dtype).cast<std::string>() + " to match " +
                             leader_at(0) + ", got " +
                             py::str(a.dtype()).cast<std::string>());
      }
      if (r != 0) {
        const py::array& lead = leaders[k];
        bool same = a.ndim() == lead.ndim();
        for (py::ssize_t d = 0; same && d < a.ndim(); ++d) same = a.shape(d) == lead.shape(d);
        if (!same) {
          throw py::value_error(at() + ": expected shape " + shape_of(lead) + " to match " +
                                leader_at(k) + ", got " +
                                shape_of(a));
        }
      }
      if (!(a.flags() & py::array::c_style)) {
        throw py::value_error(at() +
                              ": expected a C-contiguous array, got strides " +
                              py::str(a.attr("strides")).cast<std::string>() +
                              " (use numpy.ascontiguousarray, and keep that copy)");
      }
      if (role.access == Access::write && !a.writeable()) {
        throw py::value_error(at() +
                              ": expected a writeable array, got a read-only one");
      }
      void* data = const_cast<void*>(a.data());
      tg.data[k * roles.size() + r] = data;
      if (a.size() > 0) {
        const std::ptrdiff_t partner =
            role.may_alias >= 0 ? span_of[k * roles.size() + role.may_alias] : -1;
        if (partner >= 0 && tg.data[k * roles.size() + role.may_alias] == data) {
          // The same dtype and shape were checked above, so the same start
          // means the same bytes: one span stands for both arrays.
          if (role.access == Access::write) {
            spans[partner].writes = true;
            spans[partner].role = role.name;  // name the written array in messages
            spans[partner].single = role.single;
          }
        } else {
          const auto lo = reinterpret_cast<std::uintptr_t>(data);
          span_of[k * roles.size() + r] = static_cast<std::ptrdiff_t>(spans.size());
          spans.push_back({lo, lo + static_cast<std::uintptr_t>(a.nbytes()), role.name,
                           role.index_base + k, role.access == Access::write, role.single});
        }
      }
    }
    ++r;
  }
  check_overlaps(spans);
  return tg;
}

std::vector<std::int64_t> gather_steps(py::handle steps, std::int64_t num_tensors) {
  std::vector<std::int64_t> out;
  try {
    out = steps.cast<std::vector<std::int64_t>>();
  } catch (const py::cast_error&) {
    throw py::type_error("steps: expected a sequence of integers, got " + describe(steps));
  }
  if (static_cast<std::int64_t>(out.size()) != num_tensors) {
    throw py::value_error("steps: expected " + std::to_string(num_tensors) +
                          " step counts to match params, got " + std::to_string(out.size()));
  }
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (out[k] < 1) {
      throw py::value_error(where("steps", k) + ": expected a step count >= 1, got " +
                            std::to_string(out[k]));
    }
  }
  return out;
}

void check_finite_factor(const char* name, double x) {
  if (!std::isfinite(x)) {
    throw py::value_error(std::string(name) + ": expected a finite number, got " +
                          std::to_string(x));
  }
}

std::string number_text(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

Role single_role(const char* name, py::handle array, Access access, std::vector<py::tuple>& keep,
                 int may_alias) {
  keep.push_back(py::make_tuple(array));
  Role role{name, keep.back(), access};
  role.may_alias = may_alias;
  role.single = true;
  return role;
}

}  // namespace fastopt::bindings

namespace {

// Physical memory in bytes, or 0 where the platform does not report it.
std::uint64_t physical_memory() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) {
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  }
#endif
  return 0;
}

}  // namespace

namespace fastopt::bindings {

void check_allocation(const char* what, std::int64_t count, std::size_t item_size) {
  const std::uint64_t limit = physical_memory();
  const auto items = static_cast<std::uint64_t>(count < 0 ? 0 : count);
  std::string message;
  if (item_size != 0 && items > UINT64_MAX / item_size) {
    message = std::string(what) + ": cannot allocate " + std::to_string(items) + " items of " +
              std::to_string(item_size) + " bytes, more than 2**64 bytes";
  } else if (limit != 0 && items * item_size > limit) {
    const std::uint64_t bytes = items * item_size;
    message = std::string(what) + ": cannot allocate " + std::to_string(bytes) + " bytes (" +
              std::to_string(bytes >> 30) + " GiB); the machine has " + std::to_string(limit) +
              " bytes of memory";
  } else {
    return;
  }
  PyErr_SetString(PyExc_MemoryError, message.c_str());
  throw py::error_already_set();
}

}  // namespace fastopt::bindings
