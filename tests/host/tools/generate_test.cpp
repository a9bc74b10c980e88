#include "tools/generate.hpp"

#include "time/calendar.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd_generate.hpp"  // the GenerateCommand tests drive src/cmd_generate.cpp
#include "output/output_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// A file name unique to this test and process: ctest runs each test in its own process, in parallel.
std::string temp_path(const std::string& tag = "") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (std::filesystem::temp_directory_path() / ("labcount_generate_" + std::string(info->test_suite_name()) + "_" +
                                                    info->name() + tag + "_" + std::to_string(::getpid()) + ".csv"))
      .string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string generate_to_string(const generate_options& options) {
  const std::string path = temp_path();
  {
    output_file out(path);
    generate_csv(options, out);
    out.commit();
  }
  std::string bytes = read_file(path);
  std::filesystem::remove(path);
  return bytes;
}

generate_options make_options(std::uint64_t rows, std::uint32_t samples = 1243, double skew = 0.65,
                              std::uint64_t seed = 1, bool crlf = true) {
  generate_options options;
  options.rows = rows;
  options.samples = samples;
  options.skew = skew;
  options.seed = seed;
  options.crlf = crlf;
  return options;
}

// Data lines without their terminators (the header is dropped).
std::vector<std::string_view> data_lines(std::string_view bytes, std::string_view eol) {
  std::vector<std::string_view> lines;
  std::size_t start = bytes.find(eol);
  if (start == std::string_view::npos) return lines;
  start += eol.size();
  while (start < bytes.size()) {
    const std::size_t end = bytes.find(eol, start);
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "last line has no line terminator";
      break;
    }
    lines.push_back(bytes.substr(start, end - start));
    start = end + eol.size();
  }
  return lines;
}

std::map<std::string, std::uint64_t> count_samples(const std::vector<std::string_view>& lines) {
  std::map<std::string, std::uint64_t> counts;
  for (const auto line : lines) ++counts[std::string(line.substr(line.find(',') + 1))];
  return counts;
}

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// An independent calendar: month lengths and the Gregorian leap rule, no day-number arithmetic.
bool is_leap(std::int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }
unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : lengths[month - 1];
}

struct timestamp {
  std::int64_t year;
  unsigned month, day, hour, minute;
  auto key() const { return std::tuple(year, month, day, hour, minute); }
};

unsigned parse_uint(std::string_view text) {
  unsigned value = 0;
  for (const char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  return value;
}

// "8/10/2004 1:15" -> fields; assumes the format regex already holds.
timestamp parse_timestamp(std::string_view text) {
  const auto slash1 = text.find('/');
  const auto slash2 = text.find('/', slash1 + 1);
  const auto space = text.find(' ');
  const auto colon = text.find(':');
  return {parse_uint(text.substr(slash2 + 1, space - slash2 - 1)), parse_uint(text.substr(0, slash1)),
          parse_uint(text.substr(slash1 + 1, slash2 - slash1 - 1)),
          parse_uint(text.substr(space + 1, colon - space - 1)), parse_uint(text.substr(colon + 1))};
}

TEST(Generate, SameOptionsGiveSameBytes) {
  const auto options = make_options(50'000);
  EXPECT_EQ(generate_to_string(options), generate_to_string(options));
}

TEST(Generate, DifferentSeedGivesDifferentBytes) {
  const std::string a = generate_to_string(make_options(1'000, 1243, 0.65, 1));
  const std::string b = generate_to_string(make_options(1'000, 1243, 0.65, 2));
  EXPECT_NE(a, b);
}

// Pins the exact output, so a platform, compiler or refactoring that changes a single byte fails here.
TEST(Generate, GoldenBytesForDefaultsAndSeed1) {
  const std::string bytes = generate_to_string(make_options(10'000));
  EXPECT_EQ(bytes.substr(0, 65), "TestTime,SampleID\r\n8/10/2004 0:00,S94223\r\n8/10/2004 0:00,S29589\r\n");
  EXPECT_EQ(fnv1a(bytes), 0x8ebb8ffde5f71805ULL) << std::hex << fnv1a(bytes);
}

TEST(Generate, HeaderAndCrlfLineEndings) {
  const std::string bytes = generate_to_string(make_options(1'000));
  ASSERT_EQ(bytes.rfind("TestTime,SampleID\r\n", 0), 0u);
  std::size_t crlf = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') {
      ASSERT_GT(i, 0u);
      ASSERT_EQ(bytes[i - 1], '\r') << "bare LF at byte " << i;
      ++crlf;
    }
  }
  EXPECT_EQ(crlf, 1'001u);
  EXPECT_EQ(bytes.substr(bytes.size() - 2), "\r\n");
}

TEST(Generate, LfOptionGivesNoCarriageReturns) {
  const std::string bytes = generate_to_string(make_options(1'000, 1243, 0.65, 1, false));
  ASSERT_EQ(bytes.rfind("TestTime,SampleID\n", 0), 0u);
  EXPECT_EQ(bytes.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), '\n'), 1'001);
  // Same rows as with CRLF: the line ending is the only difference.
  std::string with_crlf = generate_to_string(make_options(1'000));
  with_crlf.erase(std::remove(with_crlf.begin(), with_crlf.end(), '\r'), with_crlf.end());
  EXPECT_EQ(bytes, with_crlf);
}

TEST(Generate, ZeroRowsGivesHeaderOnly) {
  EXPECT_EQ(generate_to_string(make_options(0)), "TestTime,SampleID\r\n");
  EXPECT_EQ(generate_to_string(make_options(0, 1243, 0.65, 1, false)), "TestTime,SampleID\n");
}

TEST(Generate, RowCountIsExactAcrossBufferFlushes) {
  // 31/32/33 around small powers of two; 100k rows is ~2.3 MB, several 1 MB flushes.
  for (const std::uint64_t rows : {1ULL, 31ULL, 32ULL, 33ULL, 1'000ULL, 100'000ULL}) {
    const std::string bytes = generate_to_string(make_options(rows));
    EXPECT_EQ(data_lines(bytes, "\r\n").size(), rows) << "rows=" << rows;
  }
}

TEST(Generate, EveryLineMatchesTheRealFormat) {
  const std::string bytes = generate_to_string(make_options(20'000));
  // M/D/YYYY H:MM without leading zeros on month, day and hour; two-digit minutes; S + 5 digits.
  const std::regex row(R"((1[0-2]|[1-9])/(3[01]|[12][0-9]|[1-9])/[0-9]{4} (1[0-9]|2[0-3]|[0-9]):[0-5][0-9],S[0-9]{5})");
  for (const auto line : data_lines(bytes, "\r\n"))
    ASSERT_TRUE(std::regex_match(line.begin(), line.end(), row)) << line;
}

TEST(Generate, TimestampsNonDecreasingValidAndSpanLikeTheRealFile) {
  // The default size: the real file spans 8/10/2004 0:00 .. 9/9/2004 23:59, crossing a month end.
  const std::string bytes = generate_to_string(make_options(886'413));
  const auto lines = data_lines(bytes, "\r\n");
  ASSERT_EQ(lines.size(), 886'413u);
  const timestamp first = parse_timestamp(lines.front().substr(0, lines.front().find(',')));
  EXPECT_EQ(first.key(), std::tuple(std::int64_t{2004}, 8u, 10u, 0u, 0u));
  timestamp previous = first;
  std::set<std::tuple<std::int64_t, unsigned, unsigned, unsigned, unsigned>> distinct;
  for (const auto line : lines) {
    const timestamp t = parse_timestamp(line.substr(0, line.find(',')));
    ASSERT_GE(t.month, 1u);
    ASSERT_LE(t.month, 12u);
    ASSERT_GE(t.day, 1u);
    ASSERT_LE(t.day, days_in_month(t.year, t.month)) << line;
    ASSERT_LE(t.hour, 23u);
    ASSERT_LE(t.minute, 59u);
    ASSERT_GE(t.key(), previous.key()) << line;
    previous = t;
    distinct.insert(t.key());
  }
  EXPECT_EQ(previous.year, 2004);
  EXPECT_EQ(previous.month, 9u);
  EXPECT_GE(previous.day, 8u);
  EXPECT_LE(previous.day, 10u);
  // Rows share timestamps (the real file has 20 rows per minute on average).
  const double rows_per_timestamp = static_cast<double>(lines.size()) / static_cast<double>(distinct.size());
  EXPECT_GT(rows_per_timestamp, 15.0);
  EXPECT_LT(rows_per_timestamp, 25.0);
}

TEST(Generate, CalendarMatchesMonthLengthsAndLeapYears) {
  EXPECT_EQ(calendar::days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(calendar::days_from_civil(2004, 8, 10), 12'640);
  EXPECT_EQ(calendar::days_from_civil(1969, 12, 31), -1);
  // Walk every day from 1600 to 2500 with the reference calendar; the conversions must agree.
  std::int64_t days = calendar::days_from_civil(1600, 1, 1);
  for (std::int64_t year = 1600; year <= 2500; ++year) {
    for (unsigned month = 1; month <= 12; ++month) {
      for (unsigned day = 1; day <= days_in_month(year, month); ++day, ++days) {
        ASSERT_EQ(calendar::days_from_civil(year, month, day), days) << year << "-" << month << "-" << day;
        const auto date = calendar::civil_from_days(days);
        ASSERT_EQ(date.year, year);
        ASSERT_EQ(date.month, month);
        ASSERT_EQ(date.day, day);
      }
    }
  }
  // Spot checks of the leap rule: 2000 and 2008 have Feb 29; 1900 and 2100 do not.
  EXPECT_EQ(calendar::civil_from_days(calendar::days_from_civil(2008, 2, 28) + 1).day, 29u);
  EXPECT_EQ(calendar::civil_from_days(calendar::days_from_civil(2000, 2, 28) + 1).day, 29u);
  EXPECT_EQ(calendar::civil_from_days(calendar::days_from_civil(1900, 2, 28) + 1).month, 3u);
  EXPECT_EQ(calendar::civil_from_days(calendar::days_from_civil(2100, 2, 28) + 1).month, 3u);
}

TEST(Generate, DistinctSamplesNeverExceedSamples) {
  {
    const auto counts = count_samples(data_lines(generate_to_string(make_options(10'000, 50)), "\r\n"));
    EXPECT_LE(counts.size(), 50u);
  }
  {
    // More samples than rows: some samples just do not appear.
    const auto counts = count_samples(data_lines(generate_to_string(make_options(100, 5'000)), "\r\n"));
    EXPECT_LE(counts.size(), 100u);
  }
  {
    // Uniform over 20 ids with 10k rows: all 20 appear (a miss has probability ~1e-222).
    const auto counts = count_samples(data_lines(generate_to_string(make_options(10'000, 20, 0.0)), "\r\n"));
    EXPECT_EQ(counts.size(), 20u);
  }
  {
    const auto counts = count_samples(data_lines(generate_to_string(make_options(1'000, 1)), "\r\n"));
    ASSERT_EQ(counts.size(), 1u);
    EXPECT_EQ(counts.begin()->second, 1'000u);
  }
}

TEST(Generate, SampleIdsAreDistinctShuffledAndInRange) {
  EXPECT_EQ(detail::sample_id_digits(1), 5u);
  EXPECT_EQ(detail::sample_id_digits(99'999), 5u);
  EXPECT_EQ(detail::sample_id_digits(100'000), 6u);
  EXPECT_EQ(detail::sample_id_digits(max_generate_samples), 8u);

  const auto all = detail::sample_id_numbers(99'999, 1);  // every 5-digit id exactly once
  std::vector<std::uint32_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i + 1);

  const auto a = detail::sample_id_numbers(1'243, 1);
  const auto b = detail::sample_id_numbers(1'243, 2);
  EXPECT_EQ(std::set<std::uint32_t>(a.begin(), a.end()).size(), a.size());
  EXPECT_NE(a, b);
  EXPECT_NE(a[0], 1u) << "the most frequent sample should not be S00001";
  EXPECT_LE(*std::max_element(a.begin(), a.end()), 99'999u);
  EXPECT_GE(*std::min_element(a.begin(), a.end()), 1u);
}

TEST(Generate, MoreThan99999SamplesWidenTheIds) {
  const std::string bytes = generate_to_string(make_options(2'000, 150'000));
  const std::regex row(R"([0-9/]+ [0-9]+:[0-9]{2},S[0-9]{6})");
  for (const auto line : data_lines(bytes, "\r\n"))
    ASSERT_TRUE(std::regex_match(line.begin(), line.end(), row)) << line;
}

TEST(Generate, ZipfWeightsFollowThePowerLaw) {
  const double one = std::ldexp(1.0, 38);
  for (const double skew : {0.0, 0.65, 1.0, 2.0}) {
    const auto weights = detail::zipf_weights(5'000, skew);
    // The generator rounds skew to a multiple of 2^-20 (fixed point); compare with that exponent.
    const double used_skew = std::round(skew * 1048576.0) / 1048576.0;
    for (std::size_t k = 0; k < weights.size(); ++k) {
      const double expected = one * std::pow(static_cast<double>(k + 1), -used_skew);
      ASSERT_NEAR(static_cast<double>(weights[k]), expected, expected * 1e-6 + 1.0) << "skew " << skew << " rank " << k;
      if (k > 0) {
        ASSERT_LE(weights[k], weights[k - 1]);
      }
    }
  }
  // Very steep: the tail underflows to weight 0, which is never drawn.
  const auto steep = detail::zipf_weights(1'000, 10.0);
  EXPECT_EQ(steep[0], std::uint64_t{1} << 38);
  EXPECT_EQ(steep[999], 0u);
  const auto counts = count_samples(data_lines(generate_to_string(make_options(10'000, 1'000, 10.0)), "\r\n"));
  EXPECT_LT(counts.size(), 20u);
}

TEST(Generate, ZeroSkewIsRoughlyUniform) {
  const auto counts = count_samples(data_lines(generate_to_string(make_options(200'000, 100, 0.0)), "\r\n"));
  ASSERT_EQ(counts.size(), 100u);
  // Mean 2000, standard deviation ~44: +-300 is almost 7 sigma.
  for (const auto& [id, count] : counts) {
    EXPECT_GT(count, 1'700u) << id;
    EXPECT_LT(count, 2'300u) << id;
  }
}

TEST(Generate, DefaultSkewHasTheRealFilesLongTail) {
  const auto counts = count_samples(data_lines(generate_to_string(generate_options{}), "\r\n"));
  std::vector<std::uint64_t> sorted;
  for (const auto& [id, count] : counts) sorted.push_back(count);
  std::sort(sorted.rbegin(), sorted.rend());
  ASSERT_GE(sorted.size(), 1'200u);
  const double total = 886'413;
  const double top1 = static_cast<double>(sorted[0]) / total;
  double top10 = 0;
  for (int i = 0; i < 10; ++i) top10 += static_cast<double>(sorted[static_cast<std::size_t>(i)]) / total;
  const double median = static_cast<double>(sorted[sorted.size() / 2]);
  // Real file: top sample 2.9% of rows, top 10 11.7%, max / median 55. Uniform would give 0.08%,
  // 0.8% and ~1.1.
  EXPECT_GT(top1, 0.02);
  EXPECT_LT(top1, 0.045);
  EXPECT_GT(top10, 0.09);
  EXPECT_LT(top10, 0.17);
  EXPECT_GT(static_cast<double>(sorted[0]) / median, 30.0);
}

TEST(Generate, InvalidOptionsAreUsageErrorsWithAHint) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<generate_options> bad = {
      make_options(10, 0),
      make_options(10, max_generate_samples + 1),
      make_options(10, 1243, -0.1),
      make_options(10, 1243, 10.5),
      make_options(10, 1243, nan),
      make_options(10, 1243, inf),
      make_options(max_generate_rows + 1),
  };
  for (const auto& options : bad) {
    try {
      validate(options);
      ADD_FAILURE() << "accepted rows=" << options.rows << " samples=" << options.samples << " skew=" << options.skew;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage);
      EXPECT_FALSE(e.hint().empty()) << e.what();
    }
  }
  EXPECT_NO_THROW(validate(make_options(0, 1, 0.0)));
  EXPECT_NO_THROW(validate(make_options(max_generate_rows, max_generate_samples, max_generate_skew)));
  // generate_csv validates too, before writing anything.
  const std::string path = temp_path();
  output_file out(path);
  EXPECT_THROW(generate_csv(make_options(10, 0), out), error);
}

// The CLI front end: suffixes, defaults and errors of `labcount generate`.
void run_cli(std::vector<std::string> args) {
  CLI::App app{"labcount"};
  setup_generate(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  app.parse(args);
}

TEST(GenerateCommand, AcceptsCountSuffixes) {
  const std::string path = temp_path();
  run_cli({"generate", "--rows", "1.5k", "--samples", "10", "--skew", "0", "--seed", "7", "--lf", "-o", path});
  const std::string bytes = read_file(path);
  std::filesystem::remove(path);
  ASSERT_EQ(bytes.find('\r'), std::string::npos);
  const auto counts = count_samples(data_lines(bytes, "\n"));
  std::uint64_t rows = 0;
  for (const auto& [id, count] : counts) rows += count;
  EXPECT_EQ(rows, 1'500u);
  EXPECT_EQ(counts.size(), 10u);
  EXPECT_EQ(bytes, generate_to_string(make_options(1'500, 10, 0.0, 7, false)));
}

TEST(GenerateCommand, DefaultsMatchGenerateOptions) {
  const std::string path = temp_path();
  run_cli({"generate", "-o", path});
  const std::string bytes = read_file(path);
  std::filesystem::remove(path);
  EXPECT_EQ(bytes, generate_to_string(generate_options{}));
}

TEST(GenerateCommand, BadCountsAreUsageErrors) {
  for (const std::string rows :
       {"12x", "1.2345k", "k", "", "1.5", "99999999999999999999", "20000000T", "1e6", "200G"}) {
    const std::string path = temp_path();
    try {
      run_cli({"generate", "--rows", rows, "-o", path});
      ADD_FAILURE() << "accepted --rows '" << rows << "'";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage) << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
    EXPECT_FALSE(std::filesystem::exists(path)) << "a failed run left " << path;
  }
  EXPECT_THROW(run_cli({"generate", "--samples", "5G", "-o", temp_path()}), error);
  EXPECT_THROW(run_cli({"generate", "--samples", "0", "-o", temp_path()}), error);
  EXPECT_THROW(run_cli({"generate", "--skew", "11", "-o", temp_path()}), error);
}

TEST(GenerateCommand, UnwritableOutputIsAnIoError) {
  try {
    run_cli({"generate", "--rows", "10", "-o", "/nonexistent-labcount-dir/demo.csv"});
    ADD_FAILURE() << "wrote into a missing directory";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::io);
  }
}

}  // namespace
}  // namespace labcount
