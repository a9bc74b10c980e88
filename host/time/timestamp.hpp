// Timestamps as written in the file -> microseconds since 1970-01-01T00:00:00, and back; time buckets.
//
//   parse("8/10/2004 1:15")          -> 1092100500000000   format_iso(that) -> "2004-08-10T01:15:00"
//   parse("8/10/2004 1:15:00.25 PM") -> 1092143700250000   format_iso(that) -> "2004-08-10T13:15:00.250"
//   bucket_of(1092100500000000, week) -> 1805             format_bucket(1805, week) -> "2004-W33"
//
// Times are taken as written (no time zone), except those written with Z or a UTC offset
// ("2004-08-10T03:15:00+02:00"), which are converted to UTC.
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

// Parses timestamps as written into microseconds since 1970-01-01T00:00:00 (a time with Z or an offset: UTC).
class time_parser {
 public:
  // Automatic, by the shape of each text:
  //   M/D/YYYY H:MM[:SS[.f]] [AM|PM]  the lab format (1-2 digit month, day and hour; "8/10/2004 1:15 PM"),
  //                                    D/M/YYYY instead when the input says so (for_input)
  //   D.M.YYYY H:MM[:SS[.f]]           the European format ("10.08.2004 01:15")
  //   YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|+HH:MM]   ISO 8601 (with Z or an offset: converted to UTC)
  //   a date alone (midnight); epoch seconds (9-10 digits, maybe .f), milliseconds (12-13) or microseconds (15-16)
  // A fraction of a second is kept to the microsecond.
  time_parser();
  // --time-format: a strptime-style format; throws error(usage) for a directive outside
  // %Y %m %d %e %H %M %S %f %y %b %B %j %p %I %T %D %F %z %s %Q %%, or a format without a date (a year, or
  // %s / %Q). "epoch" and "epoch-ms" stand for %s and %Q.
  explicit time_parser(std::string strftime_format);

  // False when text is not a valid timestamp of this parser's shape (wrong shape, month 13, Feb 30, hour 24,
  // minute 60, leading/trailing spaces or text). Never allocates.
  bool parse(std::string_view text, timestamp& out) const noexcept {
    return steps_.empty() ? timestamp_detail::parse_automatic(text, out, day_first_) : parse_custom(text, out);
  }
  // For messages: "M/D/YYYY H:MM or ISO 8601", or the format.
  const std::string& description() const noexcept { return description_; }
  bool automatic() const noexcept { return steps_.empty(); }
  // Whether two parsers read every text alike (the same format; automatic: the same day order).
  bool reads_like(const time_parser& other) const noexcept {
    return description_ == other.description_ && day_first_ == other.day_first_;
  }

  // This parser for one input, given the time texts of its first rows: an automatic parser reads slash
  // dates day first when some date there has a first number above 12 and none a second number above 12
  // (else month first, the lab's US order). `*note` (when not null) says what the texts look like and which
  // order was taken, and why. A --time-format parser is returned as it is.
  time_parser for_input(const std::vector<std::string_view>& sample, std::string* note) const;
  // Whether for_input took the day order from the input's own dates (not by default).
  bool order_from_dates() const noexcept { return order_from_dates_; }
  bool day_first() const noexcept { return day_first_; }

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
      am_pm,
      fraction,       // %f: digits of a fraction of a second
      utc_offset,     // %z: Z, +HH:MM, +HHMM or +HH
      epoch_seconds,  // %s, maybe with a fraction
      epoch_millis    // %Q
    };
    kind what = kind::literal;
    char byte = 0;  // kind::literal
  };
  bool parse_custom(std::string_view text, timestamp& out) const noexcept;

  std::string description_;
  std::vector<step> steps_;  // empty: automatic
  bool day_first_ = false;   // automatic: D/M/YYYY
  bool order_from_dates_ = false;
  time_parser with_order_in_description() const;
};

// "2004-08-10T01:15:00", with the fraction when there is one: ".250" (milliseconds) or ".250001". Years
// 0000-9999 have 4 digits; outside them the year has a sign or more digits.
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
