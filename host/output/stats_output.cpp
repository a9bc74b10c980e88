#include "output/stats_output.hpp"

#include <charconv>
#include <string>

#include "output/row_order.hpp"

namespace labcount {
namespace {

// A number cell's text in a buffer the table reuses (no allocation per row).
std::string_view number_text(char (&buffer)[24], std::uint64_t value) noexcept {
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return {buffer, static_cast<std::size_t>(end - buffer)};
}

}  // namespace

void write_stats(output_file& out, const key_dictionary& dictionary, std::span<const key_stats> stats,
                 const output_options& options) {
  std::vector<std::uint64_t> counts(dictionary.size(), 0);
  for (std::size_t code = 0; code < stats.size() && code < counts.size(); ++code) counts[code] = stats[code].count;
  const ordered_table table(dictionary, counts, options.order, options.top);
  counts = {};
  const std::string_view header[] = {options.key_name, "count", "first_test", "last_test", "active_days", "repeats"};
  char count[24], days[24], repeats[24];
  std::string first, last;
  write_table(
      out, header, table.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        if (i + bytes::prefetch_distance < table.size()) bytes::prefetch(&stats[table.code(i + bytes::prefetch_distance)]);
        const count_row row = table.row(i);
        const key_stats& s = stats[table.code(i)];
        first.clear();
        last.clear();
        append_iso(first, s.first);
        append_iso(last, s.last);
        cells[0] = {row.key, false};
        cells[1] = {number_text(count, s.count), true};
        cells[2] = {first, false};
        cells[3] = {last, false};
        cells[4] = {number_text(days, s.active_days), true};
        cells[5] = {number_text(repeats, s.repeats), true};
      },
      options.format);
}

void write_groups(output_file& out, const key_dictionary& dictionary, std::span<const group_count> groups,
                  time_bucket bucket, const output_options& options) {
  const std::vector<std::uint32_t> order = ordered_groups(dictionary, groups, options.order, options.top);
  const std::string_view header[] = {options.key_name, bucket_column_name(bucket), "count"};
  std::string label;
  char count[24];
  write_table(
      out, header, order.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        // Three dependent loads per row (the row, its key's offset, the key's bytes): three prefetch stages.
        constexpr std::size_t d = bytes::prefetch_distance;
        if (i + 3 * d < order.size()) bytes::prefetch(&groups[order[i + 3 * d]]);
        if (i + 2 * d < order.size()) dictionary.prefetch(groups[order[i + 2 * d]].code);
        if (i + d < order.size()) bytes::prefetch(dictionary.key(groups[order[i + d]].code).data());
        const group_count& g = groups[order[i]];
        label.clear();
        append_bucket(label, g.bucket, bucket);
        cells[0] = {dictionary.key(g.code), false};
        cells[1] = {label, false};
        cells[2] = {number_text(count, g.count), true};
      },
      options.format);
}

}  // namespace labcount
