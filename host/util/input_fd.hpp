// The descriptor of one input: "-" is standard input (borrowed, never closed), anything else is opened
// read-only and closed with the object. One place for the open and its error message.
#pragma once

#include <string>

namespace labcount {

class input_fd {
 public:
  // Throws error(io) naming `path` ("<stdin>" for "-") with a hint for a missing or unreadable file.
  explicit input_fd(const std::string& path);
  ~input_fd();
  input_fd(const input_fd&) = delete;
  input_fd& operator=(const input_fd&) = delete;

  int get() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

// error(io) "cannot open the input: <strerror>" naming `path`, with a hint for ENOENT and EACCES.
[[noreturn]] void throw_open_error(const std::string& path, int err);

}  // namespace labcount
