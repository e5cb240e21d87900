// Parser and writer for the SVMlight / LIBSVM text format.
//
// A line is `<label> [qid:<int>] <index>:<value> ...`, `#` starts a comment that runs to the end
// of the line, and blank lines are skipped. The rules follow scikit-learn's reader (1.9): tokens
// are separated by ASCII whitespace, numbers are what Python's float() accepts, and indices within
// a line must be strictly increasing. This code is compiled once, not per instruction set: it is
// bound by memory and branches, not by vector arithmetic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace fastopt::io {

// Storage of the arrays the parser fills and NumPy adopts. On Linux, blocks of 1 MiB or more are
// anonymous mappings: mremap grows them by moving page tables instead of copying, pages never
// written are not resident, and shrinking returns the tail in place. So geometric growth costs
// neither a copy nor resident memory beyond the bytes written. Smaller blocks, and every block
// elsewhere, use malloc/realloc.
// resize_block(nullptr, bytes) allocates, and the contents up to the smaller size are kept. A
// failed growth throws std::bad_alloc and leaves `data` valid, and a failed shrink returns
// `data` unchanged. Blocks are freed by free_block only.
void* resize_block(void* data, std::size_t bytes);
void free_block(void* data);

// A growable array of a trivially copyable type on resize_block. release() hands the block to a
// new owner, which must free it with free_block().
template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { free_block(data_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

  void reserve(std::size_t capacity) {
    if (capacity <= capacity_) return;
    data_ = static_cast<T*>(resize_block(data_, capacity * sizeof(T)));
    capacity_ = capacity;
  }

  // Makes room for `capacity` elements, at least doubling the capacity when it grows.
  void grow(std::size_t capacity) {
    if (capacity <= capacity_) return;
    reserve(std::max({capacity, capacity_ * 2, std::size_t{1024}}));
  }

  void push_back(T value) {
    grow(size_ + 1);
    data_[size_++] = value;
  }

  void append(const T* values, std::size_t count) {
    if (count == 0) return;
    grow(size_ + count);
    std::memcpy(data_ + size_, values, count * sizeof(T));
    size_ += count;
  }

  void resize(std::size_t size) {
    grow(size);
    size_ = size;
  }

  // Returns the block, shrunk to its size (in place for mappings), and leaves the buffer empty.
  T* release() {
    if (data_ != nullptr && size_ < capacity_) {
      data_ = static_cast<T*>(resize_block(data_, std::max<std::size_t>(size_, 1) * sizeof(T)));
    }
    T* out = data_;
    data_ = nullptr;
    size_ = capacity_ = 0;
    return out;
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// A malformed line: `line` is 1-based, `message` names the token.
class SvmlightError : public std::runtime_error {
 public:
  SvmlightError(std::int64_t line, const std::string& message)
      : std::runtime_error(message), line_(line) {}
  std::int64_t line() const { return line_; }

 private:
  std::int64_t line_;
};

struct SvmlightOptions {
  bool multilabel = false;  // labels are comma-separated lists
  bool zero_based = true;   // false: index 0 is an error
  bool float32 = false;     // values stored as float (parsed as double, then rounded)
  // Largest index accepted as written (-1: any); n_features only appears in the message.
  std::int64_t max_index = -1;
  std::int64_t n_features = 0;
};

// Rows parsed so far, indices as written (before any one-based shift).
struct SvmlightRows {
  Buffer<double> labels;             // one per row, or the flat lists when multilabel
  Buffer<std::int64_t> label_indptr;  // multilabel only: row r's labels are [r], [r + 1])
  Buffer<std::int64_t> indptr;        // starts with 0
  // Indices live in indices32 while they fit in int32 (12 bytes per value with float64 data,
  // as returned) and move to indices for good at the first larger one.
  Buffer<std::int32_t> indices32;
  Buffer<std::int64_t> indices;
  bool wide = false;
  Buffer<double> values64;
  Buffer<float> values32;
  Buffer<std::int64_t> qids;  // one per row that has a qid
  std::int64_t min_index = -1;  // -1 while there are no features
  std::int64_t max_index = -1;
  std::int64_t rows_without_qid = 0;
  std::int64_t first_line_without_qid = 0;  // 0: none
  std::int64_t first_line_with_qid = 0;

  std::size_t nnz() const { return wide ? indices.size() : indices32.size(); }
  // Moves the int32 indices to the int64 buffer.
  void widen();
  void clear(bool multilabel);
};

// Incremental parser: feed() takes blocks of bytes in file order, in any sizes.
//
// A block is split at newlines into a few pieces per thread and parsed in one OpenMP parallel
// region with two passes. First each thread counts the rows, values, labels and qids of its
// piece, and one thread grows the output arrays by the totals. Then each thread parses its
// piece straight into the arrays at the prefix-summed offsets. Nothing is staged per thread,
// so the memory in use is the output plus the block of text, and the result does not depend
// on the thread count.
class SvmlightParser {
 public:
  explicit SvmlightParser(const SvmlightOptions& options);
  ~SvmlightParser();

  // Parses the complete lines of `data` on up to `threads` threads and keeps a trailing partial
  // line for the next call. Stops after `max_lines` more lines when max_lines >= 0, or before
  // the first line that starts beyond the stop position. Returns how many bytes of `data` were
  // used; the caller passes the rest again later (after max_lines) or drops it (after stopped()).
  std::size_t feed(const char* data, std::size_t size, std::int64_t max_lines, int threads);

  // Parses a pending last line that has no final newline.
  void finish();

  // Lines whose first byte lies beyond `position` (counted like position()) are not read.
  void set_stop(std::int64_t position) { stop_ = position; }
  void set_position(std::int64_t position) { position_ = position; }
  bool stopped() const { return stopped_; }
  std::int64_t lines() const { return lines_; }
  std::int64_t position() const { return position_; }

  SvmlightRows& rows() { return rows_; }
  const SvmlightOptions& options() const { return options_; }

 private:
  struct Piece;
  // Parses whole lines; throws SvmlightError naming the first malformed line.
  void parse_block(const char* begin, const char* end, int threads);
  // Returns false when a piece met an index beyond int32 while the indices are int32; the
  // block is then parsed again after widening.
  bool try_parse_block(int n_pieces);
  void commit(int n_pieces);

  SvmlightOptions options_;
  SvmlightRows rows_;
  std::string pending_;  // a partial line waiting for its newline
  static constexpr int kPiecesPerThread = 4;
  std::vector<std::unique_ptr<Piece>> pieces_;  // counts and offsets of each piece of a block
  int n_threads_ = 1;                           // threads for the current block
  std::int64_t lines_ = 0;     // newlines consumed
  std::int64_t position_ = 0;  // bytes consumed, plus the start set by set_position
  std::int64_t stop_ = -1;     // -1: no stop position
  bool stopped_ = false;
};

// Subtracts `shift` from every index (1 turns one-based indices into zero-based ones).
void shift_indices(std::int64_t* indices, std::size_t count, std::int64_t shift, int threads);
void shift_indices(std::int32_t* indices, std::size_t count, std::int32_t shift, int threads);
// Rewrites int64 values that fit in int32 as int32 in place, front to back, and returns the same
// storage viewed as int32; the first `count` int32 slots then hold the values.
std::int32_t* narrow_indices(std::int64_t* indices, std::size_t count);

// One block of rows to write. Exactly one of the value arrays is set: sparse rows use indptr,
// indices and values; dense rows use a C-ordered (rows x columns) array.
struct DumpRows {
  std::int64_t row_begin = 0;
  std::int64_t row_end = 0;
  std::int64_t columns = 0;
  const std::int64_t* indptr = nullptr;  // sparse
  const std::int64_t* indices = nullptr;
  const double* values_f = nullptr;      // float values (sparse data or dense array)
  const std::int64_t* values_i = nullptr;  // integer values
  bool dense = false;
  const double* labels_f = nullptr;        // one per row
  const std::int64_t* labels_i = nullptr;  // one per row
  const std::int64_t* label_indptr = nullptr;  // multilabel: column lists per row
  const std::int64_t* label_columns = nullptr;
  const std::int64_t* qids = nullptr;  // optional
  std::int64_t index_offset = 0;       // 1 for one-based output
};

// Formats rows [row_begin, row_end) as SVMlight lines, in parallel, into `out`.
void format_rows(const DumpRows& rows, std::string& out, int threads);

}  // namespace fastopt::io
