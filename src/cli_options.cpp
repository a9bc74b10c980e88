#include "cli_options.hpp"
#include "parse_values.hpp"

#include <limits>

#include "util/errors.hpp"

namespace labcount {
void apply_time_options(const time_options& opt, const char* command, count_request& request,
                        std::optional<time_parser>& parser) {
  const bool column_given = opt.column_option != nullptr && opt.column_option->count() > 0;
  if (!opt.stats && opt.per.empty()) {
    if (column_given || !opt.format.empty())
      throw error(error_kind::usage,
                  std::string(column_given ? "--time" : "--time-format") + " only applies to --stats and --per", "", 0,
                  "add --stats or --per hour|day|week|month, or leave it out to count rows per key");
    return;
  }
  if (opt.stats && !opt.per.empty())
    throw error(error_kind::usage, "--stats and --per cannot be combined", "", 0,
                std::string(command) + " once with --stats and once with --per " + opt.per);
  parser = opt.format.empty() ? time_parser() : time_parser(opt.format);
  request.times = &*parser;
  request.time_column = opt.column;
  request.mode = opt.stats ? value_mode::stats : value_mode::groups;
  if (!opt.per.empty()) request.bucket = parse_time_bucket(opt.per);
}

}  // namespace labcount
