// The GPU backend against the CPU backend and a single-threaded reference: several worker threads at once, many
// batches, every cardinality; counts, stats and groups. Tests that need a GPU skip (GTEST_SKIP) where
// probe_gpu_backend(backend_options{}, probe_detail::chosen_device) finds none; ctest label `gpu`.
#include "kernels/gpu_backend.hpp"

#include <gtest/gtest.h>

#include "support/test_codes.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "backend/backend.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

using labcount::testing::cardinality;
using labcount::testing::make_codes;
using labcount::testing::to_string;

std::size_t num_codes_of(const std::vector<std::uint32_t>& codes) {
  return codes.empty() ? 0 : *std::max_element(codes.begin(), codes.end()) + std::size_t{1};
}

std::vector<std::uint64_t> reference_counts(const std::vector<std::uint32_t>& codes, std::size_t num_codes) {
  std::vector<std::uint64_t> counts(num_codes, 0);
  for (std::uint32_t code : codes) ++counts.at(code);
  return counts;
}

// Worker w gets the rows [w * n / W, (w + 1) * n / W) of n rows and hands them on in pieces of uneven sizes, as
// the host's chunks would be: consume_piece(worker, first_row, rows), from one thread per worker when
// `concurrently`.
template <class ConsumePiece>
void feed_pieces(std::size_t num_rows, unsigned num_workers, bool concurrently, ConsumePiece consume_piece) {
  auto run_worker = [&](unsigned worker) {
    const std::size_t begin = num_rows * worker / num_workers;
    const std::size_t end = num_rows * (worker + 1) / num_workers;
    std::mt19937 rng(worker);
    std::uniform_int_distribution<std::size_t> piece_rows(0, 5'000);
    std::size_t at = begin;
    while (at < end) {
      const std::size_t rows = std::min(end - at, piece_rows(rng));
      consume_piece(worker, at, rows);
      at += rows;
    }
  };
  if (!concurrently) {
    for (unsigned worker = 0; worker < num_workers; ++worker) run_worker(worker);
    return;
  }
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(num_workers);
  for (unsigned worker = 0; worker < num_workers; ++worker) {
    threads.emplace_back([&, worker] {
      try {
        run_worker(worker);
      } catch (...) {
        errors[worker] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

// The codes to consume(), in pieces (feed_pieces).
void feed(count_backend& backend, unsigned num_workers, const std::vector<std::uint32_t>& codes, bool concurrently) {
  feed_pieces(codes.size(), num_workers, concurrently, [&](unsigned worker, std::size_t at, std::size_t rows) {
    backend.consume(worker, {std::span<const std::uint32_t>(codes).subspan(at, rows)});
  });
}

// A fixture whose tests skip, with the reason, where no GPU is usable (the `gpu` label's contract).
template <class Base = ::testing::Test>
class needs_gpu : public Base {
 protected:
  void SetUp() override {
    const backend_status status = probe_gpu_backend(backend_options{}, probe_detail::chosen_device);
    if (!status.usable) GTEST_SKIP() << "no usable GPU: " << status.why_not;
  }
};

class GpuBackendTest : public needs_gpu<> {};

// rows x cardinality x workers x batch rows (0: sized from free memory)
using gpu_case = std::tuple<std::size_t, cardinality, unsigned, std::size_t>;

class GpuMatchesCpu : public needs_gpu<::testing::TestWithParam<gpu_case>> {};

TEST_P(GpuMatchesCpu, FinishMatchesCpuBackendAndReference) {
  const auto [num_rows, c, num_workers, batch_rows] = GetParam();
  const auto codes = make_codes(num_rows, c, 2024);
  // One code past the largest seen: finish() must report codes no worker saw as zero.
  const std::size_t num_codes = num_codes_of(codes) + 1;

  backend_options options;
  options.num_workers = num_workers;
  gpu_backend_tuning tuning;
  tuning.batch_rows = batch_rows;
  auto gpu = make_gpu_backend(options, tuning);
  ASSERT_EQ(gpu->name(), "gpu");
  feed(*gpu, num_workers, codes, /*concurrently=*/true);
  const auto gpu_counts = gpu->finish(num_codes).counts;

  auto cpu = make_cpu_backend(options);
  feed(*cpu, num_workers, codes, /*concurrently=*/false);
  const auto cpu_counts = cpu->finish(num_codes).counts;

  EXPECT_EQ(gpu_counts, cpu_counts);
  EXPECT_EQ(gpu_counts, reference_counts(codes, num_codes));
}

INSTANTIATE_TEST_SUITE_P(
    SmallSizes, GpuMatchesCpu,
    ::testing::Combine(::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{31}, std::size_t{32},
                                         std::size_t{33}, std::size_t{1000}),
                       ::testing::Values(cardinality::one_key, cardinality::all_unique, cardinality::random,
                                         cardinality::skewed, cardinality::growing_dictionary),
                       ::testing::Values(1u, 3u), ::testing::Values(std::size_t{0}, std::size_t{7})),
    [](const ::testing::TestParamInfo<gpu_case>& info) {
      return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) + "Workers" +
             std::to_string(std::get<2>(info.param)) + "Batch" + std::to_string(std::get<3>(info.param));
    });

// Many batches per worker (forced small batch sizes), single-tile and multi-tile sorts, several threads at once.
INSTANTIATE_TEST_SUITE_P(
    MultiBatch, GpuMatchesCpu,
    ::testing::Combine(::testing::Values(std::size_t{1} << 20),
                       ::testing::Values(cardinality::one_key, cardinality::all_unique, cardinality::random,
                                         cardinality::skewed, cardinality::growing_dictionary),
                       ::testing::Values(1u, 4u),
                       ::testing::Values(std::size_t{0}, std::size_t{4'096}, std::size_t{100'003})),
    [](const ::testing::TestParamInfo<gpu_case>& info) {
      return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) + "Workers" +
             std::to_string(std::get<2>(info.param)) + "Batch" + std::to_string(std::get<3>(info.param));
    });

TEST_F(GpuBackendTest, LargeInputInOneDefaultBatchPerWorker) {
  const auto codes = make_codes(std::size_t{1} << 25, cardinality::random, 5);
  backend_options options;
  options.num_workers = 8;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  feed(*gpu, options.num_workers, codes, /*concurrently=*/true);
  EXPECT_EQ(gpu->finish(1243).counts, reference_counts(codes, 1243));
}

TEST_F(GpuBackendTest, TimingsShowTheGpuRan) {
  const auto codes = make_codes(100'000, cardinality::random, 3);
  backend_options options;
  options.num_workers = 2;
  gpu_backend_tuning tuning;
  tuning.batch_rows = 10'000;
  auto gpu = make_gpu_backend(options, tuning);
  feed(*gpu, options.num_workers, codes, /*concurrently=*/true);
  gpu->finish(num_codes_of(codes));
  const backend_timings timings = gpu->timings();
  EXPECT_GT(timings.transfer.count(), 0);
  EXPECT_GT(timings.sort.count(), 0);
  EXPECT_GT(timings.reduce.count(), 0);
  EXPECT_GT(timings.setup.count(), 0);
}

TEST_F(GpuBackendTest, IdleWorkersAndEmptySpans) {
  backend_options options;
  options.num_workers = 4;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> codes{3, 1, 3};
  gpu->consume(2, {});
  gpu->consume(2, {codes});
  gpu->consume(0, {});
  EXPECT_EQ(gpu->finish(5).counts, (std::vector<std::uint64_t>{0, 1, 0, 2, 0}));
}

TEST_F(GpuBackendTest, FinishWithNoCodes) {
  auto gpu = make_gpu_backend(backend_options{}, gpu_backend_tuning{});
  EXPECT_TRUE(gpu->finish(0).counts.empty());
}

TEST_F(GpuBackendTest, WorkerIdPastNumWorkersIsRejected) {
  backend_options options;
  options.num_workers = 2;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> codes{0};
  EXPECT_THROW(gpu->consume(2, {codes}), labcount::error);
}

TEST_F(GpuBackendTest, DeviceOutOfRange) {
  backend_options options;
  options.device = 1'000;
  const backend_status status = probe_gpu_backend(options, probe_detail::chosen_device);
  EXPECT_FALSE(status.usable);
  EXPECT_NE(status.why_not.find("out of range"), std::string::npos) << status.why_not;
  try {
    make_gpu_backend(options, gpu_backend_tuning{});
    FAIL() << "expected labcount::error";
  } catch (const labcount::error& e) {
    EXPECT_EQ(e.kind(), error_kind::backend_unavailable);
  }
}

TEST_F(GpuBackendTest, ProbeDescribesEveryGpu) {
  const backend_status status = probe_gpu_backend(backend_options{}, probe_detail::every_device);
  EXPECT_EQ(status.name, "gpu");
  ASSERT_GE(status.details.size(), 2u);
  EXPECT_EQ(status.details[1].rfind("GPU 0: ", 0), 0u) << status.details[1];
  EXPECT_NE(status.details[1].find("compute capability"), std::string::npos);
  EXPECT_NE(status.details[1].find("SMs"), std::string::npos);
}

// ---- value modes: --stats and --per ----

enum class time_pattern { repeats, around_midnight, before_1970, wide };

std::string to_string(time_pattern t) {
  switch (t) {
    case time_pattern::repeats: return "Repeats";
    case time_pattern::around_midnight: return "AroundMidnight";
    case time_pattern::before_1970: return "Before1970";
    case time_pattern::wide: return "Wide";
  }
  return "?";
}

// Times in runs of equal values, as lab files log them. `wide` puts a few near +-4e18 so that no composite key
// fits (the two-key fallback sorts) unless every code is 0.
std::vector<std::int64_t> make_times(std::size_t num_rows, time_pattern t, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::int64_t midnight = 19'783 * ticks_per_day;  // 2024-03-01
  std::uniform_int_distribution<std::int64_t> around(-3 * ticks_per_day, 3 * ticks_per_day);
  std::uniform_int_distribution<int> run_length(1, 4);
  std::bernoulli_distribution far(0.05);
  std::vector<std::int64_t> seconds(num_rows);
  std::size_t i = 0;
  while (i < num_rows) {
    std::int64_t value = midnight + around(rng);
    switch (t) {
      case time_pattern::repeats:
        value = midnight + 3'600 * std::uniform_int_distribution<std::int64_t>(0, 4)(rng);
        break;
      case time_pattern::around_midnight: break;
      case time_pattern::before_1970:
        value = -10'441 * ticks_per_day + around(rng);  // 1941-06-01
        break;
      case time_pattern::wide:
        if (far(rng)) value = (value % 2 == 0 ? -4'000'000'000'000'000'000 : 4'000'000'000'000'000'000) + value;
        break;
    }
    for (int run = run_length(rng); run > 0 && i < num_rows; --run) seconds[i++] = value;
  }
  if (t == time_pattern::wide && num_rows >= 2) {
    seconds.front() = -4'000'000'000'000'000'000;
    seconds.back() = 4'000'000'000'000'000'000;
  }
  return seconds;
}

std::map<std::pair<std::uint32_t, std::int64_t>, std::uint64_t> reference_pairs(
    const std::vector<std::uint32_t>& codes, const std::vector<std::int64_t>& values) {
  std::map<std::pair<std::uint32_t, std::int64_t>, std::uint64_t> rows;
  for (std::size_t i = 0; i < codes.size(); ++i) ++rows[{codes[i], values[i]}];
  return rows;
}

std::vector<group_count> reference_groups(const std::vector<std::uint32_t>& codes,
                                          const std::vector<std::int64_t>& buckets) {
  std::vector<group_count> groups;
  for (const auto& [pair, rows] : reference_pairs(codes, buckets)) groups.push_back({pair.first, pair.second, rows});
  return groups;
}

std::vector<key_stats> reference_stats(const std::vector<std::uint32_t>& codes,
                                       const std::vector<std::int64_t>& seconds, std::size_t num_codes) {
  std::vector<key_stats> stats(num_codes);
  std::map<std::uint32_t, std::set<std::int64_t>> days;
  for (const auto& [pair, rows] : reference_pairs(codes, seconds)) {
    const auto [code, time] = pair;
    if (code >= num_codes) continue;
    key_stats& s = stats[code];
    if (s.count == 0) s.first = time;  // pairs come in (code, time) order
    s.last = time;
    s.count += rows;
    s.repeats += rows - 1;
    days[code].insert(day_of(time));
  }
  for (const auto& [code, distinct_days] : days) stats[code].active_days = distinct_days.size();
  return stats;
}

// As feed(), with a value per code.
void feed_values(count_backend& backend, unsigned num_workers, const std::vector<std::uint32_t>& codes,
                 const std::vector<std::int64_t>& values, bool concurrently) {
  feed_pieces(codes.size(), num_workers, concurrently, [&](unsigned worker, std::size_t at, std::size_t rows) {
    backend.consume(worker, {std::span<const std::uint32_t>(codes).subspan(at, rows),
                             std::span<const std::int64_t>(values).subspan(at, rows)});
  });
}

// rows x cardinality x times x workers x batch rows (0: sized from free memory)
using gpu_value_case = std::tuple<std::size_t, cardinality, time_pattern, unsigned, std::size_t>;

std::string gpu_value_case_name(const ::testing::TestParamInfo<gpu_value_case>& info) {
  return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) +
         to_string(std::get<2>(info.param)) + "Workers" + std::to_string(std::get<3>(info.param)) + "Batch" +
         std::to_string(std::get<4>(info.param));
}

class GpuValuesMatchCpu : public needs_gpu<::testing::TestWithParam<gpu_value_case>> {};

TEST_P(GpuValuesMatchCpu, StatsMatchCpuBackendAndReference) {
  const auto [num_rows, c, t, num_workers, batch_rows] = GetParam();
  const auto codes = make_codes(num_rows, c, 2025);
  const auto seconds = make_times(num_rows, t, 2026);
  const std::size_t num_codes = num_codes_of(codes) + 1;

  backend_options options;
  options.num_workers = num_workers;
  options.mode = value_mode::stats;
  gpu_backend_tuning tuning;
  tuning.batch_rows = batch_rows;
  auto gpu = make_gpu_backend(options, tuning);
  feed_values(*gpu, num_workers, codes, seconds, /*concurrently=*/true);
  const auto gpu_stats = gpu->finish(num_codes).stats;

  auto cpu = make_cpu_backend(options);
  feed_values(*cpu, num_workers, codes, seconds, /*concurrently=*/false);

  EXPECT_EQ(gpu_stats, cpu->finish(num_codes).stats);
  EXPECT_EQ(gpu_stats, reference_stats(codes, seconds, num_codes));
}

TEST_P(GpuValuesMatchCpu, GroupsMatchCpuBackendAndReference) {
  const auto [num_rows, c, t, num_workers, batch_rows] = GetParam();
  const auto codes = make_codes(num_rows, c, 2027);
  const auto buckets = make_times(num_rows, t, 2028);

  backend_options options;
  options.num_workers = num_workers;
  options.mode = value_mode::groups;
  gpu_backend_tuning tuning;
  tuning.batch_rows = batch_rows;
  auto gpu = make_gpu_backend(options, tuning);
  feed_values(*gpu, num_workers, codes, buckets, /*concurrently=*/true);
  const auto gpu_groups = gpu->finish(num_codes_of(codes)).groups;

  auto cpu = make_cpu_backend(options);
  feed_values(*cpu, num_workers, codes, buckets, /*concurrently=*/false);

  EXPECT_EQ(gpu_groups, cpu->finish(num_codes_of(codes)).groups);
  EXPECT_EQ(gpu_groups, reference_groups(codes, buckets));
}

INSTANTIATE_TEST_SUITE_P(SmallSizes, GpuValuesMatchCpu,
                         ::testing::Combine(::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{31},
                                                              std::size_t{32}, std::size_t{33}, std::size_t{1000}),
                                            ::testing::Values(cardinality::one_key, cardinality::all_unique,
                                                              cardinality::random, cardinality::skewed),
                                            ::testing::Values(time_pattern::repeats, time_pattern::around_midnight,
                                                              time_pattern::before_1970, time_pattern::wide),
                                            ::testing::Values(1u, 3u),
                                            ::testing::Values(std::size_t{0}, std::size_t{7})),
                         gpu_value_case_name);

// Many batches and merges per worker, several threads at once.
INSTANTIATE_TEST_SUITE_P(
    MultiBatch, GpuValuesMatchCpu,
    ::testing::Combine(::testing::Values(std::size_t{1} << 20),
                       ::testing::Values(cardinality::one_key, cardinality::random, cardinality::skewed,
                                         cardinality::growing_dictionary),
                       ::testing::Values(time_pattern::repeats, time_pattern::around_midnight, time_pattern::wide),
                       ::testing::Values(1u, 4u),
                       ::testing::Values(std::size_t{0}, std::size_t{4'096}, std::size_t{100'003})),
    gpu_value_case_name);

TEST_F(GpuBackendTest, StatsWorkedExampleFromBackendHpp) {
  // rows of one key at [t1 t1 t2 t3], t1 and t2 on one day: count 4, first t1, last t3, active_days 2, repeats 1
  const std::int64_t t1 = 19'783 * ticks_per_day + 100;
  const std::int64_t t2 = t1 + 3'600;
  const std::int64_t t3 = t1 + ticks_per_day;
  backend_options options;
  options.num_workers = 2;
  options.mode = value_mode::stats;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> first_codes{1, 1};
  const std::vector<std::int64_t> first_times{t1, t3};
  const std::vector<std::uint32_t> second_codes{1, 1};
  const std::vector<std::int64_t> second_times{t2, t1};
  // the repeated t1 arrives through two workers: only the merge of their pair sets can see it
  gpu->consume(0, {first_codes, first_times});
  gpu->consume(1, {second_codes, second_times});
  EXPECT_EQ(gpu->finish(3).stats, (std::vector<key_stats>{key_stats{}, key_stats{4, t1, t3, 2, 1}, key_stats{}}));
}

TEST_F(GpuBackendTest, GroupsWithCodesUpTo2To32Minus1) {
  // Sparse output, so every 32-bit code works; time ranges that fit next to 32-bit codes and that do not.
  constexpr std::uint32_t top = 0xFFFF'FFFFu;
  const std::vector<std::uint32_t> codes{top, 0, top, top - 1, 0, top};
  for (const std::int64_t span : {std::int64_t{0xFFFF'FFFF}, std::int64_t{0x1'0000'0000}}) {
    const std::vector<std::int64_t> buckets{span, 0, span, 0, span, 7};
    backend_options options;
    options.mode = value_mode::groups;
    gpu_backend_tuning tuning;
    tuning.batch_rows = 2;
    auto gpu = make_gpu_backend(options, tuning);
    gpu->consume(0, {codes, buckets});
    EXPECT_EQ(gpu->finish(num_codes_of(codes)).groups, reference_groups(codes, buckets)) << "span " << span;
  }
}

TEST_F(GpuBackendTest, StatsDropCodesPastNumCodes) {
  backend_options options;
  options.mode = value_mode::stats;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> codes{0, 0xFFFF'FFFFu, 3};
  const std::vector<std::int64_t> seconds{-1, 5, 0};
  gpu->consume(0, {codes, seconds});
  EXPECT_EQ(gpu->finish(2).stats, (std::vector<key_stats>{key_stats{1, -1, -1, 1, 0}, key_stats{}}));
}

TEST_F(GpuBackendTest, CountsDropCodesPastNumCodes) {
  backend_options options;
  options.num_workers = 2;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> codes{0, 70'000, 3, 3, 1'000'000};
  gpu->consume(1, {codes});
  EXPECT_EQ(gpu->finish(4).counts, (std::vector<std::uint64_t>{1, 0, 0, 2}));
}

// More workers than the machine's 8-thread tests usually have, all adding into the one shared totals array at
// once while new keys keep making it grow (small batches: many growths, each while other workers queue work).
TEST_F(GpuBackendTest, SixteenWorkersShareOneTotalsArrayWhileItGrows) {
  const auto codes = make_codes(std::size_t{1} << 21, cardinality::growing_dictionary, 16);
  backend_options options;
  options.num_workers = 16;
  gpu_backend_tuning tuning;
  tuning.batch_rows = 3'001;
  auto gpu = make_gpu_backend(options, tuning);
  feed(*gpu, options.num_workers, codes, /*concurrently=*/true);
  EXPECT_EQ(gpu->finish(num_codes_of(codes)).counts, reference_counts(codes, num_codes_of(codes)));
  // reset() zeroes the shared totals: the next input starts from nothing.
  gpu->reset();
  const std::vector<std::uint32_t> again{5, 5, 9};
  gpu->consume(15, {again});
  EXPECT_EQ(gpu->finish(10).counts, (std::vector<std::uint64_t>{0, 0, 0, 0, 0, 2, 0, 0, 0, 1}));
}

// A batch of more than 2^28 rows: CUB's radix sort and reductions take their multi-portion path. Needs some 6 GiB
// of device memory and 2 GiB of host memory; skips where there is less.
TEST_F(GpuBackendTest, ABatchAbove2To28RowsMatchesTheReference) {
  const std::size_t rows = (std::size_t{1} << 28) + 12'345;
  std::vector<std::uint32_t> codes(rows);
  std::mt19937 rng(28);
  for (auto& code : codes) code = rng() % 100'000;
  backend_options options;
  gpu_backend_tuning tuning;
  tuning.batch_rows = rows;
  std::unique_ptr<count_backend> gpu;
  try {
    gpu = make_gpu_backend(options, tuning);
  } catch (const labcount::error& e) {
    GTEST_SKIP() << "not enough GPU memory for a 2^28-row batch: " << e.what();
  }
  for (std::size_t at = 0; at < rows; at += pipeline_batch_rows)
    gpu->consume(0, {std::span<const std::uint32_t>(codes).subspan(at, std::min(pipeline_batch_rows, rows - at))});
  EXPECT_EQ(gpu->finish(100'000).counts, reference_counts(codes, 100'000));
}

// Distinct pairs past the budget: a device failure that names the bytes and the ways out (under --backend auto,
// run_selected then counts on the CPU: tests/src/backend_registry_test.cpp).
TEST_F(GpuBackendTest, PairsPastTheBudgetAreADeviceFailureThatSaysWhatToDo) {
  const auto codes = make_codes(50'000, cardinality::all_unique, 7);
  const auto seconds = make_times(codes.size(), time_pattern::around_midnight, 8);
  backend_options options;
  options.num_workers = 2;
  options.mode = value_mode::stats;
  gpu_backend_tuning tuning;
  tuning.batch_rows = 4'096;
  tuning.max_pairs = 10'000;
  auto gpu = make_gpu_backend(options, tuning);
  try {
    feed_values(*gpu, options.num_workers, codes, seconds, /*concurrently=*/true);
    gpu->finish(num_codes_of(codes));
    FAIL() << "50,000 distinct pairs fit a budget of 10,000";
  } catch (const labcount::error& e) {
    EXPECT_EQ(e.kind(), error_kind::device_failure);
    EXPECT_NE(std::string(e.what()).find("distinct (key, value) pairs"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("--backend cpu"), std::string::npos) << e.hint();
  }
}

TEST_F(GpuBackendTest, ValueModesWithNoRows) {
  backend_options options;
  options.num_workers = 3;
  options.mode = value_mode::stats;
  auto stats = make_gpu_backend(options, gpu_backend_tuning{});
  stats->consume(1, {});
  EXPECT_EQ(stats->finish(2).stats, std::vector<key_stats>(2));
  options.mode = value_mode::groups;
  auto groups = make_gpu_backend(options, gpu_backend_tuning{});
  EXPECT_TRUE(groups->finish(0).groups.empty());
}

TEST_F(GpuBackendTest, StatsTimingsShowTheGpuRan) {
  const auto codes = make_codes(100'000, cardinality::random, 3);
  const auto seconds = make_times(100'000, time_pattern::around_midnight, 4);
  backend_options options;
  options.num_workers = 2;
  options.mode = value_mode::stats;
  gpu_backend_tuning tuning;
  tuning.batch_rows = 10'000;
  auto gpu = make_gpu_backend(options, tuning);
  feed_values(*gpu, options.num_workers, codes, seconds, /*concurrently=*/true);
  EXPECT_EQ(gpu->finish(1243).stats, reference_stats(codes, seconds, 1243));
  const backend_timings timings = gpu->timings();
  EXPECT_GT(timings.transfer.count(), 0);
  EXPECT_GT(timings.sort.count(), 0);
  EXPECT_GT(timings.reduce.count(), 0);
}

TEST_F(GpuBackendTest, LargeStatsInputInDefaultBatches) {
  const auto codes = make_codes(std::size_t{1} << 22, cardinality::random, 5);
  const auto seconds = make_times(codes.size(), time_pattern::around_midnight, 6);
  backend_options options;
  options.num_workers = 8;
  options.mode = value_mode::stats;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  feed_values(*gpu, options.num_workers, codes, seconds, /*concurrently=*/true);
  EXPECT_EQ(gpu->finish(1243).stats, reference_stats(codes, seconds, 1243));
}

// ---- These run everywhere: they check the no-GPU answers and the test hook. ----

TEST(GpuBackendProbe, AnswersWithoutCrashing) {
  const backend_status status = probe_gpu_backend(backend_options{}, probe_detail::chosen_device);
  EXPECT_EQ(status.name, "gpu");
  EXPECT_FALSE((status.usable ? status.summary : status.why_not).empty());
  ASSERT_FALSE(status.details.empty());
  EXPECT_EQ(status.details[0].rfind("CUDA driver ", 0), 0u) << status.details[0];
  if (!status.usable) {
    try {
      make_gpu_backend(backend_options{}, gpu_backend_tuning{});
      FAIL() << "make_gpu_backend succeeded although the probe said: " << status.why_not;
    } catch (const labcount::error& e) {
      EXPECT_EQ(e.kind(), error_kind::backend_unavailable);
      EXPECT_NE(std::string(e.what()).find(status.why_not), std::string::npos) << e.what();
    }
  }
}

TEST(GpuBackendTuning, BatchRowsFromTheEnvironment) {
  ::unsetenv("LABCOUNT_GPU_BATCH_ROWS");
  EXPECT_EQ(gpu_tuning_from_environment().batch_rows, 0u);
  ::setenv("LABCOUNT_GPU_BATCH_ROWS", "5000", 1);
  EXPECT_EQ(gpu_tuning_from_environment().batch_rows, 5000u);
  for (const char* bad : {"0", "-3", "12x", "lots"}) {
    ::setenv("LABCOUNT_GPU_BATCH_ROWS", bad, 1);
    try {
      gpu_tuning_from_environment();
      ADD_FAILURE() << "accepted LABCOUNT_GPU_BATCH_ROWS=" << bad;
    } catch (const labcount::error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage);
    }
  }
  ::unsetenv("LABCOUNT_GPU_BATCH_ROWS");
}

}  // namespace
}  // namespace labcount
