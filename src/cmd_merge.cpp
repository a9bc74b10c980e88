#include "cmd_merge.hpp"
#include "mpi_job.hpp"
#include "parse_values.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "count_args.hpp"
#include "output/count_output.hpp"
#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "tools/merge.hpp"
#include "tools/partial_state.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

struct merge_options {
  std::vector<std::string> inputs;
  output_flags output_format;
  std::string output = "-";
  std::string partial;
  std::string memory = default_memory;
  message_flags messages;
};

// -v: what was merged, on stderr.
void say_merged(const merge_options& opt, std::size_t n, const char* what,
                std::chrono::steady_clock::time_point start) {
  if (!opt.messages.verbose) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "labcount: merged %zu input%s: %zu %s in %.3f s\n", opt.inputs.size(),
               opt.inputs.size() == 1 ? "" : "s", n, what, seconds);
}

// Partial states (count --partial): summed, or set-united for --stats, into the table one count over every
// part's inputs would write, or into one state again (--partial), so merges can run as a tree.
void merge_states(const merge_options& opt) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& in : opt.inputs)
    if (!is_partial_file(in))
      throw error(error_kind::usage,
                  "cannot merge partial states with other files: " + display_name(in) + " is not a partial state", "",
                  0, "merge count --partial states together, or count CSV outputs together");
  partial_state total = read_partial(opt.inputs.front());
  for (std::size_t i = 1; i < opt.inputs.size(); ++i)
    merge_partial(total, opt.inputs.front(), read_partial(opt.inputs[i]), opt.inputs[i]);
  std::unique_ptr<output_file> out_file =
      opt.partial.empty() ? std::make_unique<output_file>(opt.output) : open_partial_output(opt.partial);
  output_file& out = *out_file;
  const std::size_t keys = total.keys.size();
  if (!opt.partial.empty()) {
    write_partial(out, total);
  } else {
    count_request request;
    const count_result result = result_of(std::move(total), request);
    write_count_result(out, result, request, make_output_options(opt.output_format, opt.output));
  }
  out.commit();
  say_merged(opt, keys, "distinct keys", start);
}

void run(const merge_options& opt) {
  if (!opt.partial.empty() && opt.output != "-")
    throw error(error_kind::usage, "--partial writes a state instead of the table: give -o or --partial", "", 0,
                "merge parts into a state with --partial, or into the table with -o");
  if (std::any_of(opt.inputs.begin(), opt.inputs.end(), is_partial_file) || !opt.partial.empty())
    return merge_states(opt);
  output_options out_opts = make_output_options(opt.output_format, opt.output);

  // Open the output before the work so a bad -o path fails fast; it is only replaced on success, so
  // -o may name one of the inputs.
  const auto start = std::chrono::steady_clock::now();
  output_file out(opt.output);
  const merge_result result = merge_counts(opt.inputs, static_cast<std::size_t>(parse_memory(opt.memory) / 2));
  std::vector<count_row> rows = result.rows();
  out_opts.key_names = result.key_names();
  out_opts.with_file_column = result.per_file();
  order_rows(rows, out_opts);
  write_rows(out, rows, out_opts);
  out.commit();
  say_merged(opt, rows.size(), "table rows", start);
}

}  // namespace

CLI::App* setup_merge(CLI::App& parent) {
  auto opt = std::make_shared<merge_options>();
  CLI::App* cmd = parent.add_subcommand("merge", "Sum outputs of `labcount count` (a batch counted in parts) into one");
  cmd->footer(
      "Examples:\n"
      "  labcount count part1.csv -o c1.csv        # on one machine\n"
      "  labcount count part2.csv -o c2.csv        # on another\n"
      "  labcount merge c1.csv c2.csv -o total.csv # the same bytes as: labcount count part1.csv part2.csv\n"
      "  labcount merge c1.csv c2.csv --sort count --top 10 --format json\n"
      "  labcount count part1.csv --stats --partial p1.lcp   # any mode: a mergeable state\n"
      "  labcount merge p1.lcp p2.lcp -o stats.csv           # = labcount count part1.csv part2.csv --stats\n"
      "  labcount merge p1.lcp p2.lcp --partial p12.lcp      # merge in a tree\n"
      "\nInputs: partial states of `labcount count --partial` (every mode: counts, --per-file, --per, --stats;\n"
      "all made with the same options), or tables of `labcount count` in any format it writes (CSV, TSV,\n"
      "JSON, NDJSON; gzip/zstd-compressed too; formats may mix), all with the same columns: '<key>,count',\n"
      "or 'file,<key>,count' from count --per-file (then summed per file and key), where <key> may be several\n"
      "columns (--key A,B; the key and bucket of a --per table). Count the parts without --top (a cut output\n"
      "lacks rows); --stats needs states. JSON keys come back as JSON wrote them\n"
      "(bytes that were not UTF-8 are U+FFFD there): for byte-exact keys use CSV or TSV.\n"
      "\nOutput: as count's: a header, then one row per key with the summed count, ordered by key bytes\n"
      "(--sort count: most first). Keys are kept byte for byte.\n"
      "-o may name one of the inputs (merge total.csv new.csv -o total.csv): every input is read before\n"
      "the output replaces anything.\n"
      "Exit codes: 0 ok, 1 bad input data, 2 bad command line, 3 file error.");
  cmd->add_option("inputs", opt->inputs,
                  "Partial states (count --partial) or tables of labcount count (CSV, TSV, JSON, NDJSON, plain or "
                  "compressed); - reads standard input")
      ->required()
      ->option_text("FILE...");
  add_output_flags(*cmd, opt->output_format, "Output");
  add_output_file_flag(*cmd, opt->output, "Output");
  cmd->add_option("--partial", opt->partial,
                  "With partial states as inputs: write the merged state to FILE instead of the table (merge in a "
                  "tree)")
      ->option_text("FILE")
      ->group("Output");
  add_memory_flag(*cmd, opt->memory, "Execution");
  add_message_flags(*cmd, opt->messages, "Messages", "Nothing on stderr but errors (merge prints no warnings today)",
                    "Say what was merged and how long it took");
  cmd->callback([opt] {
    check_message_flags(opt->messages);
    expect_single_process("merge");
    run(*opt);
  });
  return cmd;
}

}  // namespace labcount
