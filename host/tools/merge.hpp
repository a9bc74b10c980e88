// Summing outputs of `labcount count`: what lets one batch be counted in parts, on several machines.
//
//   c1.csv "SampleID,count\nS1,2\nS2,1\n" + c2.csv "SampleID,count\nS1,1\nS3,4\n"
//   -> merge_counts -> key_names ["SampleID"], rows [(S1,3) (S2,1) (S3,4)]
//   -> order_rows + write_rows, as count does: the bytes of counting both parts in one run
//
// per input:  decompressed when its first bytes say so; its format from the header: CSV, TSV (a tab, no
//             comma), JSON ('[' then one object per line) or NDJSON ('{'); then the columns:
//             "<key>,count", or "file,<key>,count" (count --per-file), where <key> may be several columns
//             (a composite key; the key and bucket columns of a --per table); every input must have the same
// per row:    parse it (CSV: parse_record, RFC 4180, so quoted keys come back byte exact; TSV: linear-TSV
//             escapes; JSON: RFC 8259 strings), check the count, add it to the entry of its (file, key):
//             one dictionary code, counts[code] += count
//
// Entries live in a key_dictionary with a counts vector rather than an unordered_map<string, uint64_t>:
// the key bytes go to one arena instead of one heap node (and, past 15 bytes, one more allocation) per
// key, a lookup probes 8-byte slots instead of chasing a node pointer, and the rows handed to the
// writer are views into that arena. Memory grows with the distinct (file, key) entries, not the rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "encode/dictionary.hpp"
#include "output/result_writer.hpp"

namespace labcount {

class merge_result {
 public:
  const std::vector<std::string>& key_names() const noexcept { return key_names_; }
  bool per_file() const noexcept { return per_file_; }
  std::uint64_t rows_read() const noexcept { return rows_read_; }
  std::size_t size() const noexcept { return counts_.size(); }  // distinct (file, key) entries

  // One row per entry with a count above 0 (count never writes a zero row), in no particular order;
  // the views point into this result, which must outlive them.
  std::vector<count_row> rows() const;

 private:
  friend class merger;
  std::vector<std::string> key_names_;  // several: the keys are key_tuple-encoded
  bool per_file_ = false;
  std::uint64_t rows_read_ = 0;
  key_dictionary files_;               // per-file inputs: the file names
  key_dictionary entries_;             // the key (key_tuple-encoded when several columns), after a 4-byte
                                       // file code when per_file_
  std::vector<std::uint64_t> counts_;  // counts_[entry code]
};

// Reads and sums the inputs ("-" = standard input, at most once). Throws labcount::error: io for a
// file that cannot be read; usage for no input or - twice; a data error, naming the file, the line and
// a fix, for an input that is not a CSV output of count, headers that differ between inputs, --stats
// outputs, a bad row or count, and totals past 2^64 - 1. A record longer than `max_record_bytes` (half
// of --memory) is error(record_too_long): /dev/zero cannot take the memory.
merge_result merge_counts(const std::vector<std::string>& inputs,
                          std::size_t max_record_bytes = std::size_t{512} << 20);

}  // namespace labcount
