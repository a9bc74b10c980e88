#include "cmd_merge.hpp"
#include "parse_values.hpp"

#include <memory>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "count_args.hpp"
#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "tools/merge.hpp"

namespace labcount {
namespace {

struct merge_options {
  std::vector<std::string> inputs;
  output_flags output_format;
  std::string output = "-";
  std::string memory = default_memory;
};

void run(const merge_options& opt) {
  output_options out_opts = make_output_options(opt.output_format);

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
  add_output_flags(*cmd, opt->output_format, "Output");
  add_output_file_flag(*cmd, opt->output, "Output");
  add_memory_flag(*cmd, opt->memory, "Execution");
  cmd->callback([opt] { run(*opt); });
  return cmd;
}

}  // namespace labcount
