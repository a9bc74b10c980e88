#include "output/stats_output.hpp"

#include <algorithm>
#include <string>

namespace labcount {
namespace {

// The rows' output order with the fast key sort (output_order); `same` tells rows the sort may leave in
// either order, and `before` puts them in theirs. Keeps the first `top` (0: all).
std::uint64_t count_of(const stats_row& row) noexcept { return row.stats.count; }
std::uint64_t count_of(const group_row& row) noexcept { return row.count; }

template <class Row, class Same, class Before>
std::vector<std::uint32_t> order(const std::vector<Row>& rows, sort_order by, std::uint64_t top, Same same,
                                 Before before) {
  std::vector<count_row> keys(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) keys[i] = {rows[i].key, count_of(rows[i])};
  std::vector<std::uint32_t> indices = output_order(keys, by);
  for (std::size_t run = 0; run < indices.size();) {
    std::size_t run_end = run + 1;
    while (run_end < indices.size() && same(rows[indices[run]], rows[indices[run_end]])) ++run_end;
    if (run_end - run > 1)
      std::sort(indices.begin() + static_cast<std::ptrdiff_t>(run),
                indices.begin() + static_cast<std::ptrdiff_t>(run_end),
                [&](std::uint32_t a, std::uint32_t b) { return before(rows[a], rows[b]); });
    run = run_end;
  }
  if (top != 0 && top < indices.size()) indices.resize(static_cast<std::size_t>(top));
  return indices;
}

}  // namespace

void write_stats(output_file& out, std::vector<stats_row>& all_rows, const output_options& options) {
  // One row per key: the key sort alone is a total order.
  const std::vector<std::uint32_t> order_of = order(
      all_rows, options.order, options.top, [](const stats_row&, const stats_row&) { return false; },
      [](const stats_row&, const stats_row&) { return false; });
  const std::string_view header[] = {options.key_name, "count", "first_test", "last_test", "active_days", "repeats"};
  std::string count, first, last, days, repeats;
  write_table(
      out, header, order_of.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        const stats_row& row = all_rows[order_of[i]];
        const key_stats& s = row.stats;
        count = std::to_string(s.count);
        first = format_iso(s.first);
        last = format_iso(s.last);
        days = std::to_string(s.active_days);
        repeats = std::to_string(s.repeats);
        cells[0] = {row.key, false};
        cells[1] = {count, true};
        cells[2] = {first, false};
        cells[3] = {last, false};
        cells[4] = {days, true};
        cells[5] = {repeats, true};
      },
      options.format);
}

void write_groups(output_file& out, std::vector<group_row>& all_rows, time_bucket bucket,
                  const output_options& options) {
  // A key has a row per bucket: rows of one key (and, by count, one count) go by bucket.
  const bool count_first = by_count(options.order);
  const std::vector<std::uint32_t> order_of = order(
      all_rows, options.order, options.top,
      [count_first](const group_row& a, const group_row& b) {
        return a.key == b.key && (!count_first || a.count == b.count);
      },
      [](const group_row& a, const group_row& b) { return a.bucket < b.bucket; });
  const std::string_view header[] = {options.key_name, bucket_column_name(bucket), "count"};
  std::string label, count;
  write_table(
      out, header, order_of.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        const group_row& row = all_rows[order_of[i]];
        label = format_bucket(row.bucket, bucket);
        count = std::to_string(row.count);
        cells[0] = {row.key, false};
        cells[1] = {label, false};
        cells[2] = {count, true};
      },
      options.format);
}

}  // namespace labcount
