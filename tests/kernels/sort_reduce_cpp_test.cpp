// The sort + reduce_by_key steps of the GPU backend, run on Thrust's CPP system (no GPU needed), against a
// std::map reference.
#include "kernels/sort_reduce.hpp"

#include <gtest/gtest.h>

#include "support/test_codes.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "util/errors.hpp"

namespace labcount::kernels {
namespace {

using labcount::testing::cardinality;
using labcount::testing::make_codes;
using labcount::testing::to_string;

code_counts reference_counts(const std::vector<std::uint32_t>& codes) {
  std::map<std::uint32_t, std::uint64_t> counts;
  for (std::uint32_t code : codes) ++counts[code];
  code_counts result;
  for (const auto& [code, count] : counts) {
    result.codes.push_back(code);
    result.counts.push_back(count);
  }
  return result;
}

std::vector<std::uint64_t> reference_dense(const std::vector<std::uint32_t>& codes, std::size_t num_codes) {
  std::vector<std::uint64_t> totals(num_codes, 0);
  for (std::uint32_t code : codes) ++totals.at(code);
  return totals;
}

void expect_same(const code_counts& actual, const code_counts& expected) {
  EXPECT_EQ(actual.codes, expected.codes);
  EXPECT_EQ(actual.counts, expected.counts);
}

using size_and_cardinality = std::tuple<std::size_t, cardinality>;

class SortReduceCpp : public ::testing::TestWithParam<size_and_cardinality> {};

TEST_P(SortReduceCpp, ReduceMatchesReference) {
  const auto [num_rows, c] = GetParam();
  const auto codes = make_codes(num_rows, c, 42);
  expect_same(reduce_codes_cpp(codes), reference_counts(codes));
}

TEST_P(SortReduceCpp, AccumulateAddsIntoDenseTotals) {
  const auto [num_rows, c] = GetParam();
  const auto codes = make_codes(num_rows, c, 7);
  const std::size_t num_codes = codes.empty() ? 1 : *std::max_element(codes.begin(), codes.end()) + 1u;
  // Start from non-zero totals: the step adds, it does not overwrite.
  std::vector<std::uint64_t> totals(num_codes + 3, 5);
  accumulate_codes_cpp(codes, totals);
  auto expected = reference_dense(codes, num_codes + 3);
  for (auto& total : expected) total += 5;
  EXPECT_EQ(totals, expected);
}

TEST_P(SortReduceCpp, MergeOfTwoHalvesMatchesWhole) {
  const auto [num_rows, c] = GetParam();
  const auto codes = make_codes(num_rows, c, 1234);
  const auto middle = codes.begin() + static_cast<std::ptrdiff_t>(codes.size() / 3);
  const std::vector<std::uint32_t> first(codes.begin(), middle);
  const std::vector<std::uint32_t> second(middle, codes.end());
  expect_same(merge_code_counts_cpp(reduce_codes_cpp(first), reduce_codes_cpp(second)), reference_counts(codes));
}

INSTANTIATE_TEST_SUITE_P(SizesAndCardinalities, SortReduceCpp,
                         ::testing::Combine(::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{31},
                                                              std::size_t{32}, std::size_t{33}, std::size_t{1000},
                                                              std::size_t{1} << 20),
                                            ::testing::Values(cardinality::one_key, cardinality::all_unique,
                                                              cardinality::random, cardinality::skewed)),
                         [](const ::testing::TestParamInfo<size_and_cardinality>& info) {
                           return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param));
                         });

TEST(SortReduceCppExample, WorkedExampleFromTheHeader) {
  // [S2 S1 S1 S3] -> codes [1 0 0 2] -> sort -> [0 0 1 2] -> reduce_by_key -> (0,2) (1,1) (2,1)
  const auto result = reduce_codes_cpp(std::vector<std::uint32_t>{1, 0, 0, 2});
  EXPECT_EQ(result.codes, (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(result.counts, (std::vector<std::uint64_t>{2, 1, 1}));
}

TEST(SortReduceCppExample, MergeExampleFromTheHeader) {
  const code_counts a{{0, 2}, {2, 1}};
  const code_counts b{{0, 1}, {1, 4}};
  const auto merged = merge_code_counts_cpp(a, b);
  EXPECT_EQ(merged.codes, (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(merged.counts, (std::vector<std::uint64_t>{3, 4, 1}));
}

TEST(SortReduceCppMerge, ManyPartialsFoldedIntoARunningTotal) {
  // The shape of a multi-batch run: reduce each batch, merge it into the running total.
  const auto codes = make_codes(100'000, cardinality::skewed, 99);
  code_counts running;
  for (std::size_t begin = 0; begin < codes.size(); begin += 7'919) {
    const std::size_t end = std::min(codes.size(), begin + 7'919);
    const std::vector<std::uint32_t> batch(codes.begin() + static_cast<std::ptrdiff_t>(begin),
                                           codes.begin() + static_cast<std::ptrdiff_t>(end));
    running = merge_code_counts_cpp(running, reduce_codes_cpp(batch));
  }
  expect_same(running, reference_counts(codes));
}

TEST(SortReduceCppMerge, EmptySides) {
  const code_counts empty;
  const code_counts some{{3, 9}, {1, 2}};
  expect_same(merge_code_counts_cpp(empty, empty), empty);
  expect_same(merge_code_counts_cpp(empty, some), some);
  expect_same(merge_code_counts_cpp(some, empty), some);
}

TEST(SortReduceCppMerge, RejectsUnsortedPartials) {
  const code_counts unsorted{{2, 1}, {1, 1}};
  EXPECT_THROW(merge_code_counts_cpp(unsorted, code_counts{}), labcount::error);
  const code_counts mismatched{{1, 2}, {1}};
  EXPECT_THROW(merge_code_counts_cpp(mismatched, code_counts{}), labcount::error);
}

TEST(SortReduceCppAccumulate, RejectsCodesPastTheTotals) {
  std::vector<std::uint64_t> totals(2, 0);
  EXPECT_THROW(accumulate_codes_cpp(std::vector<std::uint32_t>{0, 2}, totals), labcount::error);
}

TEST(SortReduceCppExample, CodesUsingAll32Bits) {
  // max_code + 1 must not wrap when sizing the run counts.
  const std::vector<std::uint32_t> codes{0xFFFF'FFFEu, 0u, 0xFFFF'FFFEu};
  const auto result = reduce_codes_cpp(codes);
  EXPECT_EQ(result.codes, (std::vector<std::uint32_t>{0u, 0xFFFF'FFFEu}));
  EXPECT_EQ(result.counts, (std::vector<std::uint64_t>{1, 2}));
}

TEST(RadixEndBit, CoversTheLargestCode) {
  EXPECT_EQ(radix_end_bit(0), 1);
  EXPECT_EQ(radix_end_bit(1), 1);
  EXPECT_EQ(radix_end_bit(2), 2);
  EXPECT_EQ(radix_end_bit(1242), 11);  // 1,243 keys: 11 bits instead of 32
  EXPECT_EQ(radix_end_bit(2047), 11);
  EXPECT_EQ(radix_end_bit(2048), 12);
  EXPECT_EQ(radix_end_bit(0xFFFF'FFFFu), 32);
}

}  // namespace
}  // namespace labcount::kernels
