#include "input/byte_reader.hpp"

#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <utility>

#include "util/errors.hpp"

namespace labcount {
namespace {

class fd_reader final : public byte_reader {
 public:
  fd_reader(int fd, std::string name, std::string prefix, std::atomic<std::uint64_t>* progress)
      : fd_(fd), name_(std::move(name)), prefix_(std::move(prefix)), progress_(progress) {}

  std::size_t read(char* out, std::size_t n) override {
    if (prefix_pos_ < prefix_.size()) {
      const std::size_t take = std::min(n, prefix_.size() - prefix_pos_);
      std::memcpy(out, prefix_.data() + prefix_pos_, take);
      prefix_pos_ += take;
      return take;
    }
    ssize_t got;
    do {
      got = ::read(fd_, out, n);
    } while (got < 0 && errno == EINTR);
    if (got < 0) throw error(error_kind::io, std::string("cannot read the input: ") + std::strerror(errno), name_);
    if (progress_ != nullptr) progress_->fetch_add(static_cast<std::uint64_t>(got), std::memory_order_relaxed);
    return static_cast<std::size_t>(got);
  }

 private:
  int fd_;
  std::string name_;
  std::string prefix_;
  std::size_t prefix_pos_ = 0;
  std::atomic<std::uint64_t>* progress_;
};

}  // namespace

std::unique_ptr<byte_reader> make_fd_reader(int fd, std::string name, std::string prefix,
                                            std::atomic<std::uint64_t>* progress) {
  return std::make_unique<fd_reader>(fd, std::move(name), std::move(prefix), progress);
}

}  // namespace labcount
