// The value-mode steps of the GPU backend (--stats, --per), run on Thrust's CPP system (no GPU needed), against a
// std::map reference: every size, key cardinality and time pattern, one batch and many, through the composite
// key and through the two-key fallback.
#include <gtest/gtest.h>

#include "support/test_codes.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backend/backend.hpp"
#include "kernels/sort_reduce.hpp"
#include "util/errors.hpp"

namespace labcount::kernels {
namespace {

using labcount::testing::cardinality;
using labcount::testing::make_codes;
using labcount::testing::to_string;

constexpr std::int64_t day = ticks_per_day;
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::uint32_t max_code = std::numeric_limits<std::uint32_t>::max();

// ---- the reference: one std::map of (code, value) -> rows ----

std::map<std::pair<std::uint32_t, std::int64_t>, std::uint64_t> reference_pairs(
    const std::vector<std::uint32_t>& codes, const std::vector<std::int64_t>& values) {
  std::map<std::pair<std::uint32_t, std::int64_t>, std::uint64_t> rows;
  for (std::size_t i = 0; i < codes.size(); ++i) ++rows[{codes[i], values[i]}];
  return rows;
}

// Floor division by a day, independently of the code under test (day_of in time/calendar.hpp), in 128 bits.
std::int64_t reference_day(std::int64_t t) {
  __extension__ using int128 = __int128;
  const int128 wide = t;
  int128 quotient = wide / day;
  if (quotient * day > wide) --quotient;
  return static_cast<std::int64_t>(quotient);
}

std::map<std::uint32_t, key_stats> reference_stats(const std::vector<std::uint32_t>& codes,
                                                   const std::vector<std::int64_t>& seconds) {
  std::map<std::uint32_t, key_stats> stats;
  std::map<std::uint32_t, std::set<std::int64_t>> times;
  std::map<std::uint32_t, std::set<std::int64_t>> days;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    key_stats& s = stats[codes[i]];
    s.first = s.count == 0 ? seconds[i] : std::min(s.first, seconds[i]);
    s.last = s.count == 0 ? seconds[i] : std::max(s.last, seconds[i]);
    ++s.count;
    times[codes[i]].insert(seconds[i]);
    days[codes[i]].insert(reference_day(seconds[i]));
  }
  for (auto& [code, s] : stats) {
    s.repeats = s.count - times[code].size();
    s.active_days = days[code].size();
  }
  return stats;
}

std::vector<key_stats> reference_dense_stats(const std::vector<std::uint32_t>& codes,
                                             const std::vector<std::int64_t>& seconds, std::size_t num_codes) {
  std::vector<key_stats> dense(num_codes);
  for (const auto& [code, s] : reference_stats(codes, seconds))
    if (code < num_codes) dense[code] = s;
  return dense;
}

std::vector<group_count> reference_groups(const std::vector<std::uint32_t>& codes,
                                          const std::vector<std::int64_t>& buckets) {
  std::vector<group_count> groups;
  for (const auto& [pair, rows] : reference_pairs(codes, buckets)) groups.push_back({pair.first, pair.second, rows});
  return groups;
}

pair_counts reference_pair_counts(const std::vector<std::uint32_t>& codes, const std::vector<std::int64_t>& values) {
  pair_counts result;
  for (const auto& [pair, rows] : reference_pairs(codes, values)) {
    result.codes.push_back(pair.first);
    result.values.push_back(pair.second);
    result.counts.push_back(rows);
  }
  return result;
}

// ---- generated inputs ----

enum class times {
  repeats,   // five distinct times: most rows repeat an earlier (code, time)
  midnight,  // around midnights, in runs of equal times as lab files log them
  negative,  // before 1970, around midnights
  wide,      // a few times near +-4e18 among ordinary ones: no composite key fits, the fallback sorts
};

std::string to_string(times t) {
  switch (t) {
    case times::repeats: return "Repeats";
    case times::midnight: return "Midnight";
    case times::negative: return "Negative";
    case times::wide: return "Wide";
  }
  return "?";
}

std::vector<std::int64_t> make_times(std::size_t num_rows, times t, std::mt19937& rng) {
  std::vector<std::int64_t> seconds(num_rows);
  // 2024-03-01T00:00:00 and 1941-06-01T00:00:00: both midnights
  const std::int64_t midnight = 19'783 * day;
  const std::int64_t before_1970 = -10'441 * day;
  std::uniform_int_distribution<std::int64_t> around(-3 * day, 3 * day);
  std::uniform_int_distribution<int> run_length(1, 4);
  std::size_t i = 0;
  while (i < num_rows) {
    std::int64_t value = 0;
    switch (t) {
      case times::repeats: value = midnight + 3'600 * std::uniform_int_distribution<std::int64_t>(0, 4)(rng); break;
      case times::midnight: value = midnight + around(rng); break;
      case times::negative: value = before_1970 + around(rng); break;
      case times::wide:
        value = std::uniform_int_distribution<int>(0, 20)(rng) == 0
                    ? (std::uniform_int_distribution<int>(0, 1)(rng) == 0 ? -4'000'000'000'000'000'000
                                                                          : 4'000'000'000'000'000'000) +
                          around(rng)
                    : midnight + around(rng);
        break;
    }
    for (int run = run_length(rng); run > 0 && i < num_rows; --run) seconds[i++] = value;
  }
  return seconds;
}

struct generated {
  std::vector<std::uint32_t> codes;
  std::vector<std::int64_t> seconds;
};

generated make_input(std::size_t num_rows, cardinality c, times t, std::uint32_t seed) {
  std::mt19937 rng(seed);
  generated input;
  input.codes = make_codes(num_rows, c, rng);
  input.seconds = make_times(num_rows, t, rng);
  // The wide pattern needs both extremes to force the fallback: make sure they are there.
  if (t == times::wide && num_rows >= 2) {
    input.seconds[0] = -4'000'000'000'000'000'000;
    input.seconds[num_rows - 1] = 4'000'000'000'000'000'000;
  }
  return input;
}

std::size_t num_codes_of(const std::vector<std::uint32_t>& codes) {
  return codes.empty() ? 0 : *std::max_element(codes.begin(), codes.end()) + std::size_t{1};
}

std::string to_string(pair_sort sort) { return sort == pair_sort::automatic ? "Auto" : "TwoKeys"; }

// ---- one batch and a few batches, small sizes, every pattern ----

using value_case = std::tuple<std::size_t, cardinality, times, pair_sort>;

class SortReduceValuesCpp : public ::testing::TestWithParam<value_case> {};

TEST_P(SortReduceValuesCpp, StatsMatchReference) {
  const auto [num_rows, c, t, sort] = GetParam();
  const generated input = make_input(num_rows, c, t, 17);
  // Two codes past the largest: codes no row has are key_stats{}.
  const std::size_t num_codes = num_codes_of(input.codes) + 2;
  const auto expected = reference_dense_stats(input.codes, input.seconds, num_codes);
  for (std::size_t batch_rows : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{32}}) {
    EXPECT_EQ(stats_cpp(input.codes, input.seconds, num_codes, batch_rows, sort), expected)
        << "batch_rows " << batch_rows;
  }
}

TEST_P(SortReduceValuesCpp, GroupsMatchReference) {
  const auto [num_rows, c, t, sort] = GetParam();
  const generated input = make_input(num_rows, c, t, 23);
  const auto expected = reference_groups(input.codes, input.seconds);
  for (std::size_t batch_rows : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{32}}) {
    EXPECT_EQ(groups_cpp(input.codes, input.seconds, batch_rows, sort), expected) << "batch_rows " << batch_rows;
  }
}

TEST_P(SortReduceValuesCpp, OneBatchReducesToDistinctPairs) {
  const auto [num_rows, c, t, sort] = GetParam();
  const generated input = make_input(num_rows, c, t, 29);
  EXPECT_EQ(reduce_pairs_cpp(input.codes, input.seconds, sort), reference_pair_counts(input.codes, input.seconds));
}

std::string value_case_name(const ::testing::TestParamInfo<value_case>& info) {
  return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) +
         to_string(std::get<2>(info.param)) + to_string(std::get<3>(info.param));
}

INSTANTIATE_TEST_SUITE_P(SmallSizes, SortReduceValuesCpp,
                         ::testing::Combine(::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{31},
                                                              std::size_t{32}, std::size_t{33}, std::size_t{1000}),
                                            ::testing::Values(cardinality::one_key, cardinality::all_unique,
                                                              cardinality::random, cardinality::skewed),
                                            ::testing::Values(times::repeats, times::midnight, times::negative,
                                                              times::wide),
                                            ::testing::Values(pair_sort::automatic, pair_sort::two_keys)),
                         value_case_name);

// ---- many batches of a larger input (the shape of a real run: reduce a batch, merge it into the total) ----

using multi_batch_case = std::tuple<cardinality, times, pair_sort>;

class SortReduceValuesCppMultiBatch : public ::testing::TestWithParam<multi_batch_case> {};

TEST_P(SortReduceValuesCppMultiBatch, StatsAndGroupsMatchReference) {
  const auto [c, t, sort] = GetParam();
  const generated input = make_input(100'000, c, t, 31);
  const std::size_t num_codes = num_codes_of(input.codes);
  EXPECT_EQ(stats_cpp(input.codes, input.seconds, num_codes, 7'919, sort),
            reference_dense_stats(input.codes, input.seconds, num_codes));
  EXPECT_EQ(groups_cpp(input.codes, input.seconds, 7'919, sort), reference_groups(input.codes, input.seconds));
}

INSTANTIATE_TEST_SUITE_P(Rows100000Batch7919, SortReduceValuesCppMultiBatch,
                         ::testing::Combine(::testing::Values(cardinality::one_key, cardinality::all_unique,
                                                              cardinality::random, cardinality::skewed),
                                            ::testing::Values(times::repeats, times::midnight, times::negative,
                                                              times::wide),
                                            ::testing::Values(pair_sort::automatic, pair_sort::two_keys)),
                         [](const ::testing::TestParamInfo<multi_batch_case>& info) {
                           return to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) +
                                  to_string(std::get<2>(info.param));
                         });

// ---- the worked examples and the edges ----

TEST(SortReduceValuesCppExample, WorkedExampleFromBackendHpp) {
  // rows of one key at [t1 t1 t2 t3], t1 and t2 on one day: count 4, first t1, last t3, active_days 2, repeats 1
  const std::int64_t t1 = 19'783 * day + 100;
  const std::int64_t t2 = t1 + 3'600;
  const std::int64_t t3 = t1 + day;
  const std::vector<std::uint32_t> codes{0, 0, 0, 0};
  const std::vector<std::int64_t> seconds{t1, t1, t2, t3};
  const auto stats = stats_cpp(codes, seconds, 1);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0], (key_stats{4, t1, t3, 2, 1}));
}

TEST(SortReduceValuesCppExample, MergeExampleFromTheCuh) {
  // (0,t1)x2 (1,t5)x1 + (0,t1)x1 (0,t2)x1 -> (0,t1)x3 (0,t2)x1 (1,t5)x1
  const pair_counts a{{0, 1}, {10, 50}, {2, 1}};
  const pair_counts b{{0, 0}, {10, 20}, {1, 1}};
  EXPECT_EQ(merge_pair_counts_cpp(a, b), (pair_counts{{0, 0, 1}, {10, 20, 50}, {3, 1, 1}}));
  EXPECT_EQ(merge_pair_counts_cpp(b, a), (pair_counts{{0, 0, 1}, {10, 20, 50}, {3, 1, 1}}));
}

TEST(SortReduceValuesCppExample, RepeatsSpanBatches) {
  // The same (code, time) in two batches is one distinct time: batches cannot be reduced to counts on their own.
  const std::vector<std::uint32_t> codes{5, 5, 5};
  const std::vector<std::int64_t> seconds{100, 200, 100};
  for (std::size_t batch_rows : {std::size_t{0}, std::size_t{1}, std::size_t{2}}) {
    const auto stats = stats_cpp(codes, seconds, 6, batch_rows);
    EXPECT_EQ(stats[5], (key_stats{3, 100, 200, 1, 1})) << "batch_rows " << batch_rows;
  }
}

TEST(SortReduceValuesCppExample, DaysAroundMidnightAndBefore1970) {
  // Floor division: -1 is 1969-12-31, so [-1, 0] spans two days and [-86400, -1] one.
  const std::vector<std::uint32_t> codes{0, 0, 1, 1, 2, 2, 3, 3};
  const std::vector<std::int64_t> seconds{-1, 0, -day, -1, day - 1, day, -day - 1, -day};
  for (pair_sort sort : {pair_sort::automatic, pair_sort::two_keys}) {
    const auto stats = stats_cpp(codes, seconds, 4, 0, sort);
    EXPECT_EQ(stats[0], (key_stats{2, -1, 0, 2, 0}));
    EXPECT_EQ(stats[1], (key_stats{2, -day, -1, 1, 0}));
    EXPECT_EQ(stats[2], (key_stats{2, day - 1, day, 2, 0}));
    EXPECT_EQ(stats[3], (key_stats{2, -day - 1, -day, 2, 0}));
  }
}

TEST(SortReduceValuesCppExample, CodesDroppedPastNumCodes) {
  const std::vector<std::uint32_t> codes{0, 3, 3};
  const std::vector<std::int64_t> seconds{10, 20, 20};
  const auto stats = stats_cpp(codes, seconds, 2);
  EXPECT_EQ(stats, (std::vector<key_stats>{key_stats{1, 10, 10, 1, 0}, key_stats{}}));
  EXPECT_TRUE(stats_cpp(codes, seconds, 0).empty());
}

TEST(SortReduceValuesCppEdges, CodesUpTo2To32Minus1) {
  // Every 32-bit code, with a time range that fits next to them (32 + 32 bits) and one that does not.
  const std::vector<std::uint32_t> codes{max_code, 0, max_code, max_code - 1, 0, max_code};
  for (const std::int64_t span : {std::int64_t{0xFFFF'FFFF}, std::int64_t{0x1'0000'0000}}) {
    const std::vector<std::int64_t> seconds{span, 0, span, 0, span, 7};
    for (pair_sort sort : {pair_sort::automatic, pair_sort::two_keys}) {
      const pair_counts pairs = reduce_pairs_cpp(codes, seconds, sort);
      EXPECT_EQ(pairs, reference_pair_counts(codes, seconds)) << "span " << span;
      const code_stats stats = stats_of_pairs_cpp(pairs);
      EXPECT_EQ(stats.codes, (std::vector<std::uint32_t>{0, max_code - 1, max_code}));
      ASSERT_EQ(stats.stats.size(), 3u);
      EXPECT_EQ(stats.stats[0], (key_stats{2, 0, span, span >= day ? 2u : 1u, 0}));
      EXPECT_EQ(stats.stats[1], (key_stats{1, 0, 0, 1, 0}));
      EXPECT_EQ(stats.stats[2], (key_stats{3, 7, span, span >= day ? 2u : 1u, 1}));
      EXPECT_EQ(groups_cpp(codes, seconds, 0, sort), reference_groups(codes, seconds));
      EXPECT_EQ(groups_cpp(codes, seconds, 2, sort), reference_groups(codes, seconds));
    }
  }
}

TEST(SortReduceValuesCppEdges, WholeInt64RangeWithOneCode) {
  // Code 0 needs no bits, so the composite key holds a full 64-bit offset: INT64_MIN..INT64_MAX still fits.
  static_assert(composite_layout_for(0, int64_min, int64_max).fits);
  static_assert(composite_layout_for(0, int64_min, int64_max).value_bits == 64);
  const std::vector<std::uint32_t> codes{0, 0, 0, 0, 0};
  const std::vector<std::int64_t> seconds{int64_max, int64_min, 0, int64_min + 1, int64_max};
  for (pair_sort sort : {pair_sort::automatic, pair_sort::two_keys}) {
    EXPECT_EQ(reduce_pairs_cpp(codes, seconds, sort),
              (pair_counts{{0, 0, 0, 0}, {int64_min, int64_min + 1, 0, int64_max}, {1, 1, 1, 2}}));
    const code_stats stats = stats_of_pairs_cpp(reduce_pairs_cpp(codes, seconds, sort));
    ASSERT_EQ(stats.stats.size(), 1u);
    // INT64_MIN and INT64_MIN + 1 share a day (INT64_MIN is 30,592 s into it), 0 and INT64_MAX have their own
    EXPECT_EQ(stats.stats[0], (key_stats{5, int64_min, int64_max, 3, 1}));
  }
}

TEST(SortReduceValuesCppEdges, WholeInt64RangeWithTwoCodesFallsBack) {
  static_assert(!composite_layout_for(1, int64_min, int64_max).fits);
  const std::vector<std::uint32_t> codes{1, 0, 1, 0};
  const std::vector<std::int64_t> seconds{int64_max, int64_min, int64_min, int64_min};
  EXPECT_EQ(reduce_pairs_cpp(codes, seconds), (pair_counts{{0, 1, 1}, {int64_min, int64_min, int64_max}, {2, 1, 1}}));
  EXPECT_EQ(groups_cpp(codes, seconds), reference_groups(codes, seconds));
}

TEST(SortReduceValuesCppEdges, CompositeLayoutBoundaries) {
  static_assert(composite_layout_for(0, 5, 5).fits);
  static_assert(composite_layout_for(0, 5, 5).end_bit == 1);  // radix sort needs at least one bit
  static_assert(composite_layout_for(1242, 0, 86'399).value_bits == 17);
  static_assert(composite_layout_for(1242, 0, 86'399).end_bit == 28);
  static_assert(composite_layout_for(max_code, -1, 0xFFFF'FFFE).fits);   // 32 + 32 bits
  static_assert(!composite_layout_for(max_code, -1, 0xFFFF'FFFF).fits);  // 32 + 33 bits
  static_assert(composite_layout_for(max_code, -1, 0xFFFF'FFFF).end_bit == 64);
  static_assert(composite_layout_for(1, int64_min, -1).fits);  // 1 + 63 bits
  static_assert(!composite_layout_for(1, int64_min, 0).fits);  // 1 + 64 bits
  SUCCEED();
}

TEST(SortReduceValuesCppEdges, EmptyInputs) {
  const std::vector<std::uint32_t> no_codes;
  const std::vector<std::int64_t> no_values;
  EXPECT_EQ(reduce_pairs_cpp(no_codes, no_values), pair_counts{});
  EXPECT_EQ(merge_pair_counts_cpp(pair_counts{}, pair_counts{}), pair_counts{});
  const pair_counts some{{1, 2}, {5, -5}, {3, 4}};
  EXPECT_EQ(merge_pair_counts_cpp(pair_counts{}, some), some);
  EXPECT_EQ(merge_pair_counts_cpp(some, pair_counts{}), some);
  EXPECT_TRUE(stats_of_pairs_cpp(pair_counts{}).codes.empty());
  EXPECT_EQ(stats_cpp(no_codes, no_values, 3), std::vector<key_stats>(3));
  EXPECT_TRUE(groups_cpp(no_codes, no_values).empty());
}

TEST(SortReduceValuesCppEdges, RejectsBadInputs) {
  const std::vector<std::uint32_t> codes{0, 1};
  const std::vector<std::int64_t> one_value{5};
  EXPECT_THROW(reduce_pairs_cpp(codes, one_value), labcount::error);
  EXPECT_THROW(stats_cpp(codes, one_value, 2), labcount::error);
  EXPECT_THROW(groups_cpp(codes, one_value), labcount::error);
  const pair_counts unsorted{{1, 0}, {0, 0}, {1, 1}};
  EXPECT_THROW(merge_pair_counts_cpp(unsorted, pair_counts{}), labcount::error);
  EXPECT_THROW(stats_of_pairs_cpp(unsorted), labcount::error);
  const pair_counts duplicate{{1, 1}, {7, 7}, {1, 1}};
  EXPECT_THROW(merge_pair_counts_cpp(pair_counts{}, duplicate), labcount::error);
  const pair_counts mismatched{{1}, {7, 8}, {1}};
  EXPECT_THROW(merge_pair_counts_cpp(mismatched, pair_counts{}), labcount::error);
}

}  // namespace
}  // namespace labcount::kernels
