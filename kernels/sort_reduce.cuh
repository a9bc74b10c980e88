// Counting codes by sort + reduce_by_key, written once over an execution policy.
//
//   codes   [1 0 0 2]
//   sort    [0 0 1 2]                 // bring equal codes together
//   reduce_by_key(sorted, constant 1) // one (code, count) per run: (0,2) (1,1) (2,1)
//   accumulate into totals            // totals[0] += 2, totals[1] += 1, totals[2] += 1
//
// Who compiles what:
//   * The steps (sort_and_count_codes, count_codes_into) are templates over `Exec`, and call three primitives:
//     sort_keys, count_sorted, accumulate_runs.
//   * The Thrust versions of the primitives take any Thrust execution policy. sort_reduce_cpp.cpp instantiates
//     them for Thrust's CPP system with g++, so CI tests the steps without a GPU. merge_code_counts is
//     Thrust-only.
//   * The CUDA-only specialisation (under __CUDACC__) overloads the primitives for `cub_exec` and calls CUB
//     directly. Three reasons, all about the GPU hot path: the radix sort looks only at the bits a batch can use
//     (begin_bit/end_bit, which thrust::sort does not expose); the number of runs stays in device memory
//     (thrust::reduce_by_key synchronizes the stream to return it); and temporary storage is one buffer per
//     worker, reserved up front and only grown (Thrust allocates and frees per call). The per-element work of the
//     accumulation (add_run_to_totals) is shared by both.
// So the CPP test checks the steps, the Thrust primitives and the shared functor; the CUB calls are checked
// against the CPU backend by tests/kernels/gpu_backend_test.cpp on a GPU.
//
// Value modes (the picture is in sort_reduce.hpp) follow the same split: the steps reduce_pairs_composite,
// reduce_pairs_two_keys, merge_pair_sets and stats_of_pairs call the primitives for_each_index, sort_keys,
// sort_by_code_then_value, count_sorted, reduce_pair_runs, merge_pairs and reduce_stats_parts, each with a
// Thrust version and a CUB overload; the per-element work (encode/decode the composite key, the per-pair stats
// and their combination, the dense scatter) is in functors shared by both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/constant_iterator.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/merge.h>
#include <thrust/reduce.h>
#include <thrust/sort.h>

#include "backend/values.hpp"
#include "kernels/sort_reduce.hpp"
#include "util/host_device.hpp"

#if defined(__CUDACC__)
#include <cub/device/device_for.cuh>
#include <cub/device/device_merge.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_reduce.cuh>
#include <cuda/std/functional>

#include "kernels/cuda_resources.cuh"
#endif

namespace labcount::kernels::detail {

// Number of runs in a batch. Batches hold at most max_batch_rows codes, so 32 bits suffice (and CUB picks
// 32-bit offsets for 32-bit item counts).
using run_count_t = std::uint32_t;

// totals[codes[run]] += counts[run] for each run < *num_runs. The codes of one batch's runs are distinct, so no
// two runs write the same total and no atomics are needed; batches on one stream run one after another.
// num_runs is read where the work runs (device memory on the GPU), so the host never waits to learn it.
struct add_run_to_totals {
  const std::uint32_t* codes;
  const std::uint64_t* counts;
  const run_count_t* num_runs;
  std::uint64_t* totals;

  // On the device the totals are shared by every worker's stream (gpu_backend.cu): an atomic add (a batch's runs
  // have distinct codes, so only other workers' batches contend). Thrust's CPP system runs one thread: a plain add.
  LABCOUNT_HOST_DEVICE void operator()(std::size_t run) const {
    if (run >= *num_runs) return;
#if defined(__CUDA_ARCH__)
    atomicAdd(reinterpret_cast<unsigned long long*>(totals + codes[run]), static_cast<unsigned long long>(counts[run]));
#else
    totals[codes[run]] += counts[run];
#endif
  }
};

// ---- value modes: the per-element work ----

// One (code, value) pair, ordered by code then value (code_value_less). 16 bytes with padding; runs of pairs are
// arrays of these with a parallel array of row counts.
struct code_value {
  std::uint32_t code;
  std::int64_t value;
  friend LABCOUNT_HOST_DEVICE bool operator==(const code_value& a, const code_value& b) {
    return a.code == b.code && a.value == b.value;
  }
};

struct code_value_less {
  LABCOUNT_HOST_DEVICE bool operator()(const code_value& a, const code_value& b) const {
    return a.code < b.code || (a.code == b.code && a.value < b.value);
  }
};

// keys[row] = code << value_bits | (value - base): sorting these sorts by (code, value) when the layout fits.
// value_bits == 64 only when every code is 0 (composite_layout_for), and a 64-bit shift is undefined.
struct encode_composite {
  const std::uint32_t* codes;
  const std::int64_t* values;
  std::uint64_t base;
  int value_bits;
  std::uint64_t* keys;

  LABCOUNT_HOST_DEVICE void operator()(std::size_t row) const {
    const std::uint64_t offset = static_cast<std::uint64_t>(values[row]) - base;
    const std::uint64_t high = value_bits >= 64 ? 0 : std::uint64_t{codes[row]} << value_bits;
    keys[row] = high | offset;
  }
};

// The inverse of encode_composite for the first *num_runs keys.
struct decode_composite {
  const std::uint64_t* keys;
  const run_count_t* num_runs;
  std::uint64_t base;
  int value_bits;
  code_value* pairs;

  LABCOUNT_HOST_DEVICE void operator()(std::size_t run) const {
    if (run >= *num_runs) return;
    const std::uint64_t key = keys[run];
    const std::uint64_t mask = value_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << value_bits) - 1;
    pairs[run].code = value_bits >= 64 ? 0u : static_cast<std::uint32_t>(key >> value_bits);
    pairs[run].value = static_cast<std::int64_t>(base + (key & mask));  // modular: values below 0 come back
  }
};

// pairs[row] = (codes[row], values[row]), for the fallback's reduction over whole pairs.
struct make_pairs {
  const std::uint32_t* codes;
  const std::int64_t* values;
  code_value* pairs;

  LABCOUNT_HOST_DEVICE void operator()(std::size_t row) const {
    pairs[row].code = codes[row];
    pairs[row].value = values[row];
  }
};

// --stats of one code, or of one pair before the per-code reduction.
struct stats_part {
  std::uint64_t count;     // rows
  std::int64_t first;      // smallest time
  std::int64_t last;       // largest time
  std::uint64_t distinct;  // distinct times
  std::uint64_t days;      // distinct days
};

// The part of pair i of a sorted pair set: its rows, its time as first and last, one distinct time, and one
// day unless the previous pair has the same code and falls on the same day (pairs are sorted by time within a
// code, so equal days are neighbours).
struct make_stats_part {
  const code_value* pairs;
  const std::uint64_t* counts;
  std::uint32_t* codes;
  stats_part* parts;

  LABCOUNT_HOST_DEVICE void operator()(std::size_t i) const {
    const code_value pair = pairs[i];
    const bool same_day =
        i > 0 && pairs[i - 1].code == pair.code && day_of(pairs[i - 1].value) == day_of(pair.value);
    codes[i] = pair.code;
    parts[i] = stats_part{counts[i], pair.value, pair.value, 1, same_day ? 0u : 1u};
  }
};

struct combine_stats_parts {
  LABCOUNT_HOST_DEVICE stats_part operator()(const stats_part& a, const stats_part& b) const {
    return stats_part{a.count + b.count, a.first < b.first ? a.first : b.first, a.last > b.last ? a.last : b.last,
                      a.distinct + b.distinct, a.days + b.days};
  }
};

LABCOUNT_HOST_DEVICE inline void store_stats(const stats_part& part, key_stats& out) {
  out.count = part.count;
  out.first = part.first;
  out.last = part.last;
  out.active_days = part.days;
  out.repeats = part.count - part.distinct;
}

// The device fills key_stats arrays that the host zeroes and copies bytewise.
static_assert(std::is_trivially_copyable_v<key_stats>);

// stats[codes[i]] = parts[i] for the first *num_codes codes below num_stats (the rest are dropped, as in the CPU
// backend); stats was zeroed, which is key_stats{} for every code not seen.
struct scatter_stats {
  const std::uint32_t* codes;
  const stats_part* parts;
  const run_count_t* num_codes;
  std::size_t num_stats;
  key_stats* stats;

  LABCOUNT_HOST_DEVICE void operator()(std::size_t i) const {
    if (i >= *num_codes || codes[i] >= num_stats) return;
    store_stats(parts[i], stats[codes[i]]);
  }
};

// ---- Thrust primitives: any Thrust execution policy ----

// Sorts keys[0, num_rows) (32-bit codes, or 64-bit composite keys) and returns where the sorted keys are: the CUB
// version may leave them in `alternate`; callers use the returned pointer. Bits at end_bit and above are zero in
// every key (the CUB version skips them; thrust::sort has no bit range, so end_bit is unused here).
template <typename Exec, typename Key>
Key* sort_keys(Exec& exec, Key* keys, Key* /*alternate*/, std::size_t num_rows, int /*end_bit*/) {
  thrust::sort(exec, keys, keys + num_rows);
  return keys;
}

// One (key, rows) per run of equal keys in `sorted`; the number of runs goes to *num_runs.
template <typename Exec, typename Key>
void count_sorted(Exec& exec, const Key* sorted, std::size_t num_rows, Key* unique_out, std::uint64_t* counts_out,
                  run_count_t* num_runs) {
  const auto ends = thrust::reduce_by_key(exec, sorted, sorted + num_rows, thrust::constant_iterator<std::uint64_t>(1),
                                          unique_out, counts_out);
  *num_runs = static_cast<run_count_t>(ends.first - unique_out);
}

// totals[unique[run]] += counts[run] for the first *num_runs runs; max_runs bounds *num_runs.
template <typename Exec>
void accumulate_runs(Exec& exec, const std::uint32_t* unique, const std::uint64_t* counts, const run_count_t* num_runs,
                     std::size_t max_runs, std::uint64_t* totals) {
  thrust::for_each_n(exec, thrust::counting_iterator<std::size_t>(0), max_runs,
                     add_run_to_totals{unique, counts, num_runs, totals});
}

// Combines two sparse results, each with strictly increasing codes, into `out` (room for a_size + b_size) and
// returns its size. `merged` is scratch of the same size.
//   (0,2) (2,1) + (0,1) (1,4) -> merge_by_key -> (0,2) (0,1) (1,4) (2,1) -> reduce_by_key -> (0,3) (1,4) (2,1)
// Thrust-only: on the CUDA system reduce_by_key synchronizes to return the size, which is why the GPU backend
// keeps dense per-worker totals instead of merging sparse ones (see gpu_backend.cu).
template <typename Exec>
std::size_t merge_code_counts(Exec& exec, const std::uint32_t* a_codes, const std::uint64_t* a_counts,
                              std::size_t a_size, const std::uint32_t* b_codes, const std::uint64_t* b_counts,
                              std::size_t b_size, std::uint32_t* merged_codes, std::uint64_t* merged_counts,
                              std::uint32_t* out_codes, std::uint64_t* out_counts) {
  // merge the two sorted runs so that a code present in both sits in two neighbouring slots
  thrust::merge_by_key(exec, a_codes, a_codes + a_size, b_codes, b_codes + b_size, a_counts, b_counts, merged_codes,
                       merged_counts);
  // add the counts of equal neighbours
  const auto ends =
      thrust::reduce_by_key(exec, merged_codes, merged_codes + a_size + b_size, merged_counts, out_codes, out_counts);
  return static_cast<std::size_t>(ends.first - out_codes);
}

// f(i) for every i < n.
template <typename Exec, typename F>
void for_each_index(Exec& exec, std::size_t n, F f) {
  if (n == 0) return;
  thrust::for_each_n(exec, thrust::counting_iterator<std::size_t>(0), n, f);
}

struct sorted_pairs {
  std::uint32_t* codes;
  std::int64_t* values;
};

// The composite key's fallback: sorts the rows by (code, value) with two stable sorts, by value and then by code
// (equal codes keep their values in order). Returns where the sorted arrays are; code_end_bit bounds the codes.
template <typename Exec>
sorted_pairs sort_by_code_then_value(Exec& exec, std::uint32_t* codes, std::uint32_t* /*codes_alt*/,
                                     std::int64_t* values, std::int64_t* /*values_alt*/, std::size_t num_rows,
                                     int /*code_end_bit*/) {
  thrust::stable_sort_by_key(exec, values, values + num_rows, codes);
  thrust::stable_sort_by_key(exec, codes, codes + num_rows, values);
  return {codes, values};
}

// One (pair, sum of counts) per run of equal pairs; `counts` is a pointer or a constant_iterator.
template <typename Exec, typename CountIterator>
void reduce_pair_runs(Exec& exec, const code_value* pairs, CountIterator counts, std::size_t num_pairs,
                      code_value* pairs_out, std::uint64_t* counts_out, run_count_t* num_runs) {
  const auto ends = thrust::reduce_by_key(exec, pairs, pairs + num_pairs, counts, pairs_out, counts_out);
  *num_runs = static_cast<run_count_t>(ends.first - pairs_out);
}

// Merges two sorted pair runs (with their counts) into a_size + b_size slots; equal pairs end up neighbours.
template <typename Exec>
void merge_pairs(Exec& exec, const code_value* a_pairs, const std::uint64_t* a_counts, std::size_t a_size,
                 const code_value* b_pairs, const std::uint64_t* b_counts, std::size_t b_size, code_value* pairs_out,
                 std::uint64_t* counts_out) {
  thrust::merge_by_key(exec, a_pairs, a_pairs + a_size, b_pairs, b_pairs + b_size, a_counts, b_counts, pairs_out,
                       counts_out, code_value_less{});
}

// One (code, combined stats) per run of equal codes; the number of codes goes to *num_codes.
template <typename Exec>
void reduce_stats_parts(Exec& exec, const std::uint32_t* codes, const stats_part* parts, std::size_t num_pairs,
                        std::uint32_t* codes_out, stats_part* parts_out, run_count_t* num_codes) {
  const auto ends = thrust::reduce_by_key(exec, codes, codes + num_pairs, parts, codes_out, parts_out,
                                          thrust::equal_to<std::uint32_t>{}, combine_stats_parts{});
  *num_codes = static_cast<run_count_t>(ends.first - codes_out);
}

#if defined(__CUDACC__)
// ---- CUDA-only specialisation of the primitives: CUB on one stream, with the worker's temporary storage ----

struct cub_exec {
  cudaStream_t stream;
  temp_storage* scratch;
};

template <typename Key>
Key* sort_keys(cub_exec& exec, Key* keys, Key* alternate, std::size_t num_rows, int end_bit) {
  // Keys only (every value would be 1), double-buffered so the sort needs no third copy of the batch.
  cub::DoubleBuffer<Key> buffers(keys, alternate);
  exec.scratch->run(
      "cub::DeviceRadixSort::SortKeys",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceRadixSort::SortKeys(temp, bytes, buffers, static_cast<std::uint32_t>(num_rows), 0, end_bit,
                                              exec.stream);
      },
      exec.stream);
  return buffers.Current();
}

template <typename Key>
void count_sorted(cub_exec& exec, const Key* sorted, std::size_t num_rows, Key* unique_out, std::uint64_t* counts_out,
                  run_count_t* num_runs) {
  exec.scratch->run(
      sizeof(Key) == 8 ? "cub::DeviceReduce::ReduceByKey (composite keys)" : "cub::DeviceReduce::ReduceByKey",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceReduce::ReduceByKey(
            temp, bytes, sorted, unique_out, thrust::constant_iterator<std::uint64_t>(1), counts_out, num_runs,
            ::cuda::std::plus<std::uint64_t>{}, static_cast<std::uint32_t>(num_rows), exec.stream);
      },
      exec.stream);
}

inline void accumulate_runs(cub_exec& exec, const std::uint32_t* unique, const std::uint64_t* counts,
                            const run_count_t* num_runs, std::size_t max_runs, std::uint64_t* totals) {
  CUDA_TRY(cub::DeviceFor::Bulk(static_cast<std::uint32_t>(max_runs),
                                add_run_to_totals{unique, counts, num_runs, totals}, exec.stream));
}
template <typename F>
void for_each_index(cub_exec& exec, std::size_t n, F f) {
  if (n == 0) return;
  CUDA_TRY(cub::DeviceFor::Bulk(n, f, exec.stream));
}

inline sorted_pairs sort_by_code_then_value(cub_exec& exec, std::uint32_t* codes, std::uint32_t* codes_alt,
                                            std::int64_t* values, std::int64_t* values_alt, std::size_t num_rows,
                                            int code_end_bit) {
  // LSD radix sorts are stable, so sorting by the minor key first and the major key second sorts by both.
  cub::DoubleBuffer<std::int64_t> value_buffers(values, values_alt);
  cub::DoubleBuffer<std::uint32_t> code_buffers(codes, codes_alt);
  const auto num_items = static_cast<std::uint32_t>(num_rows);
  exec.scratch->run(
      "cub::DeviceRadixSort::SortPairs (by value)",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceRadixSort::SortPairs(temp, bytes, value_buffers, code_buffers, num_items, 0, 64, exec.stream);
      },
      exec.stream);
  exec.scratch->run(
      "cub::DeviceRadixSort::SortPairs (by code)",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceRadixSort::SortPairs(temp, bytes, code_buffers, value_buffers, num_items, 0, code_end_bit,
                                               exec.stream);
      },
      exec.stream);
  return {code_buffers.Current(), value_buffers.Current()};
}

template <typename CountIterator>
void reduce_pair_runs(cub_exec& exec, const code_value* pairs, CountIterator counts, std::size_t num_pairs,
                      code_value* pairs_out, std::uint64_t* counts_out, run_count_t* num_runs) {
  exec.scratch->run(
      "cub::DeviceReduce::ReduceByKey (pairs)",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceReduce::ReduceByKey(temp, bytes, pairs, pairs_out, counts, counts_out, num_runs,
                                              ::cuda::std::plus<std::uint64_t>{}, static_cast<std::uint32_t>(num_pairs),
                                              exec.stream);
      },
      exec.stream);
}

inline void merge_pairs(cub_exec& exec, const code_value* a_pairs, const std::uint64_t* a_counts, std::size_t a_size,
                        const code_value* b_pairs, const std::uint64_t* b_counts, std::size_t b_size,
                        code_value* pairs_out, std::uint64_t* counts_out) {
  exec.scratch->run(
      "cub::DeviceMerge::MergePairs",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceMerge::MergePairs(temp, bytes, a_pairs, a_counts, static_cast<std::int64_t>(a_size), b_pairs,
                                            b_counts, static_cast<std::int64_t>(b_size), pairs_out, counts_out,
                                            code_value_less{}, exec.stream);
      },
      exec.stream);
}

inline void reduce_stats_parts(cub_exec& exec, const std::uint32_t* codes, const stats_part* parts,
                               std::size_t num_pairs, std::uint32_t* codes_out, stats_part* parts_out,
                               run_count_t* num_codes) {
  exec.scratch->run(
      "cub::DeviceReduce::ReduceByKey (stats)",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceReduce::ReduceByKey(temp, bytes, codes, codes_out, parts, parts_out, num_codes,
                                              combine_stats_parts{}, static_cast<std::uint32_t>(num_pairs),
                                              exec.stream);
      },
      exec.stream);
}
#endif  // __CUDACC__

// ---- The steps, written once ----

// sort + reduce_by_key of codes[0, num_rows), every code <= max_code. `codes` and `alternate` both hold num_rows
// codes and are both overwritten; run_counts holds min(num_rows, max_code + 1). Writes the run counts and
// *num_runs, and returns the buffer (codes or alternate) that holds the run codes. on_sorted() runs between the
// sort and the reduction (the GPU backend records a timing event there).
template <typename Exec, typename OnSorted>
std::uint32_t* sort_and_count_codes(Exec& exec, std::uint32_t* codes, std::uint32_t* alternate, std::size_t num_rows,
                                    std::uint32_t max_code, std::uint64_t* run_counts, run_count_t* num_runs,
                                    OnSorted&& on_sorted) {
  // sort to bring equal codes together; bits above max_code's are zero in every code, so skip them
  std::uint32_t* sorted = sort_keys(exec, codes, alternate, num_rows, radix_end_bit(max_code));
  on_sorted();
  // one (code, count) per run; the run codes go to whichever buffer the sort left free
  std::uint32_t* unique = sorted == codes ? alternate : codes;
  count_sorted(exec, sorted, num_rows, unique, run_counts, num_runs);
  return unique;
}

// The GPU backend's per-batch step: sort_and_count_codes, then totals[code] += count for each run. totals holds
// max_code + 1 counts (at least). With cub_exec nothing here waits for the device.
template <typename Exec, typename OnSorted>
void count_codes_into(Exec& exec, std::uint32_t* codes, std::uint32_t* alternate, std::size_t num_rows,
                      std::uint32_t max_code, std::uint64_t* run_counts, run_count_t* num_runs, std::uint64_t* totals,
                      OnSorted&& on_sorted) {
  const std::uint32_t* unique =
      sort_and_count_codes(exec, codes, alternate, num_rows, max_code, run_counts, num_runs, on_sorted);
  // a batch has at most min(rows, max_code + 1) runs; launch for that many and let *num_runs trim the rest
  const std::size_t max_runs = std::min(num_rows, std::size_t{max_code} + 1);
  accumulate_runs(exec, unique, run_counts, num_runs, max_runs, totals);
}

// ---- value-mode steps ----

// The distinct pairs of one batch through the composite key (layout.fits): rows [0, num_rows) of codes/values
// (read only) -> pairs_out/counts_out, *num_pairs of them. keys and keys_alt hold num_rows each (overwritten);
// pairs_out and counts_out have room for num_rows.
template <typename Exec, typename OnSorted>
void reduce_pairs_composite(Exec& exec, const std::uint32_t* codes, const std::int64_t* values, std::uint64_t* keys,
                            std::uint64_t* keys_alt, std::size_t num_rows, composite_layout layout,
                            std::int64_t min_value, code_value* pairs_out, std::uint64_t* counts_out,
                            run_count_t* num_pairs, OnSorted&& on_sorted) {
  const auto base = static_cast<std::uint64_t>(min_value);
  // one 64-bit key per row, ordered as (code, value)
  for_each_index(exec, num_rows, encode_composite{codes, values, base, layout.value_bits, keys});
  // sort to bring equal pairs together; only the bits a key of this batch can use
  std::uint64_t* sorted = sort_keys(exec, keys, keys_alt, num_rows, layout.end_bit);
  on_sorted();
  // one (key, rows) per distinct pair, into whichever buffer the sort left free
  std::uint64_t* unique = sorted == keys ? keys_alt : keys;
  count_sorted(exec, sorted, num_rows, unique, counts_out, num_pairs);
  // back to (code, value); launched for every row, the runs past *num_pairs do nothing
  for_each_index(exec, num_rows, decode_composite{unique, num_pairs, base, layout.value_bits, pairs_out});
}

// The same result when the composite key does not fit: two stable sorts, then a reduction over whole pairs.
// codes and values hold the batch and are overwritten, as are codes_alt, values_alt and pairs_scratch (num_rows
// each). max_code is the batch's largest code.
template <typename Exec, typename OnSorted>
void reduce_pairs_two_keys(Exec& exec, std::uint32_t* codes, std::uint32_t* codes_alt, std::int64_t* values,
                           std::int64_t* values_alt, code_value* pairs_scratch, std::size_t num_rows,
                           std::uint32_t max_code, code_value* pairs_out, std::uint64_t* counts_out,
                           run_count_t* num_pairs, OnSorted&& on_sorted) {
  const sorted_pairs sorted =
      sort_by_code_then_value(exec, codes, codes_alt, values, values_alt, num_rows, radix_end_bit(max_code));
  on_sorted();
  for_each_index(exec, num_rows, make_pairs{sorted.codes, sorted.values, pairs_scratch});
  reduce_pair_runs(exec, pairs_scratch, thrust::constant_iterator<std::uint64_t>(1), num_rows, pairs_out, counts_out,
                   num_pairs);
}

// Two pair sets (sorted, each pair once) -> one: *num_pairs pairs in out_pairs/out_counts. merged_* and out_*
// have room for a_size + b_size.
//   (0,t1)x2 (1,t5)x1  +  (0,t1)x1 (0,t2)x1  -> merge -> (0,t1)x2 (0,t1)x1 (0,t2)x1 (1,t5)x1
//                                             -> reduce_by_key -> (0,t1)x3 (0,t2)x1 (1,t5)x1
template <typename Exec>
void merge_pair_sets(Exec& exec, const code_value* a_pairs, const std::uint64_t* a_counts, std::size_t a_size,
                     const code_value* b_pairs, const std::uint64_t* b_counts, std::size_t b_size,
                     code_value* merged_pairs, std::uint64_t* merged_counts, code_value* out_pairs,
                     std::uint64_t* out_counts, run_count_t* num_pairs) {
  // merge so that a pair present in both sits in two neighbouring slots
  merge_pairs(exec, a_pairs, a_counts, a_size, b_pairs, b_counts, b_size, merged_pairs, merged_counts);
  // add the counts of equal neighbours
  reduce_pair_runs(exec, merged_pairs, merged_counts, a_size + b_size, out_pairs, out_counts, num_pairs);
}

// The per-code step of --stats over a pair set of num_pairs pairs: codes_out/stats_out get one entry per code,
// *num_codes of them. The four arrays have room for num_pairs each.
template <typename Exec>
void stats_of_pairs(Exec& exec, const code_value* pairs, const std::uint64_t* counts, std::size_t num_pairs,
                    std::uint32_t* codes_scratch, stats_part* parts_scratch, std::uint32_t* codes_out,
                    stats_part* stats_out, run_count_t* num_codes) {
  // each pair's contribution: its rows, its time, one distinct time, a new day or not
  for_each_index(exec, num_pairs, make_stats_part{pairs, counts, codes_scratch, parts_scratch});
  // add them up per code (segmented reduction over the sorted codes)
  reduce_stats_parts(exec, codes_scratch, parts_scratch, num_pairs, codes_out, stats_out, num_codes);
}

}  // namespace labcount::kernels::detail
