// Bindings of feature hashing. Rows of Python objects are turned into one
// flat token buffer with the GIL held, so every check runs before any output
// exists. The hashing kernel then runs without the GIL.
#include <Python.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/dispatch.hpp"
#include "cpu/hashing.hpp"

namespace fastopt::bindings {
namespace {

std::string_view utf8_of(py::handle text) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

std::string repr_of(py::handle obj) {
  std::string text = py::repr(obj).cast<std::string>();
  if (text.size() > 60) text = text.substr(0, 60) + "...";
  return text;
}

// Tokens of the rows seen so far, in the layout of cpu::HashBatch.
struct TokenBuffer {
  std::string bytes;
  std::vector<std::int64_t> token_offsets{0};
  std::vector<double> values;
  std::vector<std::int64_t> row_offsets{0};

  // Adds the token `name`, or `name=value` when `value` is given.
  void add(std::string_view name, const std::string_view* value, double weight) {
    bytes.append(name);
    if (value != nullptr) {
      bytes.push_back('=');
      bytes.append(*value);
    }
    token_offsets.push_back(static_cast<std::int64_t>(bytes.size()));
    values.push_back(weight);
  }

  void end_row() { row_offsets.push_back(static_cast<std::int64_t>(values.size())); }
};

void check_hash_options(int n_bits, std::int64_t seed) {
  if (n_bits < 1 || n_bits > 31) {
    throw py::value_error("n_bits: expected an integer in [1, 31], got " + std::to_string(n_bits));
  }
  if (seed < 0 || seed > 0xffffffffLL) {
    throw py::value_error("seed: expected an integer in [0, 2**32 - 1], got " +
                          std::to_string(seed));
  }
}

// Hashes the buffer into CSR arrays (indptr int64, indices int32, data float64).
py::tuple hash_buffer(const TokenBuffer& tokens, int n_bits, std::int64_t seed,
                      bool alternate_sign) {
  const auto num_rows = static_cast<py::ssize_t>(tokens.row_offsets.size() - 1);
  const auto capacity = static_cast<py::ssize_t>(tokens.values.size());
  py::array_t<std::int64_t> indptr(num_rows + 1);
  py::array_t<std::int32_t> indices(capacity);
  py::array_t<double> data(capacity);
  cpu::HashBatch batch;
  batch.bytes = tokens.bytes.data();
  batch.token_offsets = tokens.token_offsets.data();
  batch.values = tokens.values.data();
  batch.row_offsets = tokens.row_offsets.data();
  batch.num_rows = num_rows;
  batch.seed = static_cast<std::uint32_t>(seed);
  batch.n_bits = n_bits;
  batch.alternate_sign = alternate_sign;
  cpu::HashedRows out;
  out.indptr = indptr.mutable_data();
  out.indices = indices.mutable_data();
  out.data = data.mutable_data();
  std::int64_t nnz = 0;
  {
    py::gil_scoped_release release;
    nnz = cpu::kernels().hash_rows(batch, out);
  }
  py::slice used(0, static_cast<py::ssize_t>(nnz), 1);
  return py::make_tuple(indptr, indices[used].attr("copy")(), data[used].attr("copy")());
}

double finite_number(py::handle obj, const std::string& where) {
  const double value = PyFloat_AsDouble(obj.ptr());
  if (value == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  if (!std::isfinite(value)) {
    throw py::value_error(where + ": expected a finite value, got " + repr_of(obj));
  }
  return value;
}

bool is_number(py::handle obj) {
  return !PyUnicode_Check(obj.ptr()) && !PyBytes_Check(obj.ptr()) && PyNumber_Check(obj.ptr());
}

void add_dict_row(TokenBuffer& tokens, py::handle row, std::int64_t r) {
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(row.ptr(), &position, &key, &value)) {
    py::handle k(key), v(value);
    const std::string where = "rows[" + std::to_string(r) + "][" + repr_of(k) + "]";
    if (!PyUnicode_Check(key)) {
      throw py::type_error("rows[" + std::to_string(r) + "]: expected str keys, got " +
                           repr_of(k) + " of type " + describe(k));
    }
    if (v.is_none()) continue;  // a missing value adds no feature
    if (PyUnicode_Check(value)) {
      const std::string_view text = utf8_of(v);
      tokens.add(utf8_of(k), &text, 1.0);
    } else if (is_number(v)) {
      tokens.add(utf8_of(k), nullptr, finite_number(v, where));
    } else {
      throw py::type_error(where + ": expected a str, a number or None, got " + describe(v));
    }
  }
}

void add_token_row(TokenBuffer& tokens, py::handle row, std::int64_t r) {
  std::int64_t j = 0;
  for (py::handle item : py::reinterpret_borrow<py::iterable>(row)) {
    const std::string where = "rows[" + std::to_string(r) + "][" + std::to_string(j) + "]";
    if (PyUnicode_Check(item.ptr())) {
      tokens.add(utf8_of(item), nullptr, 1.0);
    } else if (PyTuple_Check(item.ptr()) && PyTuple_GET_SIZE(item.ptr()) == 2 &&
               PyUnicode_Check(PyTuple_GET_ITEM(item.ptr(), 0)) &&
               is_number(PyTuple_GET_ITEM(item.ptr(), 1))) {
      py::handle name(PyTuple_GET_ITEM(item.ptr(), 0));
      tokens.add(utf8_of(name), nullptr,
                 finite_number(PyTuple_GET_ITEM(item.ptr(), 1), where));
    } else {
      throw py::type_error(where + ": expected a str token or a (str, number) pair, got " +
                           repr_of(item));
    }
    ++j;
  }
}

py::tuple hash_rows(py::iterable rows, int n_bits, std::int64_t seed, bool alternate_sign) {
  check_hash_options(n_bits, seed);
  TokenBuffer tokens;
  std::int64_t r = 0;
  for (py::handle row : rows) {
    if (PyDict_Check(row.ptr())) {
      add_dict_row(tokens, row, r);
    } else if (PyUnicode_Check(row.ptr()) || PyBytes_Check(row.ptr()) ||
               !PyObject_HasAttrString(row.ptr(), "__iter__")) {
      throw py::type_error("rows[" + std::to_string(r) +
                           "]: expected a dict or an iterable of tokens, got " + describe(row));
    } else {
      add_token_row(tokens, row, r);
    }
    tokens.end_row();
    ++r;
  }
  return hash_buffer(tokens, n_bits, seed, alternate_sign);
}

// Parses a decimal number as C's strtod does in the "C" locale, whatever the
// process locale is. Surrounding blanks and a leading '+' are allowed.
bool parse_double(std::string_view text, double* out) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, *out);
  return result.ec == std::errc() && result.ptr == end && std::isfinite(*out);
}

// Column kinds of a table; they match fastopt.online._hashing.
enum ColumnKind : int { kSkip = 0, kCategorical = 1, kNumericValue = 2, kNumericToken = 3 };

py::tuple hash_table(py::iterable rows, const std::vector<std::string>& names,
                     const std::vector<int>& kinds, int label_index, int n_bits,
                     std::int64_t seed, bool alternate_sign, const std::string& source,
                     const std::vector<std::int64_t>& row_lines) {
  check_hash_options(n_bits, seed);
  if (names.size() != kinds.size()) {
    throw py::value_error("kinds: expected one kind per name (" + std::to_string(names.size()) +
                          "), got " + std::to_string(kinds.size()));
  }
  const auto num_columns = static_cast<std::int64_t>(names.size());
  if (label_index < 0 || label_index >= num_columns) {
    throw py::value_error("label_index: expected an index in [0, " +
                          std::to_string(num_columns) + "), got " + std::to_string(label_index));
  }
  TokenBuffer tokens;
  std::vector<double> labels;
  std::size_t position = 0;
  for (py::handle row : rows) {
    // A record can span several lines (a quoted field with a line break), so the caller
    // passes the line where each one starts.
    if (position >= row_lines.size()) {
      throw py::value_error("row_lines: expected one line number per row, got " +
                            std::to_string(row_lines.size()));
    }
    const std::string where = source + ":" + std::to_string(row_lines[position]);
    if (!PyList_Check(row.ptr())) {
      throw py::type_error(where + ": expected a list of str fields, got " + describe(row));
    }
    const Py_ssize_t num_fields = PyList_GET_SIZE(row.ptr());
    if (num_fields != num_columns) {
      throw py::value_error(where + ": expected " + std::to_string(num_columns) +
                            " fields, got " + std::to_string(num_fields));
    }
    for (std::int64_t c = 0; c < num_columns; ++c) {
      py::handle field(PyList_GET_ITEM(row.ptr(), c));
      if (!PyUnicode_Check(field.ptr())) {
        throw py::type_error(where + ": column " + names[c] + ": expected str, got " +
                             describe(field));
      }
      const std::string_view text = utf8_of(field);
      if (c == label_index) {
        double label = 0.0;
        if (!parse_double(text, &label)) {
          throw py::value_error(where + ": invalid label " + repr_of(field) + " in column " +
                                names[c] + ": expected a number");
        }
        labels.push_back(label);
        continue;
      }
      if (text.empty() || kinds[c] == kSkip) continue;  // an empty field is a missing value
      if (kinds[c] == kNumericValue) {
        double value = 0.0;
        if (!parse_double(text, &value)) {
          throw py::value_error(where + ": invalid value " + repr_of(field) + " in column " +
                                names[c] + ": expected a finite number");
        }
        tokens.add(names[c], nullptr, value);
      } else if (kinds[c] == kCategorical || kinds[c] == kNumericToken) {
        tokens.add(names[c], &text, 1.0);
      } else {
        throw py::value_error("kinds[" + std::to_string(c) + "]: expected 0, 1, 2 or 3, got " +
                              std::to_string(kinds[c]));
      }
    }
    tokens.end_row();
    ++position;
  }
  py::tuple csr = hash_buffer(tokens, n_bits, seed, alternate_sign);
  py::array_t<double> label_array(static_cast<py::ssize_t>(labels.size()));
  std::copy(labels.begin(), labels.end(), label_array.mutable_data());
  return py::make_tuple(csr[0], csr[1], csr[2], label_array);
}

std::uint32_t murmurhash3(py::handle key, std::int64_t seed) {
  check_hash_options(1, seed);
  if (PyUnicode_Check(key.ptr())) {
    const std::string_view text = utf8_of(key);
    return cpu::murmurhash3_32(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                               static_cast<std::uint32_t>(seed));
  }
  if (PyObject_CheckBuffer(key.ptr())) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(key).request();
    const auto size = static_cast<std::size_t>(info.size * info.itemsize);
    return cpu::murmurhash3_32(static_cast<const unsigned char*>(info.ptr), size,
                               static_cast<std::uint32_t>(seed));
  }
  throw py::type_error("key: expected str or a bytes-like object, got " + describe(key));
}

}  // namespace

void bind_hashing(py::module_& m) {
  m.def("murmurhash3_32", &murmurhash3, py::arg("key"), py::arg("seed") = 0,
        "MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of a str or of a bytes-like key, "
        "as an unsigned integer.");
  m.def("hash_rows", &hash_rows, py::arg("rows"), py::arg("n_bits"), py::arg("seed"),
        py::arg("alternate_sign"),
        "Hash rows of tokens or dicts; returns (indptr int64, indices int32, data float64).");
  m.def("hash_table", &hash_table, py::arg("rows"), py::arg("names"), py::arg("kinds"),
        py::arg("label_index"), py::arg("n_bits"), py::arg("seed"), py::arg("alternate_sign"),
        py::arg("source"), py::arg("row_lines"),
        "Hash rows of str fields by column kind; returns (indptr, indices, data, labels). "
        "row_lines[i], the line where row i starts, goes into error messages.");
}

}  // namespace fastopt::bindings
