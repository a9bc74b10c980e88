// Compressed outputs, chosen by the -o name as gzip and zstd users expect: "counts.csv.gz" is gzip
// (ISA-L's igzip, level 1: about as fast as the table is formatted), "counts.csv.zst" is zstd (level 3,
// zstd's own default). The format of the table comes from the name without the suffix
// ("counts.json.gz" is gzipped JSON).
//
//   output_compression_of("a.csv.gz") == compression::gzip;  output_compression_of("a.csv") == none
//   strip_compression_suffix("a.json.zst") == "a.json"
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "input/decompress.hpp"

namespace labcount {

// By the name's suffix, without case: .gz gzip, .zst zstd; none otherwise (also for "-").
compression output_compression_of(std::string_view path) noexcept;
std::string_view strip_compression_suffix(std::string_view path) noexcept;

// A stream compressor: compress() takes bytes and hands compressed bytes to `sink` as they come;
// finish() ends the stream (trailer, checksum). Output the matching decompressor (and gzip -d,
// zstd -d) reads back byte exact.
class output_compressor {
 public:
  using sink = std::function<void(std::string_view)>;
  virtual ~output_compressor() = default;
  virtual void compress(std::string_view bytes, const sink& out) = 0;
  virtual void finish(const sink& out) = 0;
};

// The compressor for `c` (not none). A codec this build lacks is error(not_built_in) naming the output
// `path` and the package to build with, raised before any work.
std::unique_ptr<output_compressor> make_compressor(compression c, const std::string& path);

}  // namespace labcount
