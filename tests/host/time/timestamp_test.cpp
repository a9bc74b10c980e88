// Timestamps: known instants, every accepted shape, rejections, round trips against the C library's timegm and
// gmtime_r (UTC, so independent of TZ), buckets at their boundaries, --time-format.
//
//   "8/10/2004 1:15" -> 1092100500 s (in microseconds) -> "2004-08-10T01:15:00";  week bucket "2004-W33"
#include "time/timestamp.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "util/errors.hpp"

namespace labcount {
namespace {

constexpr timestamp second = 1'000'000;  // timestamps are microseconds
constexpr timestamp lab_example = 1092100500 * second;  // 2004-08-10T01:15:00
constexpr timestamp minute = 60 * second;
constexpr timestamp hour = 3600 * second;
constexpr timestamp day = 86400 * second;

bool parses(std::string_view text) {
  timestamp t = 0;
  return time_parser{}.parse(text, t);
}

timestamp parse_or_fail(const time_parser& parser, std::string_view text) {
  timestamp t = 0;
  EXPECT_TRUE(parser.parse(text, t)) << "'" << text << "' with " << parser.description();
  return t;
}

timestamp parse_auto(std::string_view text) { return parse_or_fail(time_parser{}, text); }

// The reference: the C library's UTC conversions.
timestamp reference_timegm(int year, int month, int day_of_month, int h, int m, int s) {
  std::tm fields{};
  fields.tm_year = year - 1900;
  fields.tm_mon = month - 1;
  fields.tm_mday = day_of_month;
  fields.tm_hour = h;
  fields.tm_min = m;
  fields.tm_sec = s;
  return static_cast<timestamp>(timegm(&fields)) * second;
}

std::string reference_strftime(timestamp t, const char* format) {
  const auto seconds = static_cast<std::time_t>(t / second - (t % second < 0 ? 1 : 0));
  std::tm fields{};
  gmtime_r(&seconds, &fields);
  char buffer[64];
  const std::size_t size = std::strftime(buffer, sizeof buffer, format, &fields);
  return std::string(buffer, size);
}

// 0..99 as two digits.
std::string two_digits(int value) { return {static_cast<char>('0' + value / 10), static_cast<char>('0' + value % 10)}; }

TEST(TimeParser, KnownValues) {
  EXPECT_EQ(parse_auto("8/10/2004 1:15"), lab_example);
  EXPECT_EQ(parse_auto("1970-01-01T00:00:00"), 0);
  EXPECT_EQ(parse_auto("1969-12-31 23:59:59"), -second);
  EXPECT_EQ(parse_auto("1/1/1970"), 0);
  EXPECT_EQ(parse_auto("2/29/2004 0:00"), reference_timegm(2004, 2, 29, 0, 0, 0));
  EXPECT_EQ(parse_auto("2000-02-29"), reference_timegm(2000, 2, 29, 0, 0, 0));
  EXPECT_EQ(parse_auto("0000-01-01T00:00:00"), -62167219200 * second);
  EXPECT_EQ(parse_auto("0000-02-29"), -62167219200 * second + 59 * day);  // year 0 is a leap year (divisible by 400)
  EXPECT_EQ(parse_auto("9999-12-31T23:59:59"), 253402300799 * second);
  EXPECT_FALSE(parses("2/29/2003"));
  EXPECT_FALSE(parses("1900-02-29"));
  EXPECT_FALSE(parses("2/29/2100 0:00"));
}

TEST(TimeParser, AcceptsEveryShape) {
  const timestamp midnight = lab_example - 1 * hour - 15 * minute;
  // Lab format: 1-2 digit month, day and hour; 2-digit minutes and seconds.
  EXPECT_EQ(parse_auto("8/10/2004"), midnight);
  EXPECT_EQ(parse_auto("08/10/2004"), midnight);
  EXPECT_EQ(parse_auto("8/10/2004 1:15"), lab_example);
  EXPECT_EQ(parse_auto("08/10/2004 01:15"), lab_example);
  EXPECT_EQ(parse_auto("8/10/2004 1:15:07"), lab_example + 7 * second);
  EXPECT_EQ(parse_auto("8/10/2004 13:15"), lab_example + 12 * hour);
  EXPECT_EQ(parse_auto("1/2/2004 0:00"), reference_timegm(2004, 1, 2, 0, 0, 0));
  EXPECT_EQ(parse_auto("12/31/2004 23:59:59"), reference_timegm(2004, 12, 31, 23, 59, 59));
  // ISO 8601.
  EXPECT_EQ(parse_auto("2004-08-10"), midnight);
  EXPECT_EQ(parse_auto("2004-08-10T01:15"), lab_example);
  EXPECT_EQ(parse_auto("2004-08-10 01:15"), lab_example);
  EXPECT_EQ(parse_auto("2004-08-10T01:15:07"), lab_example + 7 * second);
  EXPECT_EQ(parse_auto("2004-08-10 01:15:07"), lab_example + 7 * second);
  // Fractions are kept to the microsecond (digits past the sixth are dropped).
  EXPECT_EQ(parse_auto("2004-08-10T01:15:07.999"), lab_example + 7 * second + 999'000);
  EXPECT_EQ(parse_auto("2004-08-10T01:15:07.5"), lab_example + 7 * second + 500'000);
  EXPECT_EQ(parse_auto("2004-08-10T01:15:07.123456789"), lab_example + 7 * second + 123'456);
  // Z and offsets: the time in UTC.
  EXPECT_EQ(parse_auto("2004-08-10T01:15:07Z"), lab_example + 7 * second);
  EXPECT_EQ(parse_auto("2004-08-10T01:15:07.250Z"), lab_example + 7 * second + 250'000);
  EXPECT_EQ(parse_auto("2004-08-10T01:15Z"), lab_example);
  EXPECT_EQ(parse_auto("2004-08-10T03:15+02:00"), lab_example);
  EXPECT_EQ(parse_auto("2004-08-10T03:15:00+0200"), lab_example);
  EXPECT_EQ(parse_auto("2004-08-10T03:15:00+02"), lab_example);
  EXPECT_EQ(parse_auto("2004-08-09T20:45:00.5-04:30"), lab_example + 500'000);
  EXPECT_EQ(parse_auto("2004-08-10T01:15:00+00:00"), lab_example);
  // The lab format with seconds' fractions, a 12-hour clock, two-digit hours.
  EXPECT_EQ(parse_auto("8/10/2004 1:15:07.9"), lab_example + 7 * second + 900'000);
  EXPECT_EQ(parse_auto("8/10/2004 1:15 AM"), lab_example);
  EXPECT_EQ(parse_auto("8/10/2004 1:15 PM"), lab_example + 12 * hour);
  EXPECT_EQ(parse_auto("08/10/2004 01:15:00 PM"), lab_example + 12 * hour);
  EXPECT_EQ(parse_auto("8/10/2004 12:15 AM"), lab_example - hour);
  EXPECT_EQ(parse_auto("8/10/2004 12:15 pm"), lab_example + 11 * hour);
  EXPECT_EQ(parse_auto("8/10/2004 1:15PM"), lab_example + 12 * hour);
  EXPECT_EQ(parse_auto("8/10/2004 1:15:07.25 PM"), lab_example + 12 * hour + 7 * second + 250'000);
  // The European D.M.YYYY.
  EXPECT_EQ(parse_auto("10.08.2004 01:15"), lab_example);
  EXPECT_EQ(parse_auto("10.8.2004 1:15:00.1"), lab_example + 100'000);
  EXPECT_EQ(parse_auto("10.08.2004"), midnight);
  // Epoch seconds (9-10 digits, maybe with a fraction), milliseconds (12-13), microseconds (15-16).
  EXPECT_EQ(parse_auto("1092100500"), lab_example);
  EXPECT_EQ(parse_auto("1092100500.25"), lab_example + 250'000);
  EXPECT_EQ(parse_auto("1092100500250"), lab_example + 250'000);
  EXPECT_EQ(parse_auto("1092100500250001"), lab_example + 250'001);
  EXPECT_EQ(parse_auto("999999999"), 999999999 * second);
}

TEST(TimeParser, SlashDatesDayFirstForAnInputThatSaysSo) {
  const time_parser automatic;
  std::string note;
  // A first number above 12: day first.
  const time_parser european = automatic.for_input({"25/12/2004 10:00", "10/8/2004 1:15"}, &note);
  EXPECT_EQ(parse_or_fail(european, "10/8/2004 1:15"), lab_example);
  EXPECT_NE(note.find("day first"), std::string::npos) << note;
  EXPECT_NE(note.find("D/M/YYYY H:MM"), std::string::npos) << note;
  // A second number above 12, or nothing to tell: month first (the lab's order), and the note says why.
  const time_parser us = automatic.for_input({"8/10/2004 1:15", "12/25/2004 1:15"}, &note);
  EXPECT_EQ(parse_or_fail(us, "8/10/2004 1:15"), lab_example);
  const time_parser unknown = automatic.for_input({"8/10/2004 1:15", "8/11/2004 1:15"}, &note);
  EXPECT_EQ(parse_or_fail(unknown, "8/10/2004 1:15"), lab_example);
  EXPECT_NE(note.find("month first"), std::string::npos) << note;
  EXPECT_NE(note.find("--time-format '%d/%m/%Y %H:%M'"), std::string::npos) << note;
  // Both orders: month first; the other order's rows do not parse (they become bad rows).
  const time_parser mixed = automatic.for_input({"25/12/2004 10:00", "12/25/2004 10:00"}, &note);
  timestamp t = 0;
  EXPECT_FALSE(mixed.parse("25/12/2004 10:00", t));
  EXPECT_NE(note.find("both orders"), std::string::npos) << note;
  // Dotted dates are always day first; ISO and epoch times have one reading.
  EXPECT_NE(automatic.for_input({"10.08.2004 01:15"}, &note).parse("10.08.2004 01:15", t), false);
  EXPECT_EQ(t, lab_example);
  automatic.for_input({"2004-08-10T01:15:00+02:00"}, &note);
  EXPECT_NE(note.find("ISO 8601 with a UTC offset"), std::string::npos) << note;
  automatic.for_input({"1092100500250"}, &note);
  EXPECT_NE(note.find("epoch milliseconds"), std::string::npos) << note;
  // A --time-format parser is kept as it is.
  const time_parser custom("%m/%d/%Y %H:%M");
  EXPECT_EQ(custom.for_input({"25/12/2004 10:00"}, &note).description(), "%m/%d/%Y %H:%M");
}

TEST(TimeParser, RejectsWhatIsNotATimestamp) {
  for (const char* text :
       {"", " ", "abc", "8", "8/", "8/10", "8/10/", "8/10/200",
        // spaces are data: keys and values are byte-exact
        " 8/10/2004 1:15", "8/10/2004 1:15 ", "8/10/2004  1:15", " 2004-08-10", "2004-08-10 ", "8/10/2004 ",
        // out of range
        "13/1/2004", "0/1/2004", "1/32/2004", "1/0/2004", "4/31/2004", "1/1/2004 24:00", "1/1/2004 1:60",
        "1/1/2004 1:15:60", "2004-13-01", "2004-00-10", "2004-02-30", "2004-08-10T24:00", "2004-08-10T23:60",
        "2004-08-10T23:59:60",
        // wrong shape
        "8/10/04 1:15", "8/10/04", "8/10/20041", "8/10/2004 1:15x", "8/10/2004 1:15:", "8/10/2004 1:5",
        "8/10/2004 123:15", "8/10/2004 1:150", "8/10/2004 1:15:7", "8/10/2004 1:15:070", "8/10/2004 1",
        "8/10/2004 1:", "8/10/2004T1:15", "8/10/2004 1:15Z", "123/10/2004", "8/100/2004",
        "8-10-2004", "2004/08/10", "2004-8-10", "2004-08-1", "2004-08-10T1:15", "2004-08-10T01:5", "2004-08-10T01",
        "2004-08-10T", "2004-08-10Z", "2004-08-10x", "2004-08-10T01:15:07.", "2004-08-10T01:15.5",
        "2004-08-10T01:15:07ZZ", "2004-08-10T01:15:07Zx", "2004-08-10t01:15",
        "2004-08-10  01:15", "+2004-08-10", "-1/1/2004", "1/1/-200", "８/10/2004",
        // the newer shapes' edges
        "8/10/2004 1:15:07.", "8/10/2004 13:15 PM", "8/10/2004 0:15 AM", "8/10/2004 1:15 XM", "8/10/2004 1:15 AMx",
        "8/10/2004 1:15  PM", "10.08/2004", "10/08.2004", "10.08.04", "2004-08-10T01:15+24:00", "2004-08-10T01:15+02:60",
        "2004-08-10T01:15+2", "2004-08-10T01:15+02:0", "2004-08-10T01:15:07Z+01", "12345678", "12345678901",
        "12345678901234", "12345678901234567", "1092100500.", "1092100500250.5", ".5", "1.5",
        // a fuzzer's find: 22 digits once overflowed int64 while they were read
        "0002020002020029002902", "99999999999999999999999999"}) {
    timestamp t = 12345;
    EXPECT_FALSE(time_parser{}.parse(text, t)) << "'" << text << "'";
  }
}

TEST(TimeParser, RejectsEmbeddedNul) {
  using namespace std::string_literals;
  EXPECT_FALSE(parses("8/10/2004 1:15\0"s));
  EXPECT_FALSE(parses("2004-08-10\0"s));
}

TEST(TimeParser, RandomInstantsRoundTripAgainstTimegm) {
  std::mt19937_64 rng(20040810);
  const time_parser parser;
  for (int i = 0; i < 200000; ++i) {
    const int year = std::uniform_int_distribution<int>(1900, 2100)(rng);
    const int month = std::uniform_int_distribution<int>(1, 12)(rng);
    const int day_of_month = std::uniform_int_distribution<int>(1, 31)(rng);
    const int h = std::uniform_int_distribution<int>(0, 23)(rng);
    const int m = std::uniform_int_distribution<int>(0, 59)(rng);
    const int s = std::uniform_int_distribution<int>(0, 59)(rng);
    const std::string date = std::to_string(year) + "-" + two_digits(month) + "-" + two_digits(day_of_month);
    const std::string iso = date + "T" + two_digits(h) + ":" + two_digits(m) + ":" + two_digits(s);
    const std::string lab = std::to_string(month) + "/" + std::to_string(day_of_month) + "/" + std::to_string(year) +
                            " " + std::to_string(h) + ":" + two_digits(m) + ":" + two_digits(s);
    const timestamp expected = reference_timegm(year, month, day_of_month, h, m, s);
    // timegm normalizes Feb 30 to Mar 1: the date is valid exactly when it comes back unchanged.
    const bool valid = reference_strftime(expected, "%Y-%m-%dT%H:%M:%S") == iso;
    timestamp from_iso = 0, from_lab = 0;
    ASSERT_EQ(parser.parse(iso, from_iso), valid) << iso;
    ASSERT_EQ(parser.parse(lab, from_lab), valid) << lab;
    if (!valid) continue;
    ASSERT_EQ(from_iso, expected) << iso;
    ASSERT_EQ(from_lab, expected) << lab;
    ASSERT_EQ(format_iso(from_iso), iso);
  }
}

// Every shape the automatic parser accepts (but AM/PM, which the mutations below never spell), written out: a
// letter is one digit of a field (Y year, M month, D day, h m s, f a fraction digit, o n the hours and minutes
// of a UTC offset), anything else must match exactly.
std::vector<std::string> accepted_shapes() {
  std::vector<std::string> shapes;
  std::vector<std::string> times = {"", " h:mm", " hh:mm", " h:mm:ss", " hh:mm:ss"};
  for (int digits = 1; digits <= 9; ++digits)
    for (const char* clock : {" h:mm:ss.", " hh:mm:ss."}) times.push_back(clock + std::string(digits, 'f'));
  for (const char* first : {"M", "MM"})
    for (const char* second_number : {"D", "DD"})
      for (const std::string& time : times) {
        shapes.push_back(std::string(first) + "/" + second_number + "/YYYY" + time);       // M/D (US, the default)
        shapes.push_back(std::string(second_number) + "." + first + ".YYYY" + time);      // D.M (European)
      }
  shapes.push_back("YYYY-MM-DD");
  for (const char* separator : {" ", "T"}) {
    for (const char* zone : {"", "Z", "+oo:nn", "-oo:nn", "+oonn", "-oonn", "+oo", "-oo"}) {
      shapes.push_back(std::string("YYYY-MM-DD") + separator + "hh:mm" + zone);
      shapes.push_back(std::string("YYYY-MM-DD") + separator + "hh:mm:ss" + zone);
      for (int digits = 1; digits <= 12; ++digits)
        shapes.push_back(std::string("YYYY-MM-DD") + separator + "hh:mm:ss." + std::string(digits, 'f') + zone);
    }
  }
  return shapes;
}

// Epoch times, the reference's way: the digit counts of seconds, milliseconds and microseconds.
std::optional<timestamp> reference_epoch(const std::string& text) {
  const std::size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  if (whole.empty() || whole.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  if (dot != std::string::npos) {
    const std::string fraction = text.substr(dot + 1);
    if ((whole.size() != 9 && whole.size() != 10) || fraction.empty() ||
        fraction.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoll(whole) * second + std::stoll((fraction + "000000").substr(0, 6));
  }
  const long long value = std::stoll(whole);
  if (whole.size() == 9 || whole.size() == 10) return value * second;
  if (whole.size() == 12 || whole.size() == 13) return value * 1000;
  if (whole.size() == 15 || whole.size() == 16) return value;
  return std::nullopt;
}

// The automatic parser written the slow, obvious way: try each shape, then timegm, and a round trip through
// gmtime_r to reject impossible dates.
std::optional<timestamp> reference_parse(const std::string& text) {
  if (auto epoch = reference_epoch(text)) return epoch;
  static const std::vector<std::string> shapes = accepted_shapes();
  for (const std::string& shape : shapes) {
    if (shape.size() != text.size()) continue;
    int fields[128] = {};  // by letter
    std::string fraction;
    bool ok = true;
    for (std::size_t i = 0; ok && i < shape.size(); ++i) {
      const char want = shape[i];
      if (std::isalpha(static_cast<unsigned char>(want)) && want != 'T' && want != 'Z') {
        ok = text[i] >= '0' && text[i] <= '9';
        int& field = fields[static_cast<unsigned char>(want)];
        if (want == 'f')
          fraction += text[i];
        else
          field = field * 10 + (text[i] - '0');
      } else {
        ok = text[i] == want;
      }
    }
    if (!ok) continue;
    const int year = fields['Y'], month = fields['M'], day_of_month = fields['D'];
    const int h = fields['h'], minute_of_hour = fields['m'], s = fields['s'];
    if (month < 1 || month > 12 || day_of_month < 1 || day_of_month > 31 || h > 23 || minute_of_hour > 59 || s > 59 ||
        fields['o'] > 23 || fields['n'] > 59)
      return std::nullopt;
    const timestamp t = reference_timegm(year, month, day_of_month, h, minute_of_hour, s);
    const auto seconds = static_cast<std::time_t>(t / second);
    std::tm back{};
    gmtime_r(&seconds, &back);
    if (back.tm_mday != day_of_month || back.tm_mon != month - 1) return std::nullopt;  // Feb 30 and friends
    const timestamp micros = fraction.empty() ? 0 : std::stoll((fraction + "000000").substr(0, 6));
    const timestamp offset = (fields['o'] * 3600 + fields['n'] * 60) * second;
    return t + micros - (shape.find("-o") != std::string::npos ? -offset : offset);
  }
  return std::nullopt;
}

TEST(TimeParser, MutatedInputsAgreeWithAReference) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> seeds = {
      "8/10/2004 1:15",    "12/31/2004 23:59", "1/1/2004 0:00:00",    "12/31/1999 23:59:59",
      "2/29/2000 12:30",   "2/29/1900 12:30",  "10/9/2004",           "1/22/2004",
      "2004-08-10",        "2004-08-10T01:15", "2004-08-10 01:15:07", "2004-02-29T23:59:59.999Z",
      "2100-02-28T00:00Z", "0000-02-29",       "9999-12-31 23:59:59", "1/1/0000",
      "10.08.2004 01:15",  "8/10/2004 1:15:07.5", "2004-08-10T03:15+02:00", "1092100500",
      "1092100500250",     "1092100500.5"};
  const std::string alphabet = "0123456789/:- TZ.+x\xff";
  std::uniform_int_distribution<std::size_t> pick_char(0, alphabet.size() - 1);
  std::size_t accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    for (int edits = 1 + rng() % 3; edits > 0; --edits) {
      const std::size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
      const char c = alphabet[pick_char(rng)];
      switch (rng() % 4) {
        case 0:
          if (at < text.size()) text[at] = c;
          break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        case 2:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = static_cast<char>('0' + rng() % 10);
      }
    }
    const std::optional<timestamp> expected = reference_parse(text);
    timestamp got = 0;
    const bool ok = time_parser{}.parse(text, got);
    ASSERT_EQ(ok, expected.has_value()) << "'" << text << "'";
    if (ok) {
      ASSERT_EQ(got, *expected) << "'" << text << "'";
      ++accepted;
    }
  }
  EXPECT_GT(accepted, 10000u);  // the mutations reach both sides
}

// Every day of years 0000-9999, in both date shapes: consecutive days are 86400 s apart and format back.
TEST(TimeParser, EveryDayOfTenThousandYears) {
  const time_parser parser;
  timestamp previous = parse_auto("0000-01-01") - day;
  for (int year = 0; year <= 9999; ++year) {
    const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    const int month_days[12] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    char year_text[16];
    std::snprintf(year_text, sizeof year_text, "%04d", year);
    for (int month = 1; month <= 12; ++month) {
      for (int day_of_month = 1; day_of_month <= month_days[month - 1]; ++day_of_month) {
        const std::string iso = std::string(year_text) + "-" + two_digits(month) + "-" + two_digits(day_of_month);
        const std::string lab = std::to_string(month) + "/" + std::to_string(day_of_month) + "/" + year_text + " 0:00";
        timestamp from_iso = 0, from_lab = 0;
        ASSERT_TRUE(parser.parse(iso, from_iso)) << iso;
        ASSERT_TRUE(parser.parse(lab, from_lab)) << lab;
        ASSERT_EQ(from_iso, previous + day) << iso;
        ASSERT_EQ(from_lab, from_iso) << lab;
        ASSERT_EQ(format_iso(from_iso), iso + "T00:00:00");
        previous = from_iso;
      }
      const std::string after_end =
          std::to_string(month) + "/" + std::to_string(month_days[month - 1] + 1) + "/" + year_text;
      ASSERT_FALSE(parses(after_end)) << after_end;
    }
  }
  EXPECT_EQ(previous, parse_auto("9999-12-31"));
}

TEST(FormatIso, RandomInstantsMatchGmtime) {
  std::mt19937_64 rng(1092100500);
  const timestamp lo = reference_timegm(1900, 1, 1, 0, 0, 0);
  const timestamp hi = reference_timegm(2101, 1, 1, 0, 0, 0);
  std::uniform_int_distribution<timestamp> instant(lo / second, hi / second - 1);
  for (int i = 0; i < 200000; ++i) {
    // Whole seconds (most lab logs), milliseconds and microseconds: the fraction is written only when there is one,
    // in milliseconds when they hold it.
    const unsigned kind = i % 3;
    const timestamp micros = kind == 0 ? 0 : kind == 1 ? (rng() % 1000) * 1000 : rng() % 1'000'000;
    const timestamp t = instant(rng) * second + micros;
    const std::string text = format_iso(t);
    std::string fraction;
    if (micros != 0) {
      char digits[16];
      if (micros % 1000 == 0)
        std::snprintf(digits, sizeof digits, ".%03lld", static_cast<long long>(micros / 1000));
      else
        std::snprintf(digits, sizeof digits, ".%06lld", static_cast<long long>(micros));
      fraction = digits;
    }
    ASSERT_EQ(text, reference_strftime(t, "%Y-%m-%dT%H:%M:%S") + fraction) << t;
    ASSERT_EQ(parse_auto(text), t) << text;
  }
}

TEST(FormatIso, EdgesOfTheRange) {
  EXPECT_EQ(format_iso(0), "1970-01-01T00:00:00");
  EXPECT_EQ(format_iso(-second), "1969-12-31T23:59:59");
  EXPECT_EQ(format_iso(-1), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(format_iso(-1000), "1969-12-31T23:59:59.999");
  EXPECT_EQ(format_iso(1), "1970-01-01T00:00:00.000001");
  EXPECT_EQ(format_iso(100'000), "1970-01-01T00:00:00.100");
  EXPECT_EQ(format_iso(-day), "1969-12-31T00:00:00");
  EXPECT_EQ(format_iso(lab_example), "2004-08-10T01:15:00");
  EXPECT_EQ(format_iso(-62167219200 * second), "0000-01-01T00:00:00");
  EXPECT_EQ(format_iso(-62167219200 * second + 59 * day), "0000-02-29T00:00:00");
  EXPECT_EQ(format_iso(253402300799 * second), "9999-12-31T23:59:59");
  // Outside 0000-9999 the year gets a sign or a fifth digit; nothing overflows.
  EXPECT_EQ(format_iso(-62167219200 * second - second), "-0001-12-31T23:59:59");
  EXPECT_EQ(format_iso(253402300800 * second), "10000-01-01T00:00:00");
  // INT64_MIN once overflowed int64 (t - days * ticks_per_day, caught by UBSan in scripts/sanitize.sh).
  // INT64_MIN us is -9223372036854.775808 s: -292277 years back, at 0.224192 s into a second.
  EXPECT_EQ(format_iso(INT64_MIN), "-290308-12-21T19:59:05.224192");
  EXPECT_EQ(format_iso(INT64_MIN + 1), "-290308-12-21T19:59:05.224193");
  EXPECT_EQ(format_iso(INT64_MAX), "294247-01-10T04:00:54.775807");
}

TEST(TimeBucket, HourAndDayBoundaries) {
  EXPECT_EQ(bucket_of(0, time_bucket::hour), 0);
  EXPECT_EQ(bucket_of(hour - 1, time_bucket::hour), 0);
  EXPECT_EQ(bucket_of(hour, time_bucket::hour), 1);
  EXPECT_EQ(bucket_of(-1, time_bucket::hour), -1);
  EXPECT_EQ(bucket_of(-second, time_bucket::hour), -1);
  EXPECT_EQ(bucket_of(-hour, time_bucket::hour), -1);
  EXPECT_EQ(bucket_of(-hour - 1, time_bucket::hour), -2);
  EXPECT_EQ(format_bucket(bucket_of(lab_example, time_bucket::hour), time_bucket::hour), "2004-08-10T01");
  EXPECT_EQ(format_bucket(-1, time_bucket::hour), "1969-12-31T23");

  EXPECT_EQ(bucket_of(0, time_bucket::day), 0);
  EXPECT_EQ(bucket_of(day - 1, time_bucket::day), 0);
  EXPECT_EQ(bucket_of(day, time_bucket::day), 1);
  EXPECT_EQ(bucket_of(-1, time_bucket::day), -1);
  EXPECT_EQ(bucket_of(-day, time_bucket::day), -1);
  EXPECT_EQ(bucket_of(-day - 1, time_bucket::day), -2);
  EXPECT_EQ(format_bucket(bucket_of(lab_example, time_bucket::day), time_bucket::day), "2004-08-10");
  EXPECT_EQ(format_bucket(-1, time_bucket::day), "1969-12-31");
  const timestamp midnight = parse_auto("2004-08-11");
  EXPECT_EQ(bucket_of(midnight - 1, time_bucket::day) + 1, bucket_of(midnight, time_bucket::day));
}

TEST(TimeBucket, WeeksStartOnMondayAndFollowIsoYears) {
  const auto week_of = [](std::string_view text) {
    return format_bucket(bucket_of(parse_auto(text), time_bucket::week), time_bucket::week);
  };
  EXPECT_EQ(bucket_of(0, time_bucket::week), 0);                         // Thursday 1970-01-01
  EXPECT_EQ(bucket_of(parse_auto("1969-12-29"), time_bucket::week), 0);  // its Monday
  EXPECT_EQ(bucket_of(parse_auto("1969-12-28 23:59:59"), time_bucket::week), -1);
  EXPECT_EQ(bucket_of(parse_auto("1970-01-05"), time_bucket::week), 1);
  EXPECT_EQ(week_of("1970-01-01"), "1970-W01");
  EXPECT_EQ(week_of("8/10/2004 1:15"), "2004-W33");
  // Sunday 23:59:59 and the Monday right after.
  EXPECT_EQ(week_of("2004-08-08 23:59:59"), "2004-W32");
  EXPECT_EQ(week_of("2004-08-09 00:00:00"), "2004-W33");
  EXPECT_EQ(bucket_of(parse_auto("2004-08-08 23:59:59"), time_bucket::week) + 1,
            bucket_of(parse_auto("2004-08-09"), time_bucket::week));
  // Around New Year the ISO year differs from the calendar year.
  EXPECT_EQ(week_of("2008-12-28"), "2008-W52");
  EXPECT_EQ(week_of("2008-12-29"), "2009-W01");
  EXPECT_EQ(week_of("2008-12-31 23:59:59"), "2009-W01");
  EXPECT_EQ(week_of("2005-01-01"), "2004-W53");
  EXPECT_EQ(week_of("2005-01-02 23:59:59"), "2004-W53");
  EXPECT_EQ(week_of("2005-01-03"), "2005-W01");
  EXPECT_EQ(week_of("2004-12-31"), "2004-W53");
  EXPECT_EQ(week_of("2010-01-03"), "2009-W53");
  EXPECT_EQ(week_of("1969-12-31"), "1970-W01");
  EXPECT_EQ(week_of("1969-12-28"), "1969-W52");
}

TEST(TimeBucket, MonthEnds) {
  const auto month_of = [](std::string_view text) { return bucket_of(parse_auto(text), time_bucket::month); };
  EXPECT_EQ(month_of("1970-01-01"), 0);
  EXPECT_EQ(month_of("1970-01-31 23:59:59"), 0);
  EXPECT_EQ(month_of("1970-02-01"), 1);
  EXPECT_EQ(month_of("1969-12-31 23:59:59"), -1);
  EXPECT_EQ(month_of("1969-01-01"), -12);
  EXPECT_EQ(month_of("1968-12-31"), -13);
  EXPECT_EQ(month_of("2004-08-10"), (2004 - 1970) * 12 + 7);
  EXPECT_EQ(month_of("2004-02-29 23:59:59") + 1, month_of("2004-03-01"));
  EXPECT_EQ(month_of("2004-12-31 23:59:59") + 1, month_of("2005-01-01"));
  EXPECT_EQ(format_bucket(month_of("2004-02-29 23:59:59"), time_bucket::month), "2004-02");
  EXPECT_EQ(format_bucket(month_of("2004-03-01"), time_bucket::month), "2004-03");
  EXPECT_EQ(format_bucket(-1, time_bucket::month), "1969-12");
  EXPECT_EQ(format_bucket(-13, time_bucket::month), "1968-12");
  EXPECT_EQ(format_bucket(0, time_bucket::month), "1970-01");
}

// Every bucket's label names the bucket's first instant, buckets are dense, and labels sort like buckets.
TEST(TimeBucket, FormatRoundTripsAgainstGmtime) {
  std::mt19937_64 rng(33);
  const timestamp lo = reference_timegm(1900, 1, 1, 0, 0, 0);
  const timestamp hi = reference_timegm(2101, 1, 1, 0, 0, 0);
  std::uniform_int_distribution<timestamp> instant(lo, hi - 1);
  for (int i = 0; i < 100000; ++i) {
    const timestamp t = instant(rng) + static_cast<timestamp>(rng() % second);
    const std::int64_t h = bucket_of(t, time_bucket::hour);
    const std::int64_t d = bucket_of(t, time_bucket::day);
    const std::int64_t w = bucket_of(t, time_bucket::week);
    const std::int64_t m = bucket_of(t, time_bucket::month);
    const std::string hour_label = format_bucket(h, time_bucket::hour);
    const std::string day_label = format_bucket(d, time_bucket::day);
    const std::string week_label = format_bucket(w, time_bucket::week);
    const std::string month_label = format_bucket(m, time_bucket::month);
    ASSERT_EQ(hour_label, reference_strftime(t, "%Y-%m-%dT%H"));
    ASSERT_EQ(day_label, reference_strftime(t, "%Y-%m-%d"));
    ASSERT_EQ(week_label, reference_strftime(t, "%G-W%V"));
    ASSERT_EQ(month_label, reference_strftime(t, "%Y-%m"));

    const timestamp hour_start = parse_auto(hour_label + ":00");
    ASSERT_TRUE(hour_start <= t && t < hour_start + hour);
    ASSERT_EQ(bucket_of(hour_start, time_bucket::hour), h);
    const timestamp day_start = parse_auto(day_label);
    ASSERT_TRUE(day_start <= t && t < day_start + day);
    const timestamp month_start = parse_auto(month_label + "-01");
    ASSERT_EQ(bucket_of(month_start, time_bucket::month), m);
    ASSERT_EQ(bucket_of(month_start - 1, time_bucket::month), m - 1);
    const timestamp monday = (d - ((d + 3) % 7 + 7) % 7) * day;
    ASSERT_EQ(reference_strftime(monday, "%u"), "1");
    ASSERT_EQ(bucket_of(monday, time_bucket::week), w);
    ASSERT_EQ(bucket_of(monday - 1, time_bucket::week), w - 1);

    for (const time_bucket b : {time_bucket::hour, time_bucket::day, time_bucket::week, time_bucket::month}) {
      const std::int64_t bucket = bucket_of(t, b);
      ASSERT_LT(format_bucket(bucket, b), format_bucket(bucket + 1, b));
    }
  }
}

TEST(CustomFormat, DayMonthYear) {
  const time_parser parser("%d.%m.%Y %H:%M");
  EXPECT_EQ(parser.description(), "%d.%m.%Y %H:%M");
  EXPECT_EQ(parse_or_fail(parser, "10.08.2004 01:15"), lab_example);
  EXPECT_EQ(parse_or_fail(parser, "10.8.2004 1:15"), lab_example);  // strptime accepts unpadded numbers too
  timestamp t = 0;
  for (const char* text : {"10.08.2004 01:15 ", " 10.08.2004 01:15", "10.08.2004", "10/08/2004 01:15",
                           "31.02.2004 00:00", "10.13.2004 01:15", "10.08.04 01:15", "10.08.2004 24:00",
                           "10.08.2004 01:60", "10.08.2004 01:15:00", "", "100.08.2004 01:15"})
    EXPECT_FALSE(parser.parse(text, t)) << "'" << text << "'";
}

TEST(CustomFormat, CompactDigits) {
  const time_parser parser("%Y%m%d%H%M%S");
  EXPECT_EQ(parse_or_fail(parser, "20040810011500"), lab_example);
  EXPECT_EQ(parse_or_fail(parser, "20040810011507"), lab_example + 7 * second);
  EXPECT_EQ(parse_or_fail(parser, "19691231235959"), -second);
  // Fields take 1-2 digits as in strptime, so a short last field still parses: "...01150" is 01:15:00.
  EXPECT_EQ(parse_or_fail(parser, "2004081001150"), lab_example);
  timestamp t = 0;
  for (const char* text : {"200408100115", "200408100115000", "20041310011500", "20040230011500", "2004081001150x"})
    EXPECT_FALSE(parser.parse(text, t)) << "'" << text << "'";
}

TEST(CustomFormat, MonthNamesAndTwelveHourClock) {
  const time_parser parser("%b %e %Y %I:%M %p");
  EXPECT_EQ(parse_or_fail(parser, "Aug 10 2004 1:15 AM"), lab_example);
  EXPECT_EQ(parse_or_fail(parser, "Aug 10 2004 01:15 AM"), lab_example);
  EXPECT_EQ(parse_or_fail(parser, "aug 10 2004 1:15 am"), lab_example);
  EXPECT_EQ(parse_or_fail(parser, "AUGUST 10 2004 1:15 PM"), lab_example + 12 * hour);
  EXPECT_EQ(parse_or_fail(parser, "Aug 10 2004 12:15 AM"), lab_example - hour);
  EXPECT_EQ(parse_or_fail(parser, "Aug 10 2004 12:15 PM"), lab_example + 11 * hour);
  EXPECT_EQ(parse_or_fail(parser, "Aug  9 2004 1:15 AM"), lab_example - day);  // %e: space-padded day
  EXPECT_EQ(parse_or_fail(parser, "Aug 9 2004 1:15 AM"), lab_example - day);
  EXPECT_EQ(parse_or_fail(parser, "Feb 29 2004 11:59 PM"), reference_timegm(2004, 2, 29, 23, 59, 0));
  EXPECT_EQ(parse_or_fail(parser, "May 1 2004 1:00 AM"), reference_timegm(2004, 5, 1, 1, 0, 0));
  EXPECT_EQ(parse_or_fail(parser, "September 1 2004 1:00 AM"), reference_timegm(2004, 9, 1, 1, 0, 0));
  timestamp t = 0;
  for (const char* text :
       {"Aug 10 2004 0:15 AM", "Aug 10 2004 13:15 PM", "Aug 10 2004 1:15", "Aug 10 2004 1:15 XM", "Agu 10 2004 1:15 AM",
        "Feb 30 2004 1:15 AM", "Aug   9 2004 1:15 AM", "Augu 10 2004 1:15 AM", "Aug 10 2004 1:15 AM "})
    EXPECT_FALSE(parser.parse(text, t)) << "'" << text << "'";
}

TEST(CustomFormat, FractionsOffsetsAndEpochTimes) {
  EXPECT_EQ(parse_or_fail(time_parser("%d.%m.%Y %H:%M:%S.%f"), "10.08.2004 01:15:07.25"),
            lab_example + 7 * second + 250'000);
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%m-%d %H:%M %z"), "2004-08-10 03:15 +0200"), lab_example);
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%m-%d %H:%M %z"), "2004-08-10 01:15 Z"), lab_example);
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%m-%d %H:%M %z"), "2004-08-09 21:15 -04:00"), lab_example);
  EXPECT_EQ(parse_or_fail(time_parser("%s"), "1092100500"), lab_example);
  EXPECT_EQ(parse_or_fail(time_parser("%s"), "1092100500.5"), lab_example + 500'000);
  EXPECT_EQ(parse_or_fail(time_parser("%s"), "0"), 0);
  EXPECT_EQ(parse_or_fail(time_parser("%Q"), "1092100500250"), lab_example + 250'000);
  EXPECT_EQ(parse_or_fail(time_parser("epoch"), "1092100500"), lab_example);
  EXPECT_EQ(parse_or_fail(time_parser("Epoch-MS"), "1092100500250"), lab_example + 250'000);
  EXPECT_EQ(parse_or_fail(time_parser("%s.%f"), "1092100500.25"), lab_example + 250'000);
  EXPECT_EQ(parse_or_fail(time_parser("%z %Y"), "+02 2004"), reference_timegm(2004, 1, 1, 0, 0, 0) - 2 * hour);
  EXPECT_EQ(time_parser("epoch-ms").description(), "%Q");
  timestamp t = 0;
  EXPECT_FALSE(time_parser("%s").parse("", t));
  EXPECT_FALSE(time_parser("%s").parse("1092100500x", t));
  EXPECT_FALSE(time_parser("%Q").parse("1092100500.5", t));
  EXPECT_FALSE(time_parser("%Y-%m-%d %H:%M %z").parse("2004-08-10 03:15 ", t));
  EXPECT_FALSE(time_parser("%Y-%m-%d %H:%M:%S.%f").parse("2004-08-10 03:15:00.", t));
}

TEST(CustomFormat, CompositesDayOfYearAndTwoDigitYears) {
  EXPECT_EQ(parse_or_fail(time_parser("%F %T"), "2004-08-10 01:15:07"), lab_example + 7 * second);
  EXPECT_EQ(parse_or_fail(time_parser("%D %T"), "08/10/04 01:15:00"), lab_example);
  EXPECT_EQ(parse_or_fail(time_parser("%D"), "12/31/69"), reference_timegm(1969, 12, 31, 0, 0, 0));
  EXPECT_EQ(parse_or_fail(time_parser("%D"), "01/01/68"), reference_timegm(2068, 1, 1, 0, 0, 0));
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%j"), "2004-223"), lab_example - hour - 15 * minute);
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%j"), "2004-366"), reference_timegm(2004, 12, 31, 0, 0, 0));
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%j %H"), "2004-1 05"), reference_timegm(2004, 1, 1, 5, 0, 0));
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%m-%d %j"), "2004-08-10 223"), lab_example - hour - 15 * minute);
  EXPECT_EQ(parse_or_fail(time_parser("100%% %Y"), "100% 2004"), reference_timegm(2004, 1, 1, 0, 0, 0));
  EXPECT_EQ(parse_or_fail(time_parser("%Y-%m"), "2004-08"), reference_timegm(2004, 8, 1, 0, 0, 0));
  EXPECT_EQ(parse_or_fail(time_parser("%B %Y"), "August 2004"), reference_timegm(2004, 8, 1, 0, 0, 0));
  timestamp t = 0;
  EXPECT_FALSE(time_parser("%Y-%j").parse("2003-366", t));
  EXPECT_FALSE(time_parser("%Y-%j").parse("2004-367", t));
  EXPECT_FALSE(time_parser("%Y-%j").parse("2004-000", t));
  EXPECT_FALSE(time_parser("%Y-%m-%d %j").parse("2004-08-11 223", t));  // %j disagrees with %m-%d
  EXPECT_FALSE(time_parser("100%% %Y").parse("100 2004", t));
}

void expect_usage_error(const std::string& format, const std::string& in_message, const std::string& in_hint) {
  try {
    time_parser parser(format);
    ADD_FAILURE() << "'" << format << "' accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::usage);
    EXPECT_NE(e.description().find(in_message), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find(in_hint), std::string::npos) << e.what();
  }
}

TEST(CustomFormat, UnsupportedDirectivesAreUsageErrors) {
  const std::string supported = "%Y %m %d %e %H %M %S %f %y %b %B %j %p %I %T %D %F %z %s %Q %%";
  expect_usage_error("%Y-%m-%d %Z", "unsupported directive %Z", supported);
  expect_usage_error("%a %Y", "unsupported directive %a", supported);
  expect_usage_error("%Y %Ey", "unsupported directive %E", supported);
  expect_usage_error("%Y-%m-%d %", "lone '%'", "%%");
  expect_usage_error("%d.%m %H:%M", "has no year", "%Y");
  expect_usage_error("", "has no year", "%Y");
  expect_usage_error("%Y %I:%M", "%I without %p", "%H");
  expect_usage_error("%Y %H:%M %p", "%p without %I", "%I");
}

TEST(TimeParser, DescriptionForMessages) {
  EXPECT_EQ(time_parser{}.description(),
            "M/D/YYYY H:MM[:SS[.f]] [AM|PM], D.M.YYYY H:MM, ISO 8601 or epoch seconds/milliseconds");
  EXPECT_EQ(time_parser("%Y%m%d").description(), "%Y%m%d");
}

}  // namespace
}  // namespace labcount
