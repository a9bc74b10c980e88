#include "output/stats_output.hpp"

#include <charconv>
#include <string>

#include "csv/key_tuple.hpp"
#include "output/row_order.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// A number cell's text in a buffer the table reuses (no allocation per row).
std::string_view number_text(char (&buffer)[24], std::uint64_t value) noexcept {
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return {buffer, static_cast<std::size_t>(end - buffer)};
}

// The header: the key columns, then `rest`.
std::vector<std::string_view> header_of(const output_options& options, std::initializer_list<std::string_view> rest) {
  std::vector<std::string_view> header(options.key_names.begin(), options.key_names.end());
  header.insert(header.end(), rest);
  return header;
}

// Sets cells[0, parts) to the key's columns: the key itself, or a composite key's parts.
class key_cells {
 public:
  explicit key_cells(std::size_t num_parts) : num_parts_(num_parts) {}
  std::size_t num_parts() const noexcept { return num_parts_; }
  void fill(std::string_view key, std::vector<table_cell>& cells) {
    if (num_parts_ == 1) {
      cells[0] = {key, false};
      return;
    }
    const bool ok = key_tuple::split(key, num_parts_, parts_, scratch_);
    LABCOUNT_EXPECTS(ok, "a composite key of as many parts as the key has columns");
    for (std::size_t part = 0; part < num_parts_; ++part) cells[part] = {parts_[part], false};
  }

 private:
  std::size_t num_parts_;
  std::vector<std::string_view> parts_;
  std::string scratch_;
};

}  // namespace

void write_stats(output_file& out, const key_dictionary& dictionary, std::span<const key_stats> stats,
                 const output_options& options) {
  std::vector<std::uint64_t> counts(dictionary.size(), 0);
  for (std::size_t code = 0; code < stats.size() && code < counts.size(); ++code) counts[code] = stats[code].count;
  const ordered_table table(dictionary, counts, options.order, options.top, options.key_names.size(), options.pool);
  counts = {};
  const auto header = header_of(options, {"count", "first_test", "last_test", "active_days", "repeats"});
  key_cells key(options.key_names.size());
  const std::size_t k = key.num_parts();
  char count[24], days[24], repeats[24];
  std::string first, last;
  write_table(
      out, header, table.size(),
      [&](std::size_t i, std::vector<table_cell>& cells) {
        // Two dependent loads per row (its code, then the code's stats), both at random: two prefetch stages;
        // and a key longer than the entry holds.
        constexpr std::size_t d = bytes::prefetch_distance;
        if (i + 2 * d < table.size()) table.prefetch_code(i + 2 * d);
        if (i + d < table.size()) bytes::prefetch(&stats[table.code(i + d)]);
        table.prefetch_ahead(i);
        const count_row row = table.row(i);
        const key_stats& s = stats[table.code(i)];
        first.clear();
        last.clear();
        append_iso(first, s.first);
        append_iso(last, s.last);
        key.fill(row.key, cells);
        cells[k] = {number_text(count, s.count), true};
        cells[k + 1] = {first, false};
        cells[k + 2] = {last, false};
        cells[k + 3] = {number_text(days, s.active_days), true};
        cells[k + 4] = {number_text(repeats, s.repeats), true};
      },
      options.format);
}

void write_groups(output_file& out, const key_dictionary& dictionary, std::span<const group_count> groups,
                  time_bucket bucket, const output_options& options) {
  const std::vector<std::uint32_t> order =
      ordered_groups(dictionary, groups, options.order, options.top, options.key_names.size());
  const auto header = header_of(options, {bucket_column_name(bucket), "count"});
  key_cells key(options.key_names.size());
  const std::size_t k = key.num_parts();
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
        key.fill(dictionary.key(g.code), cells);
        cells[k] = {label, false};
        cells[k + 1] = {number_text(count, g.count), true};
      },
      options.format);
}

}  // namespace labcount
