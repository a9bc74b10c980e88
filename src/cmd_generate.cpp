#include "cmd_generate.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "errors.hpp"
#include "generate.hpp"
#include "output_file.hpp"

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
};

[[noreturn]] void throw_bad_count(const std::string& option, const std::string& text,
                                  const std::string& why) {
  throw error(error_kind::usage, option + " '" + text + "' " + why, "", 0,
              "write a whole number, optionally with a decimal suffix k, M, G or T, e.g. " + option +
                  " 886413, 10k, 1.5M or 1G");
}

// "886413", "10k", "1.5M", "1G", "2T" -> a count. Suffixes are decimal (k = 1000): these are
// row counts, not bytes. A fraction is allowed only when the result is whole ("1.5k", not "1.2345k").
std::uint64_t parse_count(const std::string& option, const std::string& text) {
  std::size_t pos = 0;
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;
  std::uint64_t fraction_scale = 1;
  bool any_digit = false;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (whole > (max - digit) / 10) throw_bad_count(option, text, "is too large");
    whole = whole * 10 + digit;
    any_digit = true;
  }
  if (pos < text.size() && text[pos] == '.') {
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
      if (fraction_scale > max / 100) throw_bad_count(option, text, "has too many decimals");
      fraction = fraction * 10 + static_cast<std::uint64_t>(text[pos] - '0');
      fraction_scale *= 10;
      any_digit = true;
    }
  }
  if (!any_digit) throw_bad_count(option, text, "is not a count");
  std::uint64_t multiplier = 1;
  if (pos < text.size()) {
    switch (text[pos]) {
      case 'k': case 'K': multiplier = 1'000ULL; break;
      case 'm': case 'M': multiplier = 1'000'000ULL; break;
      case 'g': case 'G': multiplier = 1'000'000'000ULL; break;
      case 't': case 'T': multiplier = 1'000'000'000'000ULL; break;
      default: throw_bad_count(option, text, "is not a count");
    }
    ++pos;
  }
  if (pos != text.size()) throw_bad_count(option, text, "is not a count");
  if (whole > max / multiplier) throw_bad_count(option, text, "is too large");
  // fraction * multiplier can overflow only with absurdly many decimals; check it anyway.
  if (fraction != 0 && fraction > max / multiplier) throw_bad_count(option, text, "has too many decimals");
  const std::uint64_t scaled_fraction = fraction * multiplier;
  if (scaled_fraction % fraction_scale != 0) throw_bad_count(option, text, "is not a whole number");
  const std::uint64_t extra = scaled_fraction / fraction_scale;
  if (whole * multiplier > max - extra) throw_bad_count(option, text, "is too large");
  return whole * multiplier + extra;
}

void run_generate(const generate_args& args) {
  generate_options options;
  options.rows = parse_count("--rows", args.rows);
  const std::uint64_t samples = parse_count("--samples", args.samples);
  // Clamp instead of truncating to 32 bits, so validate() reports the value as too large.
  options.samples = samples > max_generate_samples ? max_generate_samples + 1
                                                   : static_cast<std::uint32_t>(samples);
  options.skew = args.skew;
  options.seed = args.seed;
  options.crlf = !args.lf;
  validate(options);
  output_file out(args.output);
  generate_csv(options, out);
  out.commit();
}

}  // namespace

CLI::App* setup_generate(CLI::App& parent) {
  auto args = std::make_shared<generate_args>();
  CLI::App* cmd = parent.add_subcommand(
      "generate",
      "Write deterministic demo data in the format of the real lab file (TestTime,SampleID; "
      "M/D/YYYY H:MM timestamps; S + 5-digit sample ids; CRLF). Sample popularity follows a Zipf "
      "law with exponent --skew; timestamps start at 8/10/2004 0:00 and only move forward, about "
      "20 rows a minute. The same options give the same bytes on every machine.");
  cmd->footer(
      "Examples:\n"
      "  labcount generate --rows 886413 --samples 1243 -o demo.csv   # the real file's size\n"
      "  labcount generate --rows 100M --samples 10k --skew 0 -o uniform.csv\n"
      "  labcount generate --rows 10 --lf                              # a peek, to stdout");
  cmd->add_option("--rows", args->rows,
                  "Number of data rows; suffixes k, M, G, T are powers of 1000 (e.g. 100M)")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--samples", args->samples,
                  "Number of distinct sample ids to draw from (some may not appear when rows are "
                  "few); at most 10M; suffixes as for --rows")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--skew", args->skew,
                  "Zipf exponent of sample popularity: 0 = uniform, 0.65 = like the real file, "
                  "larger = a few samples dominate; 0..10")
      ->type_name("X")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed; a different seed gives different data")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_flag("--lf", args->lf, "End lines with LF instead of the real file's CRLF");
  cmd->add_option("-o,--output", args->output, "Output file, written atomically; - for stdout")
      ->type_name("FILE")
      ->capture_default_str();
  cmd->callback([args] { run_generate(*args); });
  return cmd;
}

}  // namespace labcount
