// The flags of a counting run, declared once for every command that makes one (`count` and `bench`):
// each flag with one validator and one help text. What was parsed (run_flags, the words as typed) is
// turned into the run's plan by make_run_plan() after all parsing, with every combination check in one
// place, so `bench` measures exactly the run that `count` makes.
//
//   add_run_flags(cmd, flags)          // --key, --delimiter, --stats, --memory, --sort, ...
//   ... CLI11 parses ...
//   run_plan plan = make_run_plan(flags, "count");   // throws error(usage) for a bad combination
//   plan.request.inputs = ...; run_count(plan.request, ...)
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "backend/backend.hpp"
#include "cli_options.hpp"
#include "output/result_writer.hpp"
#include "parse_values.hpp"
#include "pipeline/count_pipeline.hpp"
#include "time/timestamp.hpp"

namespace labcount {

// --sort, --top, --format: how a table of counts is written (count, bench, merge).
struct output_flags {
  std::string sort;  // empty: key, or count with --top (the N most-tested keys)
  std::uint64_t top = 0;
  std::string format;  // empty: from the -o file's extension (.tsv, .json, .ndjson), else csv
};

struct run_flags {
  std::string key = "SampleID";
  bool no_header = false;
  std::string delimiter;  // empty: detected from each input's header
  std::size_t skip = 0;   // --skip N
  std::string comment;    // --comment C
  bool recursive = false;
  bool per_file = false;
  std::string on_bad_row = "error";
  std::uint64_t max_bad_rows = no_bad_row_limit;
  std::string on_bad_file = "error";
  time_options time;
  output_flags output;
  unsigned threads = 0;  // 0: all hardware threads
  int device = 0;
  std::string memory;  // empty: not given (default_memory for the input buffers; see make_run_plan)
  std::size_t chunk_bytes = 0;  // 0: from --memory and --threads
};

// Declares the shared flags on `cmd`, writing into `flags` (which must outlive the parse).
void add_run_flags(CLI::App& cmd, run_flags& flags);

// The flags that commands besides count and bench take too, each declared here once (one help text, one
// validator). `group` is the --help section.
void add_output_flags(CLI::App& cmd, output_flags& flags, const std::string& group);
void add_output_file_flag(CLI::App& cmd, std::string& path, const std::string& group);  // -o, --output
// --memory; `with_pairs`: the command's --stats/--per pairs are held within it too (count, bench).
void add_memory_flag(CLI::App& cmd, std::string& memory, const std::string& group, bool with_pairs = false);
void add_device_flag(CLI::App& cmd, int& device, const std::string& group);             // --device
void add_no_progress_flag(CLI::App& cmd, bool& no_progress, const std::string& group);  // --no-progress

// -q/--quiet and -v/--verbose, which every command takes; the help says what each does for that command.
// Both at once is a usage error (check_message_flags, called first thing in the command's run).
struct message_flags {
  bool quiet = false;
  bool verbose = false;
};
void add_message_flags(CLI::App& cmd, message_flags& flags, const std::string& group, const std::string& quiet_help,
                       const std::string& verbose_help);
void check_message_flags(const message_flags& flags);

// Throws error(usage) for a bad --sort or --format word. Without --format, the format `output_path` (the -o
// argument) names by its extension: .tsv/.tab tsv, .json json, .ndjson/.jsonl ndjson; else csv.
output_options make_output_options(const output_flags& flags, const std::string& output_path = "-");

// The output of --partial: written as it is (merge reads states uncompressed), so a .gz or .zst name
// is a usage error rather than a file whose name lies about its bytes.
std::unique_ptr<output_file> open_partial_output(const std::string& path);

struct run_plan {
  count_request request;               // all but the inputs and the progress meter
  std::unique_ptr<time_parser> times;  // request.times points here (stats, groups)
  output_options output;
  unsigned threads = 1;
  backend_options backend;
};

// `command` words hints ("run", "bench").
run_plan make_run_plan(const run_flags& flags, const char* command);

}  // namespace labcount
