#include "kernels/gpu_memory.hpp"

#include <algorithm>
#include <cstdio>

#include "util/errors.hpp"

namespace labcount::kernels {
namespace {

// Left to the CUDA context, other processes and what the pool rounds up: 10% of the free memory, at least 256 MiB.
constexpr std::size_t min_headroom = std::size_t{256} << 20;
// Codes are 32-bit: no totals array has more slots.
constexpr std::size_t max_total_codes = std::size_t{1} << 32;

}  // namespace

std::string format_device_bytes(std::size_t bytes) {
  char text[32];
  if (bytes >= (std::size_t{1} << 30))
    std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / double(std::size_t{1} << 30));
  else
    std::snprintf(text, sizeof text, "%.0f MiB", static_cast<double>(bytes) / double(std::size_t{1} << 20));
  return text;
}

gpu_memory_plan plan_gpu_memory(std::size_t free_bytes, unsigned num_workers, value_mode mode,
                                std::size_t scratch_per_worker, std::size_t max_batch_rows,
                                std::size_t forced_batch_rows) {
  gpu_memory_plan plan;
  plan.free_bytes = free_bytes;
  const std::size_t headroom = std::max(free_bytes / 10, min_headroom);
  plan.budget_bytes = free_bytes > headroom ? free_bytes - headroom : 0;
  const std::size_t workers = std::max(1u, num_workers);
  const bool counts = mode == value_mode::counts;
  const std::size_t per_row = counts ? count_bytes_per_row : value_bytes_per_row;
  // Batches take a quarter of the budget for counts (the rest is slack for the totals), an eighth in the value
  // modes (the pairs need the room).
  const std::size_t batch_share = plan.budget_bytes / (counts ? 4 : 8);
  plan.batch_rows = forced_batch_rows != 0 ? std::min(forced_batch_rows, max_batch_rows)
                                           : std::clamp(batch_share / workers / per_row, min_batch_rows, max_batch_rows);
  plan.batch_bytes = plan.batch_rows * per_row * workers;
  plan.scratch_bytes = scratch_per_worker * workers;
  const std::size_t fixed = plan.batch_bytes + plan.scratch_bytes;
  if (fixed > plan.budget_bytes) {
    plan.why_not = std::to_string(workers) + " workers' batches of " + std::to_string(plan.batch_rows) + " rows need " +
                   format_device_bytes(fixed) + ", more than the " + format_device_bytes(plan.budget_bytes) +
                   " budget (of " + format_device_bytes(free_bytes) + " free)";
    return plan;
  }
  const std::size_t rest = plan.budget_bytes - fixed;
  if (counts)
    plan.max_codes = std::min(max_total_codes, rest / sizeof(std::uint64_t));
  else
    plan.max_pairs = rest / finish_bytes_per_pair;
  return plan;
}

void throw_over_budget(const gpu_memory_plan& plan, const std::string& what, std::size_t needed) {
  throw error(error_kind::device_failure,
              "GPU memory: " + what + " need about " + format_device_bytes(needed) + ", more than this run's " +
                  format_device_bytes(plan.budget_bytes) + " budget on the GPU (" +
                  format_device_bytes(plan.free_bytes) + " free at the start; " +
                  format_device_bytes(plan.batch_bytes) + " of it for the batches)",
              "", 0,
              "count on the CPU with --backend cpu (it holds them in host memory); or leave them more room with "
              "fewer --threads or a smaller LABCOUNT_GPU_BATCH_ROWS");
}

}  // namespace labcount::kernels
