// --backend auto and the GPU fallback, without a GPU: select_backend and run_selected over a registry of
// test entries (the registry functions take the table), whose "gpu" probes and factories count their calls
// and fail where a test asks them to.
//
//   plain count, any size          -> cpu, the GPU never probed (no CUDA context for a default run)
//   --stats below the threshold    -> cpu, never probed;  above -> gpu with the cpu as fallback
//   gpu factory throws at setup    -> one warning, the same counts on the cpu (standard input too)
//   gpu consume throws mid-run     -> one warning, the files read again on the cpu; standard input: error
//   bad data under the gpu         -> the data error itself, no fallback
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.hpp"
#include "backend_registry.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

enum class failure { none, at_setup, mid_run };

struct fake_gpu_state {
  int probes = 0;
  probe_detail last_detail = probe_detail::every_device;
  int last_device = -1;
  bool usable = true;
  int makes = 0;
  failure fails = failure::none;
};
fake_gpu_state fake;  // the fake entries' functions are plain function pointers, as in the real table

// A "GPU" that counts on the CPU, or throws error(device_failure) at its second batch.
class fake_gpu_backend final : public count_backend {
 public:
  explicit fake_gpu_backend(const backend_options& options) : count_backend(options), cpu_(make_cpu_backend(options)) {}
  std::string_view name() const override { return "gpu"; }

 private:
  void do_consume(unsigned worker, row_batch batch) override {
    if (fake.fails == failure::mid_run && ++batches_ >= 2)
      throw error(error_kind::device_failure, "GPU backend: cudaMemcpyAsync failed with cudaErrorIllegalAddress");
    cpu_->consume(worker, batch);
  }
  std::vector<std::uint64_t> finish_counts(std::size_t n) override { return cpu_->finish(n).counts; }
  std::vector<key_stats> finish_stats(std::size_t n) override { return cpu_->finish(n).stats; }
  std::vector<group_count> finish_groups() override { return cpu_->finish(0).groups; }
  void do_reset() override { cpu_->reset(); }

  std::unique_ptr<count_backend> cpu_;
  std::atomic<int> batches_{0};
};

backend_status fake_probe(const backend_options& options, probe_detail detail) {
  ++fake.probes;
  fake.last_detail = detail;
  fake.last_device = options.device;
  backend_status status;
  status.name = "gpu";
  status.usable = fake.usable;
  (fake.usable ? status.summary : status.why_not) = fake.usable ? "GPU 0: test device" : "no test device";
  return status;
}

std::unique_ptr<count_backend> fake_make(const backend_options& options) {
  ++fake.makes;
  if (fake.fails == failure::at_setup)
    throw error(error_kind::device_failure, "GPU backend: cudaMallocHost failed with cudaErrorMemoryAllocation");
  return std::make_unique<fake_gpu_backend>(options);
}

constexpr backend_entry test_entries[] = {
    {"cpu", probe_cpu_backend, make_cpu_backend},
    {"gpu", fake_probe, fake_make},
};

class AutoBackend : public ::testing::Test {
 protected:
  void SetUp() override { fake = fake_gpu_state{}; }

  static backend_options options_for(value_mode mode) {
    backend_options options;
    options.mode = mode;
    options.num_workers = 2;
    options.device = 3;
    return options;
  }
};

constexpr std::uint64_t gib = std::uint64_t{1} << 30;

TEST_F(AutoBackend, APlainCountStaysOnTheCpuWithoutProbingTheGpu) {
  for (const std::uint64_t bytes : {std::uint64_t{0}, std::uint64_t{1000}, 100 * gib}) {
    const selected_backend s =
        select_backend(backend_choice::automatic, bytes, options_for(value_mode::counts), test_entries);
    EXPECT_EQ(s.name(), "cpu") << bytes;
    EXPECT_EQ(s.fallback, nullptr);
    EXPECT_NE(s.reason.find("host parsing"), std::string::npos) << s.reason;
  }
  EXPECT_EQ(fake.probes, 0);
}

TEST_F(AutoBackend, StatsAndPerBelowTheThresholdStayOnTheCpuWithoutProbing) {
  for (const value_mode mode : {value_mode::stats, value_mode::groups}) {
    const std::uint64_t below = auto_rule_for(mode).gpu_min_bytes - 1;
    for (const std::uint64_t bytes : {std::uint64_t{0}, below}) {
      const selected_backend s = select_backend(backend_choice::automatic, bytes, options_for(mode), test_entries);
      EXPECT_EQ(s.name(), "cpu");
      EXPECT_NE(s.reason.find("below"), std::string::npos) << s.reason;
    }
  }
  EXPECT_EQ(fake.probes, 0);
}

TEST_F(AutoBackend, LargeStatsProbeOnlyTheChosenDeviceAndKeepTheCpuAsFallback) {
  const selected_backend s =
      select_backend(backend_choice::automatic, 2 * gib, options_for(value_mode::stats), test_entries);
  EXPECT_EQ(s.name(), "gpu");
  ASSERT_NE(s.fallback, nullptr);
  EXPECT_EQ(s.fallback->name, "cpu");
  EXPECT_EQ(fake.probes, 1);
  EXPECT_EQ(fake.last_detail, probe_detail::chosen_device);
  EXPECT_EQ(fake.last_device, 3);

  fake.usable = false;
  const selected_backend none =
      select_backend(backend_choice::automatic, 2 * gib, options_for(value_mode::groups), test_entries);
  EXPECT_EQ(none.name(), "cpu");
  EXPECT_NE(none.reason.find("no test device"), std::string::npos) << none.reason;
}

TEST_F(AutoBackend, ExplicitChoicesHaveNoFallback) {
  const selected_backend gpu = select_backend(backend_choice::gpu, 0, options_for(value_mode::counts), test_entries);
  EXPECT_EQ(gpu.name(), "gpu");
  EXPECT_EQ(gpu.fallback, nullptr);
  const selected_backend cpu =
      select_backend(backend_choice::cpu, 100 * gib, options_for(value_mode::stats), test_entries);
  EXPECT_EQ(cpu.name(), "cpu");
  EXPECT_EQ(fake.probes, 1);  // --backend cpu probes nothing
  fake.usable = false;
  try {
    select_backend(backend_choice::gpu, 0, options_for(value_mode::counts), test_entries);
    FAIL() << "expected error(backend_unavailable)";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::backend_unavailable);
    EXPECT_NE(std::string(e.what()).find("no test device"), std::string::npos) << e.what();
  }
}

// Counts by key of a run.
std::map<std::string, std::uint64_t> counts_of(const count_result& r) {
  std::map<std::string, std::uint64_t> out;
  for (std::uint32_t code = 0; code < r.counts.size(); ++code)
    if (r.counts[code] != 0) out[std::string(r.dictionary.key(code))] = r.counts[code];
  return out;
}

class Fallback : public AutoBackend {
 protected:
  void SetUp() override {
    AutoBackend::SetUp();
    // 3 files of 150,000 rows: every worker hands the backend several batches of 64Ki codes.
    for (int f = 0; f < 3; ++f) {
      std::string text = "TestTime,SampleID\n";
      for (int i = 0; i < 150'000; ++i) {
        const std::string key = "S" + std::to_string((i * 7 + f) % 1243);
        text += "8/10/2004 1:15," + key + "\n";
        ++expected_[key];
      }
      files_.push_back(dir_.write("part" + std::to_string(f) + ".csv", text));
    }
  }

  // Runs `body` with standard input reading `text` from a pipe (a writer thread), then restores it.
  template <class Body>
  static void with_stdin(const std::string& text, Body body) {
    std::signal(SIGPIPE, SIG_IGN);  // the reader may stop early
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const int saved = ::dup(STDIN_FILENO);
    ASSERT_GE(::dup2(fds[0], STDIN_FILENO), 0);
    ::close(fds[0]);
    std::thread writer([&] {
      for (std::size_t at = 0; at < text.size();) {
        const ssize_t n = ::write(fds[1], text.data() + at, text.size() - at);
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
      }
      ::close(fds[1]);
    });
    body();
    ::dup2(saved, STDIN_FILENO);  // closes the pipe's read end: a writer still writing gets EPIPE
    ::close(saved);
    writer.join();
  }

  count_result run(failure fails, std::vector<std::string>& warnings, int& restarts,
                   backend_choice choice = backend_choice::automatic) {
    fake.fails = fails;
    backend_options options = options_for(value_mode::stats);
    options.device = 0;
    const selected_backend s = select_backend(choice, 2 * gib, options, test_entries);
    count_request request;
    request.inputs = files_;
    request.mode = value_mode::stats;
    request.times = &parser_;
    request.chunk_bytes = 64 << 10;
    thread_pool pool(2);
    return run_selected(
        s, request, options, pool, [&](const std::string& w) { warnings.push_back(w); }, [&] { ++restarts; });
  }

  labcount::testing::temp_dir dir_;
  std::vector<std::string> files_;
  std::map<std::string, std::uint64_t> expected_;
  time_parser parser_;
};

TEST_F(Fallback, NoFailureMakesTheGpuOnceForEveryFile) {
  std::vector<std::string> warnings;
  int restarts = 0;
  const count_result r = run(failure::none, warnings, restarts);
  EXPECT_EQ(fake.makes, 1);
  EXPECT_EQ(r.backend_name, "gpu");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(restarts, 0);
  EXPECT_EQ(counts_of(r), expected_);
}

TEST_F(Fallback, ASetupFailureCountsOnTheCpuWithOneWarning) {
  std::vector<std::string> warnings;
  int restarts = 0;
  const count_result r = run(failure::at_setup, warnings, restarts);
  EXPECT_EQ(r.backend_name, "cpu");
  EXPECT_EQ(counts_of(r), expected_);
  EXPECT_EQ(r.rows, 450'000u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("GPU failed (", 0), 0u) << warnings[0];
  EXPECT_NE(warnings[0].find("cudaErrorMemoryAllocation"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("; counting on the CPU instead"), std::string::npos) << warnings[0];
  EXPECT_EQ(restarts, 1);
}

TEST_F(Fallback, AMidRunFailureReadsTheFilesAgainOnTheCpu) {
  std::vector<std::string> warnings;
  int restarts = 0;
  const count_result r = run(failure::mid_run, warnings, restarts);
  EXPECT_EQ(r.backend_name, "cpu");
  EXPECT_EQ(counts_of(r), expected_);  // nothing the GPU saw is counted twice
  EXPECT_EQ(r.rows, 450'000u);
  std::uint64_t stats_rows = 0;
  for (const auto& s : r.stats) stats_rows += s.count;
  EXPECT_EQ(stats_rows, 450'000u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("cudaErrorIllegalAddress"), std::string::npos) << warnings[0];
  EXPECT_EQ(fake.makes, 1);
}

TEST_F(Fallback, StandardInputFallsBackAtSetupButNotMidRun) {
  const std::string text = labcount::testing::read_file(files_[0]);
  std::vector<std::string> warnings;
  int restarts = 0;
  files_ = {"-"};
  with_stdin(text, [&] {
    const count_result r = run(failure::at_setup, warnings, restarts);  // nothing was read yet
    EXPECT_EQ(r.backend_name, "cpu");
    EXPECT_EQ(r.rows, 150'000u);
  });
  EXPECT_EQ(warnings.size(), 1u);
  warnings.clear();
  with_stdin(text, [&] {
    try {
      run(failure::mid_run, warnings, restarts);
      ADD_FAILURE() << "expected an error: standard input cannot be read twice";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::device_failure);
      EXPECT_NE(std::string(e.what()).find("standard input, which cannot be read again"), std::string::npos)
          << e.what();
      EXPECT_NE(e.hint().find("--backend cpu"), std::string::npos) << e.hint();
    }
  });
  EXPECT_TRUE(warnings.empty());
}

TEST_F(Fallback, ExplicitGpuFailsWithTheDeviceError) {
  std::vector<std::string> warnings;
  int restarts = 0;
  try {
    run(failure::mid_run, warnings, restarts, backend_choice::gpu);
    FAIL() << "expected error(device_failure)";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::device_failure);
  }
  EXPECT_TRUE(warnings.empty());
}

TEST_F(Fallback, BadDataIsNotAGpuFailure) {
  files_.push_back(dir_.write("bad.csv", "TestTime,SampleID\n8/10/2004 1:15,S1\nnot a time,S2\n"));
  std::vector<std::string> warnings;
  int restarts = 0;
  try {
    run(failure::none, warnings, restarts);
    FAIL() << "expected the data error";
  } catch (const error& e) {
    EXPECT_EQ(category_of(e.kind()), error_category::data) << e.what();
  }
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(restarts, 0);
}

}  // namespace
}  // namespace labcount
