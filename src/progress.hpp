// The terminal's progress line (the CLI's, not the library's): on stderr for long runs. While reading: bytes
// done (and that they are compressed bytes, for compressed inputs), rate, ETA, rows counted, files done; after
// the last byte, what the run is doing instead of sitting at 100% ("finishing: reducing 10,000,000 keys",
// "finishing: ordering and writing 10,000,000 keys"), and what --stats/--per spilled to disk past --memory.
// Drawn by its own thread every 200 ms, only when enabled
// (stderr is a terminal, and neither --quiet nor --no-progress), and only once a run has taken longer than
// half a second, so short runs print nothing. Under TERM=dumb it writes no escape sequences.
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
  ~progress_meter();  // stop()
  // Stops drawing and clears the line (before other messages go to stderr); later calls do nothing.
  void stop();
  progress_meter(const progress_meter&) = delete;
  progress_meter& operator=(const progress_meter&) = delete;

  // The counters the pipeline adds to (none when disabled: the run then counts nothing for it).
  run_progress counters() noexcept {
    return enabled_ ? run_progress{&bytes_, &files_, &rows_, &compressed_, &phase_, &phase_items_, &spilled_}
                    : run_progress{};
  }

  // The run starts again from the first input (a GPU failure fell back to the CPU).
  void restart() noexcept {
    bytes_.store(0, std::memory_order_relaxed);
    files_.store(0, std::memory_order_relaxed);
    rows_.store(0, std::memory_order_relaxed);
    phase_.store(run_phase::reading, std::memory_order_relaxed);
  }
  // After the count: the table of `keys` keys is being ordered and written.
  void writing(std::uint64_t keys) noexcept {
    phase_items_.store(keys, std::memory_order_relaxed);
    phase_.store(run_phase::writing, std::memory_order_relaxed);
  }

  static bool stderr_is_terminal() noexcept;

 private:
  void loop();
  void draw(double elapsed_seconds);
  void clear();

  bool enabled_;
  bool escapes_;  // the terminal understands "erase to the end of the line" (not TERM=dumb)
  std::uint64_t total_bytes_;
  std::uint64_t total_files_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> files_{0};
  std::atomic<std::uint64_t> rows_{0};
  std::atomic<bool> compressed_{false};
  std::atomic<run_phase> phase_{run_phase::reading};
  std::atomic<std::uint64_t> phase_items_{0};
  std::atomic<std::uint64_t> spilled_{0};
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::size_t drawn_ = 0;  // the width of the line on the terminal (0: nothing drawn)
  std::thread thread_;
};

}  // namespace labcount
