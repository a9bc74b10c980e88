#include "output/count_output.hpp"

#include "output/stats_output.hpp"

namespace labcount {

void write_count_result(output_file& out, const count_result& result, const count_request& request,
                        output_options options) {
  options.key_name = result.key_name;
  if (request.mode == value_mode::stats) {
    std::vector<stats_row> rows;
    for (std::uint32_t code = 0; code < result.dictionary.size(); ++code)
      if (result.stats[code].count != 0) rows.push_back({result.dictionary.key(code), result.stats[code]});
    write_stats(out, rows, options);
    return;
  }
  if (request.mode == value_mode::groups) {
    std::vector<group_row> rows;
    rows.reserve(result.groups.size());
    for (const auto& g : result.groups) rows.push_back({result.dictionary.key(g.code), g.bucket, g.count});
    write_groups(out, rows, request.bucket, options);
    return;
  }
  if (!request.per_file) {
    write_rows(out, ordered_table(result.dictionary, result.counts, options.order, options.top), options);
    return;
  }
  std::vector<count_row> rows;
  options.with_file_column = true;
  for (const auto& f : result.per_file)
    for (const auto& [code, count] : f.counts) rows.push_back({result.dictionary.key(code), count, f.file});
  order_rows(rows, options);
  write_rows(out, rows, options);
}

}  // namespace labcount
