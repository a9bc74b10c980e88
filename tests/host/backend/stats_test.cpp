// --stats and --per through the whole host pipeline and the CPU backend, against a reference that
// parses timestamps with <chrono>'s calendar types and counts with std::map and std::set.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "pipeline/count_pipeline.hpp"
#include "support/reference_csv.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// "M/D/YYYY H:MM" -> microseconds since 1970, via std::chrono only.
std::int64_t reference_micros(const std::string& text) {
  unsigned month, day, hour, minute;
  int year;
  char slash1, slash2, space, colon;
  std::istringstream in(text);
  in >> month >> slash1 >> day >> slash2 >> year >> std::noskipws >> space >> std::skipws >> hour >> colon >> minute;
  const std::chrono::sys_days date = std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day};
  return (std::chrono::duration_cast<std::chrono::seconds>(date.time_since_epoch()).count() + hour * 3600 +
          minute * 60) * 1'000'000;
}

struct reference_stats {
  std::map<std::string, key_stats> stats;
  std::map<std::pair<std::string, std::int64_t>, std::uint64_t> per_day;  // (key, day number)
};

reference_stats reference(const std::string& text) {
  const auto parsed = testing::reference_rows(text, ',');
  reference_stats out;
  std::map<std::string, std::multiset<std::int64_t>> times;
  for (const auto& row : parsed) times[row[1]].insert(reference_micros(row[0]));
  for (const auto& [key, ts] : times) {
    key_stats s;
    s.count = ts.size();
    s.first = *ts.begin();
    s.last = *ts.rbegin();
    std::set<std::int64_t> days;
    std::set<std::int64_t> distinct(ts.begin(), ts.end());
    for (auto t : ts) {
      const auto day = std::chrono::floor<std::chrono::days>(
          std::chrono::sys_time<std::chrono::microseconds>{std::chrono::microseconds{t}});
      days.insert(day.time_since_epoch().count());
      ++out.per_day[{key, day.time_since_epoch().count()}];
    }
    s.active_days = days.size();
    s.repeats = s.count - distinct.size();
    out.stats[key] = s;
  }
  return out;
}

count_result run(const std::string& path, value_mode mode, unsigned threads, std::size_t chunk,
                 bad_row_policy policy = bad_row_policy::error, std::size_t memory_budget = 0) {
  static const time_parser parser;
  count_request request;
  request.inputs = {path};
  request.mode = mode;
  request.times = &parser;
  request.bucket = time_bucket::day;
  request.chunk_bytes = chunk;
  request.on_bad_row = policy;
  thread_pool pool(threads);
  backend_options options;
  options.num_workers = threads;
  options.mode = mode;
  options.memory_budget = memory_budget;
  return run_count(request, *make_cpu_backend(options), pool);
}

// With `runs`, a key repeats the previous row's with probability 7/8 (as in lab logs, which list a sample's
// tests together); else each row draws its key.
std::string random_lab_file(std::mt19937_64& rng, std::size_t rows, std::size_t keys, bool runs = false) {
  std::string text = "TestTime,SampleID\r\n";
  std::size_t key = 0;
  int month = 12, day = 30, hour = 22, minute = 0, year = 1969;  // crosses 1970 and month/year ends
  for (std::size_t r = 0; r < rows; ++r) {
    if (rng() % 3 != 0) {  // a third of the rows repeat the previous timestamp
      minute += static_cast<int>(rng() % 50);
      hour += minute / 60;
      minute %= 60;
      day += hour / 24;
      hour %= 24;
      if (day > 28) {
        day = 1;
        if (++month > 12) {
          month = 1;
          ++year;
        }
      }
    }
    text += std::to_string(month) + "/" + std::to_string(day) + "/" + std::to_string(year) + " " +
            std::to_string(hour) + ":" + (minute < 10 ? "0" : "") + std::to_string(minute) + ",S";
    if (!runs || rng() % 8 == 0) key = rng() % keys;
    text += std::to_string(key) + (rng() % 2 ? "\r\n" : "\n");
  }
  return text;
}

TEST(CpuBackendStats, WorkedExample) {
  // Rows of one key at [t1 t1 t2 t3], t1 and t2 on one day: count 4, first t1, last t3, 2 days, 1 repeat.
  backend_options options;
  options.num_workers = 2;
  options.mode = value_mode::stats;
  auto backend = make_cpu_backend(options);
  const std::int64_t t1 = 1000, t2 = 2000, t3 = 3 * ticks_per_day;
  const std::uint32_t codes[] = {0, 0, 1};
  const std::int64_t times_a[] = {t1, t3, 5};
  const std::uint32_t codes_b[] = {0, 0};
  const std::int64_t times_b[] = {t2, t1};
  backend->consume(0, {codes, times_a});
  backend->consume(1, {codes_b, times_b});
  const auto stats = backend->finish(2).stats;
  EXPECT_EQ(stats[0], (key_stats{4, t1, t3, 2, 1}));
  EXPECT_EQ(stats[1], (key_stats{1, 5, 5, 1, 0}));
}

// Batches whose times go forward per key (appended without a probe), go back over times already seen (the
// same rows twice), jump around, or mix those, on two workers that share keys and times, with and without a
// spill at every batch: the same stats as sets of every (code, time) pair give, and the same --per groups
// (buckets of 10 minutes, some too far out to pack) as a map of every (code, bucket).
TEST(CpuBackendStats, TimesInOrderThenBackAgainMatchSets) {
  std::mt19937_64 rng(7);
  constexpr std::uint32_t keys = 40;
  std::vector<std::pair<std::vector<std::uint32_t>, std::vector<std::int64_t>>> batches;
  std::vector<std::multiset<std::int64_t>> reference(keys);
  std::vector<std::int64_t> latest(keys, 0);
  std::vector<std::pair<std::uint32_t, std::int64_t>> seen;
  for (int batch = 0; batch < 60; ++batch) {
    auto& [codes, times] = batches.emplace_back();
    const int shape = batch % 4 == 3 ? static_cast<int>(rng() % 3) : batch % 4;
    for (int row = 0; row < 500; ++row) {
      std::uint32_t code = static_cast<std::uint32_t>(rng() % keys);
      std::int64_t time;
      if (shape == 0 || seen.empty()) {  // forward in time: later than every earlier time of the key, or a repeat
        time = rng() % 3 == 0 ? latest[code]
                              : latest[code] + static_cast<std::int64_t>(1 + rng() % 5) * ticks_per_second * 600;
      } else if (shape == 1) {  // back over a pair seen before
        std::tie(code, time) = seen[rng() % seen.size()];
      } else {  // anywhere, some with a fraction of a second (pairs that do not pack)
        time = static_cast<std::int64_t>(rng() % 4000) * ticks_per_second * 300 + (rng() % 10 == 0 ? 17 : 0);
      }
      latest[code] = std::max(latest[code], time);
      codes.push_back(code);
      times.push_back(time);
      reference[code].insert(time);
      seen.emplace_back(code, time);
    }
  }
  // A bucket a row's time gives: 10 minutes, or far out of the packed range for one key in seven.
  const auto bucket_of = [](std::uint32_t code, std::int64_t time) {
    return time / (ticks_per_second * 600) + (code % 7 == 0 ? std::int64_t{1} << 40 : 0);
  };
  std::map<std::pair<std::uint32_t, std::int64_t>, std::uint64_t> reference_groups;
  for (const auto& [codes, times] : batches)
    for (std::size_t i = 0; i < codes.size(); ++i) ++reference_groups[{codes[i], bucket_of(codes[i], times[i])}];

  for (std::size_t budget : {std::size_t{0}, std::size_t{1}}) {
    backend_options options;
    options.num_workers = 2;
    options.mode = value_mode::stats;
    options.memory_budget = budget;
    auto stats_backend = make_cpu_backend(options);
    options.mode = value_mode::groups;
    auto groups_backend = make_cpu_backend(options);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const auto& [codes, times] = batches[b];
      stats_backend->consume(static_cast<unsigned>(b % 2), {codes, times});
      std::vector<std::int64_t> buckets;
      for (std::size_t i = 0; i < codes.size(); ++i) buckets.push_back(bucket_of(codes[i], times[i]));
      groups_backend->consume(static_cast<unsigned>(b % 2), {codes, buckets});
    }
    const auto stats = stats_backend->finish(keys).stats;
    for (std::uint32_t code = 0; code < keys; ++code) {
      const auto& ts = reference[code];
      key_stats want;
      want.count = ts.size();
      if (!ts.empty()) {
        want.first = *ts.begin();
        want.last = *ts.rbegin();
        std::set<std::int64_t> days;
        for (const auto t : ts) days.insert(day_of(t));
        want.active_days = days.size();
        want.repeats = ts.size() - std::set<std::int64_t>(ts.begin(), ts.end()).size();
      }
      ASSERT_EQ(stats[code], want) << "code " << code << " budget " << budget;
    }
    std::vector<group_count> want_groups;
    for (const auto& [pair, rows] : reference_groups) want_groups.push_back({pair.first, pair.second, rows});
    EXPECT_EQ(groups_backend->finish(keys).groups, want_groups) << "budget " << budget;
  }
}

TEST(CpuBackendStats, DaysBefore1970UseFloorDivision) {
  EXPECT_EQ(day_of(-1), -1);
  EXPECT_EQ(day_of(-ticks_per_day), -1);
  EXPECT_EQ(day_of(-ticks_per_day - 1), -2);
  EXPECT_EQ(day_of(ticks_per_day - 1), 0);
  EXPECT_EQ(day_of(std::numeric_limits<timestamp>::min()), std::numeric_limits<timestamp>::min() / ticks_per_day - 1);
}

TEST(CpuBackendGroups, SortedByCodeThenBucket) {
  backend_options options;
  options.num_workers = 2;
  options.mode = value_mode::groups;
  auto backend = make_cpu_backend(options);
  const std::uint32_t a[] = {1, 0, 1};
  const std::int64_t va[] = {5, 7, -2};
  const std::uint32_t b[] = {1, 0};
  const std::int64_t vb[] = {5, 7};
  backend->consume(0, {a, va});
  backend->consume(1, {b, vb});
  EXPECT_EQ(backend->finish(2).groups, (std::vector<group_count>{{0, 7, 2}, {1, -2, 1}, {1, 5, 2}}));
}

TEST(StatsDifferential, RandomLabFilesMatchTheReference) {
  std::mt19937_64 rng(99);
  testing::temp_dir dir;
  for (int iteration = 0; iteration < 12; ++iteration) {
    const std::size_t rows = iteration == 0 ? 0 : 1 + rng() % 3000;
    const std::string text = random_lab_file(rng, rows, iteration % 3 == 0 ? 1 : 1 + rng() % 200, iteration % 2 == 1);
    const auto path = dir.write("lab.csv", text);
    const auto ref = reference(text);
    // A budget of 1 byte spills every table at every batch (backend/spill_file.hpp): the same answer.
    for (std::size_t budget : {std::size_t{0}, std::size_t{1}})
    for (unsigned threads : {1u, 3u})
      for (std::size_t chunk : {std::size_t{1}, std::size_t{100}, std::size_t{0}}) {
        const auto stats = run(path, value_mode::stats, threads, chunk, bad_row_policy::error, budget);
        std::map<std::string, key_stats> got;
        for (std::uint32_t code = 0; code < stats.dictionary.size(); ++code)
          if (stats.stats[code].count != 0) got[std::string(stats.dictionary.key(code))] = stats.stats[code];
        ASSERT_EQ(got, ref.stats) << "iteration " << iteration << " threads " << threads << " chunk " << chunk
                                  << " budget " << budget;
        EXPECT_EQ(stats.backend_time.spilled_bytes != 0, budget != 0 && rows != 0);

        const auto groups = run(path, value_mode::groups, threads, chunk, bad_row_policy::error, budget);
        std::map<std::pair<std::string, std::int64_t>, std::uint64_t> got_days;
        for (const auto& g : groups.groups) got_days[{std::string(groups.dictionary.key(g.code)), g.bucket}] = g.count;
        ASSERT_EQ(got_days, ref.per_day) << "iteration " << iteration << " budget " << budget;
        EXPECT_TRUE(std::is_sorted(groups.groups.begin(), groups.groups.end(),
                                   [](const group_count& a, const group_count& b) {
                                     return a.code != b.code ? a.code < b.code : a.bucket < b.bucket;
                                   }));
      }
  }
}

TEST(Stats, UnparseableTimestampIsABadRowWithItsLine) {
  testing::temp_dir dir;
  const auto path = dir.write("t.csv", "TestTime,SampleID\n8/10/2004 1:15,S1\n8/10/2004 1:15,S1\n2/30/2004 0:00,S1\n");
  try {
    run(path, value_mode::stats, 2, 0);
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::bad_value);
    EXPECT_EQ(e.line(), 4u);
    EXPECT_NE(std::string(e.what()).find("2/30/2004 0:00"), std::string::npos);
  }
  const auto skipped = run(path, value_mode::stats, 2, 0, bad_row_policy::skip);
  EXPECT_EQ(skipped.bad_rows, 1u);
  EXPECT_EQ(skipped.stats[0], (key_stats{2, 1092100500'000'000, 1092100500'000'000, 1, 1}));
}

TEST(Stats, EveryRowWithABadTimestampIsCountedNotJustTheFirst) {
  // The pipeline remembers recent timestamp texts; a text that failed to parse must never be remembered.
  testing::temp_dir dir;
  const auto path = dir.write("t.csv",
                              "TestTime,SampleID\n8/10/2004 1:15,S1\n2/30/2004 0:00,S1\n2/30/2004 0:00,S1\n"
                              "8/10/2004 1:15,S2\n2/30/2004 0:00,S2\n8/10/2004 1:16,S1\n");
  for (unsigned threads : {1u, 2u}) {
    const auto result = run(path, value_mode::stats, threads, 0, bad_row_policy::warn);
    EXPECT_EQ(result.bad_rows, 3u);
    ASSERT_EQ(result.bad_row_samples.size(), 3u);
    EXPECT_EQ(result.bad_row_samples[0].line, 3u);
    EXPECT_EQ(result.bad_row_samples[1].line, 4u);
    EXPECT_EQ(result.bad_row_samples[2].line, 6u);
    EXPECT_EQ(result.stats[0], (key_stats{2, 1092100500'000'000, 1092100560'000'000, 1, 0}));
    EXPECT_EQ(result.stats[1], (key_stats{1, 1092100500'000'000, 1092100500'000'000, 1, 0}));
  }
}

}  // namespace
}  // namespace labcount
