// UTF-8 encoding of one code point: what the UTF-16 transcoder and merge's JSON \u escapes both write.
//
//   encode_utf8(0x00E9, out) -> 2, out = "\xC3\xA9"
#pragma once

#include <cstddef>
#include <cstdint>

namespace labcount {

// Writes the 1-4 bytes of code point c (at most U+10FFFF, not a surrogate) to out; returns how many.
inline std::size_t encode_utf8(std::uint32_t c, char* out) noexcept {
  if (c < 0x80) {
    out[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<char>(0xC0 | (c >> 6));
    out[1] = static_cast<char>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (c >> 12));
    out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (c >> 18));
  out[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (c & 0x3F));
  return 4;
}

}  // namespace labcount
