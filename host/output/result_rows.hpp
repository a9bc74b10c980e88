// The rows of a result and how they are to be written: the types that ordering (row_order.hpp) and
// the formats (result_writer.hpp) share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace labcount {

class thread_pool;

enum class output_format { csv, tsv, json, ndjson };

// key:       byte order (as memcmp, unsigned bytes; a prefix sorts before its extensions: "S1" < "S10" < "S2").
// count:     descending count, ties by key byte order.
// count_asc: ascending count (the least-tested keys first), ties by key byte order.
// natural:   runs of ASCII digits compare by their number, other bytes as in key: "S2" < "S10" < "S10a";
//            keys equal as numbers ("S01", "S1") by byte order. A composite key compares column by column,
//            each naturally and then by bytes.
// With a file column, the key orders go by file bytes, then key; the count orders by count, then file,
// then key.
enum class sort_order { key, count, count_asc, natural };

constexpr bool by_count(sort_order order) noexcept { return order == sort_order::count || order == sort_order::count_asc; }

struct count_row {
  // Must outlive the row (points into the dictionary's storage). A composite key (several key_names) is
  // key_tuple-encoded (csv/key_tuple.hpp); the writers split it into its columns.
  std::string_view key;
  std::uint64_t count;
  std::string_view file = {};  // the input it was counted in; read only with output_options::with_file_column
};

struct output_options {
  output_format format = output_format::csv;
  sort_order order = sort_order::key;
  std::uint64_t top = 0;              // 0 = all rows; else only the first N after sorting
  // The key columns' headers ("key" for headerless input): one, or one per part of a composite key.
  std::vector<std::string> key_names = {"SampleID"};
  bool with_file_column = false;      // a leading "file" column from count_row::file (per-file counts)
  thread_pool* pool = nullptr;        // the run's threads, to order a large count table on (null: this thread)
};

}  // namespace labcount
