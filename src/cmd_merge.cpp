#include "cmd_merge.hpp"
#include "parse_values.hpp"

#include <memory>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "tools/merge.hpp"

namespace labcount {
namespace {

struct merge_options {
  std::vector<std::string> inputs;
  std::string sort = "key";
  std::uint64_t top = 0;
  std::string format = "csv";
  std::string output = "-";
  std::string memory = default_memory;
};

void run(const merge_options& opt) {
  output_options out_opts;
  out_opts.format = parse_output_format(opt.format);
  out_opts.order = parse_sort_order(opt.sort);
  out_opts.top = opt.top;

  // Open the output before the work so a bad -o path fails fast; it is only replaced on success, so
  // -o may name one of the inputs.
  output_file out(opt.output);
  const merge_result result = merge_counts(opt.inputs, static_cast<std::size_t>(parse_memory(opt.memory) / 2));
  std::vector<count_row> rows = result.rows();
  out_opts.key_name = result.key_name();
  out_opts.with_file_column = result.per_file();
  order_rows(rows, out_opts);
  write_rows(out, rows, out_opts);
  out.commit();
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
      "\nInputs: CSV outputs of `labcount count` (its default --format csv), all with the same header:\n"
      "'<key>,count', or 'file,<key>,count' from count --per-file (then summed per file and key).\n"
      "Count the parts without --top (a cut output lacks rows) and without --stats (statistics such as\n"
      "active_days cannot be summed across parts).\n"
      "\nOutput: as count's: a header, then one row per key with the summed count, ordered by key bytes\n"
      "(--sort count: most first). Keys are kept byte for byte.\n"
      "-o may name one of the inputs (merge total.csv new.csv -o total.csv): every input is read before\n"
      "the output replaces anything.\n"
      "Exit codes: 0 ok, 1 bad input data, 2 bad command line, 3 file error.");
  cmd->add_option("inputs", opt->inputs, "CSV outputs of labcount count; - reads standard input")->required();
  cmd->add_option("--sort", opt->sort, "Output order: key (byte order) or count (descending, ties by key)")
      ->capture_default_str();
  cmd->add_option("--top", opt->top, "Only the first N rows after sorting (0: all)")->check(non_negative_number());
  cmd->add_option("-f,--format", opt->format, "Output format: csv, tsv or json")->capture_default_str();
  cmd->add_option("-o,--output", opt->output,
                  "Output file (default: standard output); replaced only when the run succeeds");
  cmd->add_option("--memory", opt->memory, "Cap on one record's buffer: a record may use half of it (e.g. 512M)")
      ->capture_default_str();
  cmd->callback([opt] { run(*opt); });
  return cmd;
}

}  // namespace labcount
