// UTF-16 text with a byte order mark (Excel's "Unicode text", some instrument exports), transcoded to UTF-8
// as it streams, so the scanner and every output see UTF-8. Without a BOM a file is read as bytes (UTF-8,
// or whatever it is, byte-exact).
//
//   "\xFF\xFE" "S\0" "1\0" ",\0"  (UTF-16LE)  ->  "S1,"
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "input/byte_reader.hpp"

namespace labcount {

enum class utf16_order { none, little_endian, big_endian };

// The byte order a UTF-16 byte order mark at `bytes` gives (FF FE: little-endian, FE FF: big-endian);
// none without one (FF FE 00 00 is UTF-32, not supported: none too).
utf16_order utf16_order_of(const unsigned char* bytes, std::size_t size) noexcept;

// Old Mac line breaks (classic Mac OS Excel, some instruments): records that end in a lone CR. Decided once
// per input from its first `line_end_window` bytes of text, never per row: no LF there, and a CR outside
// quotes. Such a text is read with each CR outside quotes as an LF (one byte for one, so offsets and line
// numbers hold); a CR inside a quoted field stays a CR.
inline constexpr std::size_t line_end_window = std::size_t{1} << 16;
bool ends_records_in_lone_cr(const char* text, std::size_t size) noexcept;

// Looks at the first bytes of `in` (after any decompression): with a UTF-16 BOM, the text transcoded to UTF-8;
// otherwise the bytes as they are; then, when they end records in lone CRs, with those read as LFs (and
// *lone_cr set). An unpaired surrogate or an odd byte at the end is error(bad_value) naming the input and the
// byte offset, raised after the text before it was handed out.
std::unique_ptr<byte_reader> make_text_reader(std::unique_ptr<byte_reader> in, std::string name,
                                              bool* lone_cr = nullptr);

}  // namespace labcount
