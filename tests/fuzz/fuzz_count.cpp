// fuzz_count: the bytes after two option bytes are a CSV; run_count (CPU backend) must give the answer of
// the single-threaded reference (tests/support/reference_csv.hpp) at every chunk size and thread count.
//
//   byte 0: bits 0-1 delimiter (, ; tab |), bit 2 no header, bits 3-4 --on-bad-row (error skip warn skip)
//   byte 1: bits 0-1 the key column, 1 + bits, passed as a number (as --key 2); bits 2-7 which thread count
//           (1, 2, 3) goes with the first chunk size: the next sizes take the next counts, so every input runs
//           at every thread count (each run costs about 1 ms, mostly setting up the workers' buffers)
//   rest:   the file
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>

#include "fuzz_support.hpp"
#include "input/decompress.hpp"
#include "input/utf16.hpp"
#include "support/reference_csv.hpp"
#include "util/errors.hpp"

namespace {

using namespace labcount;

constexpr std::size_t chunk_sizes[] = {1, 7, 64, 4096};

// The last line of the record that starts on `line` (counted as the reference does: 1-based, after a BOM).
// A quote problem is reported on the line where it was found (parsed_record::problem_at), which can be a later
// line of a row with line breaks in a quoted field; a wrong number of fields on the line where the row starts.
std::uint64_t last_line_of_record(std::string_view text, std::uint64_t line) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t pos = 0;
  for (std::uint64_t l = 1; l < line; ++l) pos = text.find('\n', pos) + 1;
  bool odd = false;
  for (; pos < text.size(); ++pos) {
    if (text[pos] == '"') odd = !odd;
    if (text[pos] == '\n') {
      if (!odd) break;
      ++line;
    }
  }
  return line;
}

// Whether a bad row reported on `line` with `problem` is the reference's first bad row.
bool is_first_bad_row(std::uint64_t line, row_problem problem, std::uint64_t first_line, std::uint64_t last_line) {
  if (problem == row_problem::too_few_fields || problem == row_problem::too_many_fields) return line == first_line;
  return line >= first_line && line <= last_line;
}

row_problem problem_of(error_kind kind) {
  switch (kind) {
    case error_kind::too_few_fields: return row_problem::too_few_fields;
    case error_kind::too_many_fields: return row_problem::too_many_fields;
    case error_kind::unterminated_quote: return row_problem::unterminated_quote;
    case error_kind::stray_quote: return row_problem::stray_quote;
    default: return row_problem::none;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const fuzz::scratch_file file(".csv");
  const std::uint8_t options = data[0];
  const char delimiter = ",;\t|"[options & 3];
  const bool has_header = (options & 4) == 0;
  const bad_row_policy policy = (options >> 3 & 3) == 0   ? bad_row_policy::error
                                : (options >> 3 & 3) == 2 ? bad_row_policy::warn
                                                          : bad_row_policy::skip;
  const std::size_t key_number = 1 + data[1] % 4;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  // The reference reads plain UTF-8 CSV: compressed or UTF-16 input (fuzz_gzip, the UTF-16 unit tests) and an
  // Excel "sep=" line near the start (which labcount reads as a hint and skips) are outside it.
  const auto* head = reinterpret_cast<const unsigned char*>(text.data());
  if (compression_of(head, text.size()) != compression::none ||
      utf16_order_of(head, text.size()) != utf16_order::none ||
      text.substr(0, 64).find("sep=") != std::string_view::npos)
    return 0;
  const std::string& path = file.write(text);
  // Old Mac line ends (utf16.hpp: ends_records_in_lone_cr): labcount reads each CR outside quotes as an LF,
  // byte for byte, so the reference reads the text translated the same way.
  std::string translated;
  if (ends_records_in_lone_cr(text.data(), text.size())) {
    translated.assign(text);
    bool in_quotes = false;
    for (char& c : translated) {
      if (c == '"')
        in_quotes = !in_quotes;
      else if (c == '\r' && !in_quotes)
        c = '\n';
    }
  }
  const std::string_view model = translated.empty() ? text : std::string_view(translated);

  // What run_count must do, from the reference. A file without records counts nothing; a first record that
  // does not parse (header or not) is an error; so is a key column past the first record's fields.
  const auto first = testing::reference_count(model, delimiter, false, 0);
  const bool has_records = first.rows + first.bad_rows > 0;
  const bool first_record_bad = has_records && first.header.empty();
  // --key N: a header field named "N" wins over the column number (resolve_key_column); two such fields
  // make --key ambiguous (an error).
  const std::string key = std::to_string(key_number);
  std::optional<std::size_t> key_index;
  std::size_t named_key = 0;
  if (has_header)
    for (std::size_t i = 0; i < first.header.size(); ++i)
      if (first.header[i] == key && named_key++ == 0) key_index = i;
  if (!key_index && key_number <= first.header.size()) key_index = key_number - 1;
  const bool must_fail_at_start = first_record_bad || (has_records && (!key_index || named_key > 1));
  const auto ref = testing::reference_count(model, delimiter, has_header, key_index.value_or(0));
  // A data row whose key is the header's may be the header repeated (`cat a.csv b.csv`), which labcount leaves
  // out (golden cases pin that); the reference does not model it.
  if (has_header && key_index && *key_index < first.header.size() && ref.counts.count(first.header[*key_index]) != 0)
    return 0;
  const std::uint64_t first_bad_line = ref.first_bad_line.value_or(0);
  const std::uint64_t last_bad_line = ref.first_bad_line ? last_line_of_record(model, first_bad_line) : 0;
  // Odd quotes in all: the last record's quote never closes. That is an error of the input under every
  // policy (it swallowed the rest of it), not one bad row.
  const bool unterminated_at_end =
      has_records && !must_fail_at_start && std::count(model.begin(), model.end(), '"') % 2 == 1;

  count_request request;
  request.inputs = {path};
  request.key = key;
  request.has_header = has_header;
  request.delimiter = delimiter;
  request.on_bad_row = policy;
  for (std::size_t run = 0; run < std::size(chunk_sizes); ++run) {
    const std::size_t chunk = chunk_sizes[run];
    const auto threads = static_cast<unsigned>(1 + (data[1] / 4 + run) % 3);
    request.chunk_bytes = chunk;
    std::optional<count_result> got;
    try {
      got = fuzz::run_cpu(request, threads);
    } catch (const error& e) {
      const bool bad_row_error = (policy == bad_row_policy::error && ref.bad_rows > 0) || unterminated_at_end;
      LABCOUNT_FUZZ_CHECK(must_fail_at_start || bad_row_error, "unexpected error at chunk %zu, threads %u: %s", chunk,
                          threads, e.what());
      if (!must_fail_at_start && policy != bad_row_policy::error && unterminated_at_end)
        LABCOUNT_FUZZ_CHECK((e.kind() == error_kind::unterminated_quote || e.kind() == error_kind::stray_quote) &&
                                e.line() >= first_bad_line,
                            "expected the unterminated quote at or after line %llu (chunk %zu, threads %u): %s",
                            static_cast<unsigned long long>(first_bad_line), chunk, threads, e.what());
      else if (!must_fail_at_start)
        LABCOUNT_FUZZ_CHECK(problem_of(e.kind()) != row_problem::none &&
                                is_first_bad_row(e.line(), problem_of(e.kind()), first_bad_line, last_bad_line),
                            "error on line %llu, the reference's first bad row is on lines %llu-%llu (chunk %zu, "
                            "threads %u): %s",
                            static_cast<unsigned long long>(e.line()), static_cast<unsigned long long>(first_bad_line),
                            static_cast<unsigned long long>(last_bad_line), chunk, threads, e.what());
      continue;
    }
    LABCOUNT_FUZZ_CHECK(!must_fail_at_start, "no error for a bad first record or key (chunk %zu, threads %u)", chunk,
                        threads);
    LABCOUNT_FUZZ_CHECK(!unterminated_at_end, "no error for a quote that never closes (chunk %zu, threads %u)", chunk,
                        threads);
    if (!has_records) {
      LABCOUNT_FUZZ_CHECK(got->rows == 0 && got->bad_rows == 0, "rows in a file without records (chunk %zu)", chunk);
      continue;
    }
    LABCOUNT_FUZZ_CHECK(policy != bad_row_policy::error || ref.bad_rows == 0,
                        "no error, but the reference has %llu bad rows (chunk %zu, threads %u)",
                        static_cast<unsigned long long>(ref.bad_rows), chunk, threads);
    LABCOUNT_FUZZ_CHECK(got->rows == ref.rows, "%llu rows, the reference %llu (chunk %zu, threads %u)",
                        static_cast<unsigned long long>(got->rows), static_cast<unsigned long long>(ref.rows), chunk,
                        threads);
    LABCOUNT_FUZZ_CHECK(got->bad_rows == ref.bad_rows, "%llu bad rows, the reference %llu (chunk %zu, threads %u)",
                        static_cast<unsigned long long>(got->bad_rows), static_cast<unsigned long long>(ref.bad_rows),
                        chunk, threads);
    LABCOUNT_FUZZ_CHECK(fuzz::counts_by_key(*got) == ref.counts, "counts differ (chunk %zu, threads %u)", chunk,
                        threads);
    if (ref.first_bad_line)
      LABCOUNT_FUZZ_CHECK(!got->bad_row_samples.empty() &&
                              is_first_bad_row(got->bad_row_samples.front().line, got->bad_row_samples.front().problem,
                                               first_bad_line, last_bad_line),
                          "first bad row not on lines %llu-%llu (chunk %zu, threads %u)",
                          static_cast<unsigned long long>(first_bad_line),
                          static_cast<unsigned long long>(last_bad_line), chunk, threads);
  }
  return 0;
}
