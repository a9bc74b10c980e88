#include "input/byte_reader.hpp"

#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "util/errors.hpp"

#ifdef LABCOUNT_HAS_ISAL
#include <isa-l/igzip_lib.h>
#endif

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

#ifdef LABCOUNT_HAS_ISAL
// ISA-L's igzip inflates 2-3x faster than zlib on x86 and streams, which a whole-buffer decompressor
// (libdeflate) cannot: batches are far larger than memory.
class gzip_reader final : public byte_reader {
 public:
  gzip_reader(std::unique_ptr<byte_reader> compressed, std::string name)
      : compressed_(std::move(compressed)),
        name_(std::move(name)),
        in_(std::size_t{1} << 20),
        state_(std::make_unique<inflate_state>()) {
    state_->next_in = nullptr;
    state_->avail_in = 0;
    start_member();
  }

  // An error in the data (a bad checksum, a cut-off stream) is raised only after the bytes before it
  // are handed out, so what a run reports does not depend on how much it asked for at a time (the
  // chunk size): the header is read, and checked, before a checksum at the end of a small file.
  std::size_t read(char* out, std::size_t n) override {
    if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
    std::size_t produced = 0;
    try {
      produced = inflate_into(out, n);
    } catch (const error&) {
      if (produced_before_error_ == 0) throw;
      pending_error_ = std::current_exception();
      produced = std::exchange(produced_before_error_, 0);
    }
    return produced;
  }

 private:
  std::size_t inflate_into(char* out, std::size_t n) {
    std::size_t produced = 0;
    produced_before_error_ = 0;
    while (produced < n) {
      if (!input_done_ && (state_->avail_in == 0 || (member_done_ && state_->avail_in < 2))) refill();
      if (member_done_) {
        if (state_->avail_in == 0 && input_done_) break;  // clean end after the last member
        if (!is_gzip_magic(state_->next_in, state_->avail_in))
          throw error(error_kind::bad_value, "unexpected bytes after the end of the gzip data", name_, 0,
                      "the file is not a clean gzip stream; re-create it with gzip");
        start_member();
      }
      const std::uint32_t want = static_cast<std::uint32_t>(std::min<std::size_t>(n - produced, 1u << 30));
      state_->next_out = reinterpret_cast<std::uint8_t*>(out + produced);
      state_->avail_out = want;
      const int status = isal_inflate(state_.get());
      const std::size_t got = want - state_->avail_out;
      produced += got;
      produced_before_error_ = produced;
      if (status < 0) fail(status);
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        member_done_ = true;
      } else if (got == 0 && state_->avail_in == 0 && input_done_) {
        throw error(error_kind::bad_value, "the gzip data ends early: the file is truncated", name_, 0,
                    "the file was cut off (an interrupted copy or download?); copy it again");
      }
    }
    return produced;
  }

  void start_member() {
    // init clears the input pointers too; the next member's bytes may already be in the buffer.
    std::uint8_t* next_in = state_->next_in;
    const std::uint32_t avail_in = state_->avail_in;
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
    state_->next_in = next_in;
    state_->avail_in = avail_in;
    member_done_ = false;
  }

  void refill() {
    // Move unread input to the front, then read more behind it.
    const std::size_t left = state_->avail_in;
    if (left != 0 && state_->next_in != reinterpret_cast<std::uint8_t*>(in_.data()))
      std::memmove(in_.data(), state_->next_in, left);
    const std::size_t got = compressed_->read(in_.data() + left, in_.size() - left);
    if (got == 0) input_done_ = true;
    state_->next_in = reinterpret_cast<std::uint8_t*>(in_.data());
    state_->avail_in = static_cast<std::uint32_t>(left + got);
  }

  [[noreturn]] void fail(int status) {
    const char* what = status == ISAL_INCORRECT_CHECKSUM   ? "the gzip checksum does not match: the data is corrupt"
                       : status == ISAL_INVALID_WRAPPER    ? "not a valid gzip header"
                       : status == ISAL_UNSUPPORTED_METHOD ? "gzip data with an unsupported compression method"
                                                           : "corrupt gzip data";
    throw error(error_kind::bad_value, what, name_, 0, "check the file with `gzip -t`; re-create or copy it again");
  }

  std::unique_ptr<byte_reader> compressed_;
  std::string name_;
  std::vector<char> in_;
  std::unique_ptr<inflate_state> state_;
  bool member_done_ = false;
  bool input_done_ = false;
  std::size_t produced_before_error_ = 0;  // bytes of the current read() already inflated
  std::exception_ptr pending_error_;       // raised at the next read()
};
#endif

}  // namespace

std::unique_ptr<byte_reader> make_fd_reader(int fd, std::string name, std::string prefix,
                                            std::atomic<std::uint64_t>* progress) {
  return std::make_unique<fd_reader>(fd, std::move(name), std::move(prefix), progress);
}

std::unique_ptr<byte_reader> make_gzip_reader(std::unique_ptr<byte_reader> compressed, std::string name) {
#ifdef LABCOUNT_HAS_ISAL
  return std::make_unique<gzip_reader>(std::move(compressed), std::move(name));
#else
  (void)compressed;
  throw error(error_kind::not_built_in,
              "the input is gzip-compressed, but this labcount was built without gzip support", name, 0,
              "install libisal-dev and rebuild, or decompress first: zcat FILE | labcount count -");
#endif
}

bool gzip_supported() noexcept {
#ifdef LABCOUNT_HAS_ISAL
  return true;
#else
  return false;
#endif
}

}  // namespace labcount
