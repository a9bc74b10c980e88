#include "output/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

#include "util/errors.hpp"

namespace labcount {
namespace {

constexpr std::size_t buffer_bytes = std::size_t{1} << 16;

[[noreturn]] void throw_io(const std::string& what, const std::string& path, int err, const std::string& hint) {
  throw error(error_kind::io, what + ": " + std::strerror(err), path, 0, hint);
}

bool parse_number(std::string_view text, int& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

// The descriptor a path names when it is one of this process's own (/dev/stdout, /dev/fd/N,
// /proc/self/fd/N): writing through it keeps what the shell set up (append mode, a pipe).
bool own_descriptor(const std::string& path, int& fd) {
  if (path == "/dev/stdout") return fd = STDOUT_FILENO, true;
  if (path == "/dev/stderr") return fd = STDERR_FILENO, true;
  const std::string own_proc = "/proc/" + std::to_string(::getpid()) + "/fd/";
  for (const std::string_view prefix : {std::string_view("/dev/fd/"), std::string_view("/proc/self/fd/"),
                                        std::string_view("/proc/thread-self/fd/"), std::string_view(own_proc)})
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0)
      return parse_number(std::string_view(path).substr(prefix.size()), fd);
  return false;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string random_suffix() {
  static constexpr char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(::getpid())};
  std::string s(6, 'x');
  for (auto& c : s) c = letters[rng() % (sizeof(letters) - 1)];
  return s;
}

}  // namespace

output_file::output_file(std::string path, by_name mode) : path_(std::move(path)) {
  if (path_.empty())
    throw error(error_kind::usage, "the output path is empty", "", 0,
                "give -o a file name, or leave -o out to write to standard output");
  if (is_stdout()) {
    file_ = stdout;
    return;
  }
  if (const compression c = output_compression_of(path_); mode == by_name::compress && c != compression::none)
    compressor_ = make_compressor(c, path_);
  // Follow symlinks by hand: a link is kept and its final target replaced; a descriptor path is used
  // as the descriptor; anything that is not a regular file is written in place.
  std::string at = path_;
  for (int hops = 0;; ++hops) {
    int fd = -1;
    if (own_descriptor(at, fd)) {
      direct_fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (direct_fd_ < 0)
        throw_io("cannot write to the output", path_, errno,
                 "descriptor " + std::to_string(fd) + " is not open for writing in this process");
      break;
    }
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) {
      if (errno != ENOENT)
        throw_io("cannot use the output path", path_, errno, "check the path and its folders' permissions");
      target_ = at;  // a new file (or a dangling link's target)
      break;
    }
    if (S_ISLNK(st.st_mode)) {
      if (hops == 40) throw_io("cannot follow the output path", path_, ELOOP, "check the symlinks along it");
      std::string link(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      const ssize_t got = ::readlink(at.c_str(), link.data(), link.size());
      if (got < 0) throw_io("cannot follow the output path", path_, errno, "");
      link.resize(static_cast<std::size_t>(got));
      at = !link.empty() && link[0] == '/' ? link : directory_of(at) + "/" + link;
      continue;
    }
    if (S_ISDIR(st.st_mode))
      throw error(error_kind::io, "the output path is a directory", path_, 0,
                  "give -o a file name, e.g. -o " + path_ + "/counts.csv");
    device_ = st.st_dev;
    inode_ = st.st_ino;
    has_identity_ = true;
    if (S_ISREG(st.st_mode)) {
      target_ = at;
      target_exists_ = true;
      target_mode_ = st.st_mode & 07777;
      target_uid_ = st.st_uid;
      target_gid_ = st.st_gid;
      break;
    }
    // A device, FIFO or socket: written in place (a FIFO's open waits for its reader, as `>` does).
    direct_fd_ = ::open(at.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (direct_fd_ < 0) throw_io("cannot open the output", path_, errno, "check that it can be written");
    break;
  }
  if (direct_fd_ >= 0) {
    struct stat st {};
    if (!has_identity_ && ::fstat(direct_fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      device_ = st.st_dev;
      inode_ = st.st_ino;
      has_identity_ = true;
    }
    file_ = ::fdopen(direct_fd_, "wb");
    if (file_ == nullptr) {
      const int err = errno;
      ::close(direct_fd_);
      throw_io("cannot open the output", path_, err, "");
    }
    buffer_ = std::make_unique<char[]>(buffer_bytes);
    std::setvbuf(file_, buffer_.get(), _IOFBF, buffer_bytes);
    return;
  }
  // The temporary file is created only at the first write; check now that it could be.
  const std::string dir = directory_of(target_);
  struct stat dir_st {};
  if (::stat(dir.c_str(), &dir_st) != 0)
    throw_io("cannot create the output file", path_, errno,
             "check that the folder " + dir + " exists, or choose another -o path");
  if (!S_ISDIR(dir_st.st_mode)) throw_io("cannot create the output file", path_, ENOTDIR, "choose another -o path");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw_io("cannot create the output file in " + dir, path_, errno,
             "the output is written beside its path and renamed into place: choose a writable folder with -o");
}

output_file::~output_file() {
  if (is_stdout()) return;
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
  cleanup_.release();
}

bool output_file::names_existing_file(dev_t& device, ino_t& inode) const noexcept {
  if (!has_identity_) return false;
  device = device_;
  inode = inode_;
  return true;
}

void output_file::open_temporary() {
  const mode_t mode = target_exists_ ? target_mode_ : 0666;  // the umask applies to a new file
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    std::string name = target_ + ".labcount-tmp-" + random_suffix();
    cleanup_.hold(name);  // before the file exists: a signal from now on removes it
    fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    if (fd >= 0) {
      temp_path_ = std::move(name);
      break;
    }
    const int err = errno;
    cleanup_.release();
    if (err != EEXIST || attempt == 100)
      throw_io("cannot create the output file", path_, err,
               "check that the folder is writable and has space, or choose another -o path");
  }
  if (target_exists_) {
    // Keep the old file's owner, group and mode; chown may be refused (not root), the group alone
    // may still be allowed. chmod after chown: chown clears the set-id bits.
    if (::fchown(fd, target_uid_, target_gid_) != 0) (void)!::fchown(fd, static_cast<uid_t>(-1), target_gid_);
    ::fchmod(fd, target_mode_);
  }
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
    cleanup_.release();
    throw_io("cannot open the output file", path_, err, "");
  }
  buffer_ = std::make_unique<char[]>(buffer_bytes);
  std::setvbuf(file_, buffer_.get(), _IOFBF, buffer_bytes);
}

void output_file::fail_write(int err) {
  if (err == EPIPE && target_.empty())
    throw error(error_kind::broken_pipe, "the reader of the output went away", is_stdout() ? "<stdout>" : path_);
  throw_io("cannot write the output", is_stdout() ? "<stdout>" : path_, err,
           err == ENOSPC || err == EDQUOT ? "free some space, or write the output elsewhere with -o"
                                          : "check the output's folder and permissions, or choose another -o path");
}

void output_file::write_raw(std::string_view bytes) {
  if (bytes.empty()) return;
  if (file_ == nullptr) open_temporary();
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) fail_write(errno);
}

void output_file::write(std::string_view bytes) {
  if (bytes.empty()) return;
  if (compressor_ == nullptr) return write_raw(bytes);
  compressor_->compress(bytes, [this](std::string_view compressed) { write_raw(compressed); });
}

void output_file::commit() {
  if (committed_) return;
  if (compressor_ != nullptr) {  // the stream's end (an empty table is still a valid, empty .gz)
    compressor_->finish([this](std::string_view compressed) { write_raw(compressed); });
    compressor_.reset();
  }
  if (is_stdout()) {
    if (std::fflush(stdout) != 0) fail_write(errno);
    committed_ = true;
    return;
  }
  if (target_.empty()) {  // written in place
    if (std::fflush(file_) != 0) fail_write(errno);
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) fail_write(errno);
    committed_ = true;
    return;
  }
  if (file_ == nullptr) open_temporary();  // an empty output still replaces the old one
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail_write(errno);
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) fail_write(errno);
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0)
    throw_io("cannot move the finished output into place", path_, errno, "");
  committed_ = true;
  cleanup_.release();
  // Make the rename itself durable.
  const int dir = ::open(directory_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

}  // namespace labcount
