// The terminal's progress line (the CLI's, not the library's): on stderr for long runs: bytes done, rate, ETA, files
// done. Drawn by its own thread every 200 ms, only when enabled (stderr is a terminal, and neither --quiet nor
// --no-progress), and only once a run has taken longer than half a second, so short runs print nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "pipeline/count_pipeline.hpp"

namespace labcount {

class progress_meter {
 public:
  progress_meter(bool enabled, std::uint64_t total_bytes, std::uint64_t total_files);
  ~progress_meter();  // stops and clears the line
  progress_meter(const progress_meter&) = delete;
  progress_meter& operator=(const progress_meter&) = delete;

  // The counters the pipeline adds to (none when disabled: the run then counts nothing for it).
  run_progress counters() noexcept { return enabled_ ? run_progress{&bytes_, &files_} : run_progress{}; }

  // The run starts again from the first input (a GPU failure fell back to the CPU).
  void restart() noexcept {
    bytes_.store(0, std::memory_order_relaxed);
    files_.store(0, std::memory_order_relaxed);
  }

  static bool stderr_is_terminal() noexcept;

 private:
  void loop();
  void draw(double elapsed_seconds);

  bool enabled_;
  std::uint64_t total_bytes_;
  std::uint64_t total_files_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> files_{0};
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

}  // namespace labcount
