#include "timestamp.hpp"

#include <cstring>

#include "errors.hpp"

namespace labcount {
namespace {

constexpr const char* automatic_description = "M/D/YYYY H:MM or ISO 8601";
constexpr const char* supported_directives = "%Y %m %d %e %H %M %S %y %b %B %j %p %I %T %D %F %%";

// civil_from_days counts days from 0000-03-01: years that start in March put the leap day last.
constexpr std::int64_t days_0000_03_01_to_1970 = 719468;
constexpr std::int64_t days_per_400_years = 146097;

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr bool is_leap_year(std::int64_t year) noexcept {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}
// The parsers read a year as its century and year of century (two 2-digit numbers).
constexpr bool is_leap_year(unsigned century, unsigned year_of_century) noexcept {
  return year_of_century % 4 == 0 && (year_of_century != 0 || century % 4 == 0);
}

constexpr unsigned char max_days_in_month[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
// Days from March 1 to the first of each month, in a year that starts in March.
constexpr unsigned short days_from_march_1[13] = {0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275};

// Days from 0000-03-01 (minus one 400-year cycle) to a valid date of years 0000-9999. With years counted from
// March and shifted by 400, y = year + 400 - (month <= 2) = 100 c + r with c = century + 3 and r in [99, 199],
// so y / 4, y / 100 and y / 400 are shifts and one compare: no division on the per-row path.
constexpr unsigned shifted_days(unsigned century, unsigned year_of_century, unsigned month, unsigned day) noexcept {
  const unsigned c = century + 3;
  const unsigned r = year_of_century + 100 - (month <= 2 ? 1 : 0);
  const unsigned hundreds = c + (r >= 100 ? 1 : 0);  // y / 100
  return 36525 * c + 365 * r + (r >> 2) - hundreds + (hundreds >> 2) + days_from_march_1[month] + day - 1;
}
constexpr unsigned shifted_days_to_1970 = shifted_days(19, 70, 1, 1);

// Days since 1970-01-01 of a valid date in 0000-01-01 .. 9999-12-31.
constexpr std::int64_t days_from_civil(unsigned century, unsigned year_of_century, unsigned month,
                                       unsigned day) noexcept {
  return static_cast<std::int64_t>(shifted_days(century, year_of_century, month, day)) - shifted_days_to_1970;
}
static_assert(days_from_civil(19, 70, 1, 1) == 0);
static_assert(days_from_civil(20, 4, 8, 10) == 12640);
static_assert(days_from_civil(0, 0, 1, 1) == -719528);
static_assert(days_from_civil(99, 99, 12, 31) == 2932896);

struct civil_date {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// 0 for January 1.
unsigned day_of_year_of(const civil_date& date) noexcept {
  constexpr unsigned short days_before_month[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  return days_before_month[date.month] + date.day - 1 + (date.month > 2 && is_leap_year(date.year) ? 1 : 0);
}

// The inverse of days_from_civil, for any day count that fits a timestamp.
civil_date civil_from_days(std::int64_t days) noexcept {
  const std::int64_t shifted = days + days_0000_03_01_to_1970;
  const std::int64_t cycle = floor_div(shifted, days_per_400_years);
  const auto day_of_cycle = static_cast<unsigned>(shifted - cycle * days_per_400_years);  // [0, 146096]
  // Undo the leap days: one per 4 years (1460 days), except per 100 years (36524), except per 400 (146096).
  const unsigned year_of_cycle =
      (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36524 - day_of_cycle / 146096) / 365;  // [0, 399]
  const unsigned day_of_year = day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
  const unsigned march_month = (5 * day_of_year + 2) / 153;  // March = 0
  const unsigned day = day_of_year - (153 * march_month + 2) / 5 + 1;
  const unsigned month = march_month < 10 ? march_month + 3 : march_month - 9;
  const std::int64_t year = cycle * 400 + year_of_cycle + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

// Validates the fields and converts them; the one place every parser ends.
inline bool make_timestamp(unsigned century, unsigned year_of_century, unsigned month, unsigned day,
                           unsigned hour, unsigned minute, unsigned second, timestamp& out) noexcept {
  if (month - 1 >= 12 || day - 1 >= max_days_in_month[month] || hour >= 24 || minute >= 60 || second >= 60)
    return false;
  if (month == 2 && day == 29 && !is_leap_year(century, year_of_century)) return false;
  out = days_from_civil(century, year_of_century, month, day) * seconds_per_day +
        static_cast<timestamp>(hour * 3600 + minute * 60 + second);
  return true;
}

inline bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') < 10; }
inline unsigned digit(char c) noexcept { return static_cast<unsigned char>(c - '0'); }

// Reads 1 or 2 digits at p; advances p.
inline bool read_1_or_2(const char*& p, const char* end, unsigned& value) noexcept {
  if (p == end || !is_digit(*p)) return false;
  value = digit(*p++);
  if (p != end && is_digit(*p)) value = value * 10 + digit(*p++);
  return true;
}

// Reads exactly `count` digits at p; advances p.
inline bool read_exact(const char*& p, const char* end, unsigned count, unsigned& value) noexcept {
  if (static_cast<std::size_t>(end - p) < count) return false;
  unsigned v = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (!is_digit(p[i])) return false;
    v = v * 10 + digit(p[i]);
  }
  value = v;
  p += count;
  return true;
}

// The automatic parser's building blocks: whole-word checks instead of a branch per byte.
inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint32_t load4(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A byte pattern for `matches`, built at compile time: .digits(i, n) wants ASCII digits at bytes i..i+n-1 of a
// little-endian word, .byte(i, c) wants exactly c at byte i; other bytes are not looked at.
struct word_pattern {
  std::uint64_t mask = 0, value = 0, add6 = 0;
  constexpr word_pattern digits(int from, int count) const {
    word_pattern p = *this;
    for (int i = from; i < from + count; ++i) {
      p.mask |= std::uint64_t{0xF0} << (8 * i);
      p.value |= std::uint64_t{0x30} << (8 * i);
      p.add6 |= std::uint64_t{0x06} << (8 * i);
    }
    return p;
  }
  constexpr word_pattern byte(int at, char c) const {
    word_pattern p = *this;
    p.mask |= std::uint64_t{0xFF} << (8 * at);
    p.value |= std::uint64_t{static_cast<unsigned char>(c)} << (8 * at);
    return p;
  }
};
// A digit is 0x30..0x39: its high nibble is 3, and still 3 after adding 6 (0x3A..0x3F become 0x40..0x45).
// No carry crosses bytes: a byte that passes the first test is at most 0x3F.
inline bool matches(std::uint64_t word, const word_pattern& p) noexcept {
  return (((word & p.mask) ^ p.value) | (((word + p.add6) & p.mask) ^ p.value)) == 0;
}

// A number of `Digits` (1 or 2) digits already checked to be digits.
template <int Digits>
inline unsigned number_at(const char* p) noexcept {
  const auto byte = [p](int i) -> unsigned { return static_cast<unsigned char>(p[i]); };
  if constexpr (Digits == 1) return byte(0) - '0';
  else return byte(0) * 10 + byte(1) - 11 * '0';
}

constexpr std::size_t lab_min_size = 8;   // "1/1/2004"
constexpr std::size_t lab_max_size = 19;  // "12/31/2004 23:59:59"

// The time after a lab date, with its space: " H:MM", " HH:MM", " H:MM:SS" or " HH:MM:SS", read from the last
// 8 bytes of the text (all but the space of the longest). Returns false for the wrong bytes.
template <int HourDigits, bool Seconds>
inline bool read_lab_time(const char* end, unsigned& hour, unsigned& minute, unsigned& second) noexcept {
  constexpr int size = 1 + HourDigits + 3 + (Seconds ? 3 : 0);
  constexpr int space_at = 8 - size;  // in the last 8 bytes; -1: just before them
  constexpr int hour_at = space_at + 1;
  constexpr int minute_at = hour_at + HourDigits + 1;
  constexpr word_pattern hours_minutes =
      (space_at >= 0 ? word_pattern{}.byte(space_at, ' ') : word_pattern{})
          .digits(hour_at, HourDigits).byte(minute_at - 1, ':').digits(minute_at, 2);
  constexpr word_pattern pattern = Seconds ? hours_minutes.byte(minute_at + 2, ':').digits(minute_at + 3, 2)
                                           : hours_minutes;
  const char* tail = end - 8;
  bool ok = matches(load8(tail), pattern);
  if constexpr (space_at < 0) ok &= tail[space_at] == ' ';
  hour = number_at<HourDigits>(tail + hour_at);
  minute = number_at<2>(tail + minute_at);
  if constexpr (Seconds) second = number_at<2>(tail + minute_at + 3);
  return ok;
}

// "M/D/YYYY[ H:MM[:SS]]" with MonthDigits and DayDigits known. The caller branches on those (rather than
// computing them) because files repeat a shape over long runs: the branches predict well, and every load has a
// fixed offset, so none waits for another. For the same reason the time's shape is branched on, with an if
// chain: a switch's jump table measured slower.
template <int MonthDigits, int DayDigits>
bool parse_lab_shape(const char* p, std::size_t size, timestamp& out) noexcept {
  constexpr int day_at = MonthDigits + 1;
  constexpr int year_at = day_at + DayDigits + 1;
  constexpr std::size_t date_size = year_at + 4;
  if (size < date_size) return false;
  constexpr word_pattern date_head =
      word_pattern{}.digits(0, MonthDigits).byte(MonthDigits, '/').digits(day_at, DayDigits).byte(year_at - 1, '/');
  bool ok = matches(load8(p), date_head) & matches(load4(p + year_at), word_pattern{}.digits(0, 4));
  unsigned hour = 0, minute = 0, second = 0;
  const char* end = p + size;
  const std::size_t time_size = size - date_size;
  if (time_size == 5) {
    ok &= read_lab_time<1, false>(end, hour, minute, second);
  } else if (time_size == 6) {
    ok &= read_lab_time<2, false>(end, hour, minute, second);
  } else if (time_size == 8) {
    ok &= read_lab_time<1, true>(end, hour, minute, second);
  } else if (time_size == 9) {
    ok &= read_lab_time<2, true>(end, hour, minute, second);
  } else if (time_size != 0) {
    return false;
  }
  if (!ok) return false;
  return make_timestamp(number_at<2>(p + year_at), number_at<2>(p + year_at + 2), number_at<MonthDigits>(p),
                        number_at<DayDigits>(p + day_at), hour, minute, second, out);
}

inline bool parse_lab(const char* p, std::size_t size, timestamp& out) noexcept {
  if (size - lab_min_size > lab_max_size - lab_min_size) return false;  // so p[0..7] are there
  const bool month_two = p[1] != '/';
  const bool day_two = p[3 + month_two] != '/';
  if (month_two) return day_two ? parse_lab_shape<2, 2>(p, size, out) : parse_lab_shape<2, 1>(p, size, out);
  return day_two ? parse_lab_shape<1, 2>(p, size, out) : parse_lab_shape<1, 1>(p, size, out);
}

// "YYYY-MM-DD[( |T)HH:MM[:SS[.f+]][Z]]"; the caller saw at least 10 bytes and p[4] == '-'.
inline bool parse_iso(const char* p, std::size_t size, timestamp& out) noexcept {
  constexpr word_pattern date_head = word_pattern{}.digits(0, 4).byte(4, '-').digits(5, 2).byte(7, '-');
  if (!matches(load8(p), date_head) || !is_digit(p[8]) || !is_digit(p[9])) return false;
  unsigned hour = 0, minute = 0, second = 0;
  if (size > 10) {
    const char* q = p + 11;
    const char* end = p + size;
    if ((p[10] != ' ' && p[10] != 'T') || !read_exact(q, end, 2, hour) || q == end || *q++ != ':' ||
        !read_exact(q, end, 2, minute))
      return false;
    if (q != end && *q == ':') {
      if (!read_exact(++q, end, 2, second)) return false;
      if (q != end && *q == '.') {
        const char* fraction = ++q;
        while (q != end && is_digit(*q)) ++q;
        if (q == fraction) return false;
      }
    }
    if (q != end && *q == 'Z') ++q;
    if (q != end) return false;
  }
  return make_timestamp(number_at<2>(p), number_at<2>(p + 2), number_at<2>(p + 5), number_at<2>(p + 8), hour, minute,
                        second, out);
}

bool parse_automatic(std::string_view text, timestamp& out) noexcept {
  if (text.size() >= 10 && text[4] == '-') return parse_iso(text.data(), text.size(), out);
  return parse_lab(text.data(), text.size(), out);
}

constexpr const char* month_names[12] = {"january", "february", "march",     "april",   "may",      "june",
                                         "july",    "august",   "september", "october", "november", "december"};

inline char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

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

}  // namespace

time_parser::time_parser() : description_(automatic_description) {}

time_parser::time_parser(std::string strftime_format) : description_(std::move(strftime_format)) {
  using kind = step::kind;
  const std::string& format = description_;
  const std::string option = "--time-format '" + format + "'";
  bool has_year = false, has_hour12 = false, has_am_pm = false;
  const auto add = [&](kind k) {
    steps_.push_back({k, 0});
    has_year |= k == kind::year4 || k == kind::year2;
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
      case 'T': add(kind::hour24), add_literal(':'), add(kind::minute), add_literal(':'), add(kind::second); break;
      case 'D': add(kind::month), add_literal('/'), add(kind::day), add_literal('/'), add(kind::year2); break;
      case 'F': add(kind::year4), add_literal('-'), add(kind::month), add_literal('-'), add(kind::day); break;
      case '%': add_literal('%'); break;
      default:
        throw error(error_kind::usage,
                    std::string("unsupported directive %") + format[i] + " in " + option, {}, 0,
                    std::string("supported directives: ") + supported_directives +
                        "; any other text must match literally");
    }
  }
  if (!has_year)
    throw error(error_kind::usage, option + " has no year", {}, 0,
                "add %Y (4-digit year) or %y (2-digit year); other fields default to January 1, 00:00:00");
  if (has_hour12 != has_am_pm)
    throw error(error_kind::usage, option + (has_hour12 ? " has %I without %p" : " has %p without %I"), {}, 0,
                "use %I (hour 1-12) together with %p (AM/PM), or %H (hour 0-23) alone");
}

bool time_parser::parse(std::string_view text, timestamp& out) const noexcept {
  if (steps_.empty()) return parse_automatic(text, out);
  return parse_custom(text, out);
}

bool time_parser::parse_custom(std::string_view text, timestamp& out) const noexcept {
  using kind = step::kind;
  const char* p = text.data();
  const char* end = p + text.size();
  unsigned year = 1970, month = 0, day = 0, hour = 0, minute = 0, second = 0, day_of_year = 0;
  bool pm = false, twelve_hour = false;
  for (const step& s : steps_) {
    unsigned value = 0;
    switch (s.what) {
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
    out = days * seconds_per_day + static_cast<timestamp>(hour * 3600 + minute * 60 + second);
    return true;
  }
  return make_timestamp(century, year_of_century, month == 0 ? 1 : month, day == 0 ? 1 : day, hour, minute, second,
                        out);
}

std::string format_iso(timestamp t) {
  const std::int64_t days = floor_div(t, seconds_per_day);
  const auto second_of_day = static_cast<unsigned>(t - days * seconds_per_day);
  std::string out;
  out.reserve(20);
  append_date(out, civil_from_days(days));
  out.push_back('T');
  append_padded(out, second_of_day / 3600, 2);
  out.push_back(':');
  append_padded(out, second_of_day / 60 % 60, 2);
  out.push_back(':');
  append_padded(out, second_of_day % 60, 2);
  return out;
}

time_bucket parse_time_bucket(std::string_view text) {
  if (text == "hour") return time_bucket::hour;
  if (text == "day") return time_bucket::day;
  if (text == "week") return time_bucket::week;
  if (text == "month") return time_bucket::month;
  throw error(error_kind::usage, "unknown time bucket '" + std::string(text) + "'", {}, 0,
              "use one of: hour, day, week, month");
}

// floor_div rather than day_of: the same days, and no overflow at INT64_MIN (day_of negates t).
std::int64_t bucket_of(timestamp t, time_bucket b) noexcept {
  switch (b) {
    case time_bucket::hour: return floor_div(t, 3600);
    case time_bucket::day: return floor_div(t, seconds_per_day);
    // 1970-01-01 is a Thursday, so weeks start on days -3 + 7k.
    case time_bucket::week: return floor_div(floor_div(t, seconds_per_day) + 3, 7);
    case time_bucket::month: {
      const civil_date date = civil_from_days(floor_div(t, seconds_per_day));
      return (date.year - 1970) * 12 + (date.month - 1);
    }
  }
  return 0;
}

std::string format_bucket(std::int64_t bucket, time_bucket b) {
  std::string out;
  out.reserve(16);
  switch (b) {
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
  return out;
}

const char* bucket_column_name(time_bucket b) noexcept {
  switch (b) {
    case time_bucket::hour: return "hour";
    case time_bucket::day: return "day";
    case time_bucket::week: return "week";
    case time_bucket::month: return "month";
  }
  return "";
}

}  // namespace labcount
