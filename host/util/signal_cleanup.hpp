// Temporary files that must not outlive the process: SIGINT, SIGTERM, SIGHUP and SIGPIPE remove them,
// then end the process with the same signal (so the parent sees 128+signal, as after a plain kill).
//
//   install_signal_cleanup();                 // once, early in main
//   cleanup_slot slot(temp_path);             // registered: a signal now unlinks temp_path
//                                             // (register before creating the file)
//   ... write, rename ...; slot.release();    // renamed into place: nothing to remove any more
//
// The handler only calls unlink(), signal() and raise(), all async-signal-safe, on paths copied into
// fixed slots ahead of time. SIGKILL cannot be caught: callers create temporary files as late as they can.
#pragma once

#include <string>

namespace labcount {

// Installs the handlers. A signal the parent set to be ignored (nohup's SIGHUP, SIGPIPE in some
// shells) stays ignored. Safe to call more than once.
void install_signal_cleanup() noexcept;

class cleanup_slot {
 public:
  cleanup_slot() = default;
  explicit cleanup_slot(const std::string& path) { hold(path); }
  ~cleanup_slot() { release(); }

  void hold(const std::string& path);  // releases any earlier path; throws error(internal) when all slots are taken
  cleanup_slot(const cleanup_slot&) = delete;
  cleanup_slot& operator=(const cleanup_slot&) = delete;

  void release() noexcept;  // forget the path (it was renamed, or removed by the owner)

 private:
  int index_ = -1;
};

}  // namespace labcount
