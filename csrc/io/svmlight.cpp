#include "io/svmlight.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "cpu/threads.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#if !defined(__cpp_lib_to_chars) || __cpp_lib_to_chars < 201611L
#error "svmlight.cpp needs std::from_chars and std::to_chars for double (GCC >= 11, Clang >= 14 with libstdc++ 11, MSVC 2019)"
#endif

namespace fastopt::io {

void SvmlightRows::clear(bool multilabel) {
  labels.resize(0);
  label_indptr.resize(0);
  indptr.resize(0);
  indices.resize(0);
  indices32.resize(0);
  wide = false;
  values64.resize(0);
  values32.resize(0);
  qids.resize(0);
  indptr.push_back(0);
  if (multilabel) label_indptr.push_back(0);
  min_index = max_index = -1;
  rows_without_qid = 0;
  first_line_without_qid = first_line_with_qid = 0;
}

void SvmlightRows::widen() {
  if (wide) return;
  indices.resize(indices32.size());
  for (std::size_t i = 0; i < indices32.size(); ++i) indices.data()[i] = indices32.data()[i];
  free_block(indices32.release());
  wide = true;
}

namespace {

// Every block starts with this header; the data follow at kBlockHeader bytes, which keeps them
// 64-byte aligned in a mapping and 16-byte aligned after malloc.
struct BlockHeader {
  std::size_t bytes;  // allocated bytes, header included
  bool mapped;        // an mmap'ed region rather than malloc'ed memory
};
constexpr std::size_t kBlockHeader = 64;
static_assert(sizeof(BlockHeader) <= kBlockHeader);
constexpr std::size_t kMapAtBytes = std::size_t{1} << 20;

BlockHeader* header_of(void* data) {
  return reinterpret_cast<BlockHeader*>(static_cast<char*>(data) - kBlockHeader);
}

}  // namespace

void* resize_block(void* data, std::size_t bytes) {
  BlockHeader* old = data != nullptr ? header_of(data) : nullptr;
  const std::size_t total = kBlockHeader + bytes;
#if defined(__linux__)
  if ((old != nullptr && old->mapped) || total >= kMapAtBytes) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t length = (total + page - 1) / page * page;
    void* region = MAP_FAILED;
    if (old != nullptr && old->mapped) {
      region = mremap(old, old->bytes, length, MREMAP_MAYMOVE);
    } else {
      region = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (region != MAP_FAILED && old != nullptr) {
        std::memcpy(static_cast<char*>(region) + kBlockHeader, data,
                    std::min(old->bytes, total) - kBlockHeader);
        std::free(old);
      }
    }
    if (region == MAP_FAILED) {
      if (old != nullptr && length <= old->bytes) return data;  // a failed shrink keeps the block
      throw std::bad_alloc();
    }
    auto* header = static_cast<BlockHeader*>(region);
    header->bytes = length;
    header->mapped = true;
    return static_cast<char*>(region) + kBlockHeader;
  }
#endif
  void* grown = std::realloc(old, total);
  if (grown == nullptr) {
    if (old != nullptr && total <= old->bytes) return data;  // a failed shrink keeps the block
    throw std::bad_alloc();
  }
  auto* header = static_cast<BlockHeader*>(grown);
  header->bytes = total;
  header->mapped = false;
  return static_cast<char*>(grown) + kBlockHeader;
}

void free_block(void* data) {
  if (data == nullptr) return;
  BlockHeader* header = header_of(data);
#if defined(__linux__)
  if (header->mapped) {
    munmap(header, header->bytes);
    return;
  }
#endif
  std::free(header);
}

namespace {

// The whitespace of Python's bytes.split(), minus the newline that ends a line.
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Python's float() and int() accept single underscores between digits ("1_000").
// Returns false when an underscore is misplaced, else copies the token without them.
bool strip_underscores(const char* begin, const char* end, std::string& out) {
  out.clear();
  for (const char* p = begin; p < end; ++p) {
    if (*p != '_') {
      out.push_back(*p);
      continue;
    }
    if (p == begin || p + 1 == end || !is_digit(p[-1]) || !is_digit(p[1])) return false;
  }
  return true;
}

// The value of an out-of-range decimal (from_chars leaves the result unset): infinity when its
// decimal exponent is positive, else zero, with the token's sign.
double out_of_range_value(const char* begin, const char* end) {
  const bool negative = *begin == '-';
  const char* p = begin + (negative ? 1 : 0);
  std::int64_t exponent = 0;  // position of the first non-zero digit relative to the point
  bool seen_nonzero = false;
  bool after_point = false;
  for (; p < end && *p != 'e' && *p != 'E'; ++p) {
    if (*p == '.') {
      after_point = true;
    } else if (!seen_nonzero) {
      if (*p != '0') {
        seen_nonzero = true;
        if (!after_point) ++exponent;
      } else if (after_point) {
        --exponent;
      }
    } else if (!after_point) {
      ++exponent;
    }
  }
  std::int64_t written = 0;
  if (p < end) {
    ++p;
    const bool exp_negative = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) ++p;
    for (; p < end; ++p) {
      if (written < (std::int64_t{1} << 40)) written = written * 10 + (*p - '0');
    }
    if (exp_negative) written = -written;
  }
  const double magnitude = exponent + written > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  return negative ? -magnitude : magnitude;
}

// Parses a number as Python's float() does: decimal or scientific notation, optional sign,
// inf/infinity/nan in any case, underscores between digits; no hexadecimal, no "nan(...)".
bool parse_double(const char* begin, const char* end, double& out, std::string& scratch) {
  if (begin == end) return false;
  if (std::memchr(begin, '_', static_cast<std::size_t>(end - begin)) != nullptr) {
    if (!strip_underscores(begin, end, scratch)) return false;
    const std::string copy = scratch;
    return parse_double(copy.data(), copy.data() + copy.size(), out, scratch);
  }
  if (*begin == '+') {
    ++begin;  // from_chars takes no '+', and a second sign after it is invalid
    if (begin == end || *begin == '+' || *begin == '-') return false;
  }
  if (std::memchr(begin, '(', static_cast<std::size_t>(end - begin)) != nullptr) return false;
  const auto result = std::from_chars(begin, end, out, std::chars_format::general);
  if (result.ptr != end) return false;
  if (result.ec == std::errc::result_out_of_range) {
    out = out_of_range_value(begin, end);
    return true;
  }
  return result.ec == std::errc();
}

// Parses a non-negative integer as Python's int() would: optional '+', digits, underscores
// between digits. Rejects values above int64 max - 1, so that max + 1 (a width) fits.
bool parse_index(const char* begin, const char* end, std::int64_t& out) {
  if (begin < end && *begin == '+') ++begin;
  if (begin == end) return false;
  std::uint64_t value = 0;
  constexpr std::uint64_t limit = std::numeric_limits<std::int64_t>::max() - 1;
  for (const char* p = begin; p < end; ++p) {
    if (*p == '_') {
      if (p == begin || p + 1 == end || !is_digit(p[-1]) || !is_digit(p[1])) return false;
      continue;
    }
    if (!is_digit(*p)) return false;
    value = value * 10 + static_cast<std::uint64_t>(*p - '0');
    if (value > limit) return false;
  }
  out = static_cast<std::int64_t>(value);
  return true;
}

// Parses a signed 64-bit integer: optional sign, then digits.
bool parse_int64(const char* begin, const char* end, std::int64_t& out) {
  if (begin < end && *begin == '+') ++begin;
  if (begin == end || *begin == '+') return false;
  const auto result = std::from_chars(begin, end, out);
  return result.ptr == end && result.ec == std::errc();
}

// A token for an error message: quoted, non-printable bytes escaped, at most 40 bytes shown.
std::string show(const char* begin, const char* end) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "'";
  const std::size_t length = static_cast<std::size_t>(end - begin);
  const std::size_t shown = std::min<std::size_t>(length, 40);
  for (std::size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(begin[i]);
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  out.push_back('\'');
  if (shown < length) out += "...";
  return out;
}

const char* skip_spaces(const char* p, const char* end) {
  while (p < end && is_space(*p)) ++p;
  return p;
}

const char* token_end(const char* p, const char* end) {
  while (p < end && !is_space(*p)) ++p;
  return p;
}

}  // namespace

// Destinations of one piece's rows: each pointer is at the piece's first slot of its array.
struct Output {
  double* labels = nullptr;
  std::int64_t* label_ends = nullptr;  // multilabel: label_indptr entries after each row
  std::int64_t* row_ends = nullptr;    // indptr entries after each row
  std::int32_t* indices32 = nullptr;   // exactly one of indices32 and indices64 is set
  std::int64_t* indices64 = nullptr;
  double* values64 = nullptr;          // exactly one of values64 and values32 is set
  float* values32 = nullptr;
  std::int64_t* qids = nullptr;
  std::int64_t label_base = 0;  // labels before the piece
  std::int64_t nnz_base = 0;    // values before the piece
};

// One contiguous range of lines of a block, counted and then parsed by one thread.
struct SvmlightParser::Piece {
  const char* begin = nullptr;
  const char* end = nullptr;
  // Counts of the first pass: exact for valid lines, and never below what the second pass
  // writes for a malformed line, which ends the piece.
  std::int64_t rows = 0;
  std::int64_t nnz = 0;
  std::int64_t labels = 0;  // label values: one per row, or the list lengths when multilabel
  std::int64_t qids = 0;
  std::int64_t newlines = 0;
  // Offsets of the piece in this block's part of each array (prefix sums of the counts).
  std::int64_t row_offset = 0;
  std::int64_t nnz_offset = 0;
  std::int64_t label_offset = 0;
  std::int64_t qid_offset = 0;

  std::int64_t min_index = -1;
  std::int64_t max_index = -1;
  std::int64_t rows_without_qid = 0;
  std::int64_t first_line_without_qid = 0;  // local line numbers, 1-based; 0: none
  std::int64_t first_line_with_qid = 0;
  std::int64_t error_line = 0;  // 0: no error
  std::string error;
  bool needs_wide = false;  // met an index beyond int32 while the output is int32
  std::exception_ptr failure;  // an exception other than a malformed line (out of memory)
  std::string scratch;

  void reset(const char* first, const char* last) {
    begin = first;
    end = last;
    rows = nnz = labels = qids = newlines = 0;
    min_index = max_index = -1;
    rows_without_qid = 0;
    first_line_without_qid = first_line_with_qid = 0;
    error_line = 0;
    error.clear();
    needs_wide = false;
    failure = nullptr;
  }

  void count(const SvmlightOptions& opt);
  // Parses the piece into `out`. Stops at the first malformed line (error_line and error set)
  // or index beyond int32 with int32 output (needs_wide set).
  void parse(const Output& out, const SvmlightOptions& opt);

 private:
  // Row-local write positions while parsing.
  std::int64_t row_ = 0;
  std::int64_t nnz_ = 0;
  std::int64_t label_ = 0;
  std::int64_t qid_ = 0;
  bool parse_line(const char* p, const char* end, std::int64_t line, const Output& out,
                  const SvmlightOptions& opt);
};

// Counts what parse_line writes, with the same token rules. A line with content is a row. It
// has one label, or when multilabel, the comma-separated list of a first token without ':'.
// It has a qid when the next token starts with "qid:", and a value per ':' after that. Each
// value parse_line writes has its own ':' there, so the count bounds the writes even on a
// malformed line.
void SvmlightParser::Piece::count(const SvmlightOptions& opt) {
  const char* p = begin;
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    const char* line_end = nl != nullptr ? static_cast<const char*>(nl) : end;
    const void* hash = std::memchr(p, '#', static_cast<std::size_t>(line_end - p));
    const char* content_end = hash != nullptr ? static_cast<const char*>(hash) : line_end;
    p = skip_spaces(p, content_end);
    if (p < content_end) {
      ++rows;
      const char* tok_end = token_end(p, content_end);
      if (!opt.multilabel) {
        ++labels;
        p = skip_spaces(tok_end, content_end);
      } else if (std::memchr(p, ':', static_cast<std::size_t>(tok_end - p)) == nullptr) {
        labels += 1 + std::count(p, tok_end, ',');
        p = skip_spaces(tok_end, content_end);
      }
      if (content_end - p >= 4 && std::memcmp(p, "qid:", 4) == 0) {
        ++qids;
        p = token_end(p, content_end);
      }
      nnz += std::count(p, content_end, ':');
    }
    if (nl == nullptr) break;
    ++newlines;
    p = line_end + 1;
  }
}

bool SvmlightParser::Piece::parse_line(const char* p, const char* end, std::int64_t line,
                                       const Output& out, const SvmlightOptions& opt) {
  p = skip_spaces(p, end);
  if (p == end) return true;  // blank or comment-only line
  const char* tok_end = token_end(p, end);

  if (!opt.multilabel) {
    double label = 0.0;
    if (!parse_double(p, tok_end, label, scratch)) {
      error = "invalid label " + show(p, tok_end) + ": each line must start with a number";
      return false;
    }
    out.labels[label_++] = label;
    p = skip_spaces(tok_end, end);
  } else if (std::memchr(p, ':', static_cast<std::size_t>(tok_end - p)) != nullptr) {
    // no labels: the first token is already a feature
  } else {
    for (const char* q = p; q <= tok_end;) {
      const void* comma = std::memchr(q, ',', static_cast<std::size_t>(tok_end - q));
      const char* item_end = comma != nullptr ? static_cast<const char*>(comma) : tok_end;
      double label = 0.0;
      if (!parse_double(q, item_end, label, scratch)) {
        error = "invalid label " + show(q, item_end) + " in " + show(p, tok_end) +
                ": expected comma-separated numbers";
        return false;
      }
      out.labels[label_++] = label;
      q = item_end + 1;
    }
    p = skip_spaces(tok_end, end);
  }

  if (end - p >= 4 && std::memcmp(p, "qid:", 4) == 0) {
    tok_end = token_end(p, end);
    std::int64_t qid = 0;
    if (!parse_int64(p + 4, tok_end, qid)) {
      error = "invalid query id " + show(p, tok_end) + ": expected qid:<integer>";
      return false;
    }
    out.qids[qid_++] = qid;
    if (first_line_with_qid == 0) first_line_with_qid = line;
    p = skip_spaces(tok_end, end);
  } else {
    ++rows_without_qid;
    if (first_line_without_qid == 0) first_line_without_qid = line;
  }

  const std::int64_t row_start = nnz_;
  std::int64_t previous = -1;
  while (p < end) {
    tok_end = token_end(p, end);
    const void* found = std::memchr(p, ':', static_cast<std::size_t>(tok_end - p));
    if (found == nullptr) {
      error = "invalid feature " + show(p, tok_end) + ": expected index:value";
      return false;
    }
    const char* colon = static_cast<const char*>(found);
    std::int64_t index = 0;
    if (!parse_index(p, colon, index)) {
      error = "invalid feature index " + show(p, colon) + " in " + show(p, tok_end) +
              ": expected a non-negative integer below 2**63 - 1";
      return false;
    }
    double value = 0.0;
    if (!parse_double(colon + 1, tok_end, value, scratch)) {
      error = "invalid feature value " + show(colon + 1, tok_end) + " in " + show(p, tok_end);
      return false;
    }
    if (index == 0 && !opt.zero_based) {
      error = "feature index 0 is invalid with zero_based=False (indices start at 1): " +
              show(p, tok_end);
      return false;
    }
    if (opt.max_index >= 0 && index > opt.max_index) {
      error = "feature index " + std::to_string(index) + " is out of range for n_features=" +
              std::to_string(opt.n_features) +
              (opt.zero_based ? std::string() : std::string(" (indices start at 1)"));
      return false;
    }
    if (index <= previous) {
      error = "feature index " + std::to_string(index) + " follows " + std::to_string(previous) +
              ": indices within a line must be sorted and unique";
      return false;
    }
    if (nnz_ >= nnz) throw std::logic_error("svmlight parser: more values than counted");
    if (out.indices64 != nullptr) {
      out.indices64[nnz_] = index;
    } else if (index <= std::numeric_limits<std::int32_t>::max()) {
      out.indices32[nnz_] = static_cast<std::int32_t>(index);
    } else {
      needs_wide = true;
      return false;
    }
    if (opt.float32) {
      out.values32[nnz_] = static_cast<float>(value);
    } else {
      out.values64[nnz_] = value;
    }
    ++nnz_;
    previous = index;
    p = skip_spaces(tok_end, end);
  }
  if (nnz_ > row_start) {
    // Indices increase within a line, so its first and last are its extremes.
    const std::int64_t first = out.indices64 != nullptr ? out.indices64[row_start]
                                                        : out.indices32[row_start];
    if (min_index < 0 || first < min_index) min_index = first;
    if (previous > max_index) max_index = previous;
  }
  out.row_ends[row_] = out.nnz_base + nnz_;
  if (opt.multilabel) out.label_ends[row_] = out.label_base + label_;
  ++row_;
  return true;
}

void SvmlightParser::Piece::parse(const Output& out, const SvmlightOptions& opt) {
  row_ = nnz_ = label_ = qid_ = 0;
  const char* p = begin;
  std::int64_t line = 0;
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    const char* line_end = nl != nullptr ? static_cast<const char*>(nl) : end;
    ++line;
    const void* hash = std::memchr(p, '#', static_cast<std::size_t>(line_end - p));
    const char* content_end = hash != nullptr ? static_cast<const char*>(hash) : line_end;
    if (!parse_line(p, content_end, line, out, opt)) {
      if (!needs_wide) error_line = line;
      return;
    }
    if (nl == nullptr) break;
    p = line_end + 1;
  }
  if (row_ != rows || nnz_ != nnz || label_ != labels || qid_ != qids) {
    throw std::logic_error("svmlight parser: the rows parsed differ from the rows counted");
  }
}

SvmlightParser::SvmlightParser(const SvmlightOptions& options) : options_(options) {
  rows_.clear(options_.multilabel);
}

SvmlightParser::~SvmlightParser() = default;

void SvmlightParser::parse_block(const char* begin, const char* end, int threads) {
  const std::size_t size = static_cast<std::size_t>(end - begin);
  // Below about 128 KiB per thread, waking the threads costs more than it saves. The native
  // fuzz target defines a few bytes here, so that its small inputs are split into pieces too.
#ifdef FASTOPT_SVMLIGHT_MIN_PIECE
  constexpr std::size_t min_piece = FASTOPT_SVMLIGHT_MIN_PIECE;
#else
  constexpr std::size_t min_piece = std::size_t{1} << 17;
#endif
  const std::size_t max_pieces = std::max<std::size_t>(1, size / min_piece);
  n_threads_ = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), max_pieces));
  // Several pieces per thread, taken in turn: on a busy machine a thread that loses its core
  // then delays the others by one piece at the barriers, not by its whole share.
  const int n_pieces = n_threads_ == 1 ? 1
                                       : static_cast<int>(std::min<std::size_t>(
                                             std::size_t{kPiecesPerThread} * n_threads_,
                                             max_pieces));
  while (pieces_.size() < static_cast<std::size_t>(n_pieces)) {
    pieces_.push_back(std::make_unique<Piece>());
  }

  // Piece k covers [cuts[k], cuts[k + 1]); every cut but the ends follows a newline.
  const char* cut = begin;
  for (int k = 0; k < n_pieces; ++k) {
    const char* next = end;
    if (k + 1 < n_pieces) {
      const char* target =
          std::max(begin + size * static_cast<std::size_t>(k + 1) / n_pieces, cut);
      const void* nl = std::memchr(target, '\n', static_cast<std::size_t>(end - target));
      next = nl != nullptr ? static_cast<const char*>(nl) + 1 : end;
    }
    pieces_[static_cast<std::size_t>(k)]->reset(cut, next);
    cut = next;
  }

  if (!try_parse_block(n_pieces)) {
    // An index beyond int32: move the rows so far to int64 indices and parse the block again.
    rows_.widen();
    for (int k = 0; k < n_pieces; ++k) {
      Piece& piece = *pieces_[static_cast<std::size_t>(k)];
      piece.reset(piece.begin, piece.end);
    }
    try_parse_block(n_pieces);
  }

  std::int64_t first_line = lines_ + 1;
  for (int k = 0; k < n_pieces; ++k) {
    Piece& piece = *pieces_[static_cast<std::size_t>(k)];
    if (piece.failure) std::rethrow_exception(piece.failure);
    if (piece.error_line > 0) {
      throw SvmlightError(first_line + piece.error_line - 1, piece.error);
    }
    first_line += piece.newlines;
  }
  commit(n_pieces);
  position_ += static_cast<std::int64_t>(size);
}

bool SvmlightParser::try_parse_block(int n_pieces) {
  SvmlightRows& r = rows_;
  const SvmlightOptions& opt = options_;
  std::exception_ptr grow_failure;
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads_) if (n_threads_ > 1)
#endif
  {
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int k = 0; k < n_pieces; ++k) {
      pieces_[static_cast<std::size_t>(k)]->count(opt);
    }

#ifdef _OPENMP
#pragma omp single
#endif
    {
      std::int64_t rows = 0, nnz = 0, labels = 0, qids = 0;
      for (int k = 0; k < n_pieces; ++k) {
        Piece& piece = *pieces_[static_cast<std::size_t>(k)];
        piece.row_offset = rows;
        piece.nnz_offset = nnz;
        piece.label_offset = labels;
        piece.qid_offset = qids;
        rows += piece.rows;
        nnz += piece.nnz;
        labels += piece.labels;
        qids += piece.qids;
      }
      try {
        const auto extra = [](std::size_t size, std::int64_t count) {
          return size + static_cast<std::size_t>(count);
        };
        r.indptr.grow(extra(r.indptr.size(), rows));
        if (opt.multilabel) r.label_indptr.grow(extra(r.label_indptr.size(), rows));
        r.labels.grow(extra(r.labels.size(), labels));
        r.qids.grow(extra(r.qids.size(), qids));
        if (r.wide) {
          r.indices.grow(extra(r.indices.size(), nnz));
        } else {
          r.indices32.grow(extra(r.indices32.size(), nnz));
        }
        if (opt.float32) {
          r.values32.grow(extra(r.values32.size(), nnz));
        } else {
          r.values64.grow(extra(r.values64.size(), nnz));
        }
      } catch (...) {
        grow_failure = std::current_exception();
      }
    }

    // No barrier after the loop: the end of the parallel region is one.
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1) nowait
#endif
    for (int k = 0; k < n_pieces; ++k) {
      Piece& piece = *pieces_[static_cast<std::size_t>(k)];
      if (grow_failure) continue;
      const std::size_t nnz_at = r.nnz() + static_cast<std::size_t>(piece.nnz_offset);
      Output out;
      out.labels = r.labels.data() + r.labels.size() + piece.label_offset;
      out.row_ends = r.indptr.data() + r.indptr.size() + piece.row_offset;
      if (opt.multilabel) {
        out.label_ends = r.label_indptr.data() + r.label_indptr.size() + piece.row_offset;
      }
      if (r.wide) {
        out.indices64 = r.indices.data() + nnz_at;
      } else {
        out.indices32 = r.indices32.data() + nnz_at;
      }
      if (opt.float32) {
        out.values32 = r.values32.data() + nnz_at;
      } else {
        out.values64 = r.values64.data() + nnz_at;
      }
      out.qids = r.qids.data() + r.qids.size() + piece.qid_offset;
      out.label_base = static_cast<std::int64_t>(r.labels.size()) + piece.label_offset;
      out.nnz_base = static_cast<std::int64_t>(nnz_at);
      try {
        piece.parse(out, opt);
      } catch (...) {
        piece.failure = std::current_exception();
      }
    }
  }
  if (grow_failure) std::rethrow_exception(grow_failure);
  for (int k = 0; k < n_pieces; ++k) {
    const Piece& piece = *pieces_[static_cast<std::size_t>(k)];
    if (piece.failure || piece.error_line > 0) return true;  // reported by the caller
    if (piece.needs_wide) return false;
  }
  return true;
}

void SvmlightParser::commit(int n_pieces) {
  SvmlightRows& r = rows_;
  std::int64_t rows = 0, nnz = 0, labels = 0, qids = 0;
  std::int64_t first_line = lines_ + 1;
  for (int k = 0; k < n_pieces; ++k) {
    const Piece& piece = *pieces_[static_cast<std::size_t>(k)];
    rows += piece.rows;
    nnz += piece.nnz;
    labels += piece.labels;
    qids += piece.qids;
    if (piece.min_index >= 0 && (r.min_index < 0 || piece.min_index < r.min_index)) {
      r.min_index = piece.min_index;
    }
    r.max_index = std::max(r.max_index, piece.max_index);
    r.rows_without_qid += piece.rows_without_qid;
    if (r.first_line_without_qid == 0 && piece.first_line_without_qid > 0) {
      r.first_line_without_qid = first_line + piece.first_line_without_qid - 1;
    }
    if (r.first_line_with_qid == 0 && piece.first_line_with_qid > 0) {
      r.first_line_with_qid = first_line + piece.first_line_with_qid - 1;
    }
    first_line += piece.newlines;
  }
  r.indptr.resize(r.indptr.size() + static_cast<std::size_t>(rows));
  if (options_.multilabel) r.label_indptr.resize(r.label_indptr.size() + static_cast<std::size_t>(rows));
  r.labels.resize(r.labels.size() + static_cast<std::size_t>(labels));
  r.qids.resize(r.qids.size() + static_cast<std::size_t>(qids));
  if (r.wide) {
    r.indices.resize(r.indices.size() + static_cast<std::size_t>(nnz));
  } else {
    r.indices32.resize(r.indices32.size() + static_cast<std::size_t>(nnz));
  }
  if (options_.float32) {
    r.values32.resize(r.values32.size() + static_cast<std::size_t>(nnz));
  } else {
    r.values64.resize(r.values64.size() + static_cast<std::size_t>(nnz));
  }
  lines_ = first_line - 1;
}

std::size_t SvmlightParser::feed(const char* data, std::size_t size, std::int64_t max_lines,
                                 int threads) {
  if (stopped_ || max_lines == 0) return 0;
  std::size_t used = 0;
  if (!pending_.empty()) {
    const void* nl = std::memchr(data, '\n', size);
    if (nl == nullptr) {
      pending_.append(data, size);
      return size;
    }
    used = static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
    pending_.append(data, used);
    const std::string line = std::move(pending_);
    pending_.clear();
    parse_block(line.data(), line.data() + line.size(), 1);
    if (max_lines > 0 && --max_lines == 0) return used;
  }
  if (stop_ >= 0 && position_ > stop_) {
    stopped_ = true;
    return used;
  }

  const char* rest = data + used;
  const std::size_t rest_size = size - used;
  std::size_t cut = rest_size;
  bool limited = false;  // a limit ends the range after a newline, so nothing is pending
  if (max_lines > 0) {
    const char* p = rest;
    const char* end = rest + rest_size;
    std::int64_t found = 0;
    while (p < end) {
      const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
      if (nl == nullptr) break;
      p = static_cast<const char*>(nl) + 1;
      if (++found == max_lines) {
        cut = static_cast<std::size_t>(p - rest);
        limited = true;
        break;
      }
    }
  }
  if (stop_ >= 0) {
    // The line after a newline at offset i starts at position_ + i + 1, which must not
    // pass stop_; so the first newline at or after stop_ - position_ ends the last line.
    const std::size_t from = static_cast<std::size_t>(stop_ - position_);
    if (from < cut) {
      const void* nl = std::memchr(rest + from, '\n', cut - from);
      if (nl != nullptr) {
        cut = static_cast<std::size_t>(static_cast<const char*>(nl) - rest) + 1;
        limited = true;
        stopped_ = true;
      }
    }
  }
  std::size_t body = cut;
  if (!limited) {
    const char* last = rest + cut;
    while (last > rest && last[-1] != '\n') --last;
    body = static_cast<std::size_t>(last - rest);
  }
  parse_block(rest, rest + body, threads);
  if (!limited) pending_.assign(rest + body, cut - body);
  return used + cut;
}

void SvmlightParser::finish() {
  if (pending_.empty()) return;
  const std::string line = std::move(pending_);
  pending_.clear();
  parse_block(line.data(), line.data() + line.size(), 1);
}

void shift_indices(std::int64_t* indices, std::size_t count, std::int64_t shift, int threads) {
  const auto n = static_cast<std::int64_t>(count);
  const int used = cpu::threads_for(n, threads);
  (void)used;
#ifdef _OPENMP
#pragma omp parallel for num_threads(used) schedule(static) if (used > 1)
#endif
  for (std::int64_t i = 0; i < n; ++i) indices[i] -= shift;
}

void shift_indices(std::int32_t* indices, std::size_t count, std::int32_t shift, int threads) {
  const auto n = static_cast<std::int64_t>(count);
  const int used = cpu::threads_for(n, threads);
  (void)used;
#ifdef _OPENMP
#pragma omp parallel for num_threads(used) schedule(static) if (used > 1)
#endif
  for (std::int64_t i = 0; i < n; ++i) indices[i] -= shift;
}

std::int32_t* narrow_indices(std::int64_t* indices, std::size_t count) {
  char* bytes = reinterpret_cast<char*>(indices);
  // Slot i of the int32 view ends at byte 4i + 4 <= 8i + 8, so writing it never touches an
  // int64 that is still to be read.
  for (std::size_t i = 0; i < count; ++i) {
    std::int64_t wide = 0;
    std::memcpy(&wide, bytes + 8 * i, sizeof wide);
    const auto narrow = static_cast<std::int32_t>(wide);
    std::memcpy(bytes + 4 * i, &narrow, sizeof narrow);
  }
  return reinterpret_cast<std::int32_t*>(indices);
}

namespace {

void put_int(std::string& out, std::int64_t value) {
  char text[24];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out.append(text, result.ptr);
}

// The shortest text that parses back to the same double (std::to_chars without a format).
void put_double(std::string& out, double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out.append(text, result.ptr);
}

void format_row(const DumpRows& rows, std::int64_t r, std::string& out) {
  if (rows.label_indptr != nullptr) {
    for (std::int64_t k = rows.label_indptr[r]; k < rows.label_indptr[r + 1]; ++k) {
      if (k > rows.label_indptr[r]) out.push_back(',');
      put_int(out, rows.label_columns[k]);
    }
  } else if (rows.labels_i != nullptr) {
    put_int(out, rows.labels_i[r]);
  } else {
    put_double(out, rows.labels_f[r]);
  }
  if (rows.qids != nullptr) {
    out += " qid:";
    put_int(out, rows.qids[r]);
  }
  auto put_feature = [&](std::int64_t column, std::int64_t position) {
    out.push_back(' ');
    put_int(out, column + rows.index_offset);
    out.push_back(':');
    if (rows.values_i != nullptr) {
      put_int(out, rows.values_i[position]);
    } else {
      put_double(out, rows.values_f[position]);
    }
  };
  if (rows.dense) {
    const std::int64_t base = r * rows.columns;
    for (std::int64_t j = 0; j < rows.columns; ++j) {
      // NaN is not zero, so it is written, as scikit-learn's writer does.
      const bool zero = rows.values_i != nullptr ? rows.values_i[base + j] == 0
                                                 : rows.values_f[base + j] == 0.0;
      if (!zero) put_feature(j, base + j);
    }
  } else {
    for (std::int64_t k = rows.indptr[r]; k < rows.indptr[r + 1]; ++k) {
      put_feature(rows.indices[k], k);
    }
  }
  out.push_back('\n');
}

}  // namespace

void format_rows(const DumpRows& rows, std::string& out, int threads) {
  const std::int64_t n = rows.row_end - rows.row_begin;
  const std::int64_t work = rows.dense ? n * std::max<std::int64_t>(rows.columns, 1)
                                       : rows.indptr[rows.row_end] - rows.indptr[rows.row_begin] + n;
  const int n_parts = static_cast<int>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(cpu::threads_for(work, threads), n)));
  std::vector<std::string> parts(static_cast<std::size_t>(n_parts));
#ifdef _OPENMP
#pragma omp parallel for num_threads(n_parts) schedule(static, 1) if (n_parts > 1)
#endif
  for (int k = 0; k < n_parts; ++k) {
    const std::int64_t begin = rows.row_begin + n * k / n_parts;
    const std::int64_t end = rows.row_begin + n * (k + 1) / n_parts;
    std::string& part = parts[static_cast<std::size_t>(k)];
    for (std::int64_t r = begin; r < end; ++r) format_row(rows, r, part);
  }
  std::size_t total = out.size();
  for (const auto& part : parts) total += part.size();
  out.reserve(total);
  for (const auto& part : parts) out += part;
}

}  // namespace fastopt::io
