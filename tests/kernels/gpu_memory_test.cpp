// The GPU backend's memory budget (kernels/gpu_memory.hpp), as arithmetic: what a run on an 80 GB device plans for
// many workers, many keys and many distinct pairs, and what it says when something does not fit. No GPU needed.
#include "kernels/gpu_memory.hpp"

#include <gtest/gtest.h>

#include <string>

#include "util/errors.hpp"

namespace labcount::kernels {
namespace {

constexpr std::size_t gib = std::size_t{1} << 30;
constexpr std::size_t max_rows = std::size_t{1} << 30;  // kernels::max_batch_rows
constexpr std::size_t scratch = std::size_t{64} << 20;  // about what CUB asks for a 16 Mi-row batch

TEST(GpuMemory, TenMillionKeysOn192WorkersFitOneSharedTotalsArray) {
  const gpu_memory_plan plan = plan_gpu_memory(79 * gib, 192, value_mode::counts, scratch, max_rows);
  ASSERT_TRUE(plan.why_not.empty()) << plan.why_not;
  EXPECT_LE(plan.budget_bytes, 79 * gib - 79 * gib / 10);
  EXPECT_GE(plan.batch_rows, min_batch_rows);
  EXPECT_LE(plan.batch_bytes, plan.budget_bytes / 4);
  // One totals array for every worker: 10 M keys take 80 MB; one per worker took 192 x 80 MB = 15 GB.
  const std::size_t keys = 10'000'000;
  EXPECT_GE(plan.max_codes, keys);
  EXPECT_LE(plan.batch_bytes + plan.scratch_bytes + keys * 8, plan.budget_bytes);
  EXPECT_GT(std::size_t{192} * keys * 8, 14 * gib);  // what the per-worker totals would have needed (15 GB)
  // Every 32-bit code fits the budget's totals on this device.
  EXPECT_EQ(plan.max_codes, std::size_t{1} << 32);
}

TEST(GpuMemory, FiveHundredMillionPairsDoNotFitAnEightyGigabyteDevice) {
  const gpu_memory_plan plan = plan_gpu_memory(79 * gib, 16, value_mode::stats, scratch, max_rows);
  ASSERT_TRUE(plan.why_not.empty()) << plan.why_not;
  EXPECT_LE(plan.batch_bytes, plan.budget_bytes / 8);
  // At about 208 B a distinct pair in finish(), an 80 GB device holds some 300 M of them.
  EXPECT_GT(plan.max_pairs, 250'000'000u);
  EXPECT_LT(plan.max_pairs, 500'000'000u);
  EXPECT_LE(plan.batch_bytes + plan.scratch_bytes + plan.max_pairs * finish_bytes_per_pair, plan.budget_bytes);
  // A run that outgrows it says what it needed and the ways out (then --backend auto counts on the CPU).
  try {
    throw_over_budget(plan, "about 500000000 distinct (key, value) pairs", 500'000'000 * finish_bytes_per_pair);
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::device_failure);
    const std::string message = e.what();
    EXPECT_NE(message.find("500000000 distinct"), std::string::npos) << message;
    EXPECT_NE(message.find("96.9 GiB"), std::string::npos) << message;  // 500 M x 208 B
    EXPECT_NE(e.hint().find("--backend cpu"), std::string::npos);
    EXPECT_NE(e.hint().find("--threads"), std::string::npos);
    EXPECT_NE(e.hint().find("LABCOUNT_GPU_BATCH_ROWS"), std::string::npos);
  }
}

TEST(GpuMemory, MoreWorkersGetSmallerBatchesNotMoreMemory) {
  const gpu_memory_plan few = plan_gpu_memory(79 * gib, 8, value_mode::stats, scratch, max_rows);
  const gpu_memory_plan many = plan_gpu_memory(79 * gib, 192, value_mode::stats, scratch, max_rows);
  EXPECT_GT(few.batch_rows, many.batch_rows);
  EXPECT_LE(many.batch_bytes, many.budget_bytes / 8 + 192 * min_batch_rows * value_bytes_per_row);
  EXPECT_GT(many.max_pairs, 0u);
}

TEST(GpuMemory, ASmallDeviceSaysItCannotStart) {
  const gpu_memory_plan plan = plan_gpu_memory(gib, 192, value_mode::stats, scratch, max_rows);
  EXPECT_FALSE(plan.why_not.empty());
  EXPECT_NE(plan.why_not.find("192 workers"), std::string::npos) << plan.why_not;
  EXPECT_NE(plan.why_not.find("free"), std::string::npos) << plan.why_not;
  // The same device is enough for two workers.
  EXPECT_TRUE(plan_gpu_memory(gib, 2, value_mode::stats, scratch, max_rows).why_not.empty());
}

TEST(GpuMemory, ForcedBatchRowsAreTakenAsTheyAre) {
  const gpu_memory_plan plan = plan_gpu_memory(79 * gib, 4, value_mode::groups, scratch, max_rows, 1000);
  EXPECT_EQ(plan.batch_rows, 1000u);
  EXPECT_EQ(plan.batch_bytes, 4u * 1000u * value_bytes_per_row);
  EXPECT_EQ(plan_gpu_memory(79 * gib, 4, value_mode::counts, scratch, max_rows, std::size_t{1} << 40).batch_rows,
            max_rows);
}

TEST(GpuMemory, NoFreeMemoryMeansNoBudget) {
  const gpu_memory_plan plan = plan_gpu_memory(100 << 20, 1, value_mode::counts, scratch, max_rows);
  EXPECT_EQ(plan.budget_bytes, 0u);
  EXPECT_FALSE(plan.why_not.empty());
}

}  // namespace
}  // namespace labcount::kernels
