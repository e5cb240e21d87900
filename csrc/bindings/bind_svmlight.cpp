// Bindings of the SVMlight / LIBSVM parser and writer. Python reads (and decompresses) the
// file in blocks and feeds them here. Parsing runs without the GIL, so a Python thread can
// decompress the next block meanwhile. The parsed arrays move to NumPy without a copy.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "bindings/pybind.hpp"
#include "cpu/threads.hpp"
#include "io/svmlight.hpp"

namespace fastopt::bindings {
namespace {

// Wraps a block of io::resize_block in a NumPy array that frees it.
template <class T>
py::array_t<T> adopt(T* data, std::size_t size) {
  if (data == nullptr || size == 0) {
    io::free_block(data);
    return py::array_t<T>(0);
  }
  py::capsule owner(data, [](void* p) { io::free_block(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(size)}, {static_cast<py::ssize_t>(sizeof(T))},
                        data, owner);
}

template <class T>
py::array_t<T> adopt(io::Buffer<T>& buffer) {
  const std::size_t size = buffer.size();
  return adopt(buffer.release(), size);
}

class Parser {
 public:
  Parser(std::string source, bool multilabel, bool zero_based, bool float32,
         std::int64_t max_index, std::int64_t n_features, int threads)
      : source_(std::move(source)),
        parser_(io::SvmlightOptions{multilabel, zero_based, float32, max_index, n_features}),
        threads_(threads) {
    if (threads < 0) {
      throw py::value_error("threads: expected 0 (fastopt's thread count) or a count >= 1, got " +
                            std::to_string(threads));
    }
  }

  std::size_t feed(const py::buffer& data, std::int64_t max_lines) {
    py::buffer_info info = data.request();
    if (info.ndim != 1 || info.itemsize != 1 || (info.shape[0] > 1 && info.strides[0] != 1)) {
      throw py::type_error("data: expected a contiguous bytes-like object");
    }
    const char* bytes = static_cast<const char*>(info.ptr);
    const auto size = static_cast<std::size_t>(info.shape[0]);
    const int threads = this->threads();
    std::size_t used = 0;
    try {
      py::gil_scoped_release release;
      used = parser_.feed(bytes, size, max_lines, threads);
    } catch (const io::SvmlightError& error) {
      raise(error);
    }
    return used;
  }

  void finish() {
    try {
      py::gil_scoped_release release;
      parser_.finish();
    } catch (const io::SvmlightError& error) {
      raise(error);
    }
  }

  // Moves the rows parsed so far into a dict of arrays and starts over with no rows. Indices
  // are shifted down by `shift` and stored as int32 when `int32_indices` is set.
  py::dict take(std::int64_t shift, bool int32_indices) {
    io::SvmlightRows& rows = parser_.rows();
    const bool multilabel = parser_.options().multilabel;
    const std::size_t nnz = rows.nnz();
    py::dict out;
    out["rows_without_qid"] = rows.rows_without_qid;
    out["first_line_without_qid"] = rows.first_line_without_qid;
    out["first_line_with_qid"] = rows.first_line_with_qid;
    out["min_index"] = rows.min_index;
    out["max_index"] = rows.max_index;
    out["labels"] = adopt(rows.labels);
    if (multilabel) out["label_indptr"] = adopt(rows.label_indptr);
    out["qids"] = adopt(rows.qids);
    if (parser_.options().float32) {
      out["data"] = adopt(rows.values32);
    } else {
      out["data"] = adopt(rows.values64);
    }
    const std::size_t n_indptr = rows.indptr.size();
    {
      py::gil_scoped_release release;
      if (!rows.wide && !int32_indices) rows.widen();  // int64 requested for a large width
      if (shift == 0) {
        // indices stay as written
      } else if (rows.wide) {
        io::shift_indices(rows.indices.data(), nnz, shift, threads());
      } else {
        io::shift_indices(rows.indices32.data(), nnz, static_cast<std::int32_t>(shift), threads());
      }
    }
    if (!int32_indices) {
      out["indices"] = adopt(rows.indices);
      out["indptr"] = adopt(rows.indptr);
    } else {
      if (rows.wide) {
        // An index above int32 max that the one-based shift brought down to it.
        std::int32_t* narrow = io::narrow_indices(rows.indices.release(), nnz);
        if (nnz > 0) {
          narrow = static_cast<std::int32_t*>(io::resize_block(narrow, nnz * sizeof(std::int32_t)));
        }
        out["indices"] = adopt(narrow, nnz);
      } else {
        out["indices"] = adopt(rows.indices32);
      }
      // The int32 view needs half of the block: shrink it (in place) to that.
      std::int32_t* indptr = io::narrow_indices(rows.indptr.release(), n_indptr);
      indptr = static_cast<std::int32_t*>(io::resize_block(indptr, n_indptr * sizeof(std::int32_t)));
      out["indptr"] = adopt(indptr, n_indptr);
    }
    rows.clear(multilabel);
    return out;
  }

  io::SvmlightParser& parser() { return parser_; }

 private:
  int threads() const { return threads_ > 0 ? threads_ : cpu::get_num_threads(); }

  [[noreturn]] void raise(const io::SvmlightError& error) const {
    throw py::value_error(source_ + ":" + std::to_string(error.line()) + ": " + error.what());
  }

  std::string source_;
  io::SvmlightParser parser_;
  int threads_;  // 0: fastopt's setting at each call
};

template <class T>
const T* optional_data(const std::optional<py::array_t<T, py::array::c_style>>& array) {
  return array ? array->data() : nullptr;
}

// Formats rows [row_begin, row_end) of X (sparse when indptr is given, else a C-ordered 2-D
// array) and their labels as SVMlight lines. The Python caller checks shapes and dtypes.
py::bytes format_rows(std::int64_t row_begin, std::int64_t row_end, std::int64_t columns,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> indptr,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> indices,
                      std::optional<py::array_t<double, py::array::c_style>> values_f,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> values_i,
                      std::optional<py::array_t<double, py::array::c_style>> labels_f,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> labels_i,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> label_indptr,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> label_columns,
                      std::optional<py::array_t<std::int64_t, py::array::c_style>> qids,
                      std::int64_t index_offset) {
  io::DumpRows rows;
  rows.row_begin = row_begin;
  rows.row_end = row_end;
  rows.columns = columns;
  rows.dense = !indptr.has_value();
  rows.indptr = optional_data(indptr);
  rows.indices = optional_data(indices);
  rows.values_f = optional_data(values_f);
  rows.values_i = optional_data(values_i);
  rows.labels_f = optional_data(labels_f);
  rows.labels_i = optional_data(labels_i);
  rows.label_indptr = optional_data(label_indptr);
  rows.label_columns = optional_data(label_columns);
  rows.qids = optional_data(qids);
  rows.index_offset = index_offset;
  if ((rows.values_f == nullptr) == (rows.values_i == nullptr)) {
    throw py::value_error("format_rows: pass exactly one of values_f and values_i");
  }
  if (rows.labels_f == nullptr && rows.labels_i == nullptr && rows.label_indptr == nullptr) {
    throw py::value_error("format_rows: labels are missing");
  }
  std::string out;
  {
    py::gil_scoped_release release;
    io::format_rows(rows, out, cpu::get_num_threads());
  }
  return py::bytes(out);
}

}  // namespace

void bind_svmlight(py::module_& m) {
  py::class_<Parser>(m, "SvmlightParser",
                     "Incremental SVMlight / LIBSVM parser; use fastopt.datasets.load_svmlight.")
      .def(py::init<std::string, bool, bool, bool, std::int64_t, std::int64_t, int>(),
           py::arg("source"), py::arg("multilabel"), py::arg("zero_based"), py::arg("float32"),
           py::arg("max_index") = -1, py::arg("n_features") = 0, py::arg("threads") = 0,
           "threads: parser threads, 0 for fastopt's setting at each call.")
      .def("feed", &Parser::feed, py::arg("data"), py::arg("max_lines") = -1,
           "Parse the complete lines of a block; return how many bytes were used.")
      .def("finish", &Parser::finish, "Parse a last line that has no final newline.")
      .def("take", &Parser::take, py::arg("shift"), py::arg("int32_indices"),
           "Move the rows parsed so far into a dict of arrays.")
      .def("set_stop", [](Parser& p, std::int64_t position) { p.parser().set_stop(position); },
           py::arg("position"), "Skip lines that start after this byte position.")
      .def("set_position",
           [](Parser& p, std::int64_t position) { p.parser().set_position(position); },
           py::arg("position"), "Set the byte position of the next byte fed.")
      .def_property_readonly("stopped", [](Parser& p) { return p.parser().stopped(); })
      .def_property_readonly("lines", [](Parser& p) { return p.parser().lines(); })
      .def_property_readonly("position", [](Parser& p) { return p.parser().position(); })
      .def_property_readonly("n_rows", [](Parser& p) {
        return static_cast<std::int64_t>(p.parser().rows().indptr.size()) - 1;
      })
      .def_property_readonly("nnz", [](Parser& p) {
        return static_cast<std::int64_t>(p.parser().rows().nnz());
      })
      .def_property_readonly("min_index", [](Parser& p) { return p.parser().rows().min_index; })
      .def_property_readonly("max_index", [](Parser& p) { return p.parser().rows().max_index; });

  m.def("svmlight_format_rows", &format_rows, py::arg("row_begin"), py::arg("row_end"),
        py::arg("columns"), py::arg("indptr"), py::arg("indices"), py::arg("values_f"),
        py::arg("values_i"), py::arg("labels_f"), py::arg("labels_i"), py::arg("label_indptr"),
        py::arg("label_columns"), py::arg("qids"), py::arg("index_offset"),
        "Format rows of a matrix and their labels as SVMlight lines (bytes).");
}

}  // namespace fastopt::bindings
