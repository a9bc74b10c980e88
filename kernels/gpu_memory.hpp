// The GPU backend's memory budget, worked out on the host before anything is allocated: one budget from the
// device's free memory, shared by the workers' batches, CUB's scratch, the dense totals and the pair sets, so
// that a run either fits or says at the start (or the moment its keys or pairs outgrow it) what it needed.
//
//   free 79 GiB -> budget 71 GiB (10% left to the context and other processes)
//   counts:  batches 1/4 of it, split among the workers; totals: one array for every worker, 8 B per key
//   stats:   batches 1/8; the rest holds the distinct (key, time) pairs, at their costliest in finish()
//
// Plain C++ (no CUDA), so the arithmetic is tested on machines without a GPU (tests/kernels/gpu_memory_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "backend/values.hpp"

namespace labcount::kernels {

// Device bytes per batch row: counts: the codes, the radix sort's second buffer, one 64-bit run count per row
// in the worst case (every code different).
inline constexpr std::size_t count_bytes_per_row = 2 * sizeof(std::uint32_t) + sizeof(std::uint64_t);
// Value modes: the code and value, two composite keys, one distinct pair (16 B) and its count per row, and what the
// two-key fallback allocates for its batch (a second code and value, a pair).
inline constexpr std::size_t value_bytes_per_row = 4 + 8 + 2 * 8 + 16 + 8 + 4 + 8 + 16;
// A pair in a pair set: (code, value) padded to 16 bytes, and its 64-bit row count.
inline constexpr std::size_t bytes_per_pair = 16 + 8;
// A distinct pair at its costliest, in finish(): a worker's running set and its spare (2 sets), two levels of the
// merge tree (2), the reduced set (1), and for --stats the per-code scratch (a code and a 40-byte part, twice).
inline constexpr std::size_t finish_bytes_per_pair = 5 * bytes_per_pair + 2 * (4 + 40);

inline constexpr std::size_t min_batch_rows = std::size_t{1} << 16;

struct gpu_memory_plan {
  std::size_t free_bytes = 0;    // the device's free memory at setup
  std::size_t budget_bytes = 0;  // what the run may hold on the device
  std::size_t batch_rows = 0;    // per worker
  std::size_t batch_bytes = 0;   // every worker's batch buffers together
  std::size_t scratch_bytes = 0;  // every worker's CUB temporary storage together
  std::size_t max_codes = 0;      // counts: the dense totals' most slots (8 bytes each), for every worker at once
  std::size_t max_pairs = 0;      // value modes: the most distinct pairs, over every worker, that finish() can hold
  std::string why_not;            // not empty: even the smallest batches do not fit (the run cannot start)
};

// The plan for `num_workers` workers in `mode` with `free_bytes` free on the device. `scratch_per_worker`: CUB's
// temporary storage for one worker's batch (gpu_backend.cu asks CUB). `forced_batch_rows` (not 0):
// LABCOUNT_GPU_BATCH_ROWS, taken as it is.
gpu_memory_plan plan_gpu_memory(std::size_t free_bytes, unsigned num_workers, value_mode mode,
                                std::size_t scratch_per_worker, std::size_t max_batch_rows,
                                std::size_t forced_batch_rows = 0);

// "1.5 GiB", "640 MiB"
std::string format_device_bytes(std::size_t bytes);

// The error to throw when a run outgrows its plan: `what` needs `needed` bytes of the budget. The hint names the
// ways out: --backend cpu, fewer --threads, a smaller LABCOUNT_GPU_BATCH_ROWS.
[[noreturn]] void throw_over_budget(const gpu_memory_plan& plan, const std::string& what, std::size_t needed);

}  // namespace labcount::kernels
