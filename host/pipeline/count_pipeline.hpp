// Orchestration of one `count` run: inputs -> chunks -> parse + encode (thread pool) -> backend -> counts.
//
//   for each input:   read the header, resolve --key and --time to field indexes (a parse_plan)
//     N workers:      parse_worker::run: take the next chunk, scan its records, encode keys with a
//                     private dictionary, every 64Ki codes: translate them to global codes
//                     (shared_dictionary), backend.consume(); bad rows go to the input's bad_row_log
//     then:           bad_row_log::finish: the first problem in input order, or the rows left out
//   then (counts):    backend.finish() -> this input's counts per global code; backend.reset()
//   at the end:       (stats, groups: backend.finish()); the global dictionary maps codes to keys
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "csv/csv_scanner.hpp"
#include "encode/dictionary.hpp"
#include "input/input_list.hpp"
#include "pipeline/bad_rows.hpp"
#include "time/timestamp.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {

enum class bad_file_policy { error, skip };

// What a run is doing, for a progress display: reading inputs, then reducing what it read (the backend's
// finish: sorting and merging pairs can take seconds on millions of keys), then ordering and writing the table.
enum class run_phase : int { reading, reducing, merging, writing };  // merging: an MPI job's ranks' results

// Counters a progress display reads while the run goes (src/progress.hpp draws them on a terminal);
// the pipeline only adds to them. Null: not counted.
struct run_progress {
  std::atomic<std::uint64_t>* bytes = nullptr;  // input bytes read (compressed bytes for compressed inputs)
  std::atomic<std::uint64_t>* files = nullptr;  // inputs finished
  std::atomic<std::uint64_t>* rows = nullptr;   // rows counted so far
  std::atomic<bool>* compressed = nullptr;      // set once a compressed input is read
  std::atomic<run_phase>* phase = nullptr;
  std::atomic<std::uint64_t>* phase_items = nullptr;  // the keys being reduced or written
  std::atomic<std::uint64_t>* spilled = nullptr;      // bytes --stats/--per wrote to disk (backend_options)
};

struct count_request {
  std::vector<std::string> inputs;  // "-" = standard input
  // --key: a header name or a 1-based column number, or several of them comma-separated (a composite key;
  // a name that holds a comma is quoted, or matched as the whole text first). See resolve_key_columns.
  std::string key = "SampleID";
  bool has_header = true;
  char delimiter = '\0';       // 0: detected per input from its header (input_source::read_first_record)
  std::size_t skip_lines = 0;  // --skip: lines before the header (or first row) to leave out, per input
  char comment = '\0';         // --comment: lines that start with it are left out (before the header and after)
  bad_row_policy on_bad_row = bad_row_policy::error;
  std::uint64_t max_bad_rows = no_bad_row_limit;        // skip/warn: past this many bad rows, stop (--max-bad-rows)
  std::size_t chunk_bytes = 0;                          // 0 = input_source::default_chunk_bytes
  std::size_t max_record_bytes = std::size_t{1} << 40;  // a longer record is an error (--memory)
  value_mode mode = value_mode::counts;                 // counts; stats (--stats); groups (--per)
  std::string time_column = "TestTime";                 // a header name or 1-based number (stats, groups)
  const time_parser* times = nullptr;                   // required for stats and groups
  time_bucket bucket = time_bucket::day;                // groups
  bool per_file = false;                                // also keep each input's counts
  // Warn at an input that reads its slash dates in another order than the one with slash dates before it. An
  // MPI rank, which sees only its own inputs, leaves it to rank 0 (date_order_warnings).
  bool warn_date_order = true;
  bad_file_policy on_bad_file = bad_file_policy::error;
  run_progress progress;
  // An MPI rank's share (distributed/): per input, the byte range it counts; empty, or `whole`: all of it.
  // A range starts and ends at record boundaries of a mapped input; `first_line` is the line of its start.
  // With `cut`, it ends instead at the first record that starts at or after `cut` (input_source::restrict_to);
  // ranges_done says where.
  struct input_range {
    bool whole = true;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    std::uint64_t first_line = 0;
    std::optional<std::uint64_t> cut;
  };
  std::vector<input_range> ranges;
  // Not null: each range counted whole, as it is done (kept when a later input fails): where it ended and its
  // LFs. And whether the input being counted has begun its range: an error from then on names a line counted
  // from the range's first_line, one before it (the header's) a line of the file.
  struct range_done {
    std::size_t input = 0;
    std::uint64_t end = 0;
    std::uint64_t lines = 0;
  };
  std::vector<range_done>* ranges_done = nullptr;
  bool* in_range = nullptr;
  std::size_t* current_input = nullptr;  // not null: set to the index of the input being counted
};

// Whether the request's group values are times rather than buckets (--stats as a partial state): what
// backend_options::group_times says to the backend made for it.
inline bool groups_of_times(const count_request& request) noexcept {
  return request.mode == value_mode::groups && request.bucket == time_bucket::second;
}

// What one input gave, beyond its rows (count_result::per_input).
struct input_tally {
  std::size_t input = 0;          // its index in request.inputs
  std::string file;               // its display name
  bool empty = false;             // it holds no record (not even a header)
  std::uint64_t bad_rows = 0;    // rows left out (skip, warn)
  std::uint64_t header_rows = 0;  // rows equal to the header, left out (files joined with cat)
  // How it read its slash dates (8/10/2004): 0 none (or not by itself: --time-format), 1 month first, 2 day
  // first; and whether its dates said so (else nothing in its first rows told).
  std::uint8_t slash_dates = 0;
  bool order_from_dates = false;
};

// The counts of one input (--per-file): (code, count) pairs with count > 0.
struct file_counts {
  std::string file = {};
  std::vector<std::pair<std::uint32_t, std::uint64_t>> counts;
};

// A warning or note about one input of a run: request.inputs[input] (an MPI job puts its ranks' in input order).
struct input_message {
  std::size_t input = 0;
  std::string text;
};

struct count_result {
  // The key columns' header names, one per part of the key ("key" without a header; "key1", "key2", ...
  // for a composite key without one). More than one: the keys are key_tuple-encoded (csv/key_tuple.hpp).
  std::vector<std::string> key_names;
  key_dictionary dictionary;                // code -> key
  std::vector<std::uint64_t> counts;        // counts[code]
  std::uint64_t rows = 0;                   // rows counted
  std::uint64_t bad_rows = 0;               // rows left out (skip / warn)
  std::vector<bad_row> bad_row_samples;     // the first few bad rows, in input order
  std::uint64_t bytes = 0;                  // input bytes read
  std::chrono::nanoseconds parse_time{0};   // wall time of read + parse + encode (+ backend consume)
  std::chrono::nanoseconds finish_time{0};  // wall time of backend.finish()
  std::vector<input_message> warnings;      // e.g. empty inputs, in input order
  std::vector<input_message> notes;         // what was decided per input, for --verbose (detected delimiters)
  std::vector<key_stats> stats;             // value_mode::stats: stats[code]
  std::vector<group_count> groups;          // value_mode::groups: sorted by code, then bucket
  std::string time_name;                    // the time column's header name (stats, groups)
  std::vector<file_counts> per_file;        // with request.per_file, in input order
  std::vector<skipped_file> skipped_files;  // with --on-bad-file skip
  std::vector<input_tally> per_input;       // per input counted, in input order
  std::string backend_name;
  backend_timings backend_time;  // over the whole run
};

// Resolves --key (or --time) against a header: the exact name first (two columns of that name: an error
// listing both), then a 1-based column number, then the one name equal ignoring case and spaces, '_', '-',
// '.' (`sample_id` finds "Sample ID"; *note says so). Otherwise throws error naming the file, with a "did you
// mean" or the list of columns.
std::uint32_t resolve_key_column(const std::string& key, const std::vector<std::string>& header, bool has_header,
                                 const std::string& file, std::uint64_t header_line,
                                 const std::string& option = "--key", std::string* note = nullptr);

// Resolves --key, one column or several (`SampleID,Assay`, `2,3`): the whole text as one column first (a
// header name may hold a comma), then its comma-separated parts (CSV quoting: `"Sample, ID",Assay`), each as
// resolve_key_column does. A column named twice, or more than max_key_parts, is an error. *notes gets
// the loose matches.
std::vector<std::uint32_t> resolve_key_columns(const std::string& key, const std::vector<std::string>& header,
                                               bool has_header, const std::string& file, std::uint64_t header_line,
                                               std::vector<std::string>* notes = nullptr);

// The parts of a --key text as written (one part unless it holds a comma outside quotes); for naming the
// columns of an input that has none.
std::vector<std::string> key_parts_of(const std::string& key);

// Runs the whole count. Throws labcount::error for bad input (with --on-bad-row error) or I/O problems
// (with --on-bad-file error; with skip, the input is left out whole and listed in skipped_files).
// Whatever the policy, a quote that never closes is an error of its input (it swallowed the rest of
// it, which is not "one bad row"), and so is passing request.max_bad_rows (error(too_many_bad_rows),
// never skipped). `backend` is made for request.mode with a worker per pool thread; it serves every input
// (counts: finish() and reset() after each; stats and groups: one finish() at the end).
count_result run_count(const count_request& request, count_backend& backend, thread_pool& pool);

// The warnings for inputs that read their slash dates in another order than the input with slash dates before
// them (per_input in input order; the parts of one input say the same).
std::vector<input_message> date_order_warnings(const std::vector<input_tally>& per_input);

// The warnings for rows equal to the header that were left out, one per input that had them.
std::vector<std::string> header_row_warnings(const std::vector<input_tally>& per_input);

// Throws error(no_rows_counted) when bad rows or left-out inputs took every row: a run that dropped
// data must never look like an empty table. `result` is run_count's, with every left-out input in
// skipped_files; `num_inputs` counts them all.
void expect_rows_counted(const count_result& result, bad_row_policy policy, std::size_t num_inputs);

}  // namespace labcount
