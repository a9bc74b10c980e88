#include "output/count_output.hpp"

#include "output/stats_output.hpp"

namespace labcount {

void write_count_result(output_file& out, const count_result& result, const count_request& request,
                        output_options options) {
  options.key_names = result.key_names;
  if (request.mode == value_mode::stats) {
    write_stats(out, result.dictionary, result.stats, options);
    return;
  }
  if (request.mode == value_mode::groups) {
    write_groups(out, result.dictionary, result.groups, request.bucket, options);
    return;
  }
  if (!request.per_file) {
    write_rows(out,
               ordered_table(result.dictionary, result.counts, options.order, options.top, options.key_names.size(),
                             options.pool),
               options);
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
