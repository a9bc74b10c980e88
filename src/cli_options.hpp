// Option checks shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "pipeline/count_pipeline.hpp"
#include "time/timestamp.hpp"

namespace labcount {

// A whole number, 0 or more. (CLI11's NonNegativeNumber prints its range as a 300-digit double.)
inline const CLI::Validator& non_negative_number() {
  static const CLI::Validator validator(
      [](std::string& value) {
        return !value.empty() && value.find_first_not_of("0123456789") == std::string::npos
                   ? std::string()
                   : "must be a whole number, 0 or more (got " + value + ")";
      },
      "N>=0");
  return validator;
}

// --stats, --per, --time and --time-format, as count and bench take them.
struct time_options {
  bool stats = false;
  std::string per;
  std::string column = "TestTime";
  std::string format;
  const CLI::Option* column_option = nullptr;  // --time, to tell it given from its default
};

// Sets the request's time analytics from `opt`: the mode, the bucket, the column and the parser, kept in
// `parser` (which must outlive the request). `command` words a hint ("run", "bench"). Throws error(usage)
// for --stats with --per, and for --time or --time-format without either (they would be ignored).
void apply_time_options(const time_options& opt, const char* command, count_request& request,
                        std::optional<time_parser>& parser);

}  // namespace labcount
