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
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <vector>

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

}  // namespace labcount::kernels
