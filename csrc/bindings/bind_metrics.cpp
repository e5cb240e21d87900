// Bindings of the metric kernels. fastopt.metrics validates labels, shapes
// and weights and maps labels to codes; these functions check only what
// their kernels rely on (dtype, contiguity, lengths) and release the GIL.
#include <cstdint>
#include <string>
#include <tuple>

#include "bindings/checks.hpp"
#include "bindings/pybind.hpp"
#include "cpu/threads.hpp"
#include "metrics/metrics.hpp"

namespace fastopt::bindings {
namespace {

bool is_dtype(const py::array& a, char kind, py::ssize_t itemsize) {
  return a.dtype().kind() == kind && a.itemsize() == itemsize;
}

// Checks that `obj` is a C-contiguous 1-D array of `size` elements of T.
template <typename T>
const T* vector_data(const char* name, py::handle obj, py::ssize_t size) {
  const py::dtype expected = py::dtype::of<T>();
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + describe(obj));
  }
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(expected)) {
    throw py::type_error(std::string(name) + ": expected dtype " +
                         py::str(expected).cast<std::string>() + ", got " +
                         py::str(a.dtype()).cast<std::string>());
  }
  if (a.ndim() != 1 || a.shape(0) != size || !(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a contiguous 1-D array of " +
                          std::to_string(size) + " elements, got " + describe(obj));
  }
  return static_cast<const T*>(a.data());
}

const double* optional_weight(py::handle weight, py::ssize_t size) {
  if (weight.is_none()) return nullptr;
  return vector_data<double>("sample_weight", weight, size);
}

// Scores: a contiguous float32 or float64 vector (column -1) or the column
// `column` of a C-contiguous 2-D array.
metrics::RankingInput ranking_input(py::handle scores, py::ssize_t column, py::handle positive,
                                    py::handle weight) {
  if (!py::isinstance<py::array>(scores)) {
    throw py::type_error("y_score: expected a numpy.ndarray, got " + describe(scores));
  }
  auto a = py::reinterpret_borrow<py::array>(scores);
  metrics::RankingInput in;
  if (is_dtype(a, 'f', 4)) {
    in.float32 = true;
  } else if (!is_dtype(a, 'f', 8)) {
    throw py::type_error("y_score: expected dtype float32 or float64, got " +
                         py::str(a.dtype()).cast<std::string>());
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error("y_score: expected a C-contiguous array, got " + describe(scores));
  }
  if (a.ndim() == 1 && column == -1) {
    in.size = a.shape(0);
    in.stride = 1;
    in.scores = a.data();
  } else if (a.ndim() == 2 && column >= 0 && column < a.shape(1)) {
    in.size = a.shape(0);
    in.stride = a.shape(1);
    in.scores = static_cast<const char*>(a.data()) + column * a.itemsize();
  } else {
    throw py::value_error("column: " + std::to_string(column) + " does not select a column of " +
                          "y_score with shape " + describe(scores));
  }
  in.positive = vector_data<std::uint8_t>("positive", positive, in.size);
  in.weight = optional_weight(weight, in.size);
  return in;
}

std::tuple<double, double, double, std::int64_t> to_tuple(const metrics::RankingResult& r) {
  return {r.value, r.positive_weight, r.negative_weight, r.first_invalid};
}

}  // namespace

void bind_metrics(py::module_& m) {
  m.def(
      "metrics_roc_auc",
      [](py::handle scores, py::ssize_t column, py::handle positive, py::handle weight) {
        const metrics::RankingInput in = ranking_input(scores, column, positive, weight);
        py::gil_scoped_release release;
        return to_tuple(metrics::roc_auc(in, cpu::get_num_threads()));
      },
      py::arg("scores"), py::arg("column"), py::arg("positive"), py::arg("weight"),
      "ROC AUC of one binary problem: (auc, positive weight, negative weight, first "
      "non-finite score index or -1).");
  m.def(
      "metrics_average_precision",
      [](py::handle scores, py::ssize_t column, py::handle positive, py::handle weight) {
        const metrics::RankingInput in = ranking_input(scores, column, positive, weight);
        py::gil_scoped_release release;
        return to_tuple(metrics::average_precision(in, cpu::get_num_threads()));
      },
      py::arg("scores"), py::arg("column"), py::arg("positive"), py::arg("weight"),
      "Average precision of one binary problem, returned like metrics_roc_auc.");
  m.def(
      "metrics_binary_curve",
      [](py::handle scores, py::ssize_t column, py::handle positive, py::handle weight) {
        const metrics::RankingInput in = ranking_input(scores, column, positive, weight);
        metrics::BinaryCurve curve;
        {
          py::gil_scoped_release release;
          curve = metrics::binary_curve(in, cpu::get_num_threads());
        }
        auto to_array = [](const std::vector<double>& v) {
          return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
        };
        return py::make_tuple(to_array(curve.thresholds), to_array(curve.false_positives),
                              to_array(curve.true_positives), curve.first_invalid);
      },
      py::arg("scores"), py::arg("column"), py::arg("positive"), py::arg("weight"),
      "Distinct scores in decreasing order with cumulative false and true positive weights, "
      "and the first non-finite score index or -1.");
  m.def(
      "metrics_confusion_counts",
      [](py::handle true_codes, py::handle pred_codes, py::handle weight,
         std::int64_t num_labels) -> py::array {
        const auto n = py::len(true_codes);
        const std::int64_t* t = vector_data<std::int64_t>("true_codes", true_codes, n);
        const std::int64_t* p = vector_data<std::int64_t>("pred_codes", pred_codes, n);
        const double* w = optional_weight(weight, n);
        if (num_labels < 1 || num_labels > (std::int64_t{1} << 20)) {
          throw py::value_error("num_labels: expected an int in [1, 2**20], got " +
                                std::to_string(num_labels));
        }
        // The counts and one partial matrix per chunk (at least one) are written in full.
        check_allocation("confusion counts", 2 * num_labels * num_labels,
                         w == nullptr ? sizeof(std::int64_t) : sizeof(double));
        const int threads = cpu::get_num_threads();
        if (w == nullptr) {
          py::array_t<std::int64_t> out({num_labels, num_labels});
          std::int64_t* o = out.mutable_data();
          std::fill(o, o + num_labels * num_labels, std::int64_t{0});
          py::gil_scoped_release release;
          metrics::confusion_counts(t, p, w, n, num_labels, o, threads);
          return out;
        }
        py::array_t<double> out({num_labels, num_labels});
        double* o = out.mutable_data();
        std::fill(o, o + num_labels * num_labels, 0.0);
        py::gil_scoped_release release;
        metrics::confusion_counts(t, p, w, n, num_labels, o, threads);
        return out;
      },
      py::arg("true_codes"), py::arg("pred_codes"), py::arg("weight"), py::arg("num_labels"),
      "Confusion matrix over codes in [0, num_labels): int64 counts without weights, float64 "
      "sums of weights otherwise. Samples with another code are skipped.");
  m.def(
      "metrics_log_loss",
      [](py::handle prob, py::handle positive, py::handle true_codes, py::handle weight) {
        if (!py::isinstance<py::array>(prob)) {
          throw py::type_error("y_proba: expected a numpy.ndarray, got " + describe(prob));
        }
        auto a = py::reinterpret_borrow<py::array>(prob);
        if (!(a.flags() & py::array::c_style) || a.ndim() < 1 || a.ndim() > 2) {
          throw py::value_error("y_proba: expected a C-contiguous 1-D or 2-D array, got " +
                                describe(prob));
        }
        const py::ssize_t n = a.shape(0);
        const py::ssize_t columns = a.ndim() == 2 ? a.shape(1) : 1;
        const std::uint8_t* pos = nullptr;
        const std::int64_t* codes = nullptr;
        if (a.ndim() == 1) {
          pos = vector_data<std::uint8_t>("positive", positive, n);
        } else {
          codes = vector_data<std::int64_t>("true_codes", true_codes, n);
          for (py::ssize_t i = 0; i < n; ++i) {
            if (codes[i] < 0 || codes[i] >= columns) {
              throw py::value_error("true_codes[" + std::to_string(i) + "]: expected a column in [0, " +
                                    std::to_string(columns) + "), got " + std::to_string(codes[i]));
            }
          }
        }
        const double* w = optional_weight(weight, n);
        const int threads = cpu::get_num_threads();
        metrics::LogLossResult r;
        if (is_dtype(a, 'f', 4)) {
          const auto* data = static_cast<const float*>(a.data());
          py::gil_scoped_release release;
          r = metrics::log_loss(data, n, columns, pos, codes, w, threads);
        } else if (is_dtype(a, 'f', 8)) {
          const auto* data = static_cast<const double*>(a.data());
          py::gil_scoped_release release;
          r = metrics::log_loss(data, n, columns, pos, codes, w, threads);
        } else {
          throw py::type_error("y_proba: expected dtype float32 or float64, got " +
                               py::str(a.dtype()).cast<std::string>());
        }
        return std::make_tuple(r.loss_sum, r.weight_sum, r.first_invalid, r.rows_not_normalized);
      },
      py::arg("prob"), py::arg("positive"), py::arg("true_codes"), py::arg("weight"),
      "Log loss sums: (sum of weighted losses, sum of weights, first invalid row or -1, rows "
      "not summing to one).");
}

}  // namespace fastopt::bindings
