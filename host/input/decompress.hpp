// Compressed inputs, recognised by their first bytes (never by the file name) and decompressed as they
// stream: gzip (ISA-L's igzip), zstd (libzstd), bzip2 (libbz2) and xz (liblzma). Each accepts what its
// command-line tool writes, concatenated streams included (`cat a.gz b.gz`, pbzip2, `xz -T0`).
//
//   compression_of("\x28\xb5\x2f\xfd...") == compression::zstd
//   make_decompressor(compression::zstd, make_fd_reader(fd, ...), "a.csv.zst") -> the CSV bytes
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "input/byte_reader.hpp"

namespace labcount {

enum class compression { none, gzip, zstd, bzip2, xz };

// Bytes needed to recognise every format.
inline constexpr std::size_t compression_magic_bytes = 6;

// The format whose magic number `bytes` start with; none for anything else (too few bytes included).
compression compression_of(const unsigned char* bytes, std::size_t size) noexcept;

// "gzip", "zstd", "bzip2", "xz" (none: "").
std::string_view compression_name(compression c) noexcept;

// Whether this build can read `c` (none always).
bool compression_supported(compression c) noexcept;

// Decompresses `compressed`. Corrupt data, a bad checksum or a stream that ends early is error(bad_value)
// naming the input, raised only after the bytes before it were handed out, so what a run reports does not
// depend on how much it asked for at a time. A format this build lacks is error(not_built_in) with a
// command that decompresses it instead.
std::unique_ptr<byte_reader> make_decompressor(compression c, std::unique_ptr<byte_reader> compressed,
                                               std::string name);

}  // namespace labcount
