// LEB128 varints, zigzag integers and length-prefixed strings: the wire format of partial states
// (tools/partial_state.hpp) and of the reports MPI ranks send each other (distributed/).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/errors.hpp"

namespace labcount {

class varint_encoder {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void zigzag(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void text(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }
  std::string& bytes() noexcept { return out_; }

 private:
  std::string out_;
};

// Reads what varint_encoder wrote. Past the end, or a malformed number: error(bad_value) "not a valid
// <what>: <why>" naming `name`, with `hint`.
class varint_decoder {
 public:
  varint_decoder(std::string_view bytes, std::string name, std::string what, std::string hint)
      : in_(bytes), name_(std::move(name)), what_(std::move(what)), hint_(std::move(hint)) {}
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) corrupt("it ends early");
      const auto byte = static_cast<unsigned char>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    corrupt("a number is too long");
  }
  std::int64_t zigzag() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  std::uint64_t below(std::uint64_t limit, const char* what) {
    const std::uint64_t v = varint();
    if (v >= limit) corrupt(std::string(what) + " is out of range");
    return v;
  }
  std::string_view text() {
    const std::uint64_t n = varint();
    if (n > in_.size() - pos_) corrupt("it ends early");
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool done() const noexcept { return pos_ == in_.size(); }
  std::size_t size() const noexcept { return in_.size(); }
  [[noreturn]] void corrupt(const std::string& why) const {
    throw error(error_kind::bad_value, "not a valid " + what_ + ": " + why, name_, 0, hint_);
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string name_;
  std::string what_;
  std::string hint_;
};

}  // namespace labcount
