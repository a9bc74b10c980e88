// The automatic timestamp parser, inline: it runs once per row whose timestamp text the pipeline has not
// seen lately, inside the scan loop, where an out-of-line call costs about as much as the parse (the call
// clobbers the registers the loop keeps its state in). Use time_parser (timestamp.hpp), not this.
#pragma once

#include <cstdint>
#include <string_view>

#include "time/calendar.hpp"
#include "util/bytes.hpp"

namespace labcount::timestamp_detail {

using calendar::floor_div;
using calendar::is_leap_year;
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
// The per-row path's division-free form of calendar::days_from_civil; they must agree.
static_assert(days_from_civil(19, 70, 1, 1) == calendar::days_from_civil(1970, 1, 1));
static_assert(days_from_civil(20, 4, 8, 10) == calendar::days_from_civil(2004, 8, 10));
static_assert(days_from_civil(20, 0, 2, 29) == calendar::days_from_civil(2000, 2, 29));
static_assert(days_from_civil(0, 0, 1, 1) == calendar::days_from_civil(0, 1, 1));
static_assert(days_from_civil(99, 99, 12, 31) == calendar::days_from_civil(9999, 12, 31));

// The timestamps a parser gives: years 0000-9999 (a time with an offset or an epoch time beyond them is not
// taken: format_iso writes 4-digit years, and the parsers read them back).
constexpr timestamp earliest_timestamp = days_from_civil(0, 0, 1, 1) * ticks_per_day;
constexpr timestamp latest_timestamp = days_from_civil(99, 99, 12, 31) * ticks_per_day + ticks_per_day - 1;
constexpr bool in_range(timestamp t) noexcept { return t >= earliest_timestamp && t <= latest_timestamp; }

// Validates the fields and converts them; the one place every parser ends. `micros`: the fraction of the
// second, 0..999999.
inline bool make_timestamp(unsigned century, unsigned year_of_century, unsigned month, unsigned day, unsigned hour,
                           unsigned minute, unsigned second, timestamp& out, unsigned micros = 0) noexcept {
  if (month - 1 >= 12 || day - 1 >= max_days_in_month[month] || hour >= 24 || minute >= 60 || second >= 60)
    return false;
  if (month == 2 && day == 29 && !is_leap_year(century, year_of_century)) return false;
  out = days_from_civil(century, year_of_century, month, day) * ticks_per_day +
        static_cast<timestamp>(hour * 3600 + minute * 60 + second) * ticks_per_second + micros;
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

// Reads a fraction's digits (at least one) at p as microseconds: digits past the sixth are read and dropped.
inline bool read_fraction(const char*& p, const char* end, unsigned& micros) noexcept {
  if (p == end || !is_digit(*p)) return false;
  unsigned value = 0, scale = 100'000;
  for (; p != end && is_digit(*p); ++p) {
    value += digit(*p) * scale;
    scale /= 10;
  }
  micros = value;
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
  if constexpr (Digits == 1)
    return byte(0) - '0';
  else
    return byte(0) * 10 + byte(1) - 11 * '0';
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
  constexpr word_pattern hours_minutes = (space_at >= 0 ? word_pattern{}.byte(space_at, ' ') : word_pattern{})
                                             .digits(hour_at, HourDigits)
                                             .byte(minute_at - 1, ':')
                                             .digits(minute_at, 2);
  constexpr word_pattern pattern =
      Seconds ? hours_minutes.byte(minute_at + 2, ':').digits(minute_at + 3, 2) : hours_minutes;
  const char* tail = end - 8;
  bool ok = matches(bytes::load<std::uint64_t>(tail), pattern);
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
bool parse_lab_shape(const char* p, std::size_t size, timestamp& out, bool day_first) noexcept {
  constexpr int day_at = MonthDigits + 1;
  constexpr int year_at = day_at + DayDigits + 1;
  constexpr std::size_t date_size = year_at + 4;
  if (size < date_size) return false;
  constexpr word_pattern date_head =
      word_pattern{}.digits(0, MonthDigits).byte(MonthDigits, '/').digits(day_at, DayDigits).byte(year_at - 1, '/');
  // `&` on purpose (no branch between the two tests); the int casts say so to clang's
  // -Wbitwise-instead-of-logical.
  bool ok = static_cast<int>(matches(bytes::load<std::uint64_t>(p), date_head)) &
            static_cast<int>(matches(bytes::load<std::uint32_t>(p + year_at), word_pattern{}.digits(0, 4)));
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
  const unsigned first = number_at<MonthDigits>(p), second_number = number_at<DayDigits>(p + day_at);
  return make_timestamp(number_at<2>(p + year_at), number_at<2>(p + year_at + 2), day_first ? second_number : first,
                        day_first ? first : second_number, hour, minute, second, out);
}

// (MonthDigits and DayDigits name the first and second number: with day_first, the day comes first.)
inline bool parse_lab(const char* p, std::size_t size, timestamp& out, bool day_first) noexcept {
  if (size - lab_min_size > lab_max_size - lab_min_size) return false;  // so p[0..7] are there
  const bool month_two = p[1] != '/';
  const bool day_two = p[3 + month_two] != '/';
  if (month_two)
    return day_two ? parse_lab_shape<2, 2>(p, size, out, day_first) : parse_lab_shape<2, 1>(p, size, out, day_first);
  return day_two ? parse_lab_shape<1, 2>(p, size, out, day_first) : parse_lab_shape<1, 1>(p, size, out, day_first);
}

// A UTC offset after a time: "Z", "+HH:MM", "+HHMM" or "+HH" (or '-'); the seconds to subtract to get UTC.
inline bool read_utc_offset(const char*& p, const char* end, std::int64_t& offset_seconds) noexcept {
  offset_seconds = 0;
  if (p == end) return true;
  if (*p == 'Z') {
    ++p;
    return true;
  }
  if (*p != '+' && *p != '-') return false;
  const bool minus = *p++ == '-';
  unsigned hours = 0, minutes = 0;
  if (!read_exact(p, end, 2, hours) || hours > 23) return false;
  if (p != end && (*p == ':' || is_digit(*p))) {  // minutes: "+HH:MM" or "+HHMM" ("+HH" then other text: none)
    if (*p == ':') ++p;
    if (!read_exact(p, end, 2, minutes)) return false;
  }
  if (minutes > 59) return false;
  offset_seconds = (minus ? -1 : 1) * static_cast<std::int64_t>(hours * 3600 + minutes * 60);
  return true;
}

// "YYYY-MM-DD[( |T)HH:MM[:SS[.f+]][Z|+HH:MM|+HHMM|+HH]]"; the caller saw at least 10 bytes and p[4] == '-'.
// A fraction is kept to the microsecond; a time with an offset is converted to UTC.
inline bool parse_iso(const char* p, std::size_t size, timestamp& out) noexcept {
  constexpr word_pattern date_head = word_pattern{}.digits(0, 4).byte(4, '-').digits(5, 2).byte(7, '-');
  if (!matches(bytes::load<std::uint64_t>(p), date_head) || !is_digit(p[8]) || !is_digit(p[9])) return false;
  unsigned hour = 0, minute = 0, second = 0, micros = 0;
  std::int64_t offset_seconds = 0;
  if (size > 10) {
    const char* q = p + 11;
    const char* end = p + size;
    if ((p[10] != ' ' && p[10] != 'T') || !read_exact(q, end, 2, hour) || q == end || *q++ != ':' ||
        !read_exact(q, end, 2, minute))
      return false;
    if (q != end && *q == ':') {
      if (!read_exact(++q, end, 2, second)) return false;
      if (q != end && *q == '.' && !read_fraction(++q, end, micros)) return false;
    }
    if (!read_utc_offset(q, end, offset_seconds) || q != end) return false;
  }
  if (!make_timestamp(number_at<2>(p), number_at<2>(p + 2), number_at<2>(p + 5), number_at<2>(p + 8), hour, minute,
                      second, out, micros))
    return false;
  out -= offset_seconds * ticks_per_second;
  return in_range(out);
}

// The shapes the fast parsers above leave: AM/PM, fractions of a second and two-digit hours in M/D/YYYY,
// D.M.YYYY, epoch seconds or milliseconds (timestamp.cpp; out of line, as these shapes are rare).
bool parse_other(std::string_view text, timestamp& out, bool day_first) noexcept;

// `day_first`: a slash date is D/M/YYYY (else M/D/YYYY, the lab's US order).
inline bool parse_automatic(std::string_view text, timestamp& out, bool day_first = false) noexcept {
  if (text.size() >= 10 && text[4] == '-') return parse_iso(text.data(), text.size(), out);
  if (parse_lab(text.data(), text.size(), out, day_first)) return true;
  return parse_other(text, out, day_first);
}

}  // namespace labcount::timestamp_detail
