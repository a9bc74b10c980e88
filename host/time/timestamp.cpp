#include "time/timestamp.hpp"

#include <algorithm>
#include <cstring>

#include "util/bytes.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

using namespace timestamp_detail;

constexpr const char* automatic_description =
    "M/D/YYYY H:MM[:SS[.f]] [AM|PM], D.M.YYYY H:MM, ISO 8601 or epoch seconds/milliseconds";
constexpr const char* supported_directives = "%Y %m %d %e %H %M %S %f %y %b %B %j %p %I %T %D %F %z %s %Q %%";

using calendar::civil_date;
using calendar::civil_from_days;

// 0 for January 1.
unsigned day_of_year_of(const civil_date& date) noexcept {
  constexpr unsigned short days_before_month[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  return days_before_month[date.month] + date.day - 1 + (date.month > 2 && is_leap_year(date.year) ? 1 : 0);
}

constexpr const char* month_names[12] = {"january", "february", "march",     "april",   "may",      "june",
                                         "july",    "august",   "september", "october", "november", "december"};

using bytes::ascii_lower;

// Case-insensitive prefix match of `name` (lower case) at p; advances p.
bool match_word(const char*& p, const char* end, const char* name, std::size_t length) noexcept {
  if (static_cast<std::size_t>(end - p) < length) return false;
  for (std::size_t i = 0; i < length; ++i)
    if (ascii_lower(p[i]) != name[i]) return false;
  p += length;
  return true;
}

// A full English month name or its 3-letter abbreviation, any case (as strptime's %b and %B in the C locale).
bool read_month_name(const char*& p, const char* end, unsigned& month) noexcept {
  for (unsigned m = 0; m < 12; ++m) {
    const std::string_view name = month_names[m];
    if (match_word(p, end, name.data(), name.size()) || match_word(p, end, name.data(), 3)) {
      month = m + 1;
      return true;
    }
  }
  return false;
}

void append_padded(std::string& out, std::int64_t value, int width) {
  char digits[24];
  int count = 0;
  std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) out.push_back('-');
  for (int i = count; i < width; ++i) out.push_back('0');
  while (count > 0) out.push_back(digits[--count]);
}

void append_date(std::string& out, const civil_date& date) {
  append_padded(out, date.year, 4);
  out.push_back('-');
  append_padded(out, date.month, 2);
  out.push_back('-');
  append_padded(out, date.day, 2);
}

// Epoch time: 9-10 digits are seconds (with an optional fraction), 12-13 milliseconds, 15-16 microseconds
// (the digit counts of dates from 1973 to 2286; other counts are not taken for epoch times).
bool parse_epoch(std::string_view text, timestamp& out) noexcept {
  const char* p = text.data();
  const char* end = p + text.size();
  std::int64_t value = 0;
  const char* digits = p;
  for (; p != end && is_digit(*p); ++p) {
    if (p - digits == 16) return false;  // no epoch time has more digits (and int64 would overflow past 18)
    value = value * 10 + digit(*p);
  }
  const auto n = static_cast<std::size_t>(p - digits);
  if (p != end) {
    unsigned micros = 0;
    if ((n != 9 && n != 10) || *p != '.' || !read_fraction(++p, end, micros) || p != end) return false;
    out = value * ticks_per_second + micros;
    return true;
  }
  if (n == 9 || n == 10) {
    out = value * ticks_per_second;
  } else if (n == 12 || n == 13) {
    out = value * 1000;
  } else if (n == 15 || n == 16) {
    out = value;
  } else {
    return false;
  }
  return true;
}

}  // namespace

namespace timestamp_detail {

// "M/D/YYYY" (or "D/M/YYYY" when day_first) or "D.M.YYYY", then optionally " H:MM[:SS[.f]]" with an optional
// " AM"/" PM" (any case, the space optional), or an epoch time.
bool parse_other(std::string_view text, timestamp& out, bool day_first) noexcept {
  const char* p = text.data();
  const char* end = p + text.size();
  if (!text.empty() && std::all_of(p, end, [](char c) { return is_digit(c) || c == '.'; }) &&
      std::count(p, end, '.') <= 1 && (text.size() < 3 || text[2] != '.'))
    return parse_epoch(text, out);
  unsigned first = 0, second_number = 0, year = 0;
  if (!read_1_or_2(p, end, first) || p == end || (*p != '/' && *p != '.')) return false;
  const char separator = *p++;
  if (!read_1_or_2(p, end, second_number) || p == end || *p++ != separator || !read_exact(p, end, 4, year))
    return false;
  if (separator == '.') day_first = true;  // the European order, always
  unsigned hour = 0, minute = 0, second = 0, micros = 0;
  if (p != end) {
    if (*p++ != ' ' || !read_1_or_2(p, end, hour) || p == end || *p++ != ':' || !read_exact(p, end, 2, minute))
      return false;
    if (p != end && *p == ':') {
      if (!read_exact(++p, end, 2, second)) return false;
      if (p != end && *p == '.' && !read_fraction(++p, end, micros)) return false;
    }
    if (p != end) {
      if (*p == ' ') ++p;
      bool pm = false;
      if (match_word(p, end, "pm", 2)) {
        pm = true;
      } else if (!match_word(p, end, "am", 2)) {
        return false;
      }
      if (p != end || hour - 1 >= 12) return false;
      hour = hour % 12 + (pm ? 12 : 0);
    }
  }
  return make_timestamp(year / 100, year % 100, day_first ? second_number : first, day_first ? first : second_number,
                        hour, minute, second, out, micros);
}

}  // namespace timestamp_detail

time_parser::time_parser() : description_(automatic_description) {}

time_parser::time_parser(std::string strftime_format) : description_(std::move(strftime_format)) {
  using kind = step::kind;
  // Words for the two epoch formats (strptime has %s; %Q is Ruby's milliseconds since the epoch).
  if (bytes::equal_ignoring_case(description_, "epoch")) description_ = "%s";
  if (bytes::equal_ignoring_case(description_, "epoch-ms")) description_ = "%Q";
  const std::string& format = description_;
  const std::string option = "--time-format '" + format + "'";
  bool has_year = false, has_hour12 = false, has_am_pm = false;
  const auto add = [&](kind k) {
    steps_.push_back({k, 0});
    has_year |= k == kind::year4 || k == kind::year2 || k == kind::epoch_seconds || k == kind::epoch_millis;
    has_hour12 |= k == kind::hour12;
    has_am_pm |= k == kind::am_pm;
  };
  const auto add_literal = [&](char c) { steps_.push_back({kind::literal, c}); };
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      add_literal(format[i]);
      continue;
    }
    if (++i == format.size())
      throw error(error_kind::usage, option + " ends with a lone '%'", {}, 0, "write %% for a literal '%'");
    switch (format[i]) {
      case 'Y': add(kind::year4); break;
      case 'y': add(kind::year2); break;
      case 'm': add(kind::month); break;
      case 'd': add(kind::day); break;
      case 'e': add(kind::day_space); break;
      case 'H': add(kind::hour24); break;
      case 'I': add(kind::hour12); break;
      case 'M': add(kind::minute); break;
      case 'S': add(kind::second); break;
      case 'b':
      case 'B': add(kind::month_name); break;
      case 'j': add(kind::day_of_year); break;
      case 'p': add(kind::am_pm); break;
      case 'f': add(kind::fraction); break;
      case 'z': add(kind::utc_offset); break;
      case 's': add(kind::epoch_seconds); break;
      case 'Q': add(kind::epoch_millis); break;
      case 'T': add(kind::hour24), add_literal(':'), add(kind::minute), add_literal(':'), add(kind::second); break;
      case 'D': add(kind::month), add_literal('/'), add(kind::day), add_literal('/'), add(kind::year2); break;
      case 'F': add(kind::year4), add_literal('-'), add(kind::month), add_literal('-'), add(kind::day); break;
      case '%': add_literal('%'); break;
      default:
        throw error(
            error_kind::usage, std::string("unsupported directive %") + format[i] + " in " + option, {}, 0,
            std::string("supported directives: ") + supported_directives + "; any other text must match literally");
    }
  }
  if (!has_year)
    throw error(error_kind::usage, option + " has no year", {}, 0,
                "add %Y (4-digit year) or %y (2-digit year), or use %s / %Q for epoch seconds / milliseconds; other "
                "fields default to January 1, 00:00:00");
  if (has_hour12 != has_am_pm)
    throw error(error_kind::usage, option + (has_hour12 ? " has %I without %p" : " has %p without %I"), {}, 0,
                "use %I (hour 1-12) together with %p (AM/PM), or %H (hour 0-23) alone");
}

bool time_parser::parse_custom(std::string_view text, timestamp& out) const noexcept {
  using kind = step::kind;
  const char* p = text.data();
  const char* end = p + text.size();
  unsigned year = 1970, month = 0, day = 0, hour = 0, minute = 0, second = 0, day_of_year = 0, micros = 0;
  bool pm = false, twelve_hour = false, epoch = false;
  std::int64_t offset_seconds = 0;
  std::int64_t epoch_value = 0;
  // An epoch time's digits: at most 12 of seconds, 15 of milliseconds (beyond year 9999 either way, and no
  // int64 overflow once scaled to microseconds).
  const auto read_epoch = [&](std::int64_t& value, std::ptrdiff_t max_digits) {
    const char* digits = p;
    for (value = 0; p != end && is_digit(*p) && p - digits < max_digits; ++p) value = value * 10 + digit(*p);
    return p != digits;
  };
  for (std::size_t at = 0; at < steps_.size(); ++at) {
    const step& s = steps_[at];
    unsigned value = 0;
    switch (s.what) {
      case kind::fraction:
        if (!read_fraction(p, end, micros)) return false;
        break;
      case kind::utc_offset:
        if (p == end || !read_utc_offset(p, end, offset_seconds)) return false;
        break;
      case kind::epoch_seconds: {
        std::int64_t seconds = 0;
        unsigned fraction = 0;
        if (!read_epoch(seconds, 12)) return false;
        // Its own fraction, unless the format spells one out ('%s.%f').
        const bool fraction_follows = at + 1 < steps_.size() && steps_[at + 1].what == kind::literal &&
                                      steps_[at + 1].byte == '.';
        if (!fraction_follows && p != end && *p == '.' && !read_fraction(++p, end, fraction)) return false;
        epoch_value = seconds * ticks_per_second + fraction;
        epoch = true;
        break;
      }
      case kind::epoch_millis: {
        std::int64_t millis = 0;
        if (!read_epoch(millis, 15)) return false;
        epoch_value = millis * 1000;
        epoch = true;
        break;
      }
      case kind::literal:
        if (p == end || *p != s.byte) return false;
        ++p;
        break;
      case kind::year4:
        if (!read_exact(p, end, 4, year)) return false;
        break;
      case kind::year2:
        // POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068.
        if (!read_exact(p, end, 2, value)) return false;
        year = value + (value >= 69 ? 1900 : 2000);
        break;
      case kind::month:
        if (!read_1_or_2(p, end, month) || month - 1 >= 12) return false;
        break;
      case kind::day_space:
        if (p != end && *p == ' ') ++p;
        [[fallthrough]];
      case kind::day:
        if (!read_1_or_2(p, end, day) || day - 1 >= 31) return false;
        break;
      case kind::hour24:
        if (!read_1_or_2(p, end, hour) || hour >= 24) return false;
        break;
      case kind::hour12:
        if (!read_1_or_2(p, end, hour) || hour - 1 >= 12) return false;
        twelve_hour = true;
        break;
      case kind::minute:
        if (!read_1_or_2(p, end, minute) || minute >= 60) return false;
        break;
      case kind::second:
        if (!read_1_or_2(p, end, second) || second >= 60) return false;
        break;
      case kind::month_name:
        if (!read_month_name(p, end, month)) return false;
        break;
      case kind::day_of_year:
        if (!read_1_or_2(p, end, value)) return false;
        if (p != end && is_digit(*p)) value = value * 10 + digit(*p++);
        if (value - 1 >= 366) return false;
        day_of_year = value;
        break;
      case kind::am_pm:
        if (match_word(p, end, "pm", 2)) {
          pm = true;
        } else if (!match_word(p, end, "am", 2)) {
          return false;
        }
        break;
    }
  }
  if (p != end) return false;
  if (epoch) {
    out = epoch_value + micros - offset_seconds * ticks_per_second;
    return in_range(out);
  }
  if (twelve_hour) hour = hour % 12 + (pm ? 12 : 0);
  const unsigned century = year / 100, year_of_century = year % 100;
  if (day_of_year != 0) {
    if (day_of_year > (is_leap_year(century, year_of_century) ? 366u : 365u)) return false;
    const std::int64_t days = days_from_civil(century, year_of_century, 1, 1) + day_of_year - 1;
    // With %m or %d too, they must name the same day.
    if (month != 0 || day != 0) {
      const civil_date date = civil_from_days(days);
      if ((month != 0 && month != date.month) || (day != 0 && day != date.day)) return false;
    }
    out = days * ticks_per_day + static_cast<timestamp>(hour * 3600 + minute * 60 + second) * ticks_per_second +
          micros - offset_seconds * ticks_per_second;
    return in_range(out);
  }
  if (!make_timestamp(century, year_of_century, month == 0 ? 1 : month, day == 0 ? 1 : day, hour, minute, second, out,
                      micros))
    return false;
  out -= offset_seconds * ticks_per_second;
  return in_range(out);
}

namespace {

// What a time text looks like, in the notation of the help: "M/D/YYYY H:MM", "D.M.YYYY H:MM:SS.f AM/PM",
// "ISO 8601 with a UTC offset", "epoch milliseconds".
std::string shape_of(std::string_view text, bool day_first) {
  timestamp ignored;
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return is_digit(c) || c == '.'; }) &&
      parse_epoch(text, ignored)) {
    const std::size_t digits = text.find('.') == std::string_view::npos ? text.size() : text.find('.');
    return digits <= 10 ? "epoch seconds" : digits <= 13 ? "epoch milliseconds" : "epoch microseconds";
  }
  if (text.size() >= 10 && text[4] == '-') {
    const std::string_view time = text.substr(10);
    const bool offset = time.find_first_of("Z+") != std::string_view::npos || time.find('-') != std::string_view::npos;
    return offset ? "ISO 8601 with a UTC offset (converted to UTC)" : "ISO 8601";
  }
  std::string shape;
  const std::size_t space = text.find(' ');
  const std::string_view date = text.substr(0, space);
  shape = date.find('.') != std::string_view::npos ? "D.M.YYYY" : day_first ? "D/M/YYYY" : "M/D/YYYY";
  if (space == std::string_view::npos) return shape;
  const std::string_view time = text.substr(space + 1);
  const auto colons = std::count(time.begin(), time.end(), ':');
  shape += colons >= 2 ? " H:MM:SS" : " H:MM";
  if (time.find('.') != std::string_view::npos) shape += ".f";
  if (time.find_first_of("AaPp") != std::string_view::npos) shape += " AM/PM";
  return shape;
}

// The two numbers before the first two slashes of a slash date, if the text starts with one.
bool slash_numbers(std::string_view text, unsigned& first, unsigned& second) {
  const char* p = text.data();
  const char* end = p + text.size();
  return read_1_or_2(p, end, first) && p != end && *p++ == '/' && read_1_or_2(p, end, second) && p != end && *p == '/';
}

}  // namespace

time_parser time_parser::for_input(const std::vector<std::string_view>& sample, std::string* note) const {
  time_parser chosen = *this;
  chosen.order_from_dates_ = false;
  chosen.day_first_ = false;
  if (!automatic()) return chosen;
  if (sample.empty()) return chosen.with_order_in_description();
  std::string_view day_first_example, month_first_example;
  std::size_t slash_dates = 0;
  for (const std::string_view text : sample) {
    unsigned first = 0, second = 0;
    if (!slash_numbers(text, first, second)) continue;
    ++slash_dates;
    if (first > 12 && second <= 12 && day_first_example.empty()) day_first_example = text;
    if (second > 12 && first <= 12 && month_first_example.empty()) month_first_example = text;
  }
  // (Each input by its own dates, never by another input's: under MPI a rank sees only its share of the inputs,
  // and every rank must read a file as one process would.)
  if (day_first_example.empty() != month_first_example.empty()) {
    chosen.day_first_ = !day_first_example.empty();
    chosen.order_from_dates_ = true;
  }
  chosen = chosen.with_order_in_description();
  if (note == nullptr) return chosen;
  const auto quoted = [](std::string_view text) { return "'" + std::string(text.substr(0, 40)) + "'"; };
  *note = "times read as " + shape_of(sample.front(), chosen.day_first_) + ", e.g. " + quoted(sample.front());
  if (slash_dates == 0) return chosen;
  if (chosen.day_first_) {
    *note += " (day first: " + quoted(day_first_example) + " has no month " +
             std::to_string(std::stoul(std::string(day_first_example.substr(0, day_first_example.find('/'))))) + ")";
  } else if (!day_first_example.empty()) {
    *note += " (dates of both orders, e.g. " + quoted(day_first_example) +
             ": month first, the others are bad rows)";
  } else if (month_first_example.empty()) {
    *note += " (month first, the US order: no day above 12 in the first " + std::to_string(slash_dates) +
             " rows; --time-format '%d/%m/%Y %H:%M' reads day first)";
  }
  return chosen;
}

time_parser time_parser::with_order_in_description() const {
  time_parser out = *this;
  if (!automatic()) return out;
  out.description_ = automatic_description;
  if (day_first_) out.description_.replace(0, std::string_view("M/D/YYYY").size(), "D/M/YYYY");
  return out;
}

std::string format_iso(timestamp t) {
  std::string out;
  append_iso(out, t);
  return out;
}

void append_iso(std::string& out, timestamp t) {
  const std::int64_t days = day_of(t);
  // From the remainder, not t - days * ticks_per_day: for t near INT64_MIN, days * ticks_per_day is below
  // INT64_MIN (signed overflow).
  const std::int64_t remainder = t % ticks_per_day;  // (-ticks_per_day, ticks_per_day), sign of t
  const auto tick_of_day = static_cast<std::uint64_t>(remainder < 0 ? remainder + ticks_per_day : remainder);
  const auto second_of_day = static_cast<unsigned>(tick_of_day / ticks_per_second);
  const auto micros = static_cast<unsigned>(tick_of_day % ticks_per_second);
  append_date(out, civil_from_days(days));
  out.push_back('T');
  append_padded(out, second_of_day / 3600, 2);
  out.push_back(':');
  append_padded(out, second_of_day / 60 % 60, 2);
  out.push_back(':');
  append_padded(out, second_of_day % 60, 2);
  if (micros != 0) {  // milliseconds when they say it all, else microseconds
    out.push_back('.');
    if (micros % 1000 == 0)
      append_padded(out, micros / 1000, 3);
    else
      append_padded(out, micros, 6);
  }
}

std::int64_t bucket_of(timestamp t, time_bucket b) noexcept {
  switch (b) {
    case time_bucket::second: return t;
    case time_bucket::hour: return floor_div(t, 3600 * ticks_per_second);
    case time_bucket::day: return day_of(t);
    // 1970-01-01 is a Thursday, so weeks start on days -3 + 7k.
    case time_bucket::week: return floor_div(day_of(t) + 3, 7);
    case time_bucket::month: {
      const civil_date date = civil_from_days(day_of(t));
      return (date.year - 1970) * 12 + (date.month - 1);
    }
  }
  return 0;
}

std::string format_bucket(std::int64_t bucket, time_bucket b) {
  std::string out;
  append_bucket(out, bucket, b);
  return out;
}

void append_bucket(std::string& out, std::int64_t bucket, time_bucket b) {
  switch (b) {
    case time_bucket::second: append_iso(out, bucket); return;
    case time_bucket::hour: {
      const std::int64_t days = floor_div(bucket, 24);
      append_date(out, civil_from_days(days));
      out.push_back('T');
      append_padded(out, bucket - days * 24, 2);
      break;
    }
    case time_bucket::day: append_date(out, civil_from_days(bucket)); break;
    case time_bucket::week: {
      // An ISO week belongs to the year of its Thursday, and is numbered by that Thursday's day of year.
      // Week 0's Monday is day -3, so its Thursday is day 0, and week w's Thursday is day 7w.
      const std::int64_t thursday = bucket * 7;
      const civil_date date = civil_from_days(thursday);
      const unsigned day_of_year = day_of_year_of(date);
      append_padded(out, date.year, 4);
      out.append("-W");
      append_padded(out, day_of_year / 7 + 1, 2);
      break;
    }
    case time_bucket::month: {
      const std::int64_t year = floor_div(bucket, 12) + 1970;
      append_padded(out, year, 4);
      out.push_back('-');
      append_padded(out, bucket - (year - 1970) * 12 + 1, 2);
      break;
    }
  }
}

const char* bucket_column_name(time_bucket b) noexcept {
  switch (b) {
    case time_bucket::second: return "time";
    case time_bucket::hour: return "hour";
    case time_bucket::day: return "day";
    case time_bucket::week: return "week";
    case time_bucket::month: return "month";
  }
  return "";
}

}  // namespace labcount
