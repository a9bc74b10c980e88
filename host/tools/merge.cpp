#include "tools/merge.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include "csv/csv_scanner.hpp"
#include "csv/key_tuple.hpp"
#include "util/errors.hpp"
#include "input/byte_reader.hpp"
#include "input/decompress.hpp"
#include "util/input_fd.hpp"
#include "util/utf8.hpp"

namespace labcount {
namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

std::string join_columns(const std::vector<std::string>& columns) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i != 0) out += ',';
    out += columns[i];
  }
  return printable(out, 80);
}

// The bytes of an input as count wrote them: decompressed when its first bytes say gzip, zstd, bzip2
// or xz (`count -o counts.csv.gz`), as for count's own inputs.
std::unique_ptr<byte_reader> open_output_of_count(const input_fd& input, const std::string& name) {
  std::string magic(compression_magic_bytes, '\0');
  std::size_t got = 0;
  while (got < magic.size()) {
    const ssize_t n = ::read(input.get(), magic.data() + got, magic.size() - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw error(error_kind::io, std::string("cannot read: ") + std::strerror(errno), name, 0,
                  "check that it is a readable file");
    }
    got += static_cast<std::size_t>(n);
  }
  magic.resize(got);
  const compression c = compression_of(reinterpret_cast<const unsigned char*>(magic.data()), magic.size());
  std::unique_ptr<byte_reader> raw = make_fd_reader(input.get(), name, std::move(magic), nullptr);
  return c == compression::none ? std::move(raw) : make_decompressor(c, std::move(raw), name);
}

// Hands out the records of one input, LF-terminated by the parity rule (find_record_end), reading it
// in blocks so that memory stays at one block plus the longest record.
class record_reader {
 public:
  record_reader(const std::string& path, const std::string& name, std::size_t max_record_bytes)
      : name_(name),
        max_record_bytes_(max_record_bytes),
        input_(path),
        reader_(open_output_of_count(input_, name)),
        buffer_(initial_buffer_bytes) {}
  record_reader(const record_reader&) = delete;
  record_reader& operator=(const record_reader&) = delete;

  // The next record without its LF; false at the end of the input.
  // A long record is scanned once: the scan resumes where the last read left it (with the parity of
  // the quotes seen so far), so a record read from a pipe in small pieces costs O(its length).
  bool next(std::string_view& record) {
    for (;;) {
      const char* start = buffer_.data() + begin_;
      const char* limit = buffer_.data() + filled_;
      const char* from = buffer_.data() + scanned_;
      const char* lf = limit;
      if (plain_lines_) {  // TSV and JSON outputs: no quoting, a record is a line
        const void* at = std::memchr(from, '\n', static_cast<std::size_t>(limit - from));
        lf = at == nullptr ? limit : static_cast<const char*>(at);
      } else if (odd_quotes_) {  // inside a quoted field: no LF ends the record before the next quote
        const void* quote = std::memchr(from, '"', static_cast<std::size_t>(limit - from));
        from = quote == nullptr ? limit : static_cast<const char*>(quote) + 1;
        odd_quotes_ = quote == nullptr;
      }
      if (!plain_lines_ && !odd_quotes_) {
        lf = find_record_end(from, limit);
        if (lf == limit) odd_quotes_ = (count_quotes(from, limit) & 1) != 0;
      }
      scanned_ = filled_;
      if (lf != limit || (eof_ && start != limit)) {
        record = std::string_view(start, static_cast<std::size_t>(lf - start));
        begin_ = lf == limit ? filled_ : static_cast<std::size_t>(lf + 1 - buffer_.data());
        scanned_ = begin_;
        odd_quotes_ = false;
        line_ = next_line_;
        next_line_ += 1 + static_cast<std::uint64_t>(std::count(record.begin(), record.end(), '\n'));
        return true;
      }
      if (eof_) return false;
      refill();
    }
  }

  // The physical line the last record started on.
  std::uint64_t line() const noexcept { return line_; }

  // From the next record on, records are lines: TSV escapes its line breaks and JSON strings never hold
  // a raw one, while their quotes (a TSV key a"b, JSON's \") follow no parity rule.
  void read_plain_lines() noexcept { plain_lines_ = true; }

 private:
  static constexpr std::size_t initial_buffer_bytes = std::size_t{1} << 20;

  // Keeps the unfinished record, and doubles the buffer when that record fills it (so rescanning a
  // long record from its start costs O(its length) overall).
  void refill() {
    if (begin_ != 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, filled_ - begin_);
      filled_ -= begin_;
      scanned_ -= begin_;
      begin_ = 0;
    }
    if (filled_ >= max_record_bytes_)
      throw error(
          error_kind::record_too_long,
          "a record longer than " + format_bytes(max_record_bytes_) + " (no line break, or a quote that never closes?)",
          name_, next_line_, "check the file's line breaks and quoting, or raise --memory if such records are real");
    if (filled_ == buffer_.size()) buffer_.resize(std::min(2 * buffer_.size(), max_record_bytes_ + 1));
    const std::size_t got = reader_->read(buffer_.data() + filled_, buffer_.size() - filled_);
    filled_ += got;
    eof_ = got == 0;
  }

  std::string name_;
  std::size_t max_record_bytes_;
  input_fd input_;
  std::unique_ptr<byte_reader> reader_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;    // the next record starts here
  std::size_t scanned_ = 0;  // bytes before this hold no end of the record at begin_
  bool odd_quotes_ = false;  // the quotes in [begin_, scanned_) are odd in number
  bool plain_lines_ = false;
  std::size_t filled_ = 0;   // bytes of buffer_ holding input
  bool eof_ = false;
  std::uint64_t line_ = 0;
  std::uint64_t next_line_ = 1;
};

bool is_blank(std::string_view record) noexcept { return record.empty() || record == "\r"; }

constexpr const char* count_output_hint =
    "merge reads the tables that `labcount count` writes (CSV, TSV, JSON or NDJSON, plain or compressed), unchanged";

// The columns of a count output: "<key>,count", or "file,<key>,count" from count --per-file, where <key> is
// one column or several (a composite key: --key SampleID,Assay; a --per table's key and bucket columns).
struct layout {
  std::vector<std::string> columns;
  std::vector<std::string> key_names;
  bool per_file = false;
};

[[noreturn]] void refuse_stats_output(const std::vector<std::string>& columns, const std::string& name) {
  throw error(error_kind::bad_value,
              "merging --stats outputs is not supported: header '" + join_columns(columns) +
                  "' has per-key statistics beyond the count",
              name, 1,
              "active_days and repeats cannot be summed across parts: the same day, or the same test "
              "repeated, can appear in several parts; first_test and last_test could be combined, but the "
              "rest cannot. Count the whole batch in one run with --stats, or merge outputs of count "
              "without --stats");
}

layout parse_layout(std::span<const std::string_view> header, std::string_view raw, const std::string& name) {
  layout result;
  for (std::string_view field : header) result.columns.emplace_back(field);
  const auto& columns = result.columns;
  // A --stats table (with its columns moved about): two or more of its columns. One such name is just a key
  // column's name (count --key first_test).
  std::size_t stats_columns = 0;
  for (std::string_view stats_column : {"first_test", "last_test", "active_days", "repeats"})
    stats_columns += std::count(columns.begin(), columns.end(), stats_column);
  if (stats_columns >= 2) refuse_stats_output(columns, name);
  if (columns.size() >= 2 && columns.back() == "count") {
    // "file" first with a key after it: count --per-file. (A composite key whose first column is named
    // file sums the same way: per (file, rest), ordered by file then the rest, which is its key order.)
    result.per_file = columns.size() >= 3 && columns[0] == "file";
    result.key_names.assign(columns.begin() + (result.per_file ? 1 : 0), columns.end() - 1);
    if (result.key_names.size() <= max_key_parts) return result;
  }
  for (std::string_view stats_column : {"first_test", "last_test", "active_days", "repeats"})
    if (std::find(columns.begin(), columns.end(), stats_column) != columns.end()) refuse_stats_output(columns, name);
  std::string what = "not an output of labcount count: header '" + printable(raw, 80) +
                     "' is neither '<key>,count' nor 'file,<key>,count' (with up to " + std::to_string(max_key_parts) +
                     " key columns)";
  std::string hint = count_output_hint;
  if (columns.size() == 1 && raw.find('\t') != std::string_view::npos) {
    hint = "this looks like a --format tsv output: " + hint;
  } else if (!columns.empty() && columns.back() != "count") {
    what += " (its last column must be count)";
  }
  throw error(error_kind::bad_value, what, name, 1, hint);
}

void check_same_layout(const layout& first, const std::string& first_name, const layout& other, const std::string& name,
                       std::uint64_t line) {
  if (other.columns == first.columns) return;
  std::string hint;
  if (other.per_file != first.per_file)
    hint = "one was counted with --per-file and the other without: count all parts the same way";
  else
    hint = "the key columns differ ('" + printable(key_tuple::describe(first.key_names), 80) + "', '" +
           printable(key_tuple::describe(other.key_names), 80) +
           "'): count all parts with the same --key (and --per)";
  throw error(error_kind::bad_value,
              "header '" + join_columns(other.columns) + "' differs from header '" + join_columns(first.columns) +
                  "' of " + first_name + ": only outputs with the same header can be merged",
              name, line, hint);
}

// Parses a count: digits only (count writes nothing else), at most 2^64 - 1.
std::uint64_t parse_count(std::string_view text, const std::string& name, std::uint64_t line) {
  std::uint64_t value = 0;
  const bool digits =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (digits && ec == std::errc() && end == text.data() + text.size()) return value;
  if (digits)
    throw error(error_kind::bad_value,
                "count '" + printable(text, 80) + "' is larger than the largest count, " +
                    std::to_string(std::numeric_limits<std::uint64_t>::max()),
                name, line, count_output_hint);
  throw error(error_kind::bad_value, "count '" + printable(text, 80) + "' is not a whole number, 0 or more", name, line,
              "the last field of each row is its count, digits only (e.g. S1,42); " + std::string(count_output_hint));
}


// The three table formats count writes, told apart by the header: JSON starts with '[' (an array, one
// object per line) or '{' (NDJSON); TSV is a header with a tab and no comma; CSV is the rest.
enum class table_format { csv, tsv, json };

table_format format_of_header(std::string_view header) noexcept {
  const std::size_t start = header.find_first_not_of(" \t");
  if (start != std::string_view::npos && (header[start] == '[' || header[start] == '{')) return table_format::json;
  if (header.find('\t') != std::string_view::npos && header.find(',') == std::string_view::npos)
    return table_format::tsv;
  return table_format::csv;
}

std::string_view without_cr(std::string_view line) noexcept {
  return !line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line;
}

std::string_view trimmed(std::string_view text) noexcept {
  const std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") + 1 - begin);
}

// A TSV line as count writes it (linear TSV: \\ \t \n \r escaped), its fields unescaped into `out`.
void split_tsv(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  out.emplace_back();
  line = without_cr(line);
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\t') {
      out.emplace_back();
    } else if (c == '\\' && i + 1 < line.size()) {
      const char e = line[++i];
      out.back() += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;  // \\ and unknown escapes: the byte
    } else {
      out.back() += c;
    }
  }
}

void put_utf8(std::uint32_t c, std::string& out) {
  char bytes[4];
  out.append(bytes, encode_utf8(c, bytes));
}

// One line of count's JSON: a flat object {"name":value,...}, with a ',' before or after it (the array
// form) or neither (NDJSON). Names and string values are unescaped (RFC 8259, \uXXXX pairs included);
// other values (the count) are their text. Returns what is wrong, or an empty string.
std::string parse_json_line(std::string_view line, std::vector<std::string>& names, std::vector<std::string>& values) {
  names.clear();
  values.clear();
  line = trimmed(line);
  if (!line.empty() && line.front() == ',') line = trimmed(line.substr(1));
  if (!line.empty() && line.back() == ',') line = trimmed(line.substr(0, line.size() - 1));
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') return "not a JSON object on one line";
  std::size_t i = 1;
  const std::size_t end = line.size() - 1;
  auto skip_space = [&] {
    while (i < end && (line[i] == ' ' || line[i] == '\t')) ++i;
  };
  auto hex4 = [&](std::uint32_t& value) {
    if (i + 4 > end) return false;
    value = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = line[i++];
      int digit = -1;
      if (h >= '0' && h <= '9') digit = h - '0';
      if (h >= 'a' && h <= 'f') digit = h - 'a' + 10;
      if (h >= 'A' && h <= 'F') digit = h - 'A' + 10;
      if (digit < 0) return false;
      value = value * 16 + static_cast<std::uint32_t>(digit);
    }
    return true;
  };
  auto string = [&](std::string& out) -> std::string {
    if (i >= end || line[i] != '"') return "a string was expected";
    ++i;
    for (;;) {
      if (i >= end) return "a string that never closes";
      const char c = line[i++];
      if (c == '"') return {};
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= end) return "a string that never closes";
      const char e = line[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t c1 = 0;
          if (!hex4(c1)) return "a bad \\u escape";
          if (c1 >= 0xD800 && c1 <= 0xDBFF) {
            std::uint32_t c2 = 0;
            if (i + 2 > end || line[i] != '\\' || line[i + 1] != 'u') return "an unpaired surrogate escape";
            i += 2;
            if (!hex4(c2) || c2 < 0xDC00 || c2 > 0xDFFF) return "an unpaired surrogate escape";
            c1 = 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00);
          } else if (c1 >= 0xDC00 && c1 <= 0xDFFF) {
            return "an unpaired surrogate escape";
          }
          put_utf8(c1, out);
          break;
        }
        default: return std::string("an unknown escape \\") + e;
      }
    }
  };
  skip_space();
  while (i < end) {
    names.emplace_back();
    if (std::string why = string(names.back()); !why.empty()) return why + " (a name)";
    skip_space();
    if (i >= end || line[i] != ':') return "':' was expected after a name";
    ++i;
    skip_space();
    values.emplace_back();
    if (i < end && line[i] == '"') {
      if (std::string why = string(values.back()); !why.empty()) return why;
    } else {
      const std::size_t start = i;
      while (i < end && line[i] != ',' && line[i] != ' ' && line[i] != '\t') ++i;
      values.back().assign(line.substr(start, i - start));
    }
    skip_space();
    if (i < end) {
      if (line[i] != ',') return "',' was expected between fields";
      ++i;
      skip_space();
    }
  }
  return {};
}

}  // namespace

class merger {
 public:
  merger(merge_result& result, std::size_t max_record_bytes) : result_(result), max_record_bytes_(max_record_bytes) {}

  void add(const std::string& path) {
    const std::string name = display_name(path);
    record_reader reader(path, name, max_record_bytes_);
    std::string_view record;
    do {
      if (!reader.next(record))
        throw error(error_kind::bad_value, "not an output of labcount count: no header", name, 0,
                    std::string("the input is empty; ") + count_output_hint);
      if (reader.line() == 1 && record.starts_with(utf8_bom)) record.remove_prefix(utf8_bom.size());
    } while (is_blank(record));

    const table_format format = format_of_header(record);
    std::uint64_t line = reader.line();
    bool first_object_is_a_row = false;
    bool json_array = false;  // then a ']' must close it
    if (format == table_format::csv) {
      parse(record, name, line);
    } else {
      reader.read_plain_lines();
      if (format == table_format::tsv) {
        split_tsv(record, owned_);
      } else {
        std::string_view first = trimmed(record);
        if (first == "[]") return expect_only_blank_lines(reader, name);  // an empty table: no header to match
        if (first == "[") {
          json_array = true;
          do {
            if (!reader.next(record))
              throw error(error_kind::bad_value, "the JSON array never closes (no ']')", name, line,
                          "the file was cut off? count writes '[', one object per line, then ']'");
          } while (is_blank(record));
          line = reader.line();
          if (trimmed(record) == "]") return expect_only_blank_lines(reader, name);
        }
        parse_json(record, name, line);
        owned_ = names_;  // the first object's names are the header; it is also the first row
        first_object_is_a_row = true;
      }
      set_fields_from_owned();
    }
    layout input_layout = parse_layout(fields_, record, name);
    if (first_name_.empty()) {
      first_name_ = name;
      layout_ = std::move(input_layout);
      result_.key_names_ = layout_.key_names;
      result_.per_file_ = layout_.per_file;
    } else {
      check_same_layout(layout_, first_name_, input_layout, name, line);
    }

    if (first_object_is_a_row) {
      owned_ = values_;
      set_fields_from_owned();
      add_row(name, line);
    }
    while (reader.next(record)) {
      if (is_blank(record)) continue;
      line = reader.line();
      switch (format) {
        case table_format::csv: parse(record, name, line); break;
        case table_format::tsv:
          split_tsv(record, owned_);
          set_fields_from_owned();
          break;
        case table_format::json:
          if (trimmed(record) == "]") return expect_only_blank_lines(reader, name);
          parse_json(record, name, line);
          if (names_ != layout_.columns)
            throw error(error_kind::bad_value,
                        "the object's fields differ from the first object's (" + join_columns(layout_.columns) + ")",
                        name, line, "merge reads the JSON that `labcount count --format json` writes, unchanged");
          owned_ = values_;
          set_fields_from_owned();
          break;
      }
      add_row(name, line);
    }
    if (json_array)
      throw error(error_kind::bad_value, "the JSON array never closes (no ']')", name, line,
                  "the file was cut off? count writes '[', one object per line, then ']'");
  }

 private:
  // The row in fields_: checked, and its count added to its (file, key).
  void add_row(const std::string& name, std::uint64_t line) {
    const std::size_t num_columns = layout_.columns.size();
    if (fields_.size() != num_columns)
      throw error(fields_.size() < num_columns ? error_kind::too_few_fields : error_kind::too_many_fields,
                  "expected " + std::to_string(num_columns) + " fields (" + join_columns(layout_.columns) +
                      "), found " + std::to_string(fields_.size()),
                  name, line,
                  "a key with a comma, quote or line break must be quoted, as count writes it; " +
                      std::string(count_output_hint));
    const std::uint64_t count = parse_count(fields_.back(), name, line);
    // The entry: [4-byte file code] + the key (its columns key_tuple-encoded when there are several).
    entry_.clear();
    const std::size_t first_key_column = result_.per_file_ ? 1 : 0;
    if (result_.per_file_) {
      const std::uint32_t file_code = result_.files_.encode(fields_[0]);
      entry_.assign(reinterpret_cast<const char*>(&file_code), sizeof file_code);
    }
    const std::size_t key_columns = num_columns - 1 - first_key_column;
    std::uint32_t code;
    if (key_columns == 1 && !result_.per_file_) {
      code = result_.entries_.encode(fields_[0]);
    } else {
      if (key_columns == 1)
        entry_.append(fields_[first_key_column]);  // one column: its bytes as they are
      else
        for (std::size_t k = 0; k < key_columns; ++k)
          key_tuple::append_part(entry_, fields_[first_key_column + k], k == 0);
      code = result_.entries_.encode(entry_);
    }
    if (code == result_.counts_.size()) result_.counts_.push_back(0);
    std::uint64_t& total = result_.counts_[code];
    if (count > std::numeric_limits<std::uint64_t>::max() - total)
      throw error(error_kind::bad_value,
                  "the total count of " +
                      (result_.per_file_ ? "file '" + printable(fields_[0], 80) + "', " : std::string()) + "key '" +
                      printable(fields_[result_.per_file_ ? 1 : 0], 80) +
                      (num_columns - (result_.per_file_ ? 1 : 0) > 2 ? ",...'" : "'") + " passes the largest count, " +
                      std::to_string(std::numeric_limits<std::uint64_t>::max()),
                  name, line, "are these really outputs of labcount count, each given once?");
    total += count;
    ++result_.rows_read_;
  }

  void set_fields_from_owned() {
    fields_.assign(owned_.begin(), owned_.end());
  }

  void parse_json(std::string_view record, const std::string& name, std::uint64_t line) {
    if (std::string why = parse_json_line(record, names_, values_); !why.empty())
      throw error(error_kind::bad_value, "not a row of count's JSON output: " + why, name, line,
                  "merge reads the JSON that `labcount count --format json` (or ndjson) writes: one object per line");
  }

  // After a JSON array's ']': nothing but blank lines.
  static void expect_only_blank_lines(record_reader& reader, const std::string& name) {
    std::string_view rest;
    while (reader.next(rest))
      if (!is_blank(rest) && !trimmed(rest).empty())
        throw error(error_kind::bad_value, "text after the end of the JSON array", name, reader.line(),
                    "merge reads one JSON table per file, as count writes it");
  }

  void parse(std::string_view record, const std::string& name, std::uint64_t line) {
    parse_record(record.data(), record.data() + record.size(), ',', scratch_);
    if (scratch_.problem != row_problem::none)
      throw error(error_kind_for(scratch_.problem), describe(scratch_.problem), name, line,
                  "count writes RFC 4180 CSV: a quoted field closes, and a quote inside it is doubled (\"\"); " +
                      std::string(count_output_hint));
    fields_ = scratch_.fields;
  }

  merge_result& result_;
  std::size_t max_record_bytes_;
  std::string first_name_;
  layout layout_;
  parsed_record scratch_;
  std::vector<std::string> owned_;  // TSV and JSON fields, unescaped
  std::vector<std::string> names_;  // JSON: the current object's names and values
  std::vector<std::string> values_;
  std::vector<std::string_view> fields_;  // the current record's fields (views into scratch_ or owned_)
  std::string entry_;
};

std::vector<count_row> merge_result::rows() const {
  std::vector<count_row> rows;
  rows.reserve(counts_.size());
  for (std::uint32_t code = 0; code < counts_.size(); ++code) {
    if (counts_[code] == 0) continue;
    std::string_view key = entries_.key(code);
    if (!per_file_) {
      rows.push_back({key, counts_[code]});
      continue;
    }
    std::uint32_t file_code;
    std::memcpy(&file_code, key.data(), sizeof file_code);
    key.remove_prefix(sizeof file_code);
    rows.push_back({key, counts_[code], files_.key(file_code)});
  }
  return rows;
}

merge_result merge_counts(const std::vector<std::string>& inputs, std::size_t max_record_bytes) {
  if (inputs.empty())
    throw error(error_kind::usage, "no inputs to merge", "", 0, "give the CSV outputs of labcount count to sum");
  if (std::count(inputs.begin(), inputs.end(), "-") > 1)
    throw error(error_kind::usage, "standard input (-) is given more than once", "", 0, "give - once");
  merge_result result;
  merger sum(result, max_record_bytes);
  for (const std::string& path : inputs) sum.add(path);
  return result;
}

}  // namespace labcount
