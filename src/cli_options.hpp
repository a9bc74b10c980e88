// Option checks shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

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

}  // namespace labcount
