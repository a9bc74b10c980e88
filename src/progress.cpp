#include "progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "util/errors.hpp"

namespace labcount {

progress_meter::progress_meter(bool enabled, std::uint64_t total_bytes, std::uint64_t total_files)
    : enabled_(enabled), total_bytes_(total_bytes), total_files_(total_files) {
  const char* term = std::getenv("TERM");
  escapes_ = term == nullptr || std::strcmp(term, "dumb") != 0;
  if (enabled_) {
    try {
      thread_ = std::thread([this] { loop(); });
    } catch (const std::system_error&) {
      enabled_ = false;  // no thread to draw it (a limit on threads): no line, and the run goes on
    }
  }
}

progress_meter::~progress_meter() { stop(); }

void progress_meter::stop() {
  if (!enabled_ || !thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
  clear();
}

bool progress_meter::stderr_is_terminal() noexcept { return ::isatty(STDERR_FILENO) == 1; }

void progress_meter::loop() {
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stop_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; })) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (elapsed >= 0.5) draw(elapsed);
  }
}

void progress_meter::clear() {
  if (drawn_ == 0) return;
  if (escapes_)
    std::fputs("\r\033[K", stderr);
  else
    std::fprintf(stderr, "\r%*s\r", static_cast<int>(drawn_), "");
  std::fflush(stderr);
  drawn_ = 0;
}

void progress_meter::draw(double elapsed) {
  std::string line;
  char buf[200];
  const run_phase phase = phase_.load(std::memory_order_relaxed);
  const std::uint64_t rows = rows_.load(std::memory_order_relaxed);
  if (phase != run_phase::reading) {
    const std::string items = format_count(phase_items_.load(std::memory_order_relaxed));
    if (phase == run_phase::reducing)
      line = "finishing: reducing " + items + " keys (" + format_count(rows) + " rows read)";
    else if (phase == run_phase::merging)
      line = "finishing: merging the ranks' results (" + format_count(rows) + " rows read)";
    else
      line = "finishing: ordering and writing " + items + " keys";
    std::snprintf(buf, sizeof buf, "  %d:%02d", static_cast<int>(elapsed) / 60, static_cast<int>(elapsed) % 60);
    line += buf;
  } else {
    const double done = static_cast<double>(bytes_.load(std::memory_order_relaxed));
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const char* what = compressed_.load(std::memory_order_relaxed) ? " compressed" : "";
    if (total_bytes_ > 0) {
      const double fraction = std::min(1.0, done / static_cast<double>(total_bytes_));
      const int width = 24;
      const int filled = static_cast<int>(fraction * width);
      line += "[" + std::string(static_cast<std::size_t>(filled), '#') +
              std::string(static_cast<std::size_t>(width - filled), '.') + "]";
      const double eta = rate > 0 ? (static_cast<double>(total_bytes_) - done) / rate : 0;
      std::snprintf(buf, sizeof buf, " %3.0f%%  %.2f/%.2f GB%s  %.2f GB/s  ETA %d:%02d", fraction * 100, done / 1e9,
                    static_cast<double>(total_bytes_) / 1e9, what, rate / 1e9, static_cast<int>(eta) / 60,
                    static_cast<int>(eta) % 60);
    } else {
      std::snprintf(buf, sizeof buf, "%.2f GB%s  %.2f GB/s", done / 1e9, what, rate / 1e9);
    }
    line += buf;
    line += "  " + format_count(rows) + " rows";
    if (total_files_ > 1) {
      std::snprintf(buf, sizeof buf, "  files %llu/%llu", static_cast<unsigned long long>(files_.load()),
                    static_cast<unsigned long long>(total_files_));
      line += buf;
    }
  }
  if (const std::uint64_t spilled = spilled_.load(std::memory_order_relaxed); spilled != 0) {
    std::snprintf(buf, sizeof buf, "  spilled %.2f GB to disk", static_cast<double>(spilled) / 1e9);
    line += buf;
  }
  const std::size_t width = line.size();
  if (escapes_) {
    line = "\r" + line + "\033[K";
  } else {  // no escapes: spaces over what the last line had beyond this one
    line = "\r" + line + std::string(drawn_ > width ? drawn_ - width : 0, ' ');
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = width;
}

}  // namespace labcount
