// Counting codes by sort + reduce_by_key: the algorithm the GPU backend runs on each batch.
//
//   keys    [S2 S1 S1 S3]
//   codes   [ 1  0  0  2]                      (the host's dictionary encoding)
//   sort    [ 0  0  1  2]                      // bring equal codes together
//   reduce_by_key with a constant 1 per row    // one (code, count) per run of equal codes
//           (0,2) (1,1) (2,1)                  -> S1: 2, S2: 1, S3: 1
//
// Partial results from different batches or workers combine by merging two sorted runs and reducing again:
//   (0,2) (2,1)  +  (0,1) (1,4)  -> merge_by_key -> (0,2) (0,1) (1,4) (2,1) -> reduce_by_key -> (0,3) (1,4) (2,1)
//
// The algorithm is written once, in sort_reduce.cuh, as templates over a Thrust execution policy. This header
// declares its instantiation for Thrust's CPP system (the library labcount_sort_reduce_cpp, built with g++ alone),
// so machines without a GPU test the same steps the GPU backend runs. Plain C++: no CUDA or Thrust here.
//
// Value modes (--stats, --per) reduce (code, value) pairs the same way. One key S1 (code 0) at times
// [t1 t1 t2 t3], t1 and t2 on day d, t3 on day d+1:
//   sort by (code, time)           (0,t1) (0,t1) (0,t2) (0,t3)     // one 64-bit key code<<b | (time - base) if it fits
//   reduce_by_key, counting rows   (0,t1)x2 (0,t2)x1 (0,t3)x1      // each distinct pair once, with its rows
//   merge with the running pairs   merge_by_key + reduce_by_key     // a pair seen in two batches is one pair
//   --per stops here: the pairs are the (code, bucket, count) result.
//   --stats, reduce per code       count 2+1+1 = 4, first t1, last t3, 3 distinct times -> repeats 1,
//                                  day changes within the code 2 -> active_days 2
// Distinct times and days cannot be summed over batches, so batches keep their distinct pairs (not per-code
// totals) and the per-code step runs once, at the end: memory grows with distinct pairs, not rows.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <vector>

#include "backend/values.hpp"

namespace labcount::kernels {

// A sparse count: codes strictly increasing, counts[i] is the number of rows with code codes[i].
struct code_counts {
  std::vector<std::uint32_t> codes;
  std::vector<std::uint64_t> counts;
};

// Radix sort only has to look at the bits that can differ: codes <= max_code fit in bit_width(max_code) bits
// (11 bits instead of 32 for 1,243 keys). At least one bit, so an all-zero batch is still a valid sort.
constexpr int radix_end_bit(std::uint32_t max_code) noexcept {
  return std::max(1, static_cast<int>(std::bit_width(max_code)));
}

// Largest batch the sort/reduce steps take in one call: counts of runs are 32-bit on the device.
inline constexpr std::size_t max_batch_rows = std::size_t{1} << 30;

// sort + reduce_by_key of one batch: the sparse (code, count) of `codes`. codes.size() <= max_batch_rows.
code_counts reduce_codes_cpp(std::span<const std::uint32_t> codes);

// merge_by_key + reduce_by_key of two sparse results (each with strictly increasing codes).
code_counts merge_code_counts_cpp(const code_counts& a, const code_counts& b);

// The GPU backend's per-batch step: sort + reduce_by_key, then add each (code, count) into a dense running total,
// totals[code] += count. Every code must be < totals.size(); codes.size() <= max_batch_rows.
void accumulate_codes_cpp(std::span<const std::uint32_t> codes, std::span<std::uint64_t> totals);

// ---- value modes ----

// Distinct (code, value) pairs sorted by code then value, with the number of rows of each.
struct pair_counts {
  std::vector<std::uint32_t> codes;
  std::vector<std::int64_t> values;
  std::vector<std::uint64_t> counts;
  friend bool operator==(const pair_counts&, const pair_counts&) = default;
};

// How a batch's pairs are sorted: one 64-bit key (code << value_bits | value - min value) when
// bit_width(max code) + bit_width(max value - min value) <= 64, else two stable sorts (by value, then by code).
// Tests force two_keys to run the fallback on every input.
enum class pair_sort { automatic, two_keys };

// The 64-bit composite key of a batch, or fits == false when the fallback must sort.
struct composite_layout {
  bool fits = false;
  int value_bits = 0;  // the low bits hold value - min value
  int end_bit = 1;     // radix sort looks at bits [0, end_bit)
};
constexpr composite_layout composite_layout_for(std::uint32_t max_code, std::int64_t min_value,
                                                std::int64_t max_value) noexcept {
  // max - min in unsigned arithmetic is exact for every min <= max, even across the whole int64 range
  const std::uint64_t range = static_cast<std::uint64_t>(max_value) - static_cast<std::uint64_t>(min_value);
  const int value_bits = static_cast<int>(std::bit_width(range));
  const int code_bits = static_cast<int>(std::bit_width(max_code));
  composite_layout layout;
  layout.fits = value_bits + code_bits <= 64;
  layout.value_bits = value_bits;
  layout.end_bit = std::max(1, std::min(64, value_bits + code_bits));
  return layout;
}

// sort + reduce_by_key of one batch of pairs. codes.size() == values.size() <= max_batch_rows.
pair_counts reduce_pairs_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> values,
                             pair_sort sort = pair_sort::automatic);

// merge_by_key + reduce_by_key of two pair sets (each sorted, each pair once); fewer than 2^32 pairs in all.
pair_counts merge_pair_counts_cpp(const pair_counts& a, const pair_counts& b);

// The per-code step of --stats over a whole pair set: the codes that have rows, strictly increasing, and their
// stats.
struct code_stats {
  std::vector<std::uint32_t> codes;
  std::vector<key_stats> stats;
};
code_stats stats_of_pairs_cpp(const pair_counts& pairs);

// The GPU backend's value-mode algorithm end to end, one worker: batches of batch_rows (0: one batch) are
// reduced and merged into the running pairs, then
//   stats_cpp : stats[code] for every code < num_codes (count 0: not seen; codes >= num_codes are dropped)
//   groups_cpp: every (code, bucket) with its rows, sorted by code then bucket
std::vector<key_stats> stats_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> seconds,
                                 std::size_t num_codes, std::size_t batch_rows = 0,
                                 pair_sort sort = pair_sort::automatic);
std::vector<group_count> groups_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> buckets,
                                    std::size_t batch_rows = 0, pair_sort sort = pair_sort::automatic);

}  // namespace labcount::kernels
