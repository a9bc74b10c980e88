// The proleptic Gregorian calendar <-> days since 1970-01-01, and the timestamp type, once for the whole
// project (timestamps, buckets, generated data, the backends on host and device). Algorithms after H. Hinnant
// ("chrono-compatible low-level date algorithms"): years are counted from March so that the leap day comes last.
//
//   days_from_civil(2004, 8, 10) == 12640      civil_from_days(12640) == {2004, 8, 10}
//   days_from_civil(1969, 12, 31) == -1        civil_from_days(-1) == {1969, 12, 31}
#pragma once

#include <cstdint>

#include "util/host_device.hpp"

namespace labcount::calendar {

struct civil_date {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days from 0000-03-01 to 1970-01-01, and in one 400-year cycle.
inline constexpr std::int64_t days_0000_03_01_to_1970 = 719468;
inline constexpr std::int64_t days_per_400_years = 146097;

// Division rounded down (towards minus infinity), for every a and b != 0 without overflow but INT64_MIN / -1.
LABCOUNT_HOST_DEVICE constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr bool is_leap_year(std::int64_t year) noexcept {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

// Days since 1970-01-01 of a valid date, for any year whose days fit 64 bits.
constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t cycle = floor_div(year, 400);
  const auto year_of_cycle = static_cast<unsigned>(year - cycle * 400);                        // [0, 399]
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
  const unsigned day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
  return cycle * days_per_400_years + static_cast<std::int64_t>(day_of_cycle) - days_0000_03_01_to_1970;
}

// The inverse of days_from_civil, for any day count that fits a timestamp.
constexpr civil_date civil_from_days(std::int64_t days) noexcept {
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

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2004, 8, 10) == 12640);
static_assert(days_from_civil(1969, 12, 31) == -1);
static_assert(civil_from_days(12640).year == 2004 && civil_from_days(12640).month == 8 &&
              civil_from_days(12640).day == 10);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).month == 12 && civil_from_days(-1).day == 31);

}  // namespace labcount::calendar

namespace labcount {

// Microseconds since 1970-01-01T00:00:00, as written in the file (a time with Z or an offset: in UTC).
// int64 microseconds reach about 292,000 years either way: every date of years 0000-9999 fits.
using timestamp = std::int64_t;
inline constexpr timestamp ticks_per_second = 1'000'000;
inline constexpr timestamp ticks_per_day = 86'400 * ticks_per_second;

// The calendar day of a timestamp: days since 1970-01-01, negative before (so -1 us is day -1). Defined for
// every timestamp (floor division, no negation).
LABCOUNT_HOST_DEVICE constexpr std::int64_t day_of(timestamp t) noexcept {
  return calendar::floor_div(t, ticks_per_day);
}

static_assert(day_of(0) == 0 && day_of(ticks_per_day - 1) == 0 && day_of(ticks_per_day) == 1);
static_assert(day_of(-1) == -1 && day_of(-ticks_per_day) == -1 && day_of(-ticks_per_day - 1) == -2);

}  // namespace labcount
