// Output of `count --stats` and `count --per`: more columns than plain counts, same formats and rules.
//
//   --stats:    SampleID,count,first_test,last_test,active_days,repeats
//               S00802,519,2004-08-10T01:15:00,2004-09-09T19:50:00,31,253
//   --per day:  SampleID,day,count
//               S00802,2004-08-10,12
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"
#include "output/result_writer.hpp"
#include "time/timestamp.hpp"

namespace labcount {

struct stats_row {
  std::string_view key;
  key_stats stats;
};

struct group_row {
  std::string_view key;
  std::int64_t bucket;
  std::uint64_t count;
};

// Orders per options (key: key bytes; count: count descending, ties by key), keeps options.top, writes.
void write_stats(output_file& out, std::vector<stats_row>& rows, const output_options& options);
// Orders per options (key: key bytes then bucket; count: count descending, then key, then bucket).
void write_groups(output_file& out, std::vector<group_row>& rows, time_bucket bucket, const output_options& options);

}  // namespace labcount
