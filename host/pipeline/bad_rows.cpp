#include "pipeline/bad_rows.hpp"

#include <algorithm>

#include "input/input_source.hpp"
#include "util/errors.hpp"

namespace labcount {

std::string describe(const bad_row& row) {
  if (row.swallowed_bytes != 0)  // a quote that never closes, whichever problem parsing met first
    return std::string(row.problem == row_problem::stray_quote ? "stray quote" : "unterminated quote") +
           ": the quote here never closes, so the remaining " + format_count(row.swallowed_lines) + " line" +
           (row.swallowed_lines == 1 ? "" : "s") + " (" + format_bytes(row.swallowed_bytes) + ") are one field";
  switch (row.problem) {
    case row_problem::too_few_fields:
    case row_problem::too_many_fields:
      return std::string(labcount::describe(row.problem)) + ": expected " + std::to_string(row.expected) + ", found " +
             std::to_string(row.fields);
    case row_problem::bad_timestamp: return "unparseable timestamp '" + row.value + "'";
    default: return labcount::describe(row.problem);
  }
}

namespace {

// A bad row that starts like a comment line in instrument and LIMS exports ("# batch 2", "% note").
bool looks_like_comment(const bad_row& row) {
  return row.first_byte == '#' || row.first_byte == '%' || row.first_byte == '!';
}

}  // namespace

std::string hint_for(const bad_row& row) {
  // (Not for a quote that never closes: --comment would not change where such a line ends.)
  if (looks_like_comment(row) && row.problem != row_problem::bad_timestamp && row.swallowed_bytes == 0)
    return std::string("a line starting with '") + row.first_byte + "' looks like a comment: leave such lines out " +
           "with --comment '" + row.first_byte + "'";
  if (row.swallowed_bytes != 0)
    return std::string(row.problem == row_problem::stray_quote
                           ? "a field with a quote in it must be quoted as a whole, with its quotes doubled "
                             "(\"5\"\" pipe\"); "
                           : "close the quote (a quote inside a quoted field is written \"\"); ") +
           "this is not one bad row but the rest of the input, so --on-bad-row skip cannot leave it out";
  switch (row.problem) {
    case row_problem::too_few_fields:
      return row.fields == 1 && row.expected > 1
                 ? "is the delimiter right (--delimiter)? or fix the row, or leave such rows out with "
                   "--on-bad-row skip (or warn)"
                 : "fix the row, or leave such rows out with --on-bad-row skip (or warn)";
    case row_problem::too_many_fields:
      return "a field that contains the delimiter must be quoted; fix the row, or leave such rows out with "
             "--on-bad-row skip (or warn)";
    case row_problem::unterminated_quote: return "close the quote (a quote inside a quoted field is written \"\")";
    case row_problem::stray_quote:
      return "a field with quotes in it must be quoted as a whole, with its quotes doubled: \"5\"\" pipe\"; "
             "or leave such rows out with --on-bad-row skip (or warn)";
    case row_problem::bad_timestamp:
      if (row.expected_format.find('%') != std::string::npos)  // the format the user gave
        return "expected " + row.expected_format +
               " (--time-format); fix the value, or change --time-format to match it, or leave such rows out with "
               "--on-bad-row skip (or warn)";
      return "expected " + row.expected_format +
             "; fix the value, or set the format with --time-format (strftime notation, e.g. '%d.%m.%Y %H:%M'), "
             "or leave such rows out with --on-bad-row skip (or warn)";
    case row_problem::none: break;
  }
  return {};
}

void bad_row_log::note_error_chunk(std::uint64_t index) {
  std::uint64_t current = first_error_chunk_.load();
  while (index < current && !first_error_chunk_.compare_exchange_weak(current, index)) {
  }
}

bool bad_row_log::add_chunk(std::uint64_t index, const char* chunk_begin, std::uint64_t lines, chunk_findings& found) {
  if (found.unterminated) found.rows.push_back(std::move(*found.unterminated));
  // Lines within the chunk, only for the rows we report: one pass, in order.
  std::uint64_t line = 0;
  const char* counted_to = chunk_begin;
  for (auto& [where, row] : found.rows) {
    line += count_quotes_and_lines(counted_to, where).lines;
    counted_to = where;
    row.line = line;
  }
  std::lock_guard lock(mutex_);
  if (chunk_lines_.size() <= index) chunk_lines_.resize(index + 1, 0);
  chunk_lines_[index] = lines;
  if (found.rows.empty()) return true;
  if (found.unterminated) {
    unterminated_ = located{index, std::move(found.rows.back().second)};
    found.rows.pop_back();
  }
  for (auto& entry : found.rows) rows_.push_back({index, std::move(entry.second)});
  // Keep only the first rows in input order: the report shows bad_row_sample_limit of them.
  if (rows_.size() > 2 * bad_row_sample_limit) {
    std::stable_sort(rows_.begin(), rows_.end(),
                     [](const auto& a, const auto& b) { return a.chunk_index < b.chunk_index; });
    rows_.resize(bad_row_sample_limit);
  }
  count_ += found.count;
  if ((stop_at_first_ && found.count != 0) || found.unterminated) note_error_chunk(index);
  return bad_before_ + count_ <= max_bad_rows_;
}

void bad_row_log::record_too_long_at(std::uint64_t index) {
  std::lock_guard lock(mutex_);
  too_long_at_ = index;
  note_error_chunk(index);
}

error too_many_bad_rows(std::uint64_t max_bad_rows, const std::string& file) {
  return error(error_kind::too_many_bad_rows,
               "more than " + format_count(max_bad_rows) + " bad row" + (max_bad_rows == 1 ? "" : "s") +
                   " (--max-bad-rows " + std::to_string(max_bad_rows) + "); stopped",
               file, 0, "fix the input, or raise --max-bad-rows (the first bad rows are listed with --on-bad-row warn)");
}

bad_row_log::summary bad_row_log::finish(const input_source& source) {
  source.check_intact();  // before any error about bytes that may have been zeros
  std::stable_sort(rows_.begin(), rows_.end(),
                   [](const auto& a, const auto& b) { return a.chunk_index < b.chunk_index; });
  // chunk_lines_ is complete up to the last chunk that matters: every chunk before it was scanned whole
  // (a worker finishes its chunk before it stops).
  std::uint64_t last_chunk = rows_.empty() ? 0 : rows_.back().chunk_index;
  if (unterminated_) last_chunk = std::max(last_chunk, unterminated_->chunk_index);
  if (too_long_at_) last_chunk = std::max(last_chunk, *too_long_at_);
  std::vector<std::uint64_t> first_line(last_chunk + 1, source.first_data_line());
  for (std::size_t i = 1; i < first_line.size(); ++i) first_line[i] = first_line[i - 1] + chunk_lines_[i - 1];
  for (auto& b : rows_) b.row.line += first_line[b.chunk_index];
  if (unterminated_) unterminated_->row.line += first_line[unterminated_->chunk_index];

  // The first problem in input order wins.
  const bool bad_row_first = stop_at_first_ && !rows_.empty() &&
                             (!too_long_at_ || rows_.front().chunk_index < *too_long_at_) &&
                             (!unterminated_ || rows_.front().chunk_index <= unterminated_->chunk_index);
  if (bad_row_first) {
    const bad_row& first = rows_.front().row;
    throw error(error_kind_for(first.problem), describe(first), first.file, first.line, hint_for(first));
  }
  if (too_long_at_ && (!unterminated_ || *too_long_at_ <= unterminated_->chunk_index))
    source.record_too_long(first_line[*too_long_at_]);
  if (unterminated_) {
    const bad_row& row = unterminated_->row;
    throw error(error_kind_for(row.problem), describe(row), row.file, row.line, hint_for(row));
  }
  if (bad_before_ + count_ > max_bad_rows_)
    throw too_many_bad_rows(max_bad_rows_, source.name());
  summary out;
  out.bad_rows = count_;
  for (const std::uint64_t n : chunk_lines_) out.lines += n;
  for (auto& b : rows_) {
    if (out.samples.size() >= bad_row_sample_limit) break;
    out.samples.push_back(std::move(b.row));
  }
  return out;
}

}  // namespace labcount
