// Output of `count --stats` and `count --per`: more columns than plain counts, same formats and rules.
//
//   --stats:    SampleID,count,first_test,last_test,active_days,repeats
//               S00802,519,2004-08-10T01:15:00,2004-09-09T19:50:00,31,253
//   --per day:  SampleID,day,count
//               S00802,2004-08-10,12
//
// Both are ordered straight from the result's dictionary (row_order.hpp: ordered_table, ordered_groups),
// without a row object per key or per (key, bucket).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"
#include "encode/dictionary.hpp"
#include "output/result_writer.hpp"
#include "time/timestamp.hpp"

namespace labcount {

// One row per code with stats[code].count > 0, ordered per options (key: key bytes; count: count
// descending, ties by key; ...), the first options.top, written.
void write_stats(output_file& out, const key_dictionary& dictionary, std::span<const key_stats> stats,
                 const output_options& options);
// One row per (code, bucket) of `groups`, ordered per options (key orders: key then bucket; count
// orders: count, then key, then bucket).
void write_groups(output_file& out, const key_dictionary& dictionary, std::span<const group_count> groups,
                  time_bucket bucket, const output_options& options);

}  // namespace labcount
