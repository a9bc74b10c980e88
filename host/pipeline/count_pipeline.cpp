#include "pipeline/count_pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "encode/shared_dictionary.hpp"
#include "input/input_source.hpp"
#include "pipeline/bad_rows.hpp"
#include "csv/key_tuple.hpp"
#include "pipeline/parse_worker.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"
#include "util/suggest.hpp"

namespace labcount {
namespace {

using clock_type = std::chrono::steady_clock;

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A name as people may write it: lower case, without spaces, '_', '-' and '.' ("Sample ID" -> "sampleid").
std::string loose_name(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '_' && c != '-' && c != '.' && c != '\t') out += bytes::ascii_lower(c);
  return out;
}

std::string delimiter_name(char d) { return d == '\t' ? std::string("TAB") : "'" + std::string(1, d) + "'"; }

// What a key column is called in the output when the input has no header: "key", or "key1", "key2", ...
// for the columns of a composite key.
std::string headerless_key_name(std::size_t part, std::size_t parts) {
  return parts == 1 ? std::string("key") : "key" + std::to_string(part + 1);
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

std::uint32_t resolve_key_column(const std::string& key, const std::vector<std::string>& header, bool has_header,
                                 const std::string& file, std::uint64_t header_line, const std::string& option,
                                 std::string* note) {
  const auto positions = [&](const std::vector<std::size_t>& at) {
    std::string out;
    for (std::size_t i = 0; i < at.size(); ++i)
      out += (i == 0 ? "" : i + 1 == at.size() ? " and " : ", ") + std::to_string(at[i] + 1);
    return out;
  };
  const auto ambiguous = [&](const std::vector<std::size_t>& at, const std::string& what) {
    std::string choices;
    for (std::size_t i = 0; i < at.size(); ++i)
      choices += (i == 0 ? "" : " or ") + option + " " + std::to_string(at[i] + 1);
    throw error(error_kind::missing_key_column,
                option + " " + key + " is ambiguous: " + what + " columns " + positions(at), file, header_line,
                "pick one by its number: " + choices);
  };
  if (has_header) {
    std::vector<std::size_t> exact;
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == key) exact.push_back(i);
    if (exact.size() > 1) ambiguous(exact, "the header names");
    if (exact.size() == 1) return static_cast<std::uint32_t>(exact[0]);
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
    throw error(error_kind::usage,
                option + " '" + key + "' is a column name, but with --no-header columns have no names", file, 0,
                "give the column's number instead, e.g. --key 2");
  // Then the names as people write them: case, spaces, '_', '-' and '.' aside (sample_id, Sample ID, sampleid).
  std::vector<std::size_t> loose;
  for (std::size_t i = 0; i < header.size(); ++i)
    if (!loose_name(key).empty() && loose_name(header[i]) == loose_name(key)) loose.push_back(i);
  if (loose.size() > 1) ambiguous(loose, "it matches (ignoring case and separators)");
  if (loose.size() == 1) {
    if (note != nullptr)
      *note = option + " " + key + " matched column " + std::to_string(loose[0] + 1) + " '" + header[loose[0]] +
              "' (ignoring case and separators)";
    return static_cast<std::uint32_t>(loose[0]);
  }
  std::string hint =
      "columns are " + list_columns(header) + "; pass one with " + option + " NAME or " + option + " NUMBER";
  if (const std::string near = closest_name(key, header); !near.empty())
    hint = "did you mean " + option + " '" + near + "'? (columns are " + list_columns(header) + ")";
  if (header.size() == 1 && header[0].find_first_of(";\t|,") != std::string::npos)
    hint = "the header has a single column '" + header[0] + "': is the delimiter right? e.g. --delimiter ';' or tab";
  throw error(error_kind::missing_key_column, "no column named '" + key + "' in the header", file, header_line, hint);
}

std::vector<std::string> key_parts_of(const std::string& key) {
  parsed_record parsed;
  parse_record(key.data(), key.data() + key.size(), ',', parsed);
  if (parsed.problem != row_problem::none || parsed.fields.empty()) return {key};
  return {parsed.fields.begin(), parsed.fields.end()};  // one field: unquoted ('"Sample, ID"' is Sample, ID)
}

std::vector<std::uint32_t> resolve_key_columns(const std::string& key, const std::vector<std::string>& header,
                                               bool has_header, const std::string& file, std::uint64_t header_line,
                                               std::vector<std::string>* notes) {
  const std::vector<std::string> parts = key_parts_of(key);
  const auto one = [&](const std::string& part) {
    std::string note;
    const std::uint32_t column = resolve_key_column(part, header, has_header, file, header_line, "--key", &note);
    if (!note.empty() && notes != nullptr) notes->push_back(std::move(note));
    return column;
  };
  // The whole text names one column when a header name is exactly it ("Sample, ID").
  // (One part: its text as written, or unquoted when --key quoted it: '"Sample, ID"'.)
  if (has_header && std::find(header.begin(), header.end(), key) != header.end()) return {one(key)};
  if (parts.size() == 1) return {one(parts[0])};
  if (parts.size() > max_key_parts)
    throw error(error_kind::usage,
                "--key " + key + " names " + std::to_string(parts.size()) + " columns; a key has at most " +
                    std::to_string(max_key_parts),
                file, 0, "group by fewer columns");
  std::vector<std::uint32_t> columns;
  for (const std::string& part : parts) {
    const std::uint32_t column = one(part);
    if (std::find(columns.begin(), columns.end(), column) != columns.end())
      throw error(error_kind::usage,
                  "--key " + key + " names column " + std::to_string(column + 1) +
                      (has_header ? " '" + header[column] + "'" : std::string()) + " twice",
                  file, header_line, "name each key column once");
    columns.push_back(column);
  }
  return columns;
}

std::vector<input_message> date_order_warnings(const std::vector<input_tally>& per_input) {
  std::vector<input_message> out;
  std::uint8_t before = 0;
  std::optional<std::size_t> last_input;
  for (const input_tally& t : per_input) {
    if (t.slash_dates == 0 || t.input == last_input) continue;  // no slash dates; another part of one input
    last_input = t.input;
    const auto order = [](std::uint8_t o) { return o == 2 ? "day first" : "month first"; };
    if (before != 0 && t.slash_dates != before)
      out.push_back({t.input, t.file + " reads its dates " + order(t.slash_dates) +
                                  (t.order_from_dates ? "" : " (nothing in its first rows tells)") +
                                  ", an input before it " + order(before) +
                                  " (see --verbose); give --time-format to read them all one way"});
    before = t.slash_dates;
  }
  return out;
}

std::vector<std::string> header_row_warnings(const std::vector<input_tally>& per_input) {
  std::vector<std::string> out;
  for (const auto& in : per_input)
    if (in.header_rows != 0)
      out.push_back(in.file + ": left out " + format_count(in.header_rows) + " row" + (in.header_rows == 1 ? "" : "s") +
                    " equal to the header (files joined with cat?): they are not data");
  return out;
}

void expect_rows_counted(const count_result& result, bad_row_policy policy, std::size_t num_inputs) {
  if (result.rows != 0 || (result.bad_rows == 0 && result.skipped_files.empty())) return;
  if (result.skipped_files.size() >= num_inputs)
    throw error(error_kind::no_rows_counted, "no rows counted: every input was left out (--on-bad-file skip)", "", 0,
                "the reasons are listed above; fix the inputs, or check --key and --delimiter");
  if (!result.skipped_files.empty())
    throw error(error_kind::no_rows_counted,
                "no rows counted: " + format_count(result.skipped_files.size()) + " of " + format_count(num_inputs) +
                    " inputs were left out (--on-bad-file skip), " + format_count(result.bad_rows) +
                    " bad rows were left out, and the rest hold no rows",
                "", 0, "the reasons are listed above; fix the inputs, or check --key and --delimiter");
  throw error(error_kind::no_rows_counted,
              "no rows counted: all " + format_count(result.bad_rows) + " data row" +
                  (result.bad_rows == 1 ? " was" : "s were") + " bad and left out (--on-bad-row " +
                  (policy == bad_row_policy::warn ? "warn" : "skip") + ")",
              "", 0, "is the delimiter right (--delimiter)? see the bad rows with --on-bad-row warn");
}

namespace {

// What planning the inputs so far decided: whether the output's column names are set (the first input that has
// them names them; a name may be empty: an empty header field stays empty in the output), and the notes given.
struct planned_so_far {
  bool key = false;
  bool time = false;
  std::unordered_set<std::string> notes;  // the notes given so far (a folder of thousands of inputs: no scan)
  std::optional<std::uint8_t> slash_dates;  // how the last input with slash dates (8/10/2004) read them
};

// Adds `note` to result.notes unless it is there already (every input of a batch usually matches alike).
// The note is about the input being planned (result.per_input's last).
void add_note(count_result& result, planned_so_far& named, std::string note) {
  if (named.notes.insert(note).second) result.notes.push_back({result.per_input.back().input, std::move(note)});
}

// The texts of the time column in an input's first rows (at most 1,000, within its first 64 KiB): the rows
// for_input tells the day order from. Quoted ones unescaped (Excel's "quote all" exports quote every field).
std::vector<std::string> sample_times(input_source& source, const scan_options& options) {
  constexpr std::size_t max_rows = 1000;
  bool whole = false;
  const std::string_view bytes = source.peek(std::size_t{64} << 10, &whole);
  std::vector<std::string> texts;
  parsed_record record;
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end && texts.size() < max_rows) {
    const char* record_end = find_record_end(p, end);
    // A record the sample's end cut is not a whole row, but the input's last one (no final LF) is.
    if (record_end == end && !whole) break;
    const char* line_end = record_end > p && record_end[-1] == '\r' ? record_end - 1 : record_end;
    if (line_end > p && !(options.skip_comments && *p == options.comment)) {
      parse_record(p, line_end, options.delimiter, record);
      if (record.problem == row_problem::none && record.fields.size() == options.num_fields)
        texts.emplace_back(record.fields[options.value_field]);
    }
    if (record_end == end) break;
    p = record_end + 1;
  }
  return texts;
}

// Opens one input, reads its header and resolves the columns: the plan its workers share. Returns
// false for an input that holds no record (a warning, not an error).
bool plan_input(const count_request& request, input_source& source, count_result& result, parse_plan& plan,
                planned_so_far& named) {
  std::vector<std::string> header;
  std::uint64_t header_line = 0;
  bool has_record = false;
  char delimiter = request.delimiter;
  source.skip_leading(request.skip_lines, request.comment);
  try {
    has_record = source.read_first_record(delimiter, request.has_header, header, header_line, &plan.header_record);
  } catch (const error&) {
    source.check_intact();  // a shrunk file's zero pages are not the data's fault
    throw;
  }
  source.check_intact();
  if (!has_record) {
    // (The output's column names come from the first input that has a header, or from --key.)
    result.warnings.push_back({result.per_input.back().input, source.name() + ": the input is empty"});
    return false;
  }
  plan.file_name = source.name();
  plan.rows_progress = request.progress.rows;
  plan.stop_at_first = request.on_bad_row == bad_row_policy::error;
  plan.mode = request.mode;
  if (request.times != nullptr) plan.times = *request.times;
  plan.bucket = request.bucket;
  plan.options.delimiter = delimiter;
  plan.options.skip_comments = request.comment != '\0';
  plan.options.comment = request.comment;
  if (source.lone_cr_line_ends())
    add_note(result, named, source.name() + ": records end in a lone CR (old Mac line breaks): read as line ends");
  if (request.delimiter == '\0')
    result.notes.push_back({result.per_input.back().input, source.name() + ": delimiter " + delimiter_name(delimiter) +
                                                               " (detected from the " +
                                                               (request.has_header ? "header" : "first row") + ")"});
  plan.options.num_fields = static_cast<std::uint32_t>(header.size());
  std::vector<std::string> notes;
  const std::vector<std::uint32_t> key_columns =
      resolve_key_columns(request.key, header, request.has_header, source.name(), header_line, &notes);
  for (auto& n : notes) add_note(result, named, std::move(n));
  plan.options.key_field = key_columns[0];
  plan.options.key_parts = static_cast<std::uint32_t>(key_columns.size());
  std::copy(key_columns.begin(), key_columns.end(), plan.options.key_fields.begin());
  if (named.key && result.key_names.size() != key_columns.size())
    throw error(error_kind::usage,
                "--key " + request.key + " names " + std::to_string(key_columns.size()) + " column" +
                    (key_columns.size() == 1 ? "" : "s") + " here but " + std::to_string(result.key_names.size()) +
                    " in the first input",
                source.name(), header_line, "give the key columns by name, so every input finds the same ones");
  if (!named.key) {
    result.key_names.clear();
    for (std::size_t part = 0; part < key_columns.size(); ++part)
      result.key_names.push_back(request.has_header ? header[key_columns[part]]
                                                    : headerless_key_name(part, key_columns.size()));
    named.key = true;
  }
  if (request.has_header) {
    std::vector<std::string_view> parts;
    for (const std::uint32_t column : key_columns) parts.push_back(header[column]);
    plan.header_key = key_columns.size() == 1 ? std::string(parts[0]) : key_tuple::encode(parts);
  } else {
    plan.header_record.clear();  // the first row is data: nothing to compare rows with
  }
  if (request.mode != value_mode::counts) {
    std::string note;
    plan.options.value_field = resolve_key_column(request.time_column, header, request.has_header, source.name(),
                                                  header_line, "--time", &note);
    if (!note.empty()) add_note(result, named, std::move(note));
    if (!named.time) {
      result.time_name = request.has_header ? header[plan.options.value_field] : "time";
      named.time = true;
    }
    // How this input writes its times, from its first rows (day first or month first).
    if (request.times->automatic()) {
      std::string note;
      const std::vector<std::string> texts = sample_times(source, plan.options);
      plan.times = request.times->for_input(std::vector<std::string_view>(texts.begin(), texts.end()), &note);
      if (!note.empty()) add_note(result, named, source.name() + ": " + note);
      if (std::any_of(texts.begin(), texts.end(), [](const std::string& t) { return t.find('/') != std::string::npos; })) {
        // Inputs of one run read their slash dates in different orders (each by its own dates, or month first
        // for lack of a day above 12): a warning, so that a batch of one lab's files is not read two ways quietly.
        input_tally& tally = result.per_input.back();
        tally.slash_dates = plan.times.day_first() ? 2 : 1;
        tally.order_from_dates = plan.times.order_from_dates();
        if (request.warn_date_order && named.slash_dates) {
          input_tally before;
          before.input = std::numeric_limits<std::size_t>::max();
          before.slash_dates = *named.slash_dates;
          for (auto& w : date_order_warnings(std::vector<input_tally>{before, tally}))
            result.warnings.push_back(std::move(w));
        }
        named.slash_dates = tally.slash_dates;
      }
    }
  }
  return true;
}

}  // namespace

count_result run_count(const count_request& request, count_backend& backend, thread_pool& pool) {
  if (request.ranges_done != nullptr) request.ranges_done->clear();  // (a backend that restarts the run)
  LABCOUNT_EXPECTS(!request.inputs.empty(), "no inputs");
  const bool timed = request.mode != value_mode::counts;
  LABCOUNT_EXPECTS(backend.mode() == request.mode, "a backend made for the request's mode");
  LABCOUNT_EXPECTS(backend.num_workers() >= pool.size(), "a backend with a worker id per pool thread");
  LABCOUNT_EXPECTS(!timed || request.times != nullptr, "stats and groups need a time parser");
  LABCOUNT_EXPECTS(!timed || (!request.per_file && request.on_bad_file == bad_file_policy::error),
                   "stats and groups take every row into one reduction: no per-file counts, no skipped files");
  const auto started = clock_type::now();
  const std::size_t chunk_bytes = request.chunk_bytes != 0 ? request.chunk_bytes : input_source::default_chunk_bytes;
  count_result result;
  result.backend_name = std::string(backend.name());
  shared_dictionary global;
  planned_so_far named;
  std::vector<parse_worker> workers(pool.size());
  std::chrono::nanoseconds finish_time{0};
  auto finish = [&] {
    if (request.progress.phase != nullptr) {
      request.progress.phase_items->store(global.size(), std::memory_order_relaxed);
      request.progress.phase->store(run_phase::reducing, std::memory_order_relaxed);
    }
    const auto finishing = clock_type::now();
    reduction reduced = backend.finish(global.size());
    finish_time += clock_type::now() - finishing;
    if (request.progress.phase != nullptr) request.progress.phase->store(run_phase::reading, std::memory_order_relaxed);
    return reduced;
  };
  auto input_done = [&] {
    if (request.progress.files != nullptr) request.progress.files->fetch_add(1, std::memory_order_relaxed);
  };

  // Counts one input into the backend; throws on bad data or I/O errors.
  auto count_input = [&](std::size_t index) {
    const std::string& path = request.inputs[index];
    if (request.current_input != nullptr) *request.current_input = index;
    if (request.in_range != nullptr) *request.in_range = false;
    input_source source(path, chunk_bytes, request.progress.bytes, request.max_record_bytes);
    if (source.compressed() && request.progress.compressed != nullptr)
      request.progress.compressed->store(true, std::memory_order_relaxed);
    result.per_input.push_back({index, source.name()});
    parse_plan plan;
    if (!plan_input(request, source, result, plan, named)) {
      result.per_input.back().empty = true;
      return;
    }
    if (index < request.ranges.size() && !request.ranges[index].whole) {
      const auto& range = request.ranges[index];
      source.restrict_to(range.begin, range.end, range.first_line, range.cut);
      if (request.in_range != nullptr) *request.in_range = true;
    }
    bad_row_log bad_rows(request.on_bad_row, result.bad_rows, request.max_bad_rows);
    std::atomic<bool> stop{false};  // a worker threw or the run must stop: the others take no more chunks
    std::uint64_t header_rows_before = 0;
    for (const auto& w : workers) header_rows_before += w.header_rows();
    // An input of one chunk (a folder of small files) is counted on this thread by worker 0: waking the pool
    // costs more than the input.
    // A compressed input is inflated by a thread of its own (input/readahead.hpp): one worker sits it out, so
    // that --threads is the threads the run keeps busy.
    const unsigned active = source.compressed() && pool.size() > 1 ? pool.size() - 1 : pool.size();
    if (source.mapped() && source.bytes().size() - source.data_offset() <= chunk_bytes)
      workers[0].run(0, source, plan, bad_rows, global, backend, stop);
    else
      pool.run_workers([&](unsigned id) {
        if (id < active) workers[id].run(id, source, plan, bad_rows, global, backend, stop);
      });
    bad_row_log::summary found = bad_rows.finish(source);  // throws the input's first error
    std::uint64_t header_rows = 0;
    for (const auto& w : workers) header_rows += w.header_rows();
    result.per_input.back().header_rows = header_rows - header_rows_before;
    result.per_input.back().bad_rows = found.bad_rows;
    if (index < request.ranges.size() && !request.ranges[index].whole && request.ranges_done != nullptr) {
      const std::optional<std::uint64_t> end = source.range_end();
      LABCOUNT_EXPECTS(end.has_value(), "every chunk of the range handed out");
      request.ranges_done->push_back({index, *end, found.lines});
    }
    result.bad_rows += found.bad_rows;
    for (auto& row : found.samples) {
      row.input = index;
      if (result.bad_row_samples.size() < bad_row_sample_limit) result.bad_row_samples.push_back(std::move(row));
    }
  };

  if (timed) {
    // Stats and groups: every input into one reduction (distinct times are a set union).
    for (std::size_t i = 0; i < request.inputs.size(); ++i) {
      count_input(i);
      input_done();
    }
    reduction reduced = finish();
    if (request.mode == value_mode::stats) {
      result.counts.resize(reduced.stats.size(), 0);
      for (std::size_t code = 0; code < reduced.stats.size(); ++code) result.counts[code] = reduced.stats[code].count;
      result.stats = std::move(reduced.stats);
    } else {
      result.counts.assign(global.size(), 0);
      for (const auto& g : reduced.groups) result.counts[g.code] += g.count;
      result.groups = std::move(reduced.groups);
    }
    if (!named.time) result.time_name = request.has_header ? request.time_column : "time";
  } else if (!request.per_file && request.on_bad_file == bad_file_policy::error) {
    // Counts, nothing wanting an input's counts alone: one reduction for the run (a folder of thousands of
    // small files pays no finish and reset per file).
    for (std::size_t i = 0; i < request.inputs.size(); ++i) {
      count_input(i);
      input_done();
    }
    result.counts = finish().counts;
  } else {
    // Counts: one reduction per input, so that a bad input can be left out whole (--on-bad-file skip) and
    // --per-file has each input's counts; the backend is reset between inputs.
    for (std::size_t i = 0; i < request.inputs.size(); ++i) {
      const std::string& path = request.inputs[i];
      for (auto& w : workers) w.mark();
      std::vector<std::uint64_t> counts;
      try {
        count_input(i);
        counts = finish().counts;
      } catch (const error& e) {
        // Only a bad input is left out; a stop of the whole run is not about one input.
        const error_category category = category_of(e.kind());
        if (request.on_bad_file == bad_file_policy::error || e.kind() == error_kind::too_many_bad_rows ||
            (category != error_category::data && category != error_category::io))
          throw;
        for (auto& w : workers) w.roll_back();  // forget its rows and the codes not handed over yet
        backend.reset();
        if (!result.per_input.empty() && result.per_input.back().input == i)
          result.per_input.pop_back();  // left out whole: its tallies with it
        result.skipped_files.push_back({display_name(path), e.what(), i});
        input_done();
        continue;
      }
      backend.reset();
      if (result.counts.size() < counts.size()) result.counts.resize(counts.size(), 0);
      for (std::size_t code = 0; code < counts.size(); ++code) result.counts[code] += counts[code];
      if (request.per_file) {
        file_counts fc;
        fc.file = display_name(path);
        for (std::size_t code = 0; code < counts.size(); ++code)
          if (counts[code] != 0) fc.counts.emplace_back(static_cast<std::uint32_t>(code), counts[code]);
        result.per_file.push_back(std::move(fc));
      }
      input_done();
    }
  }
  result.backend_time = backend.timings();
  result.counts.resize(global.size(), 0);
  result.dictionary = std::move(global).release();
  for (const auto& w : workers) {
    result.rows += w.rows();
    result.bytes += w.bytes();
  }
  if (!named.key) {
    const std::vector<std::string> parts = key_parts_of(request.key);
    result.key_names.clear();
    for (std::size_t part = 0; part < parts.size(); ++part)
      result.key_names.push_back(request.has_header ? parts[part] : headerless_key_name(part, parts.size()));
  }
  result.finish_time = finish_time;
  result.parse_time = clock_type::now() - started - finish_time;
  return result;
}

}  // namespace labcount
