#include "parse_values.hpp"

#include <limits>

#include "backend_registry.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// The option words are matched without case: --format JSON, --backend CPU.
bool word_is(std::string_view text, std::string_view word) { return bytes::equal_ignoring_case(text, word); }

}  // namespace

output_format parse_output_format(std::string_view text) {
  if (word_is(text, "csv")) return output_format::csv;
  if (word_is(text, "tsv")) return output_format::tsv;
  if (word_is(text, "json")) return output_format::json;
  if (word_is(text, "ndjson")) return output_format::ndjson;
  throw error(error_kind::usage, "unknown output format '" + std::string(text) + "'", {}, 0,
              "choose one of: csv, tsv, json, ndjson (one JSON object per line)");
}

sort_order parse_sort_order(std::string_view text) {
  if (word_is(text, "key")) return sort_order::key;
  if (word_is(text, "count")) return sort_order::count;
  if (word_is(text, "count-asc")) return sort_order::count_asc;
  if (word_is(text, "natural")) return sort_order::natural;
  throw error(error_kind::usage, "unknown sort order '" + std::string(text) + "'", {}, 0,
              "choose one of: key (byte order of the keys), count (largest count first), count-asc (smallest "
              "first), natural (numbers in keys by value: S2 before S10)");
}

time_bucket parse_time_bucket(std::string_view text) {
  if (word_is(text, "hour")) return time_bucket::hour;
  if (word_is(text, "day")) return time_bucket::day;
  if (word_is(text, "week")) return time_bucket::week;
  if (word_is(text, "month")) return time_bucket::month;
  throw error(error_kind::usage, "unknown time bucket '" + std::string(text) + "'", {}, 0,
              "use one of: hour, day, week, month");
}

backend_choice parse_backend_choice(std::string_view text) {
  if (word_is(text, "auto")) return backend_choice::automatic;
  if (word_is(text, "cpu")) return backend_choice::cpu;
  if (word_is(text, "gpu")) return backend_choice::gpu;
  throw error(error_kind::usage, "invalid --backend value '" + std::string(text) + "'", "", 0,
              "use --backend auto, cpu or gpu (`labcount info` lists what this machine has)");
}

shell_kind parse_shell(std::string_view text) {
  if (word_is(text, "bash")) return shell_kind::bash;
  if (word_is(text, "zsh")) return shell_kind::zsh;
  if (word_is(text, "fish")) return shell_kind::fish;
  throw error(error_kind::usage, "no completion for the shell '" + std::string(text) + "'", "", 0,
              "use labcount completion bash, zsh or fish");
}

bad_file_policy parse_bad_file_policy(std::string_view text) {
  if (word_is(text, "error")) return bad_file_policy::error;
  if (word_is(text, "skip")) return bad_file_policy::skip;
  throw error(error_kind::usage, "invalid --on-bad-file value '" + std::string(text) + "'", "", 0,
              "use --on-bad-file error or skip");
}

bad_row_policy parse_bad_row_policy(std::string_view text) {
  if (word_is(text, "error")) return bad_row_policy::error;
  if (word_is(text, "skip")) return bad_row_policy::skip;
  if (word_is(text, "warn")) return bad_row_policy::warn;
  throw error(error_kind::usage, "invalid --on-bad-row value '" + std::string(text) + "'", "", 0,
              "use --on-bad-row error, skip or warn");
}

char parse_delimiter(const std::string& text) {
  if (text == "\\t" || text == "\t" || word_is(text, "tab")) return '\t';
  if (text.size() != 1)
    throw error(error_kind::usage, "invalid --delimiter '" + text + "': it must be one character", "", 0,
                "e.g. --delimiter ';' or --delimiter tab");
  const char c = text[0];
  if (c == '"' || c == '\n' || c == '\r')
    throw error(error_kind::usage, "invalid --delimiter: quotes and line breaks cannot be delimiters", "", 0,
                "e.g. --delimiter ',' (the default), ';', '|' or tab");
  return c;
}

namespace {

[[noreturn]] void throw_bad_count(const std::string& option, const std::string& text, const std::string& why) {
  throw error(error_kind::usage, option + " '" + text + "' " + why, "", 0,
              "write a whole number, optionally with a decimal suffix k, M, G or T, e.g. " + option +
                  " 886413, 10k, 1.5M or 1G");
}

}  // namespace

// Suffixes are decimal (k = 1000): these are row counts, not bytes. A fraction is allowed only when the
// result is whole ("1.5k", not "1.2345k").
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
      case 'k':
      case 'K': multiplier = 1'000ULL; break;
      case 'm':
      case 'M': multiplier = 1'000'000ULL; break;
      case 'g':
      case 'G': multiplier = 1'000'000'000ULL; break;
      case 't':
      case 'T': multiplier = 1'000'000'000'000ULL; break;
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

// "512M", "1G", "1.5G", "65536": bytes, with binary suffixes K, M, G, T.
std::uint64_t parse_memory(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string suffix = text.substr(used);
  for (auto& c : suffix) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (suffix.size() == 2 && suffix[1] == 'B') suffix.pop_back();
  double scale = 0;
  if (suffix.empty() || suffix == "B")
    scale = 1;
  else if (suffix == "K")
    scale = 1024.0;
  else if (suffix == "M")
    scale = 1024.0 * 1024;
  else if (suffix == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  const double bytes = value * scale;
  if (used == 0 || scale == 0 || !(bytes >= 1 << 20) || bytes > 1e15)
    throw error(error_kind::usage, "invalid --memory '" + text + "'", "", 0,
                "give a size of at least 1M, e.g. --memory 512M or --memory 4G");
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace labcount
