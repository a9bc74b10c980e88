#include "output_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.hpp"

namespace labcount {
namespace {

[[noreturn]] void throw_io(const std::string& what, const std::string& path, int err, const std::string& hint) {
  throw error(error_kind::io, what + ": " + std::strerror(err), path, 0, hint);
}

}  // namespace

output_file::output_file(std::string path) : path_(std::move(path)) {
  if (is_stdout()) {
    file_ = stdout;
    return;
  }
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw error(error_kind::io, "the output path is a directory", path_, 0,
                "give -o a file name, e.g. -o " + path_ + "/counts.csv");
  std::string tmpl = path_ + ".labcount-tmp-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    throw_io("cannot create the output file", path_, errno,
             "check that the directory exists and is writable, or choose another -o path");
  // mkstemp creates 0600; give the result the usual permissions a new file would get.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  temp_path_ = tmpl;
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    int err = errno;
    ::close(fd);
    ::unlink(temp_path_.c_str());
    throw_io("cannot open the output file", path_, err, "");
  }
  constexpr std::size_t buffer_bytes = std::size_t{1} << 16;
  buffer_ = std::make_unique<char[]>(buffer_bytes);
  std::setvbuf(file_, buffer_.get(), _IOFBF, buffer_bytes);
}

output_file::~output_file() {
  if (is_stdout() || committed_) return;
  if (file_ != nullptr) std::fclose(file_);
  ::unlink(temp_path_.c_str());
}

void output_file::write(std::string_view bytes) {
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw_io("cannot write the output", display_name(path_), errno,
             "check free disk space and permissions");
}

void output_file::commit() {
  if (committed_) return;
  if (is_stdout()) {
    if (std::fflush(stdout) != 0)
      throw_io("cannot write the output", "<stdout>", errno, "");
    committed_ = true;
    return;
  }
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
    throw_io("cannot write the output", path_, errno, "check free disk space and permissions");
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    throw_io("cannot write the output", path_, errno, "check free disk space and permissions");
  }
  file_ = nullptr;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw_io("cannot move the finished output into place", path_, errno, "");
  committed_ = true;
}

}  // namespace labcount
