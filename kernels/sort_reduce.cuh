// Counting codes by sort + reduce_by_key, written once over an execution policy.
//
//   codes   [1 0 0 2]
//   sort    [0 0 1 2]                 // bring equal codes together
//   reduce_by_key(sorted, constant 1) // one (code, count) per run: (0,2) (1,1) (2,1)
//   accumulate into totals            // totals[0] += 2, totals[1] += 1, totals[2] += 1
//
// Who compiles what:
//   * The steps (sort_and_count_codes, count_codes_into) are templates over `Exec`, and call three primitives:
//     sort_codes, count_sorted_codes, accumulate_runs.
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
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <thrust/for_each.h>
#include <thrust/iterator/constant_iterator.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/merge.h>
#include <thrust/reduce.h>
#include <thrust/sort.h>

#include "sort_reduce.hpp"

#if defined(__CUDACC__)
#include <cub/device/device_for.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_reduce.cuh>
#include <cuda/std/functional>

#include "cuda_resources.cuh"
#define LABCOUNT_HOST_DEVICE __host__ __device__
#else
#define LABCOUNT_HOST_DEVICE
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

  LABCOUNT_HOST_DEVICE void operator()(std::size_t run) const {
    if (run < *num_runs) totals[codes[run]] += counts[run];
  }
};

// ---- Thrust primitives: any Thrust execution policy ----

// Sorts codes[0, num_rows) in place and returns where the sorted codes are. (The CUB version may leave them in
// `alternate`; callers use the returned pointer.) thrust::sort has no bit range, so end_bit is unused here.
template <typename Exec>
std::uint32_t* sort_codes(Exec& exec, std::uint32_t* codes, std::uint32_t* /*alternate*/, std::size_t num_rows,
                          int /*end_bit*/) {
  thrust::sort(exec, codes, codes + num_rows);
  return codes;
}

// One (code, count) per run of equal codes in `sorted`; the number of runs goes to *num_runs.
template <typename Exec>
void count_sorted_codes(Exec& exec, const std::uint32_t* sorted, std::size_t num_rows, std::uint32_t* unique_out,
                        std::uint64_t* counts_out, run_count_t* num_runs) {
  const auto ends = thrust::reduce_by_key(exec, sorted, sorted + num_rows,
                                          thrust::constant_iterator<std::uint64_t>(1), unique_out, counts_out);
  *num_runs = static_cast<run_count_t>(ends.first - unique_out);
}

// totals[unique[run]] += counts[run] for the first *num_runs runs; max_runs bounds *num_runs.
template <typename Exec>
void accumulate_runs(Exec& exec, const std::uint32_t* unique, const std::uint64_t* counts,
                     const run_count_t* num_runs, std::size_t max_runs, std::uint64_t* totals) {
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
  thrust::merge_by_key(exec, a_codes, a_codes + a_size, b_codes, b_codes + b_size, a_counts, b_counts,
                       merged_codes, merged_counts);
  // add the counts of equal neighbours
  const auto ends = thrust::reduce_by_key(exec, merged_codes, merged_codes + a_size + b_size, merged_counts,
                                          out_codes, out_counts);
  return static_cast<std::size_t>(ends.first - out_codes);
}

#if defined(__CUDACC__)
// ---- CUDA-only specialisation of the primitives: CUB on one stream, with the worker's temporary storage ----

struct cub_exec {
  cudaStream_t stream;
  temp_storage* scratch;
};

inline std::uint32_t* sort_codes(cub_exec& exec, std::uint32_t* codes, std::uint32_t* alternate,
                                 std::size_t num_rows, int end_bit) {
  // Keys only (every value would be 1), double-buffered so the sort needs no third copy of the batch.
  cub::DoubleBuffer<std::uint32_t> keys(codes, alternate);
  exec.scratch->run(
      "cub::DeviceRadixSort::SortKeys",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceRadixSort::SortKeys(temp, bytes, keys, static_cast<std::uint32_t>(num_rows), 0, end_bit,
                                              exec.stream);
      },
      exec.stream);
  return keys.Current();
}

inline void count_sorted_codes(cub_exec& exec, const std::uint32_t* sorted, std::size_t num_rows,
                               std::uint32_t* unique_out, std::uint64_t* counts_out, run_count_t* num_runs) {
  exec.scratch->run(
      "cub::DeviceReduce::ReduceByKey",
      [&](void* temp, std::size_t& bytes) {
        return cub::DeviceReduce::ReduceByKey(temp, bytes, sorted, unique_out,
                                              thrust::constant_iterator<std::uint64_t>(1), counts_out, num_runs,
                                              ::cuda::std::plus<std::uint64_t>{},
                                              static_cast<std::uint32_t>(num_rows), exec.stream);
      },
      exec.stream);
}

inline void accumulate_runs(cub_exec& exec, const std::uint32_t* unique, const std::uint64_t* counts,
                            const run_count_t* num_runs, std::size_t max_runs, std::uint64_t* totals) {
  CUDA_TRY(cub::DeviceFor::Bulk(static_cast<std::uint32_t>(max_runs),
                                add_run_to_totals{unique, counts, num_runs, totals}, exec.stream));
}
#endif  // __CUDACC__

// ---- The steps, written once ----

// sort + reduce_by_key of codes[0, num_rows), every code <= max_code. `codes` and `alternate` both hold num_rows
// codes and are both overwritten; run_counts holds min(num_rows, max_code + 1). Writes the run counts and
// *num_runs, and returns the buffer (codes or alternate) that holds the run codes. on_sorted() runs between the
// sort and the reduction (the GPU backend records a timing event there).
template <typename Exec, typename OnSorted>
std::uint32_t* sort_and_count_codes(Exec& exec, std::uint32_t* codes, std::uint32_t* alternate,
                                    std::size_t num_rows, std::uint32_t max_code, std::uint64_t* run_counts,
                                    run_count_t* num_runs, OnSorted&& on_sorted) {
  // sort to bring equal codes together; bits above max_code's are zero in every code, so skip them
  std::uint32_t* sorted = sort_codes(exec, codes, alternate, num_rows, radix_end_bit(max_code));
  on_sorted();
  // one (code, count) per run; the run codes go to whichever buffer the sort left free
  std::uint32_t* unique = sorted == codes ? alternate : codes;
  count_sorted_codes(exec, sorted, num_rows, unique, run_counts, num_runs);
  return unique;
}

// The GPU backend's per-batch step: sort_and_count_codes, then totals[code] += count for each run. totals holds
// max_code + 1 counts (at least). With cub_exec nothing here waits for the device.
template <typename Exec, typename OnSorted>
void count_codes_into(Exec& exec, std::uint32_t* codes, std::uint32_t* alternate, std::size_t num_rows,
                      std::uint32_t max_code, std::uint64_t* run_counts, run_count_t* num_runs,
                      std::uint64_t* totals, OnSorted&& on_sorted) {
  const std::uint32_t* unique =
      sort_and_count_codes(exec, codes, alternate, num_rows, max_code, run_counts, num_runs, on_sorted);
  // a batch has at most min(rows, max_code + 1) runs; launch for that many and let *num_runs trim the rest
  const std::size_t max_runs = std::min(num_rows, std::size_t{max_code} + 1);
  accumulate_runs(exec, unique, run_counts, num_runs, max_runs, totals);
}

}  // namespace labcount::kernels::detail
