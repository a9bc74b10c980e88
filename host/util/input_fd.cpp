#include "util/input_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/errors.hpp"

namespace labcount {

void throw_open_error(const std::string& path, int err) {
  std::string hint;
  if (err == ENOENT)
    hint = "check the path; use - to read standard input";
  else if (err == EACCES)
    hint = "check the file's permissions";
  throw error(error_kind::io, std::string("cannot open the input: ") + std::strerror(err), display_name(path), 0, hint);
}

input_fd::input_fd(const std::string& path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
    return;
  }
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_open_error(path, errno);
  owned_ = true;
}

input_fd::~input_fd() {
  if (owned_) ::close(fd_);
}

}  // namespace labcount
