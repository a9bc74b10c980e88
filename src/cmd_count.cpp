#include "cmd_count.hpp"
#include "parse_values.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "backend_registry.hpp"
#include "cli_options.hpp"
#include "distributed/distributed_count.hpp"
#include "mpi_job.hpp"
#include "count_args.hpp"
#include "input/input_list.hpp"
#include "input/zip_archive.hpp"
#include "output/count_output.hpp"
#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "phase_report.hpp"
#include "pipeline/count_pipeline.hpp"
#include "progress.hpp"
#include "time/timestamp.hpp"
#include "tools/partial_state.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

// Notes and warnings are our own sentences with a name or two in them; printable()'s default limit is for quoting
// input bytes, and would cut a long sentence short.
constexpr std::size_t sentence_limit = 2000;

struct count_options {
  std::vector<std::string> inputs;
  run_flags run;  // the flags count shares with bench
  std::string backend = "auto";
  std::string output = "-";
  std::string partial;  // --partial FILE: the mergeable state instead of the table
  bool no_progress = false;
  bool progress = false;  // --progress: drawn even where stderr is no terminal (MPI ranks' is never one)
  bool timing = false;
  message_flags messages;
  bool device_given = false;  // --device on the command line (an MPI rank otherwise takes its node's GPU)
};

// The bytes the inputs take on disk (a ZIP archive once, however many of its members are inputs).
std::uint64_t total_input_bytes(const std::vector<std::string>& inputs) {
  std::uint64_t total = 0;
  std::string previous_archive;
  for (const auto& path : inputs) {
    std::string archive, member;
    if (split_zip_member_input(path, archive, member)) {
      if (archive == previous_archive) continue;
      previous_archive = archive;
    }
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

double seconds(std::chrono::nanoseconds ns) { return std::chrono::duration<double>(ns).count(); }

void report_bad_rows(const count_result& result, bad_row_policy policy, bool quiet) {
  if (result.bad_rows == 0 || quiet) return;
  if (policy == bad_row_policy::warn) {
    for (const auto& row : result.bad_row_samples)
      std::fprintf(stderr, "labcount: warning: %s:%llu: %s (row left out)\n", printable(row.file).c_str(),
                   static_cast<unsigned long long>(row.line), printable(describe(row)).c_str());
    if (result.bad_rows > result.bad_row_samples.size())
      std::fprintf(stderr, "labcount: warning: ... and %s more bad rows\n",
                   format_count(result.bad_rows - result.bad_row_samples.size()).c_str());
  }
  const std::uint64_t total = result.rows + result.bad_rows;
  // One significant digit below 1% (0.0003%), whole percents above; never "100%" while rows were counted.
  const double percent = 100.0 * static_cast<double>(result.bad_rows) / static_cast<double>(total);
  char share[32];
  if (percent >= 1) {
    std::snprintf(share, sizeof share, "%.0f%%", percent);
    if (result.rows != 0 && std::string_view(share) == "100%") std::snprintf(share, sizeof share, ">99%%");
  } else {
    const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(percent))), 1, 9);
    std::snprintf(share, sizeof share, "%.*f%%", decimals, percent);
  }
  std::fprintf(stderr, "labcount: left out %s bad row%s of %s (%s; --on-bad-row %s); %s row%s counted\n",
               format_count(result.bad_rows).c_str(), result.bad_rows == 1 ? "" : "s", format_count(total).c_str(),
               share, policy == bad_row_policy::warn ? "warn" : "skip", format_count(result.rows).c_str(),
               result.rows == 1 ? "" : "s");
}

void report_skipped(const count_result& result, std::size_t num_inputs) {
  if (result.skipped_files.empty()) return;
  // Always printed, even with --quiet: inputs were left out of the result.
  std::fprintf(stderr, "labcount: left out %zu of %zu input%s (--on-bad-file skip):\n", result.skipped_files.size(),
               num_inputs, num_inputs == 1 ? "" : "s");
  for (const auto& f : result.skipped_files) std::fprintf(stderr, "  %s\n", f.reason.c_str());
}

// After the count: the output (a table, or a state with --partial) and what stderr says about the run.
// `state`: an MPI job's merged state (the result then holds its report only).
// `progress` (null: none) says what is written, and is stopped before anything else goes to stderr.
void write_and_report(const count_options& opt, const count_request& request, const output_options& out_opts,
                      value_mode table, output_file& out, count_result result, std::optional<partial_state> state,
                      std::vector<skipped_file> skipped_before, std::size_t num_inputs,
                      std::chrono::steady_clock::time_point started, progress_meter* progress = nullptr) {
  const bool partial = !opt.partial.empty();
  result.skipped_files.insert(result.skipped_files.begin(), skipped_before.begin(), skipped_before.end());
  const std::uint64_t rows = state ? state->rows : result.rows;
  if (rows == 0 && (result.bad_rows != 0 || !result.skipped_files.empty())) {
    if (progress != nullptr) progress->stop();
    report_bad_rows(result, request.on_bad_row, opt.messages.quiet);
    report_skipped(result, num_inputs);
    count_result counted;
    counted.bad_rows = result.bad_rows;
    counted.skipped_files = result.skipped_files;
    expect_rows_counted(counted, request.on_bad_row, num_inputs);  // throws: nothing is written
  }

  const auto output_started = std::chrono::steady_clock::now();
  std::size_t distinct_keys = state ? state->keys.size() : result.dictionary.size();
  if (progress != nullptr) {
    // The table to the terminal the line is drawn on: the line goes first, or it would land among the rows.
    if (opt.output == "-" && opt.partial.empty() && ::isatty(STDOUT_FILENO) == 1)
      progress->stop();
    else
      progress->writing(distinct_keys);
  }
  if (state && partial) {
    write_partial(out, *state);
  } else if (state) {
    // The job's table: the merged state, as `labcount merge` turns states into it, with the job's report.
    count_request table_request = request;
    count_result whole = result_of(std::move(*state), table_request);
    whole.bad_rows = result.bad_rows;
    whole.dictionary.drop_lookups();
    write_count_result(out, whole, table_request, out_opts);
  } else if (partial) {
    write_partial(out, partial_of(std::move(result), request, table));  // moves the keys out of result
  } else {
    result.dictionary.drop_lookups();  // the table is all that is left to do: it needs the keys, not the lookups
    write_count_result(out, result, request, out_opts);
  }
  out.commit();
  if (progress != nullptr) progress->stop();
  if (opt.timing)
    std::fputs(format_phases(result, seconds(std::chrono::steady_clock::now() - output_started)).c_str(), stderr);

  if (!opt.messages.quiet)
    for (const auto& w : result.warnings)
      std::fprintf(stderr, "labcount: warning: %s\n", printable(w.text, sentence_limit).c_str());
  if (!opt.messages.quiet)
    for (const auto& w : header_row_warnings(result.per_input))
      std::fprintf(stderr, "labcount: warning: %s\n", printable(w, sentence_limit).c_str());
  result.rows = rows;
  report_bad_rows(result, request.on_bad_row, opt.messages.quiet);
  report_skipped(result, num_inputs);
  if (opt.messages.verbose) {
    constexpr std::size_t shown_notes = 20;  // one per input: a directory of thousands would flood the terminal
    for (std::size_t i = 0; i < result.notes.size() && i < shown_notes; ++i)
      std::fprintf(stderr, "labcount: %s\n", printable(result.notes[i].text, sentence_limit).c_str());
    if (result.notes.size() > shown_notes)
      std::fprintf(stderr, "labcount: (%zu more inputs)\n", result.notes.size() - shown_notes);
    const double total = seconds(std::chrono::steady_clock::now() - started);
    const double parse = seconds(result.parse_time);
    std::fprintf(stderr,
                 "labcount: %llu rows, %zu distinct keys, %.1f MB in %.3f s (parse+encode %.3f s, %.2f GB/s; "
                 "reduce %.3f s)\n",
                 static_cast<unsigned long long>(rows), distinct_keys, result.bytes / 1e6, total, parse,
                 parse > 0 ? result.bytes / parse / 1e9 : 0.0, seconds(result.finish_time));
    const auto& t = result.backend_time;
    if (t.spilled_bytes != 0)
      std::fprintf(stderr, "labcount: the pairs passed --memory: %.2f GB spilled to disk and read back by partition\n",
                   static_cast<double>(t.spilled_bytes) / 1e9);
    if (t.transfer.count() + t.sort.count() + t.reduce.count() + t.setup.count() > 0)
      std::fprintf(stderr, "labcount: %s phases: setup %.3f s, transfer %.3f s, sort %.3f s, reduce %.3f s\n",
                   result.backend_name.c_str(), seconds(t.setup), seconds(t.transfer), seconds(t.sort),
                   seconds(t.reduce));
  }
}

void run(const count_options& opt) {
  check_message_flags(opt.messages);
  communicator* job = mpi_job();
  run_flags flags = opt.run;
  // An MPI rank shares its node: the node's cores divided among the ranks on it.
  if (job != nullptr && flags.threads == 0)
    flags.threads = std::max(1u, thread_pool::default_threads() / static_cast<unsigned>(job->local_size()));
  run_plan plan = make_run_plan(flags, "run");
  count_request& request = plan.request;
  if (job != nullptr && !opt.device_given) plan.backend.node_rank = job->local_rank();
  if (opt.run.output.format.empty()) plan.output.format = make_output_options(opt.run.output, opt.output).format;
  const output_options& out_opts = plan.output;
  const bool partial = !opt.partial.empty();
  value_mode table = request.mode;
  if (partial) {
    if (opt.output != "-")
      throw error(error_kind::usage, "--partial writes the run's state instead of the table: give -o or --partial", "",
                  0, "count each part with --partial part1.lcp ..., then: labcount merge part*.lcp -o table.csv");
    if (opt.run.output.top != 0)
      throw error(error_kind::usage, "--top cannot be combined with --partial: a state keeps every key", "", 0,
                  "give --top to labcount merge instead");
  }
  if (partial || job != nullptr) {
    // An MPI job's ranks exchange partial states whatever it writes.
    table = prepare_partial_request(request);
    plan.backend.mode = request.mode;
    plan.backend.group_times = groups_of_times(request);
  }

  // No input named: standard input when something is piped or redirected into it (`cat f.csv | labcount
  // count`); a terminal or /dev/null there means the inputs were forgotten.
  std::vector<std::string> inputs = opt.inputs;
  if (inputs.empty() && job != nullptr)
    throw error(error_kind::usage, "no input given to `labcount count` under MPI", "", 0,
                "name the files or folders every rank can read, e.g. mpirun -np 4 labcount count /data/batch/ -r");
  if (inputs.empty()) {
    struct stat st {};
    if (::fstat(STDIN_FILENO, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode)))
      throw error(error_kind::usage, "no input given to `labcount count`", "", 0,
                  "give CSV files or folders, e.g. labcount count samplesTests.csv, or pipe one in: "
                  "cat samplesTests.csv | labcount count");
    inputs = {"-"};
    if (opt.messages.verbose) std::fprintf(stderr, "labcount: no input named: reading standard input\n");
  }
  std::size_t stdin_uses = 0;
  for (const auto& in : inputs) stdin_uses += in == "-";
  if (stdin_uses > 1)
    throw error(error_kind::usage, "standard input (-) is given more than once", "", 0, "give - once");
  if (stdin_uses != 0 && job != nullptr)
    throw error(error_kind::usage, "standard input (-) cannot be counted under MPI: each rank has its own", "", 0,
                "save it to a file every rank can read, and name the file");

  const unsigned threads = plan.threads;
  const bool speaks = reports_for_job();
  const bool quiet = opt.messages.quiet || !speaks;

  // The output first: a bad -o path fails before any work, and its identity keeps it out of the inputs.
  // It creates nothing until the result is written.
  // Under MPI each rank does this on its own node: a failure on one rank (its -o folder, its view of the
  // inputs, its GPU) is agreed on, so that every rank stops with it rather than some waiting for the others.
  std::unique_ptr<output_file> out_file;
  expanded_inputs expanded;
  selected_backend selected;
  std::uint64_t input_bytes = 0;
  std::optional<error> setup_failed;
  try {
    out_file = partial ? open_partial_output(opt.partial) : std::make_unique<output_file>(opt.output);
    expand_options expand;
    expand.recursive = opt.run.recursive;
    expand.skip_unreadable = request.on_bad_file == bad_file_policy::skip;
    expand.has_output = out_file->names_existing_file(expand.output_device, expand.output_inode);
    expand.output_name = opt.output;
    expanded = expand_inputs(inputs, expand);
    request.inputs = std::move(expanded.paths);
    input_bytes = total_input_bytes(request.inputs);
    selected = select_backend(parse_backend_choice(opt.backend), input_bytes, plan.backend);
  } catch (const error& e) {
    if (job == nullptr) throw;
    setup_failed = e;
  }
  if (job != nullptr) {
    agree_on_error(*job, setup_failed);
    std::vector<std::uint64_t> n = {request.inputs.size(), ~std::uint64_t{request.inputs.size()}};
    job->all_max(n);
    if (n[0] != request.inputs.size() || ~n[1] != request.inputs.size())
      throw error(error_kind::io, "the MPI ranks see different inputs (a folder differs between nodes?)", "", 0,
                  "name inputs that every rank sees alike (a shared file system)");
  }
  output_file& out = *out_file;
  if (opt.messages.verbose && speaks)
    for (const auto& note : expanded.notes) std::fprintf(stderr, "labcount: %s\n", printable(note, sentence_limit).c_str());
  if (!quiet)
    for (const auto& w : expanded.warnings) std::fprintf(stderr, "labcount: warning: %s\n", printable(w, sentence_limit).c_str());
  const std::size_t num_inputs = request.inputs.size() + expanded.skipped.size();
  if (opt.messages.verbose)  // (a rank's share of the inputs is dealt later: it names the job's)
    std::fprintf(stderr, "labcount: %sbackend %s (%s), %u thread%s, %s%zu input%s\n",
                 job != nullptr ? ("rank " + std::to_string(job->rank()) + ": ").c_str() : "",
                 std::string(selected.name()).c_str(), selected.reason.c_str(), threads, threads == 1 ? "" : "s",
                 job != nullptr ? "a share of the job's " : "", request.inputs.size(),
                 request.inputs.size() == 1 ? "" : "s");

  thread_pool pool(threads);
  plan.output.pool = &pool;  // a large table is ordered on the run's threads
  const auto started = std::chrono::steady_clock::now();
  const auto warn = [&, rank = job != nullptr ? "rank " + std::to_string(job->rank()) + ": " : std::string()](
                        const std::string& warning) {
    if (!opt.messages.quiet) std::fprintf(stderr, "labcount: warning: %s%s\n", rank.c_str(), warning.c_str());
  };
  const bool show_progress = !quiet && !opt.no_progress && (opt.progress || progress_meter::stderr_is_terminal());
  if (job != nullptr) {
    // Every rank counts its share; rank 0 writes the job's result (distributed/distributed_count.hpp) and draws
    // the job's progress line from every rank's counters.
    progress_meter progress(show_progress && !request.inputs.empty(), input_bytes, request.inputs.size());
    request.progress = progress.counters();
    std::optional<job_result> done;
    if (!request.inputs.empty())
      done = count_on_ranks(*job, request, table, [&](const count_request& share) {
        backend_options backend = plan.backend;
        backend.spilled_bytes = share.progress.spilled;
        return run_selected(selected, share, backend, pool, warn);
      });
    std::optional<error> failed;
    if (done && done->failed) failed = std::move(done->failed);  // rank 0's final merge
    if (speaks && !failed) {
      try {
        // Rank 0 orders and writes the table on its node's cores: the node's other ranks wait asleep meanwhile.
        std::optional<thread_pool> node_pool;
        if (job->local_size() > 1 && done) {
          try {
            node_pool.emplace(threads * static_cast<unsigned>(job->local_size()));
            plan.output.pool = &*node_pool;
          } catch (const std::system_error&) {  // no more threads to be had: the rank's own pool does it
          }
        }
        count_result report;
        std::optional<partial_state> state;
        if (done) {
          report = std::move(done->report);
          state = std::move(done->state);
        }
        count_request shown = request;
        shown.mode = table;  // the table's mode, for the messages
        write_and_report(opt, shown, out_opts, table, out, std::move(report), std::move(state), expanded.skipped,
                         num_inputs, started, &progress);
      } catch (const error& e) {
        failed = e;
      } catch (const std::bad_alloc&) {
        failed = error(error_kind::internal, "out of memory on MPI rank 0 (it holds every key to write the table)", "",
                       0, "use a machine with more memory for rank 0, or --partial states merged in a tree");
      } catch (const std::exception& e) {
        failed = error(error_kind::internal, std::string("MPI rank 0: ") + e.what());
      }
    }
    job->barrier_sleeping();       // the other ranks, while rank 0 writes
    agree_on_error(*job, failed);  // every rank ends with rank 0's outcome
    return;
  }

  count_result result;
  progress_meter progress(show_progress && !request.inputs.empty(), input_bytes, request.inputs.size());
  if (!request.inputs.empty()) {
    request.progress = progress.counters();
    plan.backend.spilled_bytes = request.progress.spilled;
    result = run_selected(selected, request, plan.backend, pool, warn, [&] { progress.restart(); });
  }
  write_and_report(opt, request, out_opts, table, out, std::move(result), std::nullopt, expanded.skipped, num_inputs,
                   started, &progress);
}

}  // namespace

CLI::App* setup_count(CLI::App& parent) {
  auto opt = std::make_shared<count_options>();
  CLI::App* cmd = parent.add_subcommand("count", "Count rows per key (e.g. tests per SampleID) in CSV files");
  cmd->footer(
      "Examples:\n"
      "  labcount count samplesTests.csv\n"
      "  labcount count samplesTests.zip                  # the CSV files in a ZIP (also .gz .zst .bz2 .xz)\n"
      "  cat tests.csv | labcount count --top 10          # standard input; the 10 most-tested samples\n"
      "  labcount count a.csv b.csv --key SampleID -o counts.csv\n"
      "  labcount count - < tests.csv\n"
      "  labcount count tests.csv --sort count --top 10 --format json\n"
      "  labcount count /data/batch-2024-08/ --recursive --per-file -o counts.csv\n"
      "  labcount count samplesTests.csv --stats          # first/last test, active days, repeats\n"
      "  labcount count samplesTests.csv --per day        # SampleID,day,count\n"
      "  labcount count p1.csv --stats --partial p1.lcp   # a mergeable state: labcount merge p*.lcp\n"
      "  labcount count lims_export.csv --comment '#'     # leave out a '#' preamble before the header\n"
      "  mpirun -np 8 labcount count /data/2024/ -r -o counts.csv   # one MPI job, the same bytes\n"
      "\nOutput: a CSV header '<key column>,count' and one row per distinct key, ordered by key bytes\n"
      "(--sort count: most first). Counts are summed over all inputs. Keys are kept byte for byte.\n"
      "Exit codes: 0 ok, 1 bad input data (or every row left out), 2 bad command line, 3 file error,\n"
      "4 backend or feature not available here, 5 the GPU failed while counting.");
  cmd->add_option("inputs", opt->inputs,
                  "CSV files (plain, compressed, or ZIP archives: recognised by content), directories with "
                  "--recursive, or - for standard input (the default when something is piped in)")
      ->option_text("FILE...");
  add_run_flags(*cmd, opt->run);
  add_output_file_flag(*cmd, opt->output, "Output");
  cmd->add_option("--partial", opt->partial,
                  "Write the run's mergeable state to FILE instead of a table, for `labcount merge` (every mode: "
                  "counts, --per-file, --per, --stats)")
      ->option_text("FILE")
      ->group("Output");
  cmd->add_option("--backend", opt->backend,
                  "auto (the default): the CPU for plain counts, the GPU for --stats/--per from 256 MiB when one is "
                  "usable (if it fails: a warning, then the CPU); cpu; gpu (an error when no GPU is usable)")
      ->option_text("auto|cpu|gpu")
      ->group("Execution");
  const std::string messages = "Messages";
  add_no_progress_flag(*cmd, opt->no_progress, messages);
  cmd->add_flag("--progress", opt->progress,
                "Draw the progress line even when stderr is not a terminal: under mpirun or srun, whose ranks never "
                "see one, rank 0 then draws the whole job's")
      ->excludes("--no-progress")
      ->group(messages);
  add_message_flags(*cmd, opt->messages, messages, "No warnings or summaries on stderr (errors are still printed)",
                    "Say which backend ran and why, and how long each phase took");
  cmd->add_flag("--timing", opt->timing,
                "Print how long each phase took (read+parse+encode, transfer, sort, reduce, output) to stderr")
      ->group(messages);
  cmd->callback([opt, cmd] {
    opt->device_given = cmd->count("--device") > 0;
    run(*opt);
  });
  return cmd;
}

}  // namespace labcount
