// Formatting the result of `labcount count` (ordering is output/row_order.hpp): one row per distinct key.
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
#include "output/result_rows.hpp"
#include "output/row_order.hpp"

namespace labcount {

// Writes the header and the rows to out in options.format; the caller commits.
void write_rows(output_file& out, std::span<const count_row> rows, const output_options& options);
// The same bytes for a count table ordered straight from its dictionary.
void write_rows(output_file& out, const ordered_table& table, const output_options& options);

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

std::string_view to_string(output_format format) noexcept;

// A JSON string literal (RFC 8259, quotes included) of `text`, as write_rows writes keys: valid UTF-8
// kept, controls escaped, each byte of an ill-formed sequence replaced by U+FFFD.
std::string json_quoted(std::string_view text);

}  // namespace labcount
