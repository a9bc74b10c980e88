#include "input/utf16.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "util/errors.hpp"
#include "util/utf8.hpp"

namespace labcount {
namespace {

// The bytes already read to look at them, then the rest of the stream.
class prefixed_reader final : public byte_reader {
 public:
  prefixed_reader(std::string prefix, std::unique_ptr<byte_reader> rest, std::exception_ptr error_after_prefix = {})
      : prefix_(std::move(prefix)), rest_(std::move(rest)), after_prefix_(std::move(error_after_prefix)) {}
  // The prefix and, in the same call, what the stream gives next: a caller sees the reads it would have seen
  // without the look ahead (an error after the prefix is raised at the next call, as the decoders do).
  std::size_t read(char* out, std::size_t n) override {
    if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
    std::size_t take = 0;
    if (pos_ < prefix_.size()) {
      take = std::min(n, prefix_.size() - pos_);
      std::memcpy(out, prefix_.data() + pos_, take);
      pos_ += take;
      if (take == n) return take;
    }
    if (after_prefix_) {  // the read that filled the prefix failed: after the prefix, as it would have
      if (take != 0) return take;
      std::rethrow_exception(std::exchange(after_prefix_, nullptr));
    }
    try {
      return take + rest_->read(out + take, n - take);
    } catch (const error&) {
      if (take == 0) throw;
      pending_error_ = std::current_exception();
      return take;
    }
  }

 private:
  std::string prefix_;
  std::size_t pos_ = 0;
  std::unique_ptr<byte_reader> rest_;
  std::exception_ptr after_prefix_;
  std::exception_ptr pending_error_;
};

// Each CR outside quotes as an LF; the quote parity carries across reads.
class lone_cr_reader final : public byte_reader {
 public:
  explicit lone_cr_reader(std::unique_ptr<byte_reader> in) : in_(std::move(in)) {}
  std::size_t read(char* out, std::size_t n) override {
    const std::size_t got = in_->read(out, n);
    for (std::size_t i = 0; i < got; ++i) {
      if (out[i] == '"')
        in_quotes_ = !in_quotes_;
      else if (out[i] == '\r' && !in_quotes_)
        out[i] = '\n';
    }
    return got;
  }

 private:
  std::unique_ptr<byte_reader> in_;
  bool in_quotes_ = false;
};

class utf16_reader final : public byte_reader {
 public:
  utf16_reader(std::unique_ptr<byte_reader> in, bool big_endian, std::string name)
      : in_(std::move(in)), big_endian_(big_endian), name_(std::move(name)), buffer_(std::size_t{1} << 16) {}

  std::size_t read(char* out, std::size_t n) override {
    if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
    std::size_t produced = 0;
    try {
      produced = transcode(out, n);
    } catch (const error&) {
      if (produced_ == 0) throw;
      pending_error_ = std::current_exception();
      produced = produced_;
    }
    return produced;
  }

 private:
  std::size_t transcode(char* out, std::size_t n) {
    produced_ = 0;
    // A character that did not fit the caller's buffer last time.
    while (carry_pos_ < carry_len_ && produced_ < n) out[produced_++] = carry_[carry_pos_++];
    while (produced_ < n) {
      if (available() < 4 && !done_) refill();
      if (available() == 0) break;
      if (available() == 1) fail("the UTF-16 text ends in the middle of a character (an odd number of bytes)");
      std::uint32_t c = unit(0);
      std::size_t used = 2;
      if (c >= 0xD800 && c <= 0xDBFF) {
        if (available() < 4 || unit(2) < 0xDC00 || unit(2) > 0xDFFF) fail("an unpaired UTF-16 surrogate");
        c = 0x10000 + ((c - 0xD800) << 10) + (unit(2) - 0xDC00);
        used = 4;
      } else if (c >= 0xDC00 && c <= 0xDFFF) {
        fail("an unpaired UTF-16 surrogate");
      }
      if (!bom_skipped_) {
        bom_skipped_ = true;
        if (c == 0xFEFF) {
          consume(used);
          continue;
        }
      }
      char encoded[4];
      const std::size_t len = utf8(c, encoded);
      consume(used);
      const std::size_t fits = std::min(len, n - produced_);
      std::memcpy(out + produced_, encoded, fits);
      produced_ += fits;
      if (fits < len) {
        std::memcpy(carry_, encoded + fits, len - fits);
        carry_pos_ = 0;
        carry_len_ = len - fits;
      }
    }
    return produced_;
  }

  static std::size_t utf8(std::uint32_t c, char* out) noexcept { return encode_utf8(c, out); }

  std::uint32_t unit(std::size_t at) const noexcept {
    const auto a = static_cast<unsigned char>(buffer_[pos_ + at]);
    const auto b = static_cast<unsigned char>(buffer_[pos_ + at + 1]);
    return big_endian_ ? (a << 8 | b) : (b << 8 | a);
  }
  std::size_t available() const noexcept { return len_ - pos_; }
  void consume(std::size_t n) noexcept {
    pos_ += n;
    offset_ += n;
  }
  void refill() {
    std::memmove(buffer_.data(), buffer_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
    while (len_ < 4 && !done_) {
      const std::size_t got = in_->read(buffer_.data() + len_, buffer_.size() - len_);
      if (got == 0) done_ = true;
      len_ += got;
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw error(error_kind::bad_value, what + " at byte " + std::to_string(offset_), name_, 0,
                "the file is not clean UTF-16; save it again as UTF-8 CSV (Excel: CSV UTF-8)");
  }

  std::unique_ptr<byte_reader> in_;
  bool big_endian_;
  std::string name_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  std::uint64_t offset_ = 0;  // bytes of UTF-16 consumed, for messages
  bool done_ = false;
  bool bom_skipped_ = false;
  char carry_[4] = {};
  std::size_t carry_pos_ = 0;
  std::size_t carry_len_ = 0;
  std::size_t produced_ = 0;
  std::exception_ptr pending_error_;
};

}  // namespace

utf16_order utf16_order_of(const unsigned char* b, std::size_t size) noexcept {
  if (size >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
    if (size >= 4 && b[2] == 0 && b[3] == 0) return utf16_order::none;  // UTF-32LE
    return utf16_order::little_endian;
  }
  if (size >= 2 && b[0] == 0xFE && b[1] == 0xFF) return utf16_order::big_endian;
  return utf16_order::none;
}

std::unique_ptr<byte_reader> make_text_reader(std::unique_ptr<byte_reader> in, std::string name, bool* lone_cr) {
  std::string head;
  head.resize(4);
  std::size_t have = 0;
  while (have < head.size()) {
    const std::size_t got = in->read(head.data() + have, head.size() - have);
    if (got == 0) break;
    have += got;
  }
  head.resize(have);
  const utf16_order order = utf16_order_of(reinterpret_cast<const unsigned char*>(head.data()), head.size());
  std::unique_ptr<byte_reader> text = std::make_unique<prefixed_reader>(std::move(head), std::move(in));
  if (order != utf16_order::none)
    text = std::make_unique<utf16_reader>(std::move(text), order == utf16_order::big_endian, std::move(name));

  // The first window of text decides the line ends; an error within it comes after the bytes before it.
  std::string window(line_end_window, '\0');
  std::size_t filled = 0;
  std::exception_ptr failed;
  try {
    while (filled < window.size()) {
      const std::size_t got = text->read(window.data() + filled, window.size() - filled);
      if (got == 0) break;
      filled += got;
    }
  } catch (const error&) {
    failed = std::current_exception();
  }
  window.resize(filled);
  const bool cr = ends_records_in_lone_cr(window.data(), window.size());
  if (lone_cr != nullptr) *lone_cr = cr;
  text = std::make_unique<prefixed_reader>(std::move(window), std::move(text), std::move(failed));
  if (cr) text = std::make_unique<lone_cr_reader>(std::move(text));
  return text;
}

bool ends_records_in_lone_cr(const char* text, std::size_t size) noexcept {
  const std::size_t n = std::min(size, line_end_window);
  if (std::memchr(text, '\n', n) != nullptr) return false;
  bool in_quotes = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (text[i] == '"') in_quotes = !in_quotes;
    if (text[i] == '\r' && !in_quotes) return true;
  }
  return false;
}

}  // namespace labcount
