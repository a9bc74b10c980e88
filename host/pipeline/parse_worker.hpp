// One parse worker of a run: takes chunks of the current input, scans their records, encodes each
// key into a code and hands the codes (and, for --stats/--per, the parsed times) to the backend in
// batches. One per pool thread; it lives for the whole run, across inputs.
//
//   chunk "1,S2\n2,S1\n3,S1\n"  ->  scan: keys S2 S1 S1  ->  private dictionary: 0 1 1
//   batch full (64Ki) or input done  ->  flush: private codes -> global codes (shared_dictionary)
//                                        -> backend.consume(worker, codes[, values])
//
// The private dictionary is a cache in front of the global one: most rows cost one probe of a small
// table and no lock. A row with the previous row's key takes the previous code (lab logs list a
// sample's tests together); a timestamp text seen recently takes its parsed value. Past 1 Mi private
// keys (high cardinality) the worker switches to direct mode: it keeps each row's key and hash and
// looks them up in the global dictionary at flush, which happens before the chunk is released.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"
#include "csv/csv_scanner.hpp"
#include "encode/dictionary.hpp"
#include "encode/shared_dictionary.hpp"
#include "encode/text_cache.hpp"
#include "input/input_source.hpp"
#include "pipeline/bad_rows.hpp"
#include "time/timestamp.hpp"

namespace labcount {

// What every worker of one input shares; fixed for the input.
struct parse_plan {
  scan_options options;
  std::string file_name;       // for messages
  std::atomic<std::uint64_t>* rows_progress = nullptr;  // rows counted, for a progress display (null: none)
  bool stop_at_first = false;  // --on-bad-row error: a chunk's scan stops at its first bad row
  value_mode mode = value_mode::counts;
  time_parser times;                      // stats and groups: as this input writes its times (for_input)
  time_bucket bucket = time_bucket::day;  // groups
  // With a header: its key field and its bytes as written, so that a row equal to the header inside the data
  // (`cat a.csv b.csv`) is left out rather than counted as a key.
  std::string header_key;
  std::string header_record;
};

class parse_worker {
 public:
  // Codes are handed to the backend in batches of this many.
  static constexpr std::size_t batch_rows = pipeline_batch_rows;
  // Past this many keys the private dictionary is dropped, and the worker goes direct.
  static constexpr std::size_t private_dictionary_limit = std::size_t{1} << 20;

  // Scans chunks of `source` until there are none, `stop` is set, or the bad-row log says stop (then
  // it sets `stop` for the others), and hands every code to `backend` as worker `id`. Throws what
  // reading the input throws (but a record past the cap is noted in `bad_rows` instead).
  void run(unsigned id, input_source& source, const parse_plan& plan, bad_row_log& bad_rows, shared_dictionary& global,
           count_backend& backend, std::atomic<bool>& stop);

  // Forgets codes not yet handed over (--on-bad-file skip leaves the whole input out), and the rows and
  // bytes counted since `mark()`.
  void mark() noexcept { marked_rows_ = rows_, marked_bytes_ = bytes_; }
  void roll_back() noexcept;

  std::uint64_t rows() const noexcept { return rows_; }                // rows handed to the backend
  std::uint64_t header_rows() const noexcept { return header_rows_; }  // rows equal to the header, left out
  std::uint64_t bytes() const noexcept { return bytes_; }              // input bytes scanned

 private:
  void scan_chunk(unsigned id, const chunk& c, const parse_plan& plan, bad_row_log::chunk_findings& found,
                  shared_dictionary& global, count_backend& backend, std::uint64_t& lines);
  void flush(unsigned id, const parse_plan& plan, shared_dictionary& global, count_backend& backend);

  key_dictionary local_;
  last_text last_key_;                // and its code in `local_`
  recent_texts<16384> recent_times_;  // timestamp texts and their values (16384: fastest of 1Ki..64Ki)
  std::optional<time_parser> times_read_by_;  // the parser whose values recent_times_ holds
  std::vector<std::uint32_t> local_to_global_;
  // The batch on its way to the backend: codes_[0, batched_) and, for stats and groups, their values
  // (times in microseconds, or buckets). Fixed-size buffers: the hot loop writes by index, with no capacity checks.
  std::vector<std::uint32_t> codes_;
  std::vector<std::int64_t> values_;
  std::size_t batched_ = 0;
  // Direct mode: each row's key (a view into the chunk, or a copy for a quoted key) and hash.
  bool direct_ = false;
  std::vector<std::string_view> keys_;
  std::vector<std::uint64_t> hashes_;
  std::deque<std::string> key_copies_;
  // Scratch for flush(): the private dictionary's keys to translate.
  std::vector<std::string_view> new_keys_;
  std::vector<std::uint64_t> new_hashes_;
  parsed_record scratch_;
  bad_row_log::chunk_findings found_;
  std::uint64_t rows_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t header_rows_ = 0;
  // The private code of the header's key, once a row with that key was seen (-1: none): only rows with
  // this code are compared with the header.
  std::int64_t header_code_ = -1;
  std::uint64_t marked_rows_ = 0;
  std::uint64_t marked_bytes_ = 0;
};

}  // namespace labcount
