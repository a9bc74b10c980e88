// Every registered backend (src/backend_registry: the table `labcount info` lists) × mode × cardinality ×
// size, through run_count, against a reference computed here from the rows as generated (ggml's
// test-backend-ops is the model). Sizes 0, 1, 31, 32, 33 and a multi-batch one: more rows than a parse
// worker hands over at once, in many chunks, on two workers, and on the GPU in many device batches.
//
// Each case counts two inputs with one backend; in counts mode a third, bad input sits between them: it fails
// after the backend has seen rows of it, and --on-bad-file skip must leave it out whole (the backend's
// reset()), while --per-file checks each input's own counts (finish() then reset() per input).
//
// A backend that cannot run here (the GPU without a device) skips with its probe's reason. ctest runs the
// cpu rows under label `cpu` and the gpu rows under label `gpu` (tests/CMakeLists.txt).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backend/backend.hpp"
#include "backend_registry.hpp"
#include "pipeline/count_pipeline.hpp"
#include "support/temp_file.hpp"
#include "support/test_codes.hpp"
#include "time/timestamp.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

using labcount::testing::cardinality;

constexpr unsigned num_workers = 2;
constexpr std::size_t multi_batch_rows = 200'000;  // > parse_worker::batch_rows (64Ki) per worker
constexpr std::int64_t day = 86'400;
constexpr std::int64_t march_1_2024 = 19'783;  // days since 1970-01-01

// One generated row: its key and time as written, and the time's seconds and day, worked out here.
struct row {
  std::string key;
  std::string time;
  std::int64_t seconds;
  std::int64_t day;
};

// Lab-style times "M/D/YYYY H:MM" in runs (a sample's tests are logged together, often at one time): March 2024,
// and one row in 16 on 12/31/1969 (day -1, negative seconds).
std::vector<row> make_rows(std::size_t num_rows, cardinality c, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::uint32_t> codes = labcount::testing::make_codes(num_rows, c, rng);
  std::vector<row> rows(num_rows);
  std::int64_t seconds = 0;
  std::string text;
  for (std::size_t i = 0; i < num_rows; ++i) {
    if (i == 0 || rng() % 4 != 0) {  // else: the previous row's time (a repeat when the key repeats too)
      const unsigned hour = rng() % 24, minute = rng() % 60;
      std::string clock = std::to_string(hour) + ":" + (minute < 10 ? "0" : "") + std::to_string(minute);
      if (rng() % 16 == 0) {
        seconds = -day + hour * 3600 + minute * 60;
        text = "12/31/1969 " + clock;
      } else {
        const unsigned date = 1 + rng() % 28;
        seconds = (march_1_2024 + date - 1) * day + hour * 3600 + minute * 60;
        text = "3/" + std::to_string(date) + "/2024 " + clock;
      }
    }
    rows[i] = row{"S" + std::to_string(codes[i]), text, seconds, seconds >= 0 ? seconds / day : -1};
  }
  return rows;
}

std::string csv_of(const std::vector<row>& rows, std::size_t begin, std::size_t end) {
  std::string text = "TestTime,SampleID\n";
  for (std::size_t i = begin; i < end; ++i) text += rows[i].time + "," + rows[i].key + (i % 3 == 0 ? "\r\n" : "\n");
  return text;
}

// The reference, from the rows alone.
struct expected {
  std::map<std::string, std::uint64_t> counts;
  std::map<std::string, key_stats> stats;
  std::map<std::pair<std::string, std::int64_t>, std::uint64_t> groups;  // (key, day) -> rows
};

expected reference(const std::vector<row>& rows, std::size_t begin, std::size_t end) {
  expected out;
  std::map<std::string, std::map<std::int64_t, std::uint64_t>> times;  // key -> seconds -> rows
  for (std::size_t i = begin; i < end; ++i) {
    ++out.counts[rows[i].key];
    ++times[rows[i].key][rows[i].seconds];
    ++out.groups[{rows[i].key, rows[i].day}];
  }
  for (const auto& [key, by_time] : times) {
    key_stats s;
    s.count = out.counts[key];
    s.first = by_time.begin()->first * 1'000'000;  // times are microseconds
    s.last = by_time.rbegin()->first * 1'000'000;
    s.repeats = s.count - by_time.size();
    std::map<std::int64_t, bool> days;
    for (const auto& [t, n] : by_time) days[t >= 0 ? t / day : -1] = true;
    s.active_days = days.size();
    out.stats[key] = s;
  }
  return out;
}

std::map<std::string, std::uint64_t> counts_of(const count_result& r) {
  std::map<std::string, std::uint64_t> out;
  for (std::uint32_t code = 0; code < r.counts.size(); ++code)
    if (r.counts[code] != 0) out[std::string(r.dictionary.key(code))] = r.counts[code];
  return out;
}

std::map<std::string, std::uint64_t> counts_of(const count_result& r, const file_counts& f) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [code, n] : f.counts) out[std::string(r.dictionary.key(code))] = n;
  return out;
}

const backend_entry& entry_named(const std::string& name) {
  const backend_entry* entry = find_backend(name);
  if (entry == nullptr) throw std::runtime_error("no backend named " + name);
  return *entry;
}

// Makes the backend, or skips the test (with the probe's reason) where it cannot run here. Device batches of
// 4096 rows, so that the GPU sees many batches and merges.
std::unique_ptr<count_backend> make_or_skip(const std::string& name, value_mode mode, bool& skipped) {
  backend_options options;
  options.num_workers = num_workers;
  options.mode = mode;
  const backend_entry& entry = entry_named(name);
  const backend_status status = entry.probe(options, probe_detail::chosen_device);
  skipped = !status.usable;
  if (skipped) return nullptr;
  ::setenv("LABCOUNT_GPU_BATCH_ROWS", "4096", 1);
  auto backend = entry.make(options);
  ::unsetenv("LABCOUNT_GPU_BATCH_ROWS");
  return backend;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const auto& entry : registered_backends()) names.emplace_back(entry.name);
  return names;
}

std::string mode_name(value_mode m) {
  switch (m) {
    case value_mode::counts: return "counts";
    case value_mode::stats: return "stats";
    case value_mode::groups: return "groups";
  }
  return "?";
}

// backend × mode × cardinality × rows
using suite_case = std::tuple<std::string, value_mode, cardinality, std::size_t>;

class BackendSuite : public ::testing::TestWithParam<suite_case> {};

TEST_P(BackendSuite, RunCountMatchesTheReference) {
  const auto [name, mode, c, num_rows] = GetParam();
  bool skipped = false;
  const auto backend = make_or_skip(name, mode, skipped);
  if (skipped) GTEST_SKIP() << name << " cannot run here: " << entry_named(name).probe({}, probe_detail::chosen_device).why_not;
  ASSERT_EQ(backend->name(), name);
  ASSERT_EQ(backend->mode(), mode);

  const std::vector<row> rows = make_rows(num_rows, c, 17 + static_cast<std::uint32_t>(num_rows));
  const std::size_t half = num_rows / 2;
  labcount::testing::temp_dir dir;
  const std::string first = dir.write("first.csv", csv_of(rows, 0, half));
  const std::string second = dir.write("second.csv", csv_of(rows, half, num_rows));
  static const time_parser parser;
  count_request request;
  request.mode = mode;
  request.times = &parser;
  request.bucket = time_bucket::day;
  request.chunk_bytes = 4096;
  request.inputs = {first, second};
  if (mode == value_mode::counts) {
    // Keys of their own, many flushes, then a row with a field too many near the end.
    std::string bad = "TestTime,SampleID\n";
    for (int i = 0; i < 200'000; ++i) bad += "3/1/2024 0:00,X" + std::to_string(i % 50) + "\n";
    bad += "3/1/2024 0:00,X1,extra\n3/1/2024 0:00,X2\n";
    request.inputs = {first, dir.write("bad.csv", bad), second};
    request.on_bad_file = bad_file_policy::skip;
    request.per_file = true;
  }
  thread_pool pool(num_workers);
  const count_result result = run_count(request, *backend, pool);

  const expected all = reference(rows, 0, num_rows);
  EXPECT_EQ(result.rows, num_rows);
  EXPECT_EQ(result.backend_name, name);
  EXPECT_EQ(counts_of(result), all.counts);
  if (mode == value_mode::counts) {
    ASSERT_EQ(result.skipped_files.size(), 1u);
    EXPECT_NE(result.skipped_files[0].file.find("bad.csv"), std::string::npos);
    ASSERT_EQ(result.per_file.size(), 2u);
    EXPECT_EQ(counts_of(result, result.per_file[0]), reference(rows, 0, half).counts);
    EXPECT_EQ(counts_of(result, result.per_file[1]), reference(rows, half, num_rows).counts);
  } else if (mode == value_mode::stats) {
    std::map<std::string, key_stats> stats;
    for (std::uint32_t code = 0; code < result.stats.size(); ++code)
      if (result.stats[code].count != 0) stats[std::string(result.dictionary.key(code))] = result.stats[code];
    EXPECT_EQ(stats, all.stats);
  } else {
    std::map<std::pair<std::string, std::int64_t>, std::uint64_t> groups;
    for (std::size_t i = 0; i < result.groups.size(); ++i) {
      const group_count& g = result.groups[i];
      if (i > 0) {
        const group_count& before = result.groups[i - 1];
        EXPECT_TRUE(before.code < g.code || (before.code == g.code && before.bucket < g.bucket))
            << "groups not sorted by code then bucket at " << i;
      }
      groups[{std::string(result.dictionary.key(g.code)), g.bucket}] = g.count;
    }
    EXPECT_EQ(groups, all.groups);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendSuite,
                         ::testing::Combine(::testing::ValuesIn(backend_names()),
                                            ::testing::Values(value_mode::counts, value_mode::stats,
                                                              value_mode::groups),
                                            ::testing::Values(cardinality::one_key, cardinality::random,
                                                              cardinality::all_unique, cardinality::skewed),
                                            ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{31},
                                                              std::size_t{32}, std::size_t{33}, multi_batch_rows)),
                         [](const ::testing::TestParamInfo<suite_case>& info) {
                           return std::get<0>(info.param) + "_" + mode_name(std::get<1>(info.param)) +
                                  labcount::testing::to_string(std::get<2>(info.param)) + "Rows" +
                                  std::to_string(std::get<3>(info.param));
                         });

// The seam's contract, checked once in count_backend for every backend.
using contract_case = std::tuple<std::string, value_mode>;

class BackendContract : public ::testing::TestWithParam<contract_case> {};

void expect_internal(const std::function<void()>& call, const char* what) {
  try {
    call();
    ADD_FAILURE() << "expected labcount::error(internal): " << what;
  } catch (const labcount::error& e) {
    EXPECT_EQ(e.kind(), error_kind::internal) << what << ": " << e.what();
  }
}

TEST_P(BackendContract, ResetForgetsRowsAndMisuseIsAProgrammingError) {
  const auto [name, mode] = GetParam();
  bool skipped = false;
  const auto backend = make_or_skip(name, mode, skipped);
  if (skipped) GTEST_SKIP() << name << " cannot run here: " << entry_named(name).probe({}, probe_detail::chosen_device).why_not;
  const bool timed = mode != value_mode::counts;
  const std::vector<std::uint32_t> codes{2, 0, 2, 2};
  const std::vector<std::int64_t> values{5, 7, 5, 9};
  const row_batch batch{codes, timed ? std::span<const std::int64_t>(values) : std::span<const std::int64_t>()};

  // Rows, then reset() without finish() (an input that failed half way): all forgotten.
  backend->consume(0, batch);
  backend->consume(1, batch);
  backend->reset();
  backend->consume(1, batch);
  reduction once = backend->finish(3);
  // finish() then reset(): the next reduction starts from zero.
  backend->reset();
  backend->consume(0, batch);
  EXPECT_EQ(backend->finish(3).counts, once.counts);
  backend->reset();
  backend->consume(0, batch);
  reduction again = backend->finish(3);
  EXPECT_EQ(again.stats, once.stats);
  EXPECT_EQ(again.groups, once.groups);
  switch (mode) {
    case value_mode::counts: EXPECT_EQ(once.counts, (std::vector<std::uint64_t>{1, 0, 3})); break;
    case value_mode::stats:
      EXPECT_EQ(once.stats, (std::vector<key_stats>{{1, 7, 7, 1, 0}, {}, {3, 5, 9, 1, 1}}));
      EXPECT_TRUE(once.counts.empty() && once.groups.empty());
      break;
    case value_mode::groups:
      EXPECT_EQ(once.groups, (std::vector<group_count>{{0, 7, 1}, {2, 5, 2}, {2, 9, 1}}));
      EXPECT_TRUE(once.counts.empty() && once.stats.empty());
      break;
  }

  backend->reset();
  const std::span<const std::int64_t> wrong_values =
      timed ? std::span<const std::int64_t>(values).first(3) : std::span<const std::int64_t>(values);
  expect_internal([&] { backend->consume(0, {codes, wrong_values}); }, "values that do not match the mode");
  expect_internal([&] { backend->consume(num_workers, batch); }, "a worker id past num_workers");
  backend->finish(3);
  expect_internal([&] { backend->finish(3); }, "finish() twice");
  expect_internal([&] { backend->consume(0, batch); }, "consume() after finish()");
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendContract,
                         ::testing::Combine(::testing::ValuesIn(backend_names()),
                                            ::testing::Values(value_mode::counts, value_mode::stats,
                                                              value_mode::groups)),
                         [](const ::testing::TestParamInfo<contract_case>& info) {
                           return std::get<0>(info.param) + "_" + mode_name(std::get<1>(info.param));
                         });

TEST(BackendRegistry, ListsTheCpuFirstAndEveryNameOnce) {
  const auto entries = registered_backends();
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "cpu");
  std::map<std::string_view, int> seen;
  for (const auto& entry : entries) {
    EXPECT_EQ(++seen[entry.name], 1) << entry.name;
    EXPECT_EQ(find_backend(entry.name), &entry);
    const backend_status status = entry.probe({}, probe_detail::chosen_device);
    EXPECT_EQ(status.name, entry.name);
    // One of the two lines says something, and only the one that applies.
    EXPECT_EQ(status.usable, !status.summary.empty()) << entry.name;
    EXPECT_EQ(status.usable, status.why_not.empty()) << entry.name << ": " << status.why_not;
  }
  EXPECT_EQ(find_backend("tpu"), nullptr);
}

}  // namespace
}  // namespace labcount
