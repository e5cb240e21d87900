// libFuzzer target: the SVMlight / LIBSVM parser (csrc/io/svmlight.cpp), called directly.
//
// The input is the text of a file. The parser options and the way the text is fed come from
// its last bytes, because FuzzedDataProvider takes integers from the end, so a plain LIBSVM
// file is a seed as it is. Each input is parsed once in a single block as the reference, then again
// fed in pieces of fuzzed sizes the way the Python readers feed it (whole-file reads, the
// stream reader's line limits, a stop position), and checked:
//
// - the parser throws SvmlightError (the reader's ValueError) on malformed text and no other
//   exception, whatever the bytes;
// - parsed rows are well-formed CSR: indptr starts at 0 and never decreases, indices within a
//   row increase, one label per row (or label lists), qids for every row or none counted;
// - any feeding gives the rows and the error (line and message) of the single block;
// - formatting the parsed rows (the dump_svmlight writer, sparse and dense) and parsing that
//   text again returns the same rows, and the binding's index shift and narrowing keep them.
//
// Build and run with `bash fuzz/native/build.sh` and `.ci/fuzz`.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/svmlight.hpp"

namespace {

using fastopt::io::SvmlightError;
using fastopt::io::SvmlightOptions;
using fastopt::io::SvmlightParser;
using fastopt::io::SvmlightRows;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "svmlight_parser: %s\n", what);
  std::abort();
}

// Stops the run on a broken invariant, naming the condition (a libFuzzer crash report).
#define CHECK(condition)                              \
  do {                                                \
    if (!(condition)) fail("failed: " #condition);    \
  } while (false)

// Rows copied out of a parser, with indices as int64 and values as double whatever the storage.
struct Parsed {
  std::vector<double> labels;
  std::vector<std::int64_t> label_indptr;
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int64_t> indices;
  std::vector<double> values;
  std::vector<std::int64_t> qids;
  std::int64_t min_index = -1;
  std::int64_t max_index = -1;
  std::int64_t rows_without_qid = 0;
  std::int64_t first_line_without_qid = 0;
  std::int64_t first_line_with_qid = 0;
  bool failed = false;  // SvmlightError thrown
  std::int64_t error_line = 0;
  std::string error;

  std::int64_t rows() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
};

// Appends the rows a parser contains (a chunk, when the caller clears it between chunks).
void append(Parsed& out, SvmlightRows& rows, bool multilabel) {
  const std::size_t n_rows = rows.indptr.size() - 1;
  const std::size_t nnz = rows.nnz();
  CHECK(rows.indptr.size() >= 1);
  CHECK(rows.indptr.data()[0] == 0);
  CHECK(static_cast<std::size_t>(rows.indptr.data()[n_rows]) == nnz);
  CHECK(rows.values64.size() == nnz || rows.values32.size() == nnz);
  CHECK(rows.qids.size() <= n_rows);
  CHECK(rows.qids.size() + static_cast<std::size_t>(rows.rows_without_qid) == n_rows);
  if (multilabel) {
    CHECK(rows.label_indptr.size() == n_rows + 1);
    CHECK(rows.label_indptr.data()[0] == 0);
    CHECK(static_cast<std::size_t>(rows.label_indptr.data()[n_rows]) == rows.labels.size());
  } else {
    CHECK(rows.labels.size() == n_rows);
  }

  const std::int64_t nnz_base = out.indptr.back();
  const std::int64_t label_base = static_cast<std::int64_t>(out.labels.size());
  if (multilabel && out.label_indptr.empty()) out.label_indptr.push_back(0);
  std::int64_t min_index = -1, max_index = -1;
  for (std::size_t r = 0; r < n_rows; ++r) {
    const std::int64_t begin = rows.indptr.data()[r], end = rows.indptr.data()[r + 1];
    CHECK(begin <= end);
    for (std::int64_t k = begin; k < end; ++k) {
      const auto at = static_cast<std::size_t>(k);
      const std::int64_t index = rows.wide ? rows.indices.data()[at] : rows.indices32.data()[at];
      CHECK(index >= 0);
      CHECK(k == begin || index > out.indices.back());
      if (min_index < 0 || index < min_index) min_index = index;
      if (index > max_index) max_index = index;
      out.indices.push_back(index);
      out.values.push_back(rows.values64.size() == nnz ? rows.values64.data()[at]
                                                       : rows.values32.data()[at]);
    }
    out.indptr.push_back(nnz_base + end);
    if (multilabel) {
      CHECK(rows.label_indptr.data()[r] <= rows.label_indptr.data()[r + 1]);
      out.label_indptr.push_back(label_base + rows.label_indptr.data()[r + 1]);
    }
  }
  CHECK(min_index == rows.min_index);
  CHECK(max_index == rows.max_index);
  out.labels.insert(out.labels.end(), rows.labels.data(), rows.labels.data() + rows.labels.size());
  out.qids.insert(out.qids.end(), rows.qids.data(), rows.qids.data() + rows.qids.size());
  if (rows.min_index >= 0 && (out.min_index < 0 || rows.min_index < out.min_index)) {
    out.min_index = rows.min_index;
  }
  if (rows.max_index > out.max_index) out.max_index = rows.max_index;
  out.rows_without_qid += rows.rows_without_qid;
  if (out.first_line_without_qid == 0) out.first_line_without_qid = rows.first_line_without_qid;
  if (out.first_line_with_qid == 0) out.first_line_with_qid = rows.first_line_with_qid;
}

void record_error(Parsed& out, const SvmlightError& error, std::int64_t n_lines) {
  out.failed = true;
  out.error_line = error.line();
  out.error = error.what();
  CHECK(!out.error.empty());
  // Line numbers are 1-based and name a line of the text (the last one may lack its newline).
  CHECK(error.line() >= 1);
  CHECK(error.line() <= n_lines);
}

std::int64_t count_lines(const std::string& text) {
  const auto newlines = static_cast<std::int64_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (text.empty() || text.back() == '\n' ? 0 : 1);
}

// The reference: the whole text in one block on one thread.
Parsed parse_whole(const std::string& text, const SvmlightOptions& options) {
  Parsed out;
  SvmlightParser parser(options);
  try {
    CHECK(parser.feed(text.data(), text.size(), -1, 1) == text.size());
    parser.finish();
    append(out, parser.rows(), options.multilabel);
    CHECK(parser.lines() == static_cast<std::int64_t>(std::count(text.begin(), text.end(), '\n')));
  } catch (const SvmlightError& error) {
    record_error(out, error, count_lines(text));
  }
  return out;
}

bool same_double(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;  // distinguishes -0.0 from 0.0
}

bool same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_double(a[i], b[i])) return false;
  }
  return true;
}

void check_same(const Parsed& a, const Parsed& b) {
  CHECK(a.failed == b.failed);
  if (a.failed) {
    CHECK(a.error_line == b.error_line);
    CHECK(a.error == b.error);
    return;
  }
  CHECK(a.indptr == b.indptr);
  CHECK(a.indices == b.indices);
  CHECK(same_doubles(a.values, b.values));
  CHECK(same_doubles(a.labels, b.labels));
  CHECK(a.label_indptr == b.label_indptr);
  CHECK(a.qids == b.qids);
  CHECK(a.min_index == b.min_index);
  CHECK(a.max_index == b.max_index);
  CHECK(a.rows_without_qid == b.rows_without_qid);
  CHECK(a.first_line_without_qid == b.first_line_without_qid);
  CHECK(a.first_line_with_qid == b.first_line_with_qid);
}

// Feeds the text in blocks of fuzzed sizes on fuzzed thread counts, as load_svmlight does.
Parsed parse_blocks(const std::string& text, const SvmlightOptions& options,
                    FuzzedDataProvider& fdp) {
  Parsed out;
  SvmlightParser parser(options);
  try {
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t block = fdp.ConsumeIntegralInRange<std::size_t>(1, text.size() - at);
      const int threads = fdp.ConsumeIntegralInRange<int>(1, 4);
      CHECK(parser.feed(text.data() + at, block, -1, threads) == block);
      at += block;
    }
    parser.finish();
    append(out, parser.rows(), options.multilabel);
  } catch (const SvmlightError& error) {
    record_error(out, error, count_lines(text));
  }
  return out;
}

// Feeds the text as iter_svmlight does: at most `chunk_rows` lines per chunk, the unused
// bytes of a block passed again, the rows taken (and cleared) after each chunk.
Parsed parse_chunks(const std::string& text, const SvmlightOptions& options,
                    FuzzedDataProvider& fdp) {
  Parsed out;
  SvmlightParser parser(options);
  const auto chunk_rows = fdp.ConsumeIntegralInRange<std::int64_t>(1, 5);
  const int threads = fdp.ConsumeIntegralInRange<int>(1, 4);
  std::int64_t chunk_start = 0;
  try {
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t block = fdp.ConsumeIntegralInRange<std::size_t>(1, text.size() - at);
      std::size_t left = block;
      while (left > 0) {
        const std::int64_t max_lines = chunk_rows - (parser.lines() - chunk_start);
        CHECK(max_lines >= 1);
        const std::size_t used = parser.feed(text.data() + at, left, max_lines, threads);
        CHECK(used <= left);
        at += used;
        left -= used;
        if (parser.lines() - chunk_start == chunk_rows) {
          chunk_start = parser.lines();
          append(out, parser.rows(), options.multilabel);
          parser.rows().clear(options.multilabel);
        } else {
          CHECK(left == 0);  // without a full chunk the parser takes the whole block
        }
      }
    }
    parser.finish();
    append(out, parser.rows(), options.multilabel);
  } catch (const SvmlightError& error) {
    record_error(out, error, count_lines(text));
  }
  return out;
}

// Feeds the text with a stop position, as load_svmlight(length=...) does. The rows must be
// those of a single-block parse of the lines that start at or before the stop.
void check_stop(const std::string& text, const SvmlightOptions& options,
                FuzzedDataProvider& fdp) {
  const auto stop = fdp.ConsumeIntegralInRange<std::int64_t>(0, static_cast<std::int64_t>(text.size()));
  Parsed out;
  SvmlightParser parser(options);
  parser.set_stop(stop);
  try {
    std::size_t at = 0;
    while (at < text.size() && !parser.stopped()) {
      const std::size_t block = fdp.ConsumeIntegralInRange<std::size_t>(1, text.size() - at);
      parser.feed(text.data() + at, block, -1, fdp.ConsumeIntegralInRange<int>(1, 4));
      at += block;
    }
    if (!parser.stopped()) parser.finish();
    append(out, parser.rows(), options.multilabel);
  } catch (const SvmlightError& error) {
    record_error(out, error, count_lines(text));
  }
  // The last line read is the one that ends at the first newline at or after the stop.
  const std::size_t newline = text.find('\n', static_cast<std::size_t>(stop));
  const std::string head = newline == std::string::npos ? text : text.substr(0, newline + 1);
  check_same(parse_whole(head, options), out);
}

// Writes the rows as SVMlight text with the library's writer and parses it again.
void check_round_trip(const Parsed& parsed, const SvmlightOptions& options) {
  if (options.multilabel || parsed.rows() == 0) return;  // the writer takes integer label lists
  const bool all_qids = static_cast<std::int64_t>(parsed.qids.size()) == parsed.rows();
  if (!parsed.qids.empty() && !all_qids) return;  // the writer writes a qid on every row or none
  fastopt::io::DumpRows rows;
  rows.row_begin = 0;
  rows.row_end = parsed.rows();
  rows.columns = parsed.max_index + 1;
  rows.indptr = parsed.indptr.data();
  rows.indices = parsed.indices.data();
  rows.values_f = parsed.values.data();
  rows.labels_f = parsed.labels.data();
  rows.qids = all_qids ? parsed.qids.data() : nullptr;
  std::string text;
  fastopt::io::format_rows(rows, text, 1);

  SvmlightOptions reread = options;
  reread.zero_based = true;  // the indices were written as parsed
  reread.max_index = -1;
  const Parsed again = parse_whole(text, reread);
  if (again.failed) {
    std::fprintf(stderr, "written text: %s\nerror: line %lld: %s\n", text.c_str(),
                 static_cast<long long>(again.error_line), again.error.c_str());
    fail("the writer's output does not parse");
  }
  CHECK(again.indptr == parsed.indptr);
  CHECK(again.indices == parsed.indices);
  CHECK(same_doubles(again.values, parsed.values));
  CHECK(same_doubles(again.labels, parsed.labels));
  CHECK(again.qids == parsed.qids);
}

// Writes the rows as a dense matrix, as dump_svmlight does for a NumPy array: zeros are left
// out, so parsing the text again gives the rows without their stored zeros.
void check_dense_round_trip(const Parsed& parsed) {
  const std::int64_t columns = parsed.max_index + 1;
  if (parsed.rows() == 0 || parsed.rows() * columns > 4096) return;
  std::vector<double> dense(static_cast<std::size_t>(parsed.rows() * columns), 0.0);
  Parsed expected;
  for (std::int64_t r = 0; r < parsed.rows(); ++r) {
    for (std::int64_t k = parsed.indptr[r]; k < parsed.indptr[r + 1]; ++k) {
      const auto at = static_cast<std::size_t>(k);
      dense[static_cast<std::size_t>(r * columns + parsed.indices[at])] = parsed.values[at];
      if (parsed.values[at] != 0.0) {
        expected.indices.push_back(parsed.indices[at]);
        expected.values.push_back(parsed.values[at]);
      }
    }
    expected.indptr.push_back(static_cast<std::int64_t>(expected.indices.size()));
  }
  fastopt::io::DumpRows rows;
  rows.row_begin = 0;
  rows.row_end = parsed.rows();
  rows.columns = columns;
  rows.dense = true;
  rows.values_f = dense.data();
  rows.labels_f = parsed.labels.data();
  rows.index_offset = 1;  // one-based, the writer's default
  std::string text;
  fastopt::io::format_rows(rows, text, 2);

  SvmlightOptions reread;
  reread.zero_based = false;
  const Parsed again = parse_whole(text, reread);
  CHECK(!again.failed);
  std::vector<std::int64_t> shifted = again.indices;
  fastopt::io::shift_indices(shifted.data(), shifted.size(), 1, 2);  // as the binding's take()
  CHECK(again.indptr == expected.indptr);
  CHECK(shifted == expected.indices);
  CHECK(same_doubles(again.values, expected.values));
  CHECK(same_doubles(again.labels, parsed.labels));
}

// The binding hands int32 indices to NumPy by narrowing the int64 block in place.
void check_narrow(const Parsed& parsed) {
  if (parsed.max_index > std::numeric_limits<std::int32_t>::max()) return;
  std::vector<std::int64_t> block = parsed.indices;
  const std::int32_t* narrow = fastopt::io::narrow_indices(block.data(), block.size());
  for (std::size_t i = 0; i < parsed.indices.size(); ++i) {
    CHECK(narrow[i] == parsed.indices[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  SvmlightOptions options;
  options.multilabel = fdp.ConsumeBool();
  options.zero_based = fdp.ConsumeBool();
  options.float32 = fdp.ConsumeBool();
  if (fdp.ConsumeBool()) {
    options.n_features = fdp.ConsumeIntegralInRange<std::int64_t>(1, 40);
    options.max_index = options.n_features - (options.zero_based ? 1 : 0);
  }
  const int feeding = fdp.ConsumeIntegralInRange<int>(0, 2);
  // The text is the front of the input: the bytes left after the options are taken, minus
  // a fuzzed number kept for the block sizes.
  const std::size_t keep = fdp.ConsumeIntegralInRange<std::size_t>(0, 16);
  const std::size_t text_size = fdp.remaining_bytes() > keep ? fdp.remaining_bytes() - keep : 0;
  const std::string text = fdp.ConsumeBytesAsString(text_size);

  const Parsed whole = parse_whole(text, options);
  if (!whole.failed) {
    check_round_trip(whole, options);
    if (!options.multilabel) check_dense_round_trip(whole);
    check_narrow(whole);
  }
  if (feeding == 0) {
    check_same(whole, parse_blocks(text, options, fdp));
  } else if (feeding == 1) {
    check_same(whole, parse_chunks(text, options, fdp));
  } else {
    check_stop(text, options, fdp);
  }
  return 0;
}
