// The GPU backend: each host worker streams its codes to the GPU, where batches are sorted and reduced by key
// (sort_reduce.hpp) and their runs added (atomically) into one totals array that every worker shares; finish()
// copies it back once.
//
//   worker 0: codes -> pinned staging (2 buffers) -> device batch -> sort -> reduce_by_key --+
//   worker 1: codes -> pinned staging (2 buffers) -> device batch -> sort -> reduce_by_key --+-> totals[code] += runs
//                                                                   counts (one copy back) <-+
//
// Everything it holds on the device comes out of one budget from the device's free memory (gpu_memory.hpp): a
// run that outgrows it (too many keys for the totals, too many distinct pairs) stops with error(device_failure),
// naming the bytes and the ways out, and --backend auto counts on the CPU instead.
//
// --stats and --per (value_mode::stats, ::groups) send (code, value) rows the same way; each batch is reduced to
// its distinct (code, value) pairs and merged into the worker's running pair set; finish() merges the workers'
// sets and derives the result on the GPU (details in docs/design.md). reset() keeps the streams, pinned staging
// and device buffers, so one setup serves every input of a run.
//
// Plain C++: callers (the backend registry, `labcount info`) need no CUDA headers. Built into labcount_cuda only
// when CUDA is enabled (LABCOUNT_HAS_CUDA).
#pragma once

#include <cstddef>
#include <memory>

#include "backend/backend.hpp"

namespace labcount {

// Knobs for tests and benchmarks; 0 means "choose from the device".
struct gpu_backend_tuning {
  // Rows per device batch, per worker. By default the memory budget's share for batches (gpu_memory.hpp) is split
  // across the workers. Small values force many batches, which is how tests exercise the multi-batch path.
  std::size_t batch_rows = 0;
  // Tests: a smaller cap than the memory budget's on the distinct pairs the value modes may hold (0: the budget's),
  // to see a run outgrow it without filling a GPU.
  std::size_t max_pairs = 0;
};

// The tuning from the environment: LABCOUNT_GPU_BATCH_ROWS=N sets batch_rows (a positive number of rows).
// Throws error(usage) when it is set to anything else.
gpu_backend_tuning gpu_tuning_from_environment();

// Whether device options.device can run the GPU backend, and why not. details: the driver and runtime versions, then
// one line per GPU (index, name, compute capability, SM count, memory total and free).
// With probe_detail::chosen_device only that device is opened (a CUDA context on it alone).
backend_status probe_gpu_backend(const backend_options& options, probe_detail detail);

// Throws error(backend_unavailable), naming the CUDA error, when the backend cannot start on options.device.
// The first form reads its tuning from the environment (gpu_tuning_from_environment).
std::unique_ptr<count_backend> make_gpu_backend(const backend_options& options);
std::unique_ptr<count_backend> make_gpu_backend(const backend_options& options, const gpu_backend_tuning& tuning);

}  // namespace labcount
