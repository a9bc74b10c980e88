// A deliberately simple, single-threaded, byte-at-a-time CSV counter: the oracle for differential tests.
// It shares no code with host/: records are split by the quote-parity rule, then each is parsed strictly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labcount::testing {

struct reference_result {
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t rows = 0;
  std::uint64_t bad_rows = 0;
  std::optional<std::uint64_t> first_bad_line;  // line where the first bad row starts
  std::vector<std::string> header;
};

inline reference_result reference_count(std::string_view text, char delimiter, bool has_header, std::size_t key_index,
                                        std::vector<std::vector<std::string>>* good_rows = nullptr) {
  reference_result out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  // 1. Records: an LF ends a record when an even number of quotes precede it.
  struct record {
    std::string text;
    std::uint64_t line;
  };
  std::vector<record> records;
  std::string current;
  std::uint64_t line = 1;
  std::uint64_t record_line = 1;
  bool odd = false;
  for (char c : text) {
    if (c == '\n' && !odd) {
      records.push_back({current, record_line});
      current.clear();
      ++line;
      record_line = line;
      continue;
    }
    if (c == '\n') ++line;
    if (c == '"') odd = !odd;
    current += c;
  }
  if (!current.empty()) records.push_back({current, record_line});

  // 2. Fields, strictly: nullopt for a malformed record.
  auto parse = [&](std::string r) -> std::optional<std::vector<std::string>> {
    if (!r.empty() && r.back() == '\r') {
      // A final CR is a line ending unless it is inside an unterminated quote (then the record is bad anyway).
      r.pop_back();
    }
    std::vector<std::string> fields;
    std::string field;
    std::size_t i = 0;
    for (;;) {
      field.clear();
      if (i < r.size() && r[i] == '"') {
        ++i;
        for (;;) {
          if (i >= r.size()) return std::nullopt;  // unterminated
          if (r[i] == '"') {
            if (i + 1 < r.size() && r[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field += r[i++];
        }
        fields.push_back(field);
        if (i == r.size()) return fields;
        if (r[i] != delimiter) return std::nullopt;  // text after the closing quote
        ++i;
        continue;
      }
      while (i < r.size() && r[i] != delimiter) {
        if (r[i] == '"') return std::nullopt;  // stray quote
        field += r[i++];
      }
      fields.push_back(field);
      if (i == r.size()) return fields;
      ++i;
    }
  };

  std::size_t expected = 0;
  bool have_first = false;
  for (const auto& r : records) {
    if (r.text.empty() || r.text == "\r") continue;  // blank line
    auto fields = parse(r.text);
    if (!have_first) {
      have_first = true;
      expected = fields ? fields->size() : 0;
      if (fields) out.header = *fields;
      if (has_header) continue;
    }
    if (!fields || fields->size() != expected) {
      ++out.bad_rows;
      if (!out.first_bad_line) out.first_bad_line = r.line;
      continue;
    }
    ++out.counts[(*fields)[key_index]];
    ++out.rows;
    if (good_rows != nullptr) good_rows->push_back(*fields);
  }
  return out;
}

// The data rows (header skipped) that the reference accepts, as fields.
inline std::vector<std::vector<std::string>> reference_rows(std::string_view text, char delimiter) {
  std::vector<std::vector<std::string>> rows;
  reference_count(text, delimiter, true, 0, &rows);
  return rows;
}

}  // namespace labcount::testing
