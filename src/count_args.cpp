#include "count_args.hpp"

#include <unistd.h>

#include <algorithm>

#include "input/input_source.hpp"
#include "output/output_compress.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {

void add_run_flags(CLI::App& cmd, run_flags& f) {
  const std::string input = "Input";
  cmd.add_flag("-r,--recursive", f.recursive,
               "Count every *.csv file (also .csv.gz, .zst, .bz2, .xz) below the given directories, in path order")
      ->group(input);
  cmd.add_flag("--no-header", f.no_header, "The input has no header row (then --key must be a number)")->group(input);
  cmd.add_option("-d,--delimiter", f.delimiter,
                 "Field delimiter: one character, or tab (default: detected from each header among , ; TAB |, or "
                 "an Excel 'sep=' first line; --verbose says which)")
      ->option_text("C")
      ->group(input);
  cmd.add_option("--skip", f.skip, "Leave out the first N lines of each input, before its header (a preamble)")
      ->check(non_negative_number())
      ->option_text("N")
      ->group(input);
  cmd.add_option("--comment", f.comment,
                 "Leave out the lines that start with this character, before the header and among the rows "
                 "(e.g. '#' in instrument and LIMS exports)")
      ->option_text("C")
      ->group(input);
  cmd.add_option("--on-bad-row", f.on_bad_row,
                 "A row with the wrong number of fields, bad quoting or a bad time: stop with an error (the "
                 "default), skip it (a summary on stderr), or warn (skip it and list it)")
      ->option_text("error|skip|warn")
      ->group(input);
  cmd.add_option("--max-bad-rows", f.max_bad_rows,
                 "With --on-bad-row skip or warn: stop with exit 1 once more than N rows are bad (default: no "
                 "limit)")
      ->check(non_negative_number())
      ->option_text("N")
      ->group(input);
  cmd.add_option("--on-bad-file", f.on_bad_file,
                 "An input that cannot be read or has bad data: stop and write nothing (the default), or leave it "
                 "out whole and list it at the end")
      ->option_text("error|skip")
      ->group(input);

  const std::string key_and_time = "Key and time";
  cmd.add_option("-k,--key", f.key,
                 "Key column: a header name or a 1-based number (default SampleID); several, comma-separated, "
                 "count per combination (--key SampleID,Assay)")
      ->option_text("COL[,COL...]")
      ->group(key_and_time);
  cmd.add_flag("--stats", f.time.stats,
               "Per key also: first_test, last_test (ISO 8601), active_days (distinct days with a test), repeats "
               "(rows whose key and time equal an earlier row's)")
      ->group(key_and_time);
  cmd.add_option("--per", f.time.per, "Count per key per time bucket (an ISO week runs Monday to Sunday)")
      ->option_text("hour|day|week|month")
      ->group(key_and_time);
  f.time.column_option =
      cmd.add_option("--time", f.time.column,
                     "Timestamp column for --stats and --per: a header name or a 1-based number (default TestTime)")
          ->option_text("COL")
          ->group(key_and_time);
  cmd.add_option("--time-format", f.time.format,
                 "Timestamp format in strftime notation, e.g. '%d.%m.%Y %H:%M', with %f (fraction of a second), %z (UTC "
                 "offset), %s / %Q (epoch seconds / milliseconds); default: detected per input (M/D/YYYY or D/M/YYYY "
                 "H:MM[:SS[.f]] [AM|PM], D.M.YYYY, ISO 8601, epoch)")
      ->option_text("FMT")
      ->group(key_and_time);

  const std::string output = "Output";
  cmd.add_flag("--per-file", f.per_file, "Counts per input file: adds a 'file' column before the key")->group(output);
  add_output_flags(cmd, f.output, output);

  const std::string execution = "Execution";
  cmd.add_option("-j,--threads", f.threads, "Host threads, 1 to 1024 (default: all hardware threads)")
      ->check(CLI::Range(1u, 1024u))
      ->option_text("N")
      ->group(execution);
  add_device_flag(cmd, f.device, execution);
  add_memory_flag(cmd, f.memory, execution, true);
  cmd.add_option("--chunk-size", f.chunk_bytes,
                 "Bytes per parse chunk (tuning; default from --memory and --threads, at most 4 MiB)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 34))
      ->option_text("BYTES")
      ->group(execution);
}

void add_output_flags(CLI::App& cmd, output_flags& f, const std::string& group) {
  cmd.add_option("--sort", f.sort,
                 "Output order: key (byte order; the default), count (largest first, ties by key), count-asc "
                 "(smallest first) or natural (numbers in keys by value: S2 before S10); with --top alone: count")
      ->option_text("key|count|count-asc|natural")
      ->group(group);
  cmd.add_option("--top", f.top, "Only the first N rows after sorting (0: all); alone, the N largest counts")
      ->check(non_negative_number())
      ->option_text("N")
      ->group(group);
  cmd.add_option("-f,--format", f.format,
                 "Output format (ndjson: one JSON object per line); default: from the -o file's extension (.tsv, "
                 ".json, .ndjson), else csv")
      ->option_text("csv|tsv|json|ndjson")
      ->group(group);
}

void add_output_file_flag(CLI::App& cmd, std::string& path, const std::string& group) {
  cmd.add_option("-o,--output", path,
                 "Output file (default: standard output), replaced only when the run succeeds; a name ending in .gz "
                 "or .zst is written compressed (-o counts.csv.gz)")
      ->option_text("FILE")
      ->group(group);
}

void add_memory_flag(CLI::App& cmd, std::string& memory, const std::string& group, bool with_pairs) {
  cmd.add_option("--memory", memory,
                 "Cap on the buffers for input data, e.g. 512M or 4G (default " + std::string(default_memory) +
                     "): one record may take half of it" +
                     (with_pairs ? "; --stats/--per keep their pairs within half of it and spill the rest to $TMPDIR "
                                   "(without --memory: half of the machine's memory); the key dictionary comes on top"
                                 : ""))
      ->option_text("SIZE")
      ->group(group);
}

void add_device_flag(CLI::App& cmd, int& device, const std::string& group) {
  cmd.add_option("--device", device, "GPU number, from 0 (default 0; `labcount info` lists them)")
      ->check(non_negative_number())
      ->option_text("N")
      ->group(group);
}

void add_no_progress_flag(CLI::App& cmd, bool& no_progress, const std::string& group) {
  cmd.add_flag("--no-progress", no_progress, "No progress line on stderr (it only shows on a terminal)")->group(group);
}

void add_message_flags(CLI::App& cmd, message_flags& f, const std::string& group, const std::string& quiet_help,
                       const std::string& verbose_help) {
  cmd.add_flag("-q,--quiet", f.quiet, quiet_help)->group(group);
  cmd.add_flag("-v,--verbose", f.verbose, verbose_help)->group(group);
}

void check_message_flags(const message_flags& f) {
  if (f.quiet && f.verbose)
    throw error(error_kind::usage, "--quiet and --verbose contradict each other", "", 0, "use one of them");
}

namespace {

std::uint64_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) : 0;
}

output_format format_of_path(const std::string& compressed_path) {
  // "counts.json.gz" is gzipped JSON.
  const std::string_view path = strip_compression_suffix(compressed_path);
  const auto ends_with = [&](std::string_view suffix) { return bytes::ends_with_ignoring_case(path, suffix); };
  if (ends_with(".tsv") || ends_with(".tab")) return output_format::tsv;
  if (ends_with(".json")) return output_format::json;
  if (ends_with(".ndjson") || ends_with(".jsonl")) return output_format::ndjson;
  return output_format::csv;
}

}  // namespace

std::unique_ptr<output_file> open_partial_output(const std::string& path) {
  if (output_compression_of(path) != compression::none)
    throw error(error_kind::usage, "a --partial state is written uncompressed, so it cannot be named " + path, "", 0,
                "name it e.g. part1.lcp (states are compact: about 5 bytes per key); merge reads them as they are");
  return std::make_unique<output_file>(path, output_file::by_name::plain);
}

output_options make_output_options(const output_flags& f, const std::string& output_path) {
  output_options out;
  out.format = !f.format.empty() ? parse_output_format(f.format) : format_of_path(output_path);
  out.order = !f.sort.empty() ? parse_sort_order(f.sort) : f.top > 0 ? sort_order::count : sort_order::key;
  out.top = f.top;
  return out;
}

run_plan make_run_plan(const run_flags& f, const char* command) {
  run_plan plan;
  count_request& request = plan.request;
  if (f.max_bad_rows != no_bad_row_limit && f.on_bad_row == "error")
    throw error(error_kind::usage, "--max-bad-rows applies to --on-bad-row skip or warn", "", 0,
                "--on-bad-row error (the default) stops at the first bad row; add --on-bad-row skip or warn");
  request.key = f.key;
  request.has_header = !f.no_header;
  request.delimiter = f.delimiter.empty() ? '\0' : parse_delimiter(f.delimiter);
  request.skip_lines = f.skip;
  if (!f.comment.empty()) {
    if (f.comment.size() != 1 || f.comment[0] == '"' || f.comment[0] == '\n' || f.comment[0] == '\r')
      throw error(error_kind::usage, "invalid --comment '" + f.comment + "': it must be one character", "", 0,
                  "e.g. --comment '#'");
    request.comment = f.comment[0];
  }
  request.on_bad_row = parse_bad_row_policy(f.on_bad_row);
  request.max_bad_rows = f.max_bad_rows;
  request.per_file = f.per_file;
  request.on_bad_file = parse_bad_file_policy(f.on_bad_file);
  std::optional<time_parser> times;
  apply_time_options(f.time, command, request, times);
  if (times) {
    plan.times = std::make_unique<time_parser>(std::move(*times));
    request.times = plan.times.get();
  }
  if (request.mode != value_mode::counts && (f.per_file || request.on_bad_file == bad_file_policy::skip))
    throw error(error_kind::usage,
                std::string(f.time.stats ? "--stats" : "--per") + " cannot be combined with " +
                    (f.per_file ? "--per-file" : "--on-bad-file skip"),
                "", 0,
                "time statistics take every row of every input together (distinct days and repeats cannot be "
                "taken apart again); run labcount once per file instead");

  plan.output = make_output_options(f.output);

  // --memory caps the buffers: the chunks in flight (one per worker, plus one being cut, plus a record
  // that straddles them) stay within it; a single record longer than half of it is an error.
  const bool memory_given = !f.memory.empty();
  const std::uint64_t memory = parse_memory(memory_given ? f.memory : default_memory);
  plan.threads = f.threads == 0 ? thread_pool::default_threads() : f.threads;
  request.chunk_bytes = f.chunk_bytes != 0
                            ? f.chunk_bytes
                            : static_cast<std::size_t>(std::clamp<std::uint64_t>(
                                  memory / (4 * (plan.threads + 2)), 64 << 10, input_source::default_chunk_bytes));
  request.max_record_bytes = static_cast<std::size_t>(memory / 2);

  // --stats and --per hold their (key, time) or (key, bucket) pairs within half of --memory when it is given
  // (the input buffers take about a quarter); otherwise within half of the machine's memory, as not to spill
  // runs that fit before (a spill costs a pass over the pairs on disk).
  if (request.mode != value_mode::counts)
    plan.backend.memory_budget = static_cast<std::size_t>(memory_given ? memory / 2 : std::max(memory, physical_memory()) / 2);
  plan.backend.num_workers = plan.threads;
  plan.backend.device = f.device;
  plan.backend.mode = request.mode;
  plan.backend.group_times = groups_of_times(request);
  return plan;
}

}  // namespace labcount
