#include "output/stats_output.hpp"

#include <algorithm>
#include <string>

namespace labcount {
namespace {

template <class Row, class Compare>
void order(std::vector<Row>& rows, std::uint64_t top, Compare compare) {
  if (top != 0 && top < rows.size()) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(top), rows.end(), compare);
    rows.resize(static_cast<std::size_t>(top));
  } else {
    std::sort(rows.begin(), rows.end(), compare);
  }
}

}  // namespace

void write_stats(output_file& out, std::vector<stats_row>& rows, const output_options& options) {
  if (options.order == sort_order::key)
    order(rows, options.top, [](const stats_row& a, const stats_row& b) { return a.key < b.key; });
  else
    order(rows, options.top, [](const stats_row& a, const stats_row& b) {
      return a.stats.count != b.stats.count ? a.stats.count > b.stats.count : a.key < b.key;
    });
  const std::string_view header[] = {options.key_name, "count", "first_test", "last_test", "active_days", "repeats"};
  std::string count, first, last, days, repeats;
  write_table(
      out, header, rows.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        const key_stats& s = rows[i].stats;
        count = std::to_string(s.count);
        first = format_iso(s.first);
        last = format_iso(s.last);
        days = std::to_string(s.active_days);
        repeats = std::to_string(s.repeats);
        cells[0] = {rows[i].key, false};
        cells[1] = {count, true};
        cells[2] = {first, false};
        cells[3] = {last, false};
        cells[4] = {days, true};
        cells[5] = {repeats, true};
      },
      options.format);
}

void write_groups(output_file& out, std::vector<group_row>& rows, time_bucket bucket, const output_options& options) {
  if (options.order == sort_order::key)
    order(rows, options.top,
          [](const group_row& a, const group_row& b) { return a.key != b.key ? a.key < b.key : a.bucket < b.bucket; });
  else
    order(rows, options.top, [](const group_row& a, const group_row& b) {
      if (a.count != b.count) return a.count > b.count;
      return a.key != b.key ? a.key < b.key : a.bucket < b.bucket;
    });
  const std::string_view header[] = {options.key_name, bucket_column_name(bucket), "count"};
  std::string label, count;
  write_table(
      out, header, rows.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        label = format_bucket(rows[i].bucket, bucket);
        count = std::to_string(rows[i].count);
        cells[0] = {rows[i].key, false};
        cells[1] = {label, false};
        cells[2] = {count, true};
      },
      options.format);
}

}  // namespace labcount
