// The bad rows of one input, as its parse workers find them, in any order, and as a person must see
// them: in input order, with physical line numbers, the same at any thread count and chunk size.
//
//   worker B, chunk 3: add_chunk(3, lines 40, rows [(at 17 B, too few fields)])
//   worker A, chunk 2: add_chunk(2, lines 35, rows [])
//   finish(source): chunk 3 starts at line first_data_line + lines(0..2); the row's line is that plus
//                   the LFs before it in its chunk -> "f.csv:118: too few fields"
//
// Workers count each chunk's LFs while scanning it (no extra pass); only the rows that are reported get
// their line within the chunk counted. With --on-bad-row error, chunks past the first one with a problem
// need not be scanned (wants()); the first problem in input order wins, whichever worker met it first,
// among bad rows, a record longer than the cap (found by the chunk cutter, which knows no lines) and a
// quote that never closes (it swallowed the rest of the input: an error under every policy).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "csv/csv_scanner.hpp"

namespace labcount {

enum class bad_row_policy { error, skip, warn };

inline constexpr std::uint64_t no_bad_row_limit = ~std::uint64_t{0};
// How many bad rows are kept for the report.
inline constexpr std::size_t bad_row_sample_limit = 20;

struct bad_row {
  std::string file = {};
  std::size_t input = 0;  // the input's index in the count request
  std::uint64_t line = 0;
  row_problem problem = row_problem::none;
  std::uint32_t fields = 0;          // fields found (for too few / too many)
  std::uint32_t expected = 0;        // fields the header has
  std::string value = {};            // the text that did not parse (bad_timestamp)
  std::string expected_format = {};  // what it should look like (bad_timestamp)
  char first_byte = '\0';             // the record's first byte: a '#' there suggests --comment
  // A quote that never closes (an odd number of quotes in the record, so it runs to the end of the
  // input; the problem is what parsing met first: unterminated or stray): the lines and bytes from the
  // quote to the end. swallowed_bytes != 0 marks such a row.
  std::uint64_t swallowed_lines = 0;
  std::uint64_t swallowed_bytes = 0;
};

// The message and hint for a bad row, as printed.
std::string describe(const bad_row& row);
std::string hint_for(const bad_row& row);

class error;
// The error for passing --max-bad-rows in `file` (one process, or the whole of an MPI job).
error too_many_bad_rows(std::uint64_t max_bad_rows, const std::string& file);

class input_source;

class bad_row_log {
 public:
  // `bad_before`: bad rows of earlier inputs, which count towards `max_bad_rows` too.
  bad_row_log(bad_row_policy policy, std::uint64_t bad_before, std::uint64_t max_bad_rows)
      : stop_at_first_(policy == bad_row_policy::error), bad_before_(bad_before), max_bad_rows_(max_bad_rows) {}

  // A problem the scanner found, with `where` it was found (a pointer into the chunk).
  using found_row = std::pair<const char*, bad_row>;

  // What a worker found in one chunk while scanning it (reused for the next chunk).
  struct chunk_findings {
    std::vector<found_row> rows;  // the first bad_row_sample_limit bad rows, in chunk order
    std::uint64_t count = 0;      // all bad rows of the chunk
    std::optional<found_row> unterminated;
    void clear() {
      rows.clear();
      count = 0;
      unterminated.reset();
    }
  };

  bool stops_at_first() const noexcept { return stop_at_first_; }
  // Whether chunk `index` is worth scanning (false past the first chunk with an error).
  bool wants(std::uint64_t index) const noexcept { return index <= first_error_chunk_.load(std::memory_order_relaxed); }

  // Records a scanned chunk: its LF count, always (it places later chunks' lines), and its findings
  // (their lines within the chunk are counted here, from `chunk_begin`). Thread-safe. Returns false
  // when the run must stop: more than max_bad_rows bad rows so far.
  bool add_chunk(std::uint64_t index, const char* chunk_begin, std::uint64_t lines, chunk_findings& found);

  // next_chunk() found a record longer than the cap at the start of chunk `index`. Thread-safe.
  void record_too_long_at(std::uint64_t index);

  // After the workers have stopped: throws the first problem in input order that ends the input, and
  // otherwise returns its bad rows, the first ones with their lines.
  struct summary {
    std::uint64_t bad_rows = 0;
    std::vector<bad_row> samples;
    std::uint64_t lines = 0;  // the LFs of the input (or of its range), every chunk having been scanned
  };
  summary finish(const input_source& source);

 private:
  struct located {
    std::uint64_t chunk_index;
    bad_row row;  // row.line is relative to the chunk until finish()
  };
  void note_error_chunk(std::uint64_t index);

  const bool stop_at_first_;
  const std::uint64_t bad_before_;
  const std::uint64_t max_bad_rows_;
  std::atomic<std::uint64_t> first_error_chunk_{std::numeric_limits<std::uint64_t>::max()};
  std::mutex mutex_;
  std::vector<located> rows_;               // the first rows in input order (at most 2x the sample limit)
  std::vector<std::uint64_t> chunk_lines_;  // LFs per chunk index
  std::uint64_t count_ = 0;
  std::optional<located> unterminated_;       // only ever in the last chunk
  std::optional<std::uint64_t> too_long_at_;  // a record past the cap starts this chunk
};

}  // namespace labcount
