// Timestamps as written in the file (no time zone) -> seconds since 1970-01-01T00:00:00, and back; time buckets.
//
//   parse("8/10/2004 1:15")          -> 1092100500      format_iso(1092100500) -> "2004-08-10T01:15:00"
//   bucket_of(1092100500, week)      -> 1805            format_bucket(1805, week) -> "2004-W33"
//
// The automatic parser runs once per row (tens of millions of rows), so it is hand-written digit parsing with
// calendar arithmetic, no locale, no allocation. Dates are proleptic Gregorian; there are no leap seconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "time/calendar.hpp"
#include "time/timestamp_parse.hpp"

namespace labcount {

// Parses timestamps as written (no time zone) into seconds since 1970-01-01T00:00:00.
class time_parser {
 public:
  // Automatic: the lab format "M/D/YYYY H:MM[:SS]" (1-2 digit month, day and hour; 2-digit minutes and
  // seconds), ISO 8601 "YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z]" (fractions truncated), or a date alone
  // ("M/D/YYYY", "YYYY-MM-DD", midnight).
  time_parser();
  // --time-format: a strptime-style format; throws error(usage) for a directive outside
  // %Y %m %d %e %H %M %S %y %b %B %j %p %I %T %D %F %%, or a format without a year.
  explicit time_parser(std::string strftime_format);

  // False when text is not a valid timestamp of this parser's shape (wrong shape, month 13, Feb 30, hour 24,
  // minute 60, leading/trailing spaces or text). Never allocates.
  bool parse(std::string_view text, timestamp& out) const noexcept {
    return steps_.empty() ? timestamp_detail::parse_automatic(text, out) : parse_custom(text, out);
  }
  // For messages: "M/D/YYYY H:MM or ISO 8601", or the format.
  const std::string& description() const noexcept { return description_; }

 private:
  // One step of a compiled --time-format: a literal byte, or one field.
  struct step {
    enum class kind : std::uint8_t {
      literal,
      year4,
      year2,
      month,
      day,
      day_space,
      hour24,
      hour12,
      minute,
      second,
      month_name,
      day_of_year,
      am_pm
    };
    kind what = kind::literal;
    char byte = 0;  // kind::literal
  };
  bool parse_custom(std::string_view text, timestamp& out) const noexcept;

  std::string description_;
  std::vector<step> steps_;  // empty: automatic
};

// "2004-08-10T01:15:00". Years 0000-9999 have 4 digits; outside them the year has a sign or more digits.
std::string format_iso(timestamp t);
void append_iso(std::string& out, timestamp t);  // the same, appended (a table reuses one string)

// second is the time itself (not a --per word): the (key, time) pairs a --stats partial state keeps.
enum class time_bucket { second, hour, day, week, month };

// A dense index, floored for times before 1970: hours or days since the epoch, ISO weeks (Monday to Sunday)
// since the week of 1970-01-01 (Monday 1969-12-29 is week 0), months since 1970-01 ((year - 1970) * 12 + month - 1).
std::int64_t bucket_of(timestamp t, time_bucket b) noexcept;
// second "2004-08-10T01:15:00", hour "2004-08-10T01", day "2004-08-10", week "2004-W33" (ISO week-numbering
// year), month "2004-08".
std::string format_bucket(std::int64_t bucket, time_bucket b);
void append_bucket(std::string& out, std::int64_t bucket, time_bucket b);
// The output column's name: "time", "hour", "day", "week", "month".
const char* bucket_column_name(time_bucket b) noexcept;

}  // namespace labcount
