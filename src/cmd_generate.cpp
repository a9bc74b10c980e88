#include "cmd_generate.hpp"
#include "mpi_job.hpp"
#include "parse_values.hpp"

#include "cli_options.hpp"
#include "count_args.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "output/output_file.hpp"
#include "tools/generate.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// What the command line gives; counts stay text until the callback so "100M" can be parsed
// with an error that names the option.
struct generate_args {
  std::string rows = "886413";
  std::string samples = "1243";
  double skew = generate_options{}.skew;
  std::uint64_t seed = generate_options{}.seed;
  bool lf = false;
  std::string output = "-";
  message_flags messages;
};

void run_generate(const generate_args& args) {
  generate_options options;
  options.rows = parse_count("--rows", args.rows);
  const std::uint64_t samples = parse_count("--samples", args.samples);
  // Clamp instead of truncating to 32 bits, so validate() reports the value as too large.
  options.samples = samples > max_generate_samples ? max_generate_samples + 1 : static_cast<std::uint32_t>(samples);
  options.skew = args.skew;
  options.seed = args.seed;
  options.crlf = !args.lf;
  validate(options);
  const auto start = std::chrono::steady_clock::now();
  output_file out(args.output);
  generate_csv(options, out);
  out.commit();
  if (args.messages.verbose)
    std::fprintf(stderr, "labcount: generated %llu rows of %u samples (skew %g, seed %llu) in %.3f s\n",
                 static_cast<unsigned long long>(options.rows), options.samples, options.skew,
                 static_cast<unsigned long long>(options.seed),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

CLI::App* setup_generate(CLI::App& parent) {
  auto args = std::make_shared<generate_args>();
  CLI::App* cmd =
      parent.add_subcommand("generate",
                            "Write deterministic demo data in the format of the real lab file (TestTime,SampleID; "
                            "M/D/YYYY H:MM timestamps; S + 5-digit sample ids; CRLF). Sample popularity follows a Zipf "
                            "law with exponent --skew; timestamps start at 8/10/2004 0:00 and only move forward, about "
                            "20 rows a minute. The same options give the same bytes on every machine.");
  cmd->footer(
      "Examples:\n"
      "  labcount generate --rows 886413 --samples 1243 -o demo.csv   # the real file's size\n"
      "  labcount generate --rows 100M --samples 10k --skew 0 -o uniform.csv\n"
      "  labcount generate --rows 10 --lf                              # a peek, to stdout");
  const std::string options = "Options";
  cmd->add_option("--rows", args->rows,
                  "Number of data rows; suffixes k, M, G, T are powers of 1000, e.g. 100M (default " + args->rows + ")")
      ->option_text("N")
      ->group(options);
  cmd->add_option("--samples", args->samples,
                  "Number of distinct sample ids to draw from (some may not appear when rows are few); at most 10M; "
                  "suffixes as for --rows (default " + args->samples + ")")
      ->option_text("N")
      ->group(options);
  cmd->add_option("--skew", args->skew,
                  "Zipf exponent of sample popularity: 0 = uniform, 0.65 = like the real file (the default), larger = "
                  "a few samples dominate; 0 to 10")
      ->option_text("X")
      ->group(options);
  cmd->add_option("--seed", args->seed,
                  "Random seed; a different seed gives different data (default " + std::to_string(args->seed) + ")")
      ->option_text("N")
      ->group(options);
  cmd->add_flag("--lf", args->lf, "End lines with LF instead of the real file's CRLF")->group(options);
  cmd->add_option("-o,--output", args->output, "Output file, written atomically (default: standard output)")
      ->option_text("FILE")
      ->group(options);
  add_message_flags(*cmd, args->messages, "Messages", "Nothing on stderr but errors (generate prints nothing else)",
                    "Say what was generated and how long it took");
  cmd->callback([args] {
    check_message_flags(args->messages);
    expect_single_process("generate");
    run_generate(*args);
  });
  return cmd;
}

}  // namespace labcount
