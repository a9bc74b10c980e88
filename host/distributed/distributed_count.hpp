// One `labcount count` run across the ranks of an MPI job: the same bytes as one process, by every route.
//
//   every rank: the same inputs -> deal_inputs: whole inputs by size (largest first, to the least loaded
//               rank); a large plain file is also cut into one byte range per rank
//   split file: rank k counts the records that start in its raw range [D + k*span/n, D + (k+1)*span/n).
//               It guesses where the first one starts (guess_record_start), and its chunk cutter finds the
//               end as it reaches the next raw cut; lines are counted from the range's start. Rank 0 checks
//               that each range starts where the one before it ended, and rebases the lines; if a guess did
//               not hold, every rank counts again with exact cuts: exclusive_sum of the quotes and LFs of
//               each raw range gives the quote parity and the line number at every cut
//               (record_start_at_or_after)
//   each rank:  run_count over its items -> a report (rows, bad rows, warnings, the first error) -> rank 0
//   rank 0:     the first error in input order (or the one --max-bad-rows gives), or the column names;
//               broadcast: every rank throws that error, or goes on
//   exchange:   each rank's partial state (tools/partial_state.hpp), cut by a hash of the key bytes; the
//               other ranks' cuts sent (all_to_all), its own kept in place (keep_part: the others' keys
//               stay in its dictionary, without values); the cuts received merged into it; the shares
//               gathered on rank 0, which merges them into its own the same way: the state of the whole job
//
// Memory per rank: its state throughout, plus the keys of its share it had not seen; rank 0 ends up with
// every key, as it must to order and write the table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "distributed/communicator.hpp"
#include "pipeline/count_pipeline.hpp"
#include "util/errors.hpp"
#include "tools/partial_state.hpp"

namespace labcount {

// A rank's piece of work: input `input`, whole (parts == 1) or its byte range number `part` of `parts`.
struct work_item {
  std::size_t input = 0;
  std::uint32_t part = 0;
  std::uint32_t parts = 1;
  friend bool operator==(const work_item&, const work_item&) = default;
};

struct input_size {
  std::uint64_t bytes = 0;
  bool split = false;  // cut into one range per rank
};

// Per rank, its items in input order. Split inputs give every rank one part; whole inputs go, largest first
// (ties: the earlier input), to the rank with the fewest bytes so far (ties: the lowest rank).
std::vector<std::vector<work_item>> deal_inputs(std::span<const input_size> inputs, int ranks);

// `file` holds an input whose records start at `data_begin` (after the header). The first record start at or
// after `pos`, given `quotes_before`, the quotes in [data_begin, pos): the parity rule of csv_scanner.hpp
// (a record ends at an LF after an even number of quotes). file.size() when no record starts there.
std::uint64_t record_start_at_or_after(std::string_view file, std::uint64_t data_begin, std::uint64_t pos,
                                       std::uint64_t quotes_before) noexcept;

// The same, without `quotes_before`: a guess at the record start at or after `pos`, for a rank that has not
// counted the quotes before it. Of the two readings of `pos` (outside quotes, inside), the one whose record
// start within 1 MiB is followed by the fewest misplaced quotes (an opening quote amid a field, text right
// after a closing one); outside on a tie. Right on well-formed CSV unless a quoted field holds lines that
// are themselves well-formed CSV records; the job checks every guess against the range before it.
std::uint64_t guess_record_start(std::string_view file, std::uint64_t data_begin, std::uint64_t pos) noexcept;

// Inputs from this size up are cut into byte ranges (LABCOUNT_MPI_SPLIT_BYTES sets it: the tests cut small
// files).
std::uint64_t split_min_bytes();

struct job_result {
  partial_state state;  // the whole job's, as merge would make it from every rank's --partial
  count_result report;  // rows, bad rows and their samples, warnings, notes, skipped inputs, per input, timings
  // Rank 0's own last step (merging the ranks' shares) failed: its error, which the caller agrees on with the
  // other ranks at its last collective (they no longer wait in count_on_ranks).
  std::optional<error> failed;
};

// Collective: when any rank has an error, every rank throws the first of them (by rank); rank 0 prints it.
// For the steps where ranks may fail alone (their own file system, memory, GPU) before the next collective.
void agree_on_error(communicator& comm, const std::optional<error>& mine);

// Runs `request` (prepared with prepare_partial_request, for `table`) on every rank of `comm`; every rank
// calls it with the same request. `count_local` counts a rank's share (a request with its inputs and
// ranges). Returns the job's result on rank 0 and nothing elsewhere. An error on any rank is thrown on every
// rank: the one a single process would have stopped at; but for rank 0's final merge (job_result::failed).
std::optional<job_result> count_on_ranks(communicator& comm, const count_request& request, value_mode table,
                                         const std::function<count_result(const count_request&)>& count_local);

}  // namespace labcount
