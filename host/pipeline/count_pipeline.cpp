#include "pipeline/count_pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <limits>
#include <optional>
#include <mutex>
#include <shared_mutex>

#include "util/errors.hpp"
#include "input/input_source.hpp"
#include "pipeline/progress.hpp"
#include "encode/text_cache.hpp"

namespace labcount {
namespace {

using clock_type = std::chrono::steady_clock;

// Codes are handed to the backend in batches of this many.
constexpr std::size_t code_batch = std::size_t{1} << 16;
// A worker's private dictionary is dropped past this many keys (it is only a cache in front of the
// global one), so high-cardinality inputs do not hold every key once per thread.
constexpr std::size_t private_dictionary_limit = std::size_t{1} << 20;

struct worker_state {
  key_dictionary local;
  last_text last_key;                // and its code in `local`
  recent_texts<16384> recent_times;  // timestamp texts and their values (16384: fastest of 1Ki..64Ki)
  std::vector<std::uint32_t> local_to_global;
  // The batch on its way to the backend: codes[0, batched) and, for stats and groups, their values
  // (seconds, or buckets). Fixed-size buffers: the hot loop writes by index, with no capacity checks.
  std::vector<std::uint32_t> codes;
  std::vector<std::int64_t> values;
  std::size_t batched = 0;
  // Direct mode, for high-cardinality inputs: once the private dictionary has overflowed, it would hit
  // only a few rows (~5% at 10 M keys) and cost each row a second encode, so keys go straight to the
  // global one: the batch keeps each row's key (a view into the chunk, or a copy for a quoted key, which
  // lives in `scratch`) and hash, and flush() looks them up. Batches are flushed before their chunk is
  // released.
  bool direct = false;
  std::vector<std::string_view> keys;
  std::vector<std::uint64_t> hashes;
  std::deque<std::string> key_copies;
  // Scratch for flush(): the private dictionary's keys to translate.
  std::vector<std::string_view> new_keys;
  std::vector<std::uint64_t> new_hashes;
  parsed_record scratch;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
};

struct located_bad_row {
  std::uint64_t chunk_index;
  bad_row row;  // row.line is relative to the chunk until resolved
};

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string list_columns(const std::vector<std::string>& header) {
  std::string out;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(i + 1) + ":" + header[i];
  }
  return out;
}

}  // namespace

bad_file_policy parse_bad_file_policy(std::string_view text) {
  if (text == "error") return bad_file_policy::error;
  if (text == "skip") return bad_file_policy::skip;
  throw error(error_kind::usage, "invalid --on-bad-file value '" + std::string(text) + "'", "", 0,
              "use --on-bad-file error or skip");
}

bad_row_policy parse_bad_row_policy(std::string_view text) {
  if (text == "error") return bad_row_policy::error;
  if (text == "skip") return bad_row_policy::skip;
  if (text == "warn") return bad_row_policy::warn;
  throw error(error_kind::usage, "invalid --on-bad-row value '" + std::string(text) + "'", "", 0,
              "use --on-bad-row error, skip or warn");
}

std::uint32_t resolve_key_column(const std::string& key, const std::vector<std::string>& header, bool has_header,
                                 const std::string& file, std::uint64_t header_line, const std::string& option) {
  if (has_header) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == key) return static_cast<std::uint32_t>(i);
  }
  if (all_digits(key)) {
    const unsigned long index = std::stoul(key);
    if (index >= 1 && index <= header.size()) return static_cast<std::uint32_t>(index - 1);
    throw error(error_kind::column_out_of_range,
                option + " " + key + " is out of range: the " + (has_header ? "header" : "first row") + " has " +
                    std::to_string(header.size()) + " column" + (header.size() == 1 ? "" : "s"),
                file, header_line,
                header.size() == 1 ? "is the delimiter right? set it with --delimiter (e.g. --delimiter ';' or tab)"
                                   : "columns are numbered from 1 to " + std::to_string(header.size()));
  }
  if (!has_header)
    throw error(error_kind::usage, option + " '" + key + "' is a column name, but with --no-header columns have no names",
                file, 0, "give the column's number instead, e.g. --key 2");
  std::string hint = "columns are " + list_columns(header) + "; pass one with " + option + " NAME or " + option + " NUMBER";
  for (const auto& name : header)
    if (lower(name) == lower(key)) hint = "names are case-sensitive: did you mean " + option + " " + name + "?";
  if (header.size() == 1 && header[0].find_first_of(";\t|") != std::string::npos)
    hint = "the header has a single column '" + header[0] + "': is the delimiter right? e.g. --delimiter ';' or tab";
  throw error(error_kind::missing_key_column, "no column named '" + key + "' in the header", file, header_line, hint);
}

void expect_rows_counted(const count_result& result, bad_row_policy policy, std::size_t num_inputs) {
  if (result.rows != 0 || (result.bad_rows == 0 && result.skipped_files.empty())) return;
  if (result.skipped_files.size() >= num_inputs)
    throw error(error_kind::no_rows_counted,
                "no rows counted: every input was left out (--on-bad-file skip)", "", 0,
                "the reasons are listed above; fix the inputs, or check --key and --delimiter");
  if (!result.skipped_files.empty())
    throw error(error_kind::no_rows_counted,
                "no rows counted: " + format_count(result.skipped_files.size()) + " of " +
                    format_count(num_inputs) + " inputs were left out (--on-bad-file skip), " +
                    format_count(result.bad_rows) + " bad rows were left out, and the rest hold no rows",
                "", 0, "the reasons are listed above; fix the inputs, or check --key and --delimiter");
  throw error(error_kind::no_rows_counted,
              "no rows counted: all " + format_count(result.bad_rows) + " data row" +
                  (result.bad_rows == 1 ? " was" : "s were") + " bad and left out (--on-bad-row " +
                  (policy == bad_row_policy::warn ? "warn" : "skip") + ")",
              "", 0, "is the delimiter right (--delimiter)? see the bad rows with --on-bad-row warn");
}

std::string describe(const bad_row& row) {
  switch (row.problem) {
    case row_problem::unterminated_quote:
      if (row.swallowed_lines == 0) return labcount::describe(row.problem);
      return "unterminated quote: the quote opened here never closes, so the remaining " + format_count(row.swallowed_lines) + " line" +
             (row.swallowed_lines == 1 ? "" : "s") + " (" + format_bytes(row.swallowed_bytes) + ") are one field";
    case row_problem::too_few_fields:
    case row_problem::too_many_fields:
      return std::string(labcount::describe(row.problem)) + ": expected " + std::to_string(row.expected) +
             ", found " + std::to_string(row.fields);
    case row_problem::bad_timestamp:
      return "unparseable timestamp '" + row.value + "'";
    default:
      return labcount::describe(row.problem);
  }
}

std::string hint_for(const bad_row& row) {
  switch (row.problem) {
    case row_problem::too_few_fields:
      return row.fields == 1 && row.expected > 1
                 ? "is the delimiter right (--delimiter)? or fix the row, or leave such rows out with "
                   "--on-bad-row skip (or warn)"
                 : "fix the row, or leave such rows out with --on-bad-row skip (or warn)";
    case row_problem::too_many_fields:
      return "a field that contains the delimiter must be quoted; fix the row, or leave such rows out with "
             "--on-bad-row skip (or warn)";
    case row_problem::unterminated_quote:
      return "close the quote (a quote inside a quoted field is written \"\"); this is not one bad row but the "
             "rest of the input, so --on-bad-row skip cannot leave it out";
    case row_problem::stray_quote:
      return "a field with quotes in it must be quoted as a whole, with its quotes doubled: \"5\"\" pipe\"; "
             "or leave such rows out with --on-bad-row skip (or warn)";
    case row_problem::bad_timestamp:
      return "expected " + row.expected_format +
             "; fix the value, or set the format with --time-format (strftime notation, e.g. '%d.%m.%Y %H:%M'), "
             "or leave such rows out with --on-bad-row skip (or warn)";
    case row_problem::none: break;
  }
  return {};
}

count_result run_count(const count_request& request, const backend_factory& make_backend, thread_pool& pool) {
  LABCOUNT_EXPECTS(!request.inputs.empty(), "no inputs");
  count_result result;
  std::vector<worker_state> workers(pool.size());
  key_dictionary& global = result.dictionary;
  std::shared_mutex global_mutex;  // guards `global`
  const std::size_t chunk_bytes = request.chunk_bytes != 0 ? request.chunk_bytes : input_source::default_chunk_bytes;
  std::chrono::nanoseconds finish_time{0};
  const auto started = clock_type::now();
  const bool timed = request.mode != value_mode::counts;
  LABCOUNT_EXPECTS(!timed || request.times != nullptr, "stats and groups need a time parser");
  LABCOUNT_EXPECTS(!timed || (!request.per_file && request.on_bad_file == bad_file_policy::error),
                   "stats and groups take every row into one backend: no per-file counts, no skipped files");

  // Codes for `keys` (hash_key: `hashes`) in `out`: looked up under a shared lock (on high-cardinality
  // inputs nearly every row brings a key new to its worker, and most are in the global dictionary
  // already), then the missing ones added under an exclusive one.
  auto to_global = [&](std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                       std::uint32_t* out) {
    {
      std::shared_lock lock(global_mutex);
      global.find_many(keys, hashes, out);
    }
    if (std::find(out, out + keys.size(), key_dictionary::missing) != out + keys.size()) {
      std::lock_guard lock(global_mutex);
      for (std::size_t i = 0; i < keys.size(); ++i)
        if (out[i] == key_dictionary::missing) out[i] = global.encode(keys[i], hashes[i]);
    }
  };

  // Hands a worker's codes to the backend, translated to global codes.
  auto flush = [&](unsigned id, count_backend& backend) {
    worker_state& w = workers[id];
    if (w.batched == 0) return;
    const std::span<std::uint32_t> codes(w.codes.data(), w.batched);
    if (w.direct) {
      to_global(std::span(w.keys.data(), w.batched), std::span(w.hashes.data(), w.batched), codes.data());
      w.key_copies.clear();
    } else {
      if (w.local.size() > w.local_to_global.size()) {
        const std::size_t first = w.local_to_global.size();
        w.new_keys.clear();
        w.new_hashes.clear();
        for (auto code = static_cast<std::uint32_t>(first); code < w.local.size(); ++code) {
          w.new_keys.push_back(w.local.key(code));
          w.new_hashes.push_back(w.local.hash(code));
        }
        w.local_to_global.resize(w.local.size());
        to_global(w.new_keys, w.new_hashes, w.local_to_global.data() + first);
      }
      for (auto& code : codes) code = w.local_to_global[code];
    }
    if (timed)
      backend.consume_values(id, codes, std::span(w.values.data(), w.batched));
    else
      backend.consume(id, codes);
    w.rows += w.batched;
    w.batched = 0;
    if (w.local.size() > private_dictionary_limit) {
      w.local = key_dictionary();
      w.last_key.forget();
      w.local_to_global = {};
      w.direct = true;
      w.keys.resize(code_batch);
      w.hashes.resize(code_batch);
    }
  };

  // Counts one input into `backend`; throws on bad data or I/O errors.
  auto count_input = [&](const std::string& path, count_backend& backend) {
    input_source source(path, chunk_bytes, request.progress != nullptr ? request.progress->bytes_counter() : nullptr,
                        request.max_record_bytes);
    std::vector<std::string> header;
    std::uint64_t header_line = 0;
    bool has_record = false;
    try {
      has_record = source.read_first_record(request.delimiter, request.has_header, header, header_line);
    } catch (const error&) {
      source.check_intact();  // a shrunk file's zero pages are not the data's fault
      throw;
    }
    source.check_intact();
    if (!has_record) {
      result.warnings.push_back(source.name() + ": the input is empty");
      if (result.key_name.empty() && request.has_header && !all_digits(request.key)) result.key_name = request.key;
      return;
    }
    scan_options options;
    options.delimiter = request.delimiter;
    options.num_fields = static_cast<std::uint32_t>(header.size());
    options.key_field = resolve_key_column(request.key, header, request.has_header, source.name(), header_line);
    if (result.key_name.empty()) result.key_name = request.has_header ? header[options.key_field] : "key";
    if (timed) {
      options.value_field =
          resolve_key_column(request.time_column, header, request.has_header, source.name(), header_line, "--time");
      if (result.time_name.empty()) result.time_name = request.has_header ? header[options.value_field] : "time";
    }

    std::atomic<std::uint64_t> first_error_chunk{std::numeric_limits<std::uint64_t>::max()};
    std::mutex bad_mutex;
    std::vector<located_bad_row> bad_here;  // the first bad rows in input order (at most 2x the sample limit)
    std::vector<std::uint64_t> chunk_lines;  // LFs per chunk index, to resolve reported line numbers
    std::atomic<std::uint64_t> bad_count{0};
    std::optional<located_bad_row> unterminated;  // a quote that never closes (only ever in the last chunk)
    std::optional<std::uint64_t> too_long_at_chunk;  // next_chunk() found a record longer than the cap here
    const std::uint64_t bad_before = result.bad_rows;
    const bool stop_at_first = request.on_bad_row == bad_row_policy::error;
    const std::string file_name = source.name();

    std::atomic<bool> failed{false};  // one worker threw: the others stop taking chunks
    pool.run_workers([&](unsigned id) {
      worker_state& w = workers[id];
      w.codes.resize(code_batch);
      if (timed) w.values.resize(code_batch);
      std::vector<std::pair<const char*, bad_row>> chunk_bad;
      try {
      while (!failed.load(std::memory_order_relaxed)) {
        std::optional<chunk> c;
        try {
          c = source.next_chunk();
        } catch (const error& e) {
          if (e.kind() != error_kind::record_too_long) throw;
          std::lock_guard lock(bad_mutex);
          too_long_at_chunk = source.chunks_cut();
          failed = true;
          break;
        }
        if (!c) break;
        if (c->index > first_error_chunk.load(std::memory_order_relaxed)) {
          source.release(*c);
          continue;
        }
        w.bytes += static_cast<std::uint64_t>(c->end - c->begin);
        std::uint64_t chunk_bad_count = 0;
        chunk_bad.clear();
        std::optional<std::pair<const char*, bad_row>> chunk_unterminated;
        auto on_bad = [&](row_problem problem, const char* where, const char*, std::uint32_t fields) {
          if (problem == row_problem::unterminated_quote) [[unlikely]] {
            // It swallowed the rest of the input: measure what, while the chunk's bytes are here.
            const std::uint64_t lfs = count_quotes_and_lines(where, c->end).lines;
            chunk_unterminated = {where, bad_row{.file = file_name,
                                                 .problem = problem,
                                                 .fields = fields,
                                                 .expected = options.num_fields,
                                                 .swallowed_lines = lfs + (c->end[-1] != '\n' ? 1 : 0),
                                                 .swallowed_bytes = static_cast<std::uint64_t>(c->end - where)}};
            return false;
          }
          ++chunk_bad_count;
          if (chunk_bad.size() < bad_row_sample_limit)
            chunk_bad.push_back(
                {where, bad_row{.file = file_name, .problem = problem, .fields = fields, .expected = options.num_fields}});
          return !stop_at_first;
        };
        // Out of line: building a bad_row in the hot loop's function slows every row down.
        auto on_bad_time = [&](std::string_view value, const char* record) __attribute__((noinline, cold)) {
          ++chunk_bad_count;
          if (chunk_bad.size() < bad_row_sample_limit) {
            bad_row row{.file = file_name,
                        .problem = row_problem::bad_timestamp,
                        .expected = options.num_fields,
                        .value = std::string(value.substr(0, 80)),
                        .expected_format = request.times->description()};
            chunk_bad.push_back({record, std::move(row)});
          }
          return !stop_at_first;
        };
        auto push_code = [&](std::string_view key) __attribute__((always_inline)) {
          if (w.direct) [[unlikely]] {
            if (key.data() < c->begin || key.data() >= c->end) key = w.key_copies.emplace_back(key);  // quoted
            w.keys[w.batched] = key;
            w.hashes[w.batched] = hash_key(key);
          } else {
            std::int64_t code;
            if (!w.last_key.find(key, code)) {
              code = w.local.encode(key);
              w.last_key.remember(key, code);
            }
            w.codes[w.batched] = static_cast<std::uint32_t>(code);
          }
          if (++w.batched == code_batch) flush(id, backend);
          return true;
        };
        // Plain counts get a callback without the time column, so their hot loop carries nothing of it.
        auto on_key_count = [&](std::string_view key, std::string_view, const char*) __attribute__((always_inline)) {
          return push_code(key);
        };
        auto on_key_timed = [&](std::string_view key, std::string_view value, const char* record)
                                __attribute__((always_inline)) {
          std::int64_t cached;
          if (!w.recent_times.find(value, cached)) {
            timestamp t;
            if (!request.times->parse(value, t)) [[unlikely]] return on_bad_time(value, record);
            cached = request.mode == value_mode::stats ? t : bucket_of(t, request.bucket);
            w.recent_times.remember(value, cached);
          }
          w.values[w.batched] = cached;
          return push_code(key);
        };
        const std::uint64_t lines =
            timed ? scan_records(c->begin, c->end, c->at_eof, options, w.scratch, on_key_timed, on_bad)
                  : scan_records(c->begin, c->end, c->at_eof, options, w.scratch, on_key_count, on_bad);
        if (w.direct) flush(id, backend);  // the batch's keys point into the chunk
        {
          std::lock_guard lock(bad_mutex);
          if (chunk_lines.size() <= c->index) chunk_lines.resize(c->index + 1, 0);
          chunk_lines[c->index] = lines;
        }
        if (chunk_unterminated) chunk_bad.push_back(std::move(*chunk_unterminated));
        if (!chunk_bad.empty()) {
          // Lines within the chunk, only for the rows we report: one pass, in order.
          std::uint64_t line = 0;
          const char* counted_to = c->begin;
          for (auto& [where, row] : chunk_bad) {
            line += count_quotes_and_lines(counted_to, where).lines;
            counted_to = where;
            row.line = line;
          }
          std::lock_guard lock(bad_mutex);
          if (chunk_unterminated) {
            unterminated = located_bad_row{c->index, std::move(chunk_bad.back().second)};
            chunk_bad.pop_back();
          }
          for (auto& entry : chunk_bad) bad_here.push_back({c->index, std::move(entry.second)});
          // Keep only the first rows in input order: the report shows bad_row_sample_limit of them.
          if (bad_here.size() > 2 * bad_row_sample_limit) {
            std::stable_sort(bad_here.begin(), bad_here.end(),
                             [](const auto& a, const auto& b) { return a.chunk_index < b.chunk_index; });
            bad_here.resize(bad_row_sample_limit);
          }
          bad_count += chunk_bad_count;
          if (stop_at_first || chunk_unterminated) {
            std::uint64_t current = first_error_chunk.load();
            while (c->index < current && !first_error_chunk.compare_exchange_weak(current, c->index)) {
            }
          }
          if (bad_before + bad_count.load() > request.max_bad_rows) failed = true;
        }
        source.release(*c);
      }
      flush(id, backend);
      } catch (...) {
        failed = true;
        throw;
      }
    });

    source.check_intact();  // before any error about bytes that may have been zeros
    std::stable_sort(bad_here.begin(), bad_here.end(),
                     [](const auto& a, const auto& b) { return a.chunk_index < b.chunk_index; });
    // Line numbers: chunk_lines is complete up to the last chunk that matters: every chunk before it was
    // scanned whole (a worker finishes its chunk before it stops).
    std::uint64_t last_chunk = bad_here.empty() ? 0 : bad_here.back().chunk_index;
    if (unterminated) last_chunk = std::max(last_chunk, unterminated->chunk_index);
    if (too_long_at_chunk) last_chunk = std::max(last_chunk, *too_long_at_chunk);
    std::vector<std::uint64_t> first_line(last_chunk + 1, source.first_data_line());
    for (std::size_t i = 1; i < first_line.size(); ++i) first_line[i] = first_line[i - 1] + chunk_lines[i - 1];
    for (auto& b : bad_here) b.row.line += first_line[b.chunk_index];
    if (unterminated) unterminated->row.line += first_line[unterminated->chunk_index];
    // The first problem in input order wins, whichever worker met it first.
    const bool bad_row_first =
        stop_at_first && !bad_here.empty() &&
        (!too_long_at_chunk || bad_here.front().chunk_index < *too_long_at_chunk) &&
        (!unterminated || bad_here.front().chunk_index <= unterminated->chunk_index);
    if (bad_row_first) {
      const bad_row& first = bad_here.front().row;
      throw error(error_kind_for(first.problem), describe(first), first.file, first.line, hint_for(first));
    }
    if (too_long_at_chunk && (!unterminated || *too_long_at_chunk <= unterminated->chunk_index)) {
      source.record_too_long(first_line[*too_long_at_chunk]);
    }
    if (unterminated) {
      const bad_row& row = unterminated->row;
      throw error(error_kind::unterminated_quote, describe(row), row.file, row.line, hint_for(row));
    }
    if (bad_before + bad_count.load() > request.max_bad_rows)
      throw error(error_kind::too_many_bad_rows,
                  "more than " + format_count(request.max_bad_rows) + " bad row" +
                      (request.max_bad_rows == 1 ? "" : "s") + " (--max-bad-rows " +
                      std::to_string(request.max_bad_rows) + "); stopped",
                  file_name, 0,
                  "fix the input, or raise --max-bad-rows (the first bad rows are listed with --on-bad-row warn)");
    result.bad_rows += bad_count.load();
    for (auto& b : bad_here) {
      if (result.bad_row_samples.size() >= bad_row_sample_limit) break;
      result.bad_row_samples.push_back(std::move(b.row));
    }
  };

  std::unique_ptr<count_backend> shared;  // stats and groups: one backend for every input
  std::vector<std::uint64_t> rows_before(workers.size());
  std::vector<std::uint64_t> bytes_before(workers.size());
  for (const auto& path : request.inputs) {
    for (std::size_t i = 0; i < workers.size(); ++i) {
      rows_before[i] = workers[i].rows;
      bytes_before[i] = workers[i].bytes;
    }
    if (timed) {
      if (!shared) {
        shared = make_backend();
        result.backend_name = std::string(shared->name());
      }
      count_input(path, *shared);
      if (request.progress != nullptr) request.progress->file_done();
      continue;
    }
    std::unique_ptr<count_backend> backend = make_backend();
    if (result.backend_name.empty()) result.backend_name = std::string(backend->name());
    std::vector<std::uint64_t> counts;
    try {
      count_input(path, *backend);
      const auto finishing = clock_type::now();
      counts = backend->finish(global.size());
      finish_time += clock_type::now() - finishing;
    } catch (const error& e) {
      // Only a bad input is left out; a stop of the whole run is not about one input.
      const error_category category = category_of(e.kind());
      if (request.on_bad_file == bad_file_policy::error || e.kind() == error_kind::too_many_bad_rows ||
          (category != error_category::data && category != error_category::io))
        throw;
      // Leave the input out whole: forget its rows and any codes a worker had not handed over yet.
      for (std::size_t i = 0; i < workers.size(); ++i) {
        workers[i].rows = rows_before[i];
        workers[i].bytes = bytes_before[i];
        workers[i].batched = 0;
        workers[i].key_copies.clear();
      }
      result.skipped_files.push_back({display_name(path), e.what()});
      if (request.progress != nullptr) request.progress->file_done();
      continue;
    }
    const auto t = backend->timings();
    result.backend_time.transfer += t.transfer;
    result.backend_time.sort += t.sort;
    result.backend_time.reduce += t.reduce;
    result.backend_time.setup += t.setup;
    if (result.counts.size() < counts.size()) result.counts.resize(counts.size(), 0);
    for (std::size_t code = 0; code < counts.size(); ++code) result.counts[code] += counts[code];
    if (request.per_file) {
      file_counts fc;
      fc.file = display_name(path);
      for (std::size_t code = 0; code < counts.size(); ++code)
        if (counts[code] != 0) fc.counts.emplace_back(static_cast<std::uint32_t>(code), counts[code]);
      result.per_file.push_back(std::move(fc));
    }
    if (request.progress != nullptr) request.progress->file_done();
  }
  if (timed) {
    if (!shared) shared = make_backend();
    const auto finishing = clock_type::now();
    if (request.mode == value_mode::stats) {
      result.stats = shared->finish_stats(global.size());
      result.counts.resize(global.size(), 0);
      for (std::size_t code = 0; code < result.stats.size(); ++code) result.counts[code] = result.stats[code].count;
    } else {
      result.groups = shared->finish_groups();
      result.counts.assign(global.size(), 0);
      for (const auto& g : result.groups) result.counts[g.code] += g.count;
    }
    finish_time += clock_type::now() - finishing;
    result.backend_time = shared->timings();
    if (result.time_name.empty()) result.time_name = request.has_header ? request.time_column : "time";
  }
  result.counts.resize(global.size(), 0);
  for (const auto& w : workers) {
    result.rows += w.rows;
    result.bytes += w.bytes;
  }
  if (result.key_name.empty()) result.key_name = request.has_header ? request.key : "key";
  result.finish_time = finish_time;
  result.parse_time = clock_type::now() - started - finish_time;
  return result;
}

}  // namespace labcount
