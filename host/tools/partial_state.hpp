// A count's mergeable state: what `labcount count --partial part.lcp` writes instead of a table, and what
// `labcount merge part-*.lcp` combines into the table one `labcount count` over all the inputs would write,
// byte for byte, in every mode (plain counts, --per-file, --per BUCKET, --stats).
//
//   counts, --per-file:  the keys and their counts (per file)
//   --per BUCKET:        (key, bucket, rows)
//   --stats:             (key, time, rows): every distinct time of every key, from which count, first, last,
//                        active days and repeats follow exactly (distinct days and repeats are set unions,
//                        not sums, so the state keeps the sets)
//
// File format (version 2), little-endian, integers as LEB128 varints, strings as a varint length + bytes:
//   magic "\x89LCP\r\n\x1a\n" (8 bytes: a text-mode copy or a truncated download shows), varint version,
//   varint table (0 counts, 1 stats, 2 groups), varint bucket, varint per_file, varint time unit (stats: the
//   microseconds the times are written in, 1, 1000 or 10^6, the largest that holds them all; else 1),
//   varint key columns + each
//   name (a composite key's keys are key_tuple-encoded, csv/key_tuple.hpp),
//   string time_name, varint rows, varint keys + each key,
//   counts: a varint count per key (per_file: varint files, each a name, varint entries, then
//           (code delta, count) pairs in code order);
//   stats, groups: varint pairs, then (code delta, value: zigzag, a delta within one code, rows) in
//           (code, value) order;
//   then 8 bytes: FNV-1a 64 of everything before them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backend/values.hpp"
#include "encode/dictionary.hpp"
#include "output/output_file.hpp"
#include "pipeline/count_pipeline.hpp"
#include "time/timestamp.hpp"

namespace labcount {

struct partial_state {
  value_mode table = value_mode::counts;  // the table it becomes
  time_bucket bucket = time_bucket::day;  // groups
  bool per_file = false;                  // counts
  std::vector<std::string> key_names;  // one per column of the key
  std::string time_name;
  std::uint64_t rows = 0;
  key_dictionary keys;
  std::vector<std::uint64_t> counts;  // counts, not per_file: counts[code]
  std::vector<file_counts> files;     // counts, per_file: codes increasing within each file
  std::vector<group_count> pairs;     // groups: (code, bucket, rows); stats: (code, time, rows); sorted
};

// Turns a request into the one whose result is the state (--stats runs as groups of (key, second)); returns
// the table the state will become (the request's mode before).
value_mode prepare_partial_request(count_request& request);

// The state of a finished run of a prepared request for `table`. The result moves into the state.
partial_state partial_of(count_result&& result, const count_request& request, value_mode table);

// Writes the state to `out` (not committed).
void write_partial(output_file& out, const partial_state& state);
// The bytes write_partial writes, and back (decode_partial checks them as read_partial does; `name` names
// them in errors).
std::string encode_partial(const partial_state& state);
partial_state decode_partial(std::string_view bytes, const std::string& name);

// The state cut into `parts` by a hash of the key bytes (hash_key: the same part for a key in every process),
// each part encoded as encode_partial encodes a state: what an MPI rank sends each rank, to merge its share of
// the keys. Only the parts `wanted` says are encoded (every part when it is empty; the others are left empty
// strings). Part `rows_part` carries the rows (none: `parts`). Codes keep their order within a part.
std::vector<std::string> encode_partitioned(const partial_state& state, std::size_t parts,
                                            const std::vector<bool>& wanted = {}, std::size_t rows_part = 0);

// Keeps the values of the keys in part `which` of `parts` (as encode_partitioned cuts) and drops the others':
// their counts become 0, their file entries and pairs go; every key stays in the dictionary. What an MPI rank
// keeps of its state once it has sent the other parts away, before it merges in the parts sent to it.
void keep_part(partial_state& state, std::size_t parts, std::size_t which);

// Whether the file at `path` starts with the state's magic number.
bool is_partial_file(const std::string& path);

// Reads a state. A truncated, corrupted or foreign file, or another version, is error(bad_value) naming it.
partial_state read_partial(const std::string& path);

// Adds `part` (read from `part_name`) into `total`. States made with other options (table, bucket, per-file,
// key or time column) are error(usage) naming the difference and both files.
void merge_partial(partial_state& total, const std::string& total_name, partial_state&& part,
                   const std::string& part_name);

// merge_partial(total, total_name, decode_partial(bytes, part_name), part_name), without building the part's
// own dictionary: its keys go straight into total's. A key listed twice in `bytes` is an error, as in
// decode_partial.
void merge_encoded(partial_state& total, const std::string& total_name, std::string_view bytes,
                   const std::string& part_name);

// An MPI job's last merge, on rank 0: `total` is the state of part `own` of shares.size() (its other keys, sent
// away, have no values in it), and shares[i] the state of part i (empty: none), named by names[i] in errors.
// Counts: each share merged as merge_encoded does (lookups in total's table). --stats/--per: total keeps the
// keys it has pairs for, then each share's keys are appended without lookups (they are part i's: checked) and
// its pairs after them, so that the pairs stay in (code, time) order without a merge; afterwards the
// dictionary answers no lookups (key_dictionary::drop_lookups). The shares' bytes are freed as they go.
void merge_shares(partial_state& total, const std::string& total_name, std::vector<std::string>& shares,
                  const std::vector<std::string>& names, std::size_t own);

// The count_result and count_request that write_count_result turns into the table of `state`.
count_result result_of(partial_state&& state, count_request& request);

}  // namespace labcount
