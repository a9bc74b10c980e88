// Ordering, truncating and formatting the result of `labcount count`: one row per distinct key.
//
//   rows [(S2,1) (S10,4) (S1,4)]  --order_rows(key)-->  [(S1,4) (S10,4) (S2,1)]
//                                 --order_rows(count, top=2)-->  [(S1,4) (S10,4)]
//   write_rows(csv):  "SampleID,count\nS1,4\nS10,4\n"
//
// With output_options::with_file_column (`count --per-file`, `merge` of such outputs) every row also
// names its input file: "file,SampleID,count\na.csv,S1,4\n".
//
// Keys are arbitrary bytes. Each format writes them so that they read back byte exact where the
// format can hold them (CSV quoting, linear-TSV escapes), and as valid JSON (U+FFFD for invalid UTF-8).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "output/output_file.hpp"

namespace labcount {

enum class output_format { csv, tsv, json };

// key:   byte order (as memcmp, unsigned bytes; a prefix sorts before its extensions: "S1" < "S10" < "S2").
// count: descending count, ties by key byte order.
// With a file column, key orders by file bytes, then key bytes; count by descending count, then file,
// then key.
enum class sort_order { key, count };

struct count_row {
  std::string_view key;  // must outlive the row (points into the dictionary's storage)
  std::uint64_t count;
  std::string_view file = {};  // the input it was counted in; read only with output_options::with_file_column
};

struct output_options {
  output_format format = output_format::csv;
  sort_order order = sort_order::key;
  std::uint64_t top = 0;              // 0 = all rows; else only the first N after sorting
  std::string key_name = "SampleID";  // header of the key column ("key" for headerless input)
  bool with_file_column = false;      // a leading "file" column from count_row::file (per-file counts)
};

// Sorts rows per options.order into a total order (the result does not depend on the input order)
// and keeps only the first options.top rows when top != 0.
void order_rows(std::vector<count_row>& rows, const output_options& options);

// The output order of `rows` (by `order`), as indices into rows: the fast sort of order_rows, for the
// tables that carry more than a count (--stats, --per). Ties that order leaves (equal keys; equal
// counts and keys) come in no particular order: the caller breaks them.
std::vector<std::uint32_t> output_order(std::span<const count_row> rows, sort_order order);

// Writes the header and the rows to out in options.format; the caller commits.
void write_rows(output_file& out, std::span<const count_row> rows, const output_options& options);

// A generic table in the same formats, for outputs with more columns (--stats, --per): row by row,
// `fill(i, cells)` sets the cells of row i. Text cells are quoted/escaped per format; number cells are
// written as they are (bare in JSON).
struct table_cell {
  std::string_view text;
  bool number = false;
};
void write_table(output_file& out, std::span<const std::string_view> header, std::size_t num_rows,
                 const std::function<void(std::size_t row, std::vector<table_cell>& cells)>& fill,
                 output_format format);

// "csv" | "tsv" | "json"; anything else throws error(usage) with a hint listing the choices.

// "key" | "count"; anything else throws error(usage) with a hint listing the choices.

std::string_view to_string(output_format format) noexcept;
std::string_view to_string(sort_order order) noexcept;

// A JSON string literal (RFC 8259, quotes included) of `text`, as write_rows writes keys: valid UTF-8
// kept, controls escaped, each byte of an ill-formed sequence replaced by U+FFFD.
std::string json_quoted(std::string_view text);

}  // namespace labcount
