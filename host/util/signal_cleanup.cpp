#include "util/signal_cleanup.hpp"

#include <unistd.h>
#include <climits>
#include <csignal>
#include <cstring>

#include <atomic>

#include "util/errors.hpp"

namespace labcount {
namespace {

constexpr int num_slots = 16;

struct slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 holds a path
  char path[PATH_MAX];
};

slot slots[num_slots];

constexpr int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

extern "C" void on_fatal_signal(int sig) {
  const int saved_errno = errno;
  for (auto& s : slots)
    if (s.state.load(std::memory_order_acquire) == 2) ::unlink(s.path);
  std::signal(sig, SIG_DFL);
  errno = saved_errno;
  std::raise(sig);
}

}  // namespace

void install_signal_cleanup() noexcept {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  for (int sig : handled_signals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    for (int other : handled_signals) sigaddset(&action.sa_mask, other);  // one cleanup at a time
    ::sigaction(sig, &action, nullptr);
  }
}

void cleanup_slot::hold(const std::string& path) {
  release();
  LABCOUNT_EXPECTS(path.size() < PATH_MAX, "temporary path too long");
  for (int i = 0; i < num_slots; ++i) {
    int expected = 0;
    if (!slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(slots[i].path, path.c_str(), path.size() + 1);
    slots[i].state.store(2, std::memory_order_release);
    index_ = i;
    return;
  }
  LABCOUNT_EXPECTS(false, "more than 16 temporary files at once");
}

void cleanup_slot::release() noexcept {
  if (index_ < 0) return;
  slots[index_].state.store(0, std::memory_order_release);
  index_ = -1;
}

}  // namespace labcount
