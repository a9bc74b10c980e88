// The GPU backend against the CPU backend and a single-threaded reference: several worker threads at once, many
// batches, every cardinality. Tests that need a GPU skip (GTEST_SKIP) where probe_gpu_backend(0) finds none;
// ctest label `gpu`.
#include "gpu_backend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "backend.hpp"
#include "errors.hpp"

namespace labcount {
namespace {

enum class cardinality { one_key, all_unique, random, skewed, growing_dictionary };

std::string to_string(cardinality c) {
  switch (c) {
    case cardinality::one_key: return "OneKey";
    case cardinality::all_unique: return "AllUnique";
    case cardinality::random: return "Random";
    case cardinality::skewed: return "Skewed";
    case cardinality::growing_dictionary: return "GrowingDictionary";
  }
  return "?";
}

std::vector<std::uint32_t> make_codes(std::size_t num_rows, cardinality c, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint32_t> codes(num_rows);
  switch (c) {
    case cardinality::one_key:
      std::fill(codes.begin(), codes.end(), 0u);
      break;
    case cardinality::all_unique:
      for (std::size_t i = 0; i < num_rows; ++i) codes[i] = static_cast<std::uint32_t>(i);
      std::shuffle(codes.begin(), codes.end(), rng);
      break;
    case cardinality::random: {
      std::uniform_int_distribution<std::uint32_t> pick(0, 1242);  // 1,243 keys, as in the benchmark data
      for (auto& code : codes) code = pick(rng);
      break;
    }
    case cardinality::skewed: {
      std::vector<double> weights(std::max<std::size_t>(num_rows / 4, 1));
      for (std::size_t k = 0; k < weights.size(); ++k) weights[k] = 1.0 / static_cast<double>(k + 1);
      std::discrete_distribution<std::uint32_t> pick(weights.begin(), weights.end());
      for (auto& code : codes) code = pick(rng);
      break;
    }
    case cardinality::growing_dictionary: {
      // As the host's dictionary hands them out: a new key gets the next code, so the largest code keeps rising
      // while the input is read (the backend's totals must grow and keep what they had).
      std::uint32_t next_code = 0;
      std::bernoulli_distribution new_key(0.05);
      for (auto& code : codes) {
        if (next_code == 0 || new_key(rng)) {
          code = next_code++;
        } else {
          code = std::uniform_int_distribution<std::uint32_t>(0, next_code - 1)(rng);
        }
      }
      break;
    }
  }
  return codes;
}

std::size_t num_codes_of(const std::vector<std::uint32_t>& codes) {
  return codes.empty() ? 0 : *std::max_element(codes.begin(), codes.end()) + std::size_t{1};
}

std::vector<std::uint64_t> reference_counts(const std::vector<std::uint32_t>& codes, std::size_t num_codes) {
  std::vector<std::uint64_t> counts(num_codes, 0);
  for (std::uint32_t code : codes) ++counts.at(code);
  return counts;
}

// Worker w gets the rows [w * n / W, (w + 1) * n / W) and hands them to consume() in pieces of uneven sizes, as
// the host's chunks would be.
void feed(count_backend& backend, unsigned num_workers, const std::vector<std::uint32_t>& codes, bool concurrently) {
  auto run_worker = [&](unsigned worker) {
    const std::size_t begin = codes.size() * worker / num_workers;
    const std::size_t end = codes.size() * (worker + 1) / num_workers;
    std::mt19937 rng(worker);
    std::uniform_int_distribution<std::size_t> piece_rows(0, 5'000);
    std::size_t at = begin;
    while (at < end) {
      const std::size_t rows = std::min(end - at, piece_rows(rng));
      backend.consume(worker, std::span<const std::uint32_t>(codes).subspan(at, rows));
      at += rows;
    }
  };
  if (!concurrently) {
    for (unsigned worker = 0; worker < num_workers; ++worker) run_worker(worker);
    return;
  }
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(num_workers);
  for (unsigned worker = 0; worker < num_workers; ++worker) {
    threads.emplace_back([&, worker] {
      try {
        run_worker(worker);
      } catch (...) {
        errors[worker] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

class GpuBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const backend_status status = probe_gpu_backend(0);
    if (!status.usable) GTEST_SKIP() << "no usable GPU: " << status.reason;
  }
};

// rows x cardinality x workers x batch rows (0: sized from free memory)
using gpu_case = std::tuple<std::size_t, cardinality, unsigned, std::size_t>;

class GpuMatchesCpu : public ::testing::TestWithParam<gpu_case> {
 protected:
  void SetUp() override {
    const backend_status status = probe_gpu_backend(0);
    if (!status.usable) GTEST_SKIP() << "no usable GPU: " << status.reason;
  }
};

TEST_P(GpuMatchesCpu, FinishMatchesCpuBackendAndReference) {
  const auto [num_rows, c, num_workers, batch_rows] = GetParam();
  const auto codes = make_codes(num_rows, c, 2024);
  // One code past the largest seen: finish() must report codes no worker saw as zero.
  const std::size_t num_codes = num_codes_of(codes) + 1;

  backend_options options;
  options.num_workers = num_workers;
  gpu_backend_tuning tuning;
  tuning.batch_rows = batch_rows;
  auto gpu = make_gpu_backend(options, tuning);
  ASSERT_EQ(gpu->name(), "gpu");
  feed(*gpu, num_workers, codes, /*concurrently=*/true);
  const auto gpu_counts = gpu->finish(num_codes);

  auto cpu = make_cpu_backend(options);
  feed(*cpu, num_workers, codes, /*concurrently=*/false);
  const auto cpu_counts = cpu->finish(num_codes);

  EXPECT_EQ(gpu_counts, cpu_counts);
  EXPECT_EQ(gpu_counts, reference_counts(codes, num_codes));
}

INSTANTIATE_TEST_SUITE_P(
    SmallSizes, GpuMatchesCpu,
    ::testing::Combine(::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{31}, std::size_t{32},
                                         std::size_t{33}, std::size_t{1000}),
                       ::testing::Values(cardinality::one_key, cardinality::all_unique, cardinality::random,
                                         cardinality::skewed, cardinality::growing_dictionary),
                       ::testing::Values(1u, 3u), ::testing::Values(std::size_t{0}, std::size_t{7})),
    [](const ::testing::TestParamInfo<gpu_case>& info) {
      return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) + "Workers" +
             std::to_string(std::get<2>(info.param)) + "Batch" + std::to_string(std::get<3>(info.param));
    });

// Many batches per worker (forced small batch sizes), single-tile and multi-tile sorts, several threads at once.
INSTANTIATE_TEST_SUITE_P(
    MultiBatch, GpuMatchesCpu,
    ::testing::Combine(::testing::Values(std::size_t{1} << 20),
                       ::testing::Values(cardinality::one_key, cardinality::all_unique, cardinality::random,
                                         cardinality::skewed, cardinality::growing_dictionary),
                       ::testing::Values(1u, 4u),
                       ::testing::Values(std::size_t{0}, std::size_t{4'096}, std::size_t{100'003})),
    [](const ::testing::TestParamInfo<gpu_case>& info) {
      return "Rows" + std::to_string(std::get<0>(info.param)) + to_string(std::get<1>(info.param)) + "Workers" +
             std::to_string(std::get<2>(info.param)) + "Batch" + std::to_string(std::get<3>(info.param));
    });

TEST_F(GpuBackendTest, LargeInputInOneDefaultBatchPerWorker) {
  const auto codes = make_codes(std::size_t{1} << 25, cardinality::random, 5);
  backend_options options;
  options.num_workers = 8;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  feed(*gpu, options.num_workers, codes, /*concurrently=*/true);
  EXPECT_EQ(gpu->finish(1243), reference_counts(codes, 1243));
}

TEST_F(GpuBackendTest, TimingsShowTheGpuRan) {
  const auto codes = make_codes(100'000, cardinality::random, 3);
  backend_options options;
  options.num_workers = 2;
  gpu_backend_tuning tuning;
  tuning.batch_rows = 10'000;
  auto gpu = make_gpu_backend(options, tuning);
  feed(*gpu, options.num_workers, codes, /*concurrently=*/true);
  gpu->finish(num_codes_of(codes));
  const backend_timings timings = gpu->timings();
  EXPECT_GT(timings.transfer.count(), 0);
  EXPECT_GT(timings.sort.count(), 0);
  EXPECT_GT(timings.reduce.count(), 0);
  EXPECT_GT(timings.setup.count(), 0);
}

TEST_F(GpuBackendTest, IdleWorkersAndEmptySpans) {
  backend_options options;
  options.num_workers = 4;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> codes{3, 1, 3};
  gpu->consume(2, {});
  gpu->consume(2, codes);
  gpu->consume(0, {});
  EXPECT_EQ(gpu->finish(5), (std::vector<std::uint64_t>{0, 1, 0, 2, 0}));
}

TEST_F(GpuBackendTest, FinishWithNoCodes) {
  auto gpu = make_gpu_backend(backend_options{}, gpu_backend_tuning{});
  EXPECT_TRUE(gpu->finish(0).empty());
}

TEST_F(GpuBackendTest, WorkerIdPastNumWorkersIsRejected) {
  backend_options options;
  options.num_workers = 2;
  auto gpu = make_gpu_backend(options, gpu_backend_tuning{});
  const std::vector<std::uint32_t> codes{0};
  EXPECT_THROW(gpu->consume(2, codes), labcount::error);
}

TEST_F(GpuBackendTest, DeviceOutOfRange) {
  const backend_status status = probe_gpu_backend(1'000);
  EXPECT_FALSE(status.usable);
  EXPECT_NE(status.reason.find("out of range"), std::string::npos) << status.reason;
  backend_options options;
  options.device = 1'000;
  try {
    make_gpu_backend(options, gpu_backend_tuning{});
    FAIL() << "expected labcount::error";
  } catch (const labcount::error& e) {
    EXPECT_EQ(e.kind(), error_kind::backend_unavailable);
  }
}

TEST_F(GpuBackendTest, ProbeDescribesEveryGpu) {
  const backend_status status = probe_gpu_backend(0);
  EXPECT_EQ(status.name, "gpu");
  ASSERT_GE(status.details.size(), 2u);
  EXPECT_EQ(status.details[1].rfind("GPU 0: ", 0), 0u) << status.details[1];
  EXPECT_NE(status.details[1].find("compute capability"), std::string::npos);
  EXPECT_NE(status.details[1].find("SMs"), std::string::npos);
}

// ---- These run everywhere: they check the no-GPU answers and the test hook. ----

TEST(GpuBackendProbe, AnswersWithoutCrashing) {
  const backend_status status = probe_gpu_backend(0);
  EXPECT_EQ(status.name, "gpu");
  EXPECT_FALSE(status.reason.empty());
  ASSERT_FALSE(status.details.empty());
  EXPECT_EQ(status.details[0].rfind("CUDA driver ", 0), 0u) << status.details[0];
  if (!status.usable) {
    try {
      make_gpu_backend(backend_options{}, gpu_backend_tuning{});
      FAIL() << "make_gpu_backend succeeded although the probe said: " << status.reason;
    } catch (const labcount::error& e) {
      EXPECT_EQ(e.kind(), error_kind::backend_unavailable);
      EXPECT_NE(std::string(e.what()).find(status.reason), std::string::npos) << e.what();
    }
  }
}

TEST(GpuBackendTuning, BatchRowsFromTheEnvironment) {
  ::unsetenv("LABCOUNT_GPU_BATCH_ROWS");
  EXPECT_EQ(gpu_tuning_from_environment().batch_rows, 0u);
  ::setenv("LABCOUNT_GPU_BATCH_ROWS", "5000", 1);
  EXPECT_EQ(gpu_tuning_from_environment().batch_rows, 5000u);
  for (const char* bad : {"0", "-3", "12x", "lots"}) {
    ::setenv("LABCOUNT_GPU_BATCH_ROWS", bad, 1);
    try {
      gpu_tuning_from_environment();
      ADD_FAILURE() << "accepted LABCOUNT_GPU_BATCH_ROWS=" << bad;
    } catch (const labcount::error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage);
    }
  }
  ::unsetenv("LABCOUNT_GPU_BATCH_ROWS");
}

}  // namespace
}  // namespace labcount
