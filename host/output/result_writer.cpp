#include "output/result_writer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>

#include "csv/key_tuple.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// Collects formatted bytes and hands them to the output_file about 1 MB at a time, so that a large
// result costs one write per megabyte rather than several per row. Formatting goes straight into the
// buffer through a pointer: reserve() room for the worst case of one row, write, then advance().
class chunked_writer {
 public:
  static constexpr std::size_t flush_bytes = std::size_t{1} << 20;

  explicit chunked_writer(output_file& out)
      : out_(out), capacity_(2 * flush_bytes), buffer_(std::make_unique_for_overwrite<char[]>(capacity_)) {}

  char* reserve(std::size_t max_bytes) {
    if (used_ + max_bytes > capacity_) {
      flush();
      if (max_bytes > capacity_) {
        capacity_ = max_bytes;
        buffer_ = std::make_unique_for_overwrite<char[]>(capacity_);
      }
    }
    return buffer_.get() + used_;
  }

  void advance(char* end) {
    used_ = static_cast<std::size_t>(end - buffer_.get());
    if (used_ >= flush_bytes) flush();
  }

  void append(std::string_view bytes) {
    char* out = reserve(bytes.size());
    std::memcpy(out, bytes.data(), bytes.size());
    advance(out + bytes.size());
  }

  void flush() {
    out_.write(std::string_view(buffer_.get(), used_));
    used_ = 0;
  }

 private:
  output_file& out_;
  std::size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  std::size_t used_ = 0;
};

constexpr std::size_t max_count_digits = std::numeric_limits<std::uint64_t>::digits10 + 1;

char* put(char* out, std::string_view bytes) noexcept {
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

char* put_count(char* out, std::uint64_t count) noexcept {
  return std::to_chars(out, out + max_count_digits, count).ptr;
}

// A table lookup per byte: the scanners below test one byte at a time against a set of specials.
using byte_set = std::array<bool, 256>;

constexpr byte_set make_byte_set(std::string_view bytes) {
  byte_set set{};
  for (char c : bytes) set[static_cast<unsigned char>(c)] = true;
  return set;
}

constexpr byte_set csv_specials = make_byte_set(",\"\r\n");

// RFC 4180. Quoted when unquoted text would not read back byte exact: separators, quotes and line
// breaks; leading/trailing spaces, which many CSV readers trim; and the empty key, which would
// otherwise be an empty field that some readers take for a blank line.
bool csv_needs_quotes(std::string_view field) noexcept {
  if (field.empty() || field.front() == ' ' || field.back() == ' ') return true;
  for (char c : field)
    if (csv_specials[static_cast<unsigned char>(c)]) return true;
  return false;
}

constexpr std::size_t csv_max_bytes(std::size_t field_size) { return 2 * field_size + 2; }

char* put_csv_field(char* out, std::string_view field) noexcept {
  if (!csv_needs_quotes(field)) return put(out, field);
  *out++ = '"';
  for (char c : field) {
    if (c == '"') *out++ = '"';
    *out++ = c;
  }
  *out++ = '"';
  return out;
}

// TSV has no quoting, so a field cannot hold a tab or a line break. We follow the "linear TSV"
// convention: backslash, tab, LF and CR are written as the two-character escapes \\ \t \n \r, and
// every other byte (UTF-8 included) as is. Readers that know the convention undo the escapes; keys
// without those four bytes come out unchanged for every reader.
constexpr byte_set tsv_specials = make_byte_set("\\\t\n\r");

constexpr std::size_t tsv_max_bytes(std::size_t field_size) { return 2 * field_size; }

char* put_tsv_field(char* out, std::string_view field) noexcept {
  for (char c : field) {
    if (!tsv_specials[static_cast<unsigned char>(c)]) {
      *out++ = c;
      continue;
    }
    *out++ = '\\';
    switch (c) {
      case '\\': *out++ = '\\'; break;
      case '\t': *out++ = 't'; break;
      case '\n': *out++ = 'n'; break;
      default: *out++ = 'r'; break;
    }
  }
  return out;
}

// Length of the well-formed UTF-8 sequence at text[i] (a byte >= 0x80), or 0 if there is none.
// Well-formed per Unicode table 3-7: no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no surrogates
// (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no stray or missing continuation bytes.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  auto in = [](unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; };
  const std::size_t left = text.size() - i;
  const unsigned char lead = byte(i);
  if (in(lead, 0xC2, 0xDF)) return left >= 2 && in(byte(i + 1), 0x80, 0xBF) ? 2 : 0;
  if (in(lead, 0xE0, 0xEF)) {
    if (left < 3) return 0;
    const unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = lead == 0xED ? 0x9F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(lead, 0xF0, 0xF4)) {
    if (left < 4) return 0;
    const unsigned char lo = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = lead == 0xF4 ? 0x8F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) && in(byte(i + 3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// Bytes that end a plain run in a JSON string: controls, quote, backslash, and non-ASCII (validated).
constexpr byte_set json_specials = [] {
  byte_set set{};
  for (int c = 0; c < 0x20; ++c) set[c] = true;
  for (int c = 0x80; c < 0x100; ++c) set[c] = true;
  set['"'] = true;
  set['\\'] = true;
  return set;
}();

// Quotes plus the longest escape of one byte, \u00XX.
constexpr std::size_t json_max_bytes(std::size_t text_size) { return 6 * text_size + 2; }

// RFC 8259 string literal, quotes included. Valid UTF-8 passes through unchanged; each byte that is
// not part of a well-formed sequence becomes U+FFFD, so the output is always valid JSON and UTF-8.
char* put_json_string(char* out, std::string_view text) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  *out++ = '"';
  std::size_t run_start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!json_specials[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (std::size_t length = utf8_sequence_length(text, i); length != 0) {
        i += length;  // well-formed: part of the run, copied as is
        continue;
      }
    }
    out = put(out, text.substr(run_start, i - run_start));
    switch (c) {
      case '"': out = put(out, "\\\""); break;
      case '\\': out = put(out, "\\\\"); break;
      case '\b': out = put(out, "\\b"); break;
      case '\f': out = put(out, "\\f"); break;
      case '\n': out = put(out, "\\n"); break;
      case '\r': out = put(out, "\\r"); break;
      case '\t': out = put(out, "\\t"); break;
      default:
        if (c < 0x20) {
          const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
          out = put(out, std::string_view(escape, sizeof escape));
        } else {
          out = put(out, "\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
        }
    }
    ++i;
    run_start = i;
  }
  out = put(out, text.substr(run_start));
  *out++ = '"';
  return out;
}

// The rows a writer reads, in output order: count_row values here, or an ordered_table (row_order.hpp).
// row(i) is a count_row either way; prefetch_ahead(i) starts loading what the rows after i need.
struct row_list {
  std::span<const count_row> rows;
  std::size_t size() const noexcept { return rows.size(); }
  const count_row& row(std::size_t i) const noexcept { return rows[i]; }
  void prefetch_ahead(std::size_t i) const noexcept {
    if (i + bytes::prefetch_distance < rows.size()) bytes::prefetch(rows[i + bytes::prefetch_distance].key.data());
  }
};

// The columns of a composite key: key_tuple::split, checked (a key the pipeline or merge encoded).
class key_splitter {
 public:
  explicit key_splitter(std::size_t num_parts) : num_parts_(num_parts) {}
  std::size_t num_parts() const noexcept { return num_parts_; }
  const std::vector<std::string_view>& operator()(std::string_view key) {
    const bool ok = key_tuple::split(key, num_parts_, parts_, scratch_);
    LABCOUNT_EXPECTS(ok, "a composite key of as many parts as the key has columns");
    return parts_;
  }

 private:
  std::size_t num_parts_;
  std::vector<std::string_view> parts_;
  std::string scratch_;
};

//   SampleID,count        SampleID<TAB>count        file,SampleID,count (WithFile)    SampleID,Assay,count
//   S1,4                  S1<TAB>4                  a.csv,S1,4                        S1,A,4
template <char Separator, auto PutField, auto MaxFieldBytes, bool WithFile, class Rows>
void write_separated(output_file& out, const Rows& rows, const std::vector<std::string>& key_names) {
  chunked_writer writer(out);
  if constexpr (WithFile) writer.append(std::string("file") + Separator);
  for (const auto& name : key_names) {
    char* cursor = writer.reserve(MaxFieldBytes(name.size()) + 1);
    cursor = PutField(cursor, name);
    *cursor++ = Separator;
    writer.advance(cursor);
  }
  writer.append("count\n");
  key_splitter split(key_names.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows.prefetch_ahead(i);
    const count_row& row = rows.row(i);
    // Split keys take at most 3 bytes more per column than the key's bytes (quotes, separator).
    const std::size_t key_bytes = MaxFieldBytes(row.key.size()) + 3 * split.num_parts();
    char* cursor;
    if constexpr (WithFile) {
      cursor = writer.reserve(MaxFieldBytes(row.file.size()) + key_bytes + max_count_digits + 3);
      cursor = PutField(cursor, row.file);
      *cursor++ = Separator;
    } else {
      cursor = writer.reserve(key_bytes + max_count_digits + 2);
    }
    if (split.num_parts() == 1) {
      cursor = PutField(cursor, row.key);
      *cursor++ = Separator;
    } else {
      for (const std::string_view part : split(row.key)) {
        cursor = PutField(cursor, part);
        *cursor++ = Separator;
      }
    }
    cursor = put_count(cursor, row.count);
    *cursor++ = '\n';
    writer.advance(cursor);
  }
  writer.flush();
}

//   [
//   {"SampleID":"S1","count":4},
//   {"SampleID":"S2","count":1}
//   ]
// One object per line: one JSON document that is still easy to grep, diff and stream. WithFile puts
// the file first: {"file":"a.csv","SampleID":"S1","count":4}.
// NDJSON (Lines): the same objects, each on a line of its own, without the array around them.
template <bool WithFile, class Rows>
void write_json(output_file& out, const Rows& rows, const std::vector<std::string>& key_names, bool lines) {
  chunked_writer writer(out);
  if (rows.size() == 0) {
    if (!lines) writer.append("[]\n");
    writer.flush();
    return;
  }
  constexpr std::string_view file_start = "{\"file\":";
  // Each key column's `"Name":`: '{' opens the object before the first unless the file field came first;
  // a ',' separates the others.
  std::vector<std::string> key_starts;
  std::size_t key_starts_bytes = 0;
  for (std::size_t part = 0; part < key_names.size(); ++part) {
    std::string start(json_max_bytes(key_names[part].size()) + 2, '\0');
    char* end = start.data();
    *end++ = part == 0 && !WithFile ? '{' : ',';
    end = put_json_string(end, key_names[part]);
    *end++ = ':';
    start.resize(static_cast<std::size_t>(end - start.data()));
    key_starts_bytes += start.size();
    key_starts.push_back(std::move(start));
  }
  constexpr std::string_view count_name = ",\"count\":";
  key_splitter split(key_names.size());

  if (!lines) writer.append("[");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows.prefetch_ahead(i);
    const count_row& row = rows.row(i);
    const std::size_t file_bytes = WithFile ? file_start.size() + json_max_bytes(row.file.size()) : 0;
    // A split key's parts take at most 2 quotes each beyond json_max_bytes of the key's bytes.
    char* cursor = writer.reserve(2 + file_bytes + key_starts_bytes + json_max_bytes(row.key.size()) +
                                  2 * split.num_parts() + count_name.size() + max_count_digits + 1);
    cursor = put(cursor, lines ? (i == 0 ? "" : "\n") : (i == 0 ? "\n" : ",\n"));
    if constexpr (WithFile) {
      cursor = put(cursor, file_start);
      cursor = put_json_string(cursor, row.file);
    }
    if (split.num_parts() == 1) {
      cursor = put(cursor, key_starts[0]);
      cursor = put_json_string(cursor, row.key);
    } else {
      const std::vector<std::string_view>& parts = split(row.key);
      for (std::size_t part = 0; part < parts.size(); ++part) {
        cursor = put(cursor, key_starts[part]);
        cursor = put_json_string(cursor, parts[part]);
      }
    }
    cursor = put(cursor, count_name);
    cursor = put_count(cursor, row.count);
    *cursor++ = '}';
    writer.advance(cursor);
  }
  writer.append(lines ? "\n" : "\n]\n");
  writer.flush();
}

template <class Rows>
void write_rows_of(output_file& out, const Rows& rows, const output_options& options) {
  const bool with_file = options.with_file_column;
  switch (options.format) {
    case output_format::csv:
      if (with_file)
        write_separated<',', put_csv_field, csv_max_bytes, true>(out, rows, options.key_names);
      else
        write_separated<',', put_csv_field, csv_max_bytes, false>(out, rows, options.key_names);
      return;
    case output_format::tsv:
      if (with_file)
        write_separated<'\t', put_tsv_field, tsv_max_bytes, true>(out, rows, options.key_names);
      else
        write_separated<'\t', put_tsv_field, tsv_max_bytes, false>(out, rows, options.key_names);
      return;
    case output_format::json:
    case output_format::ndjson: {
      const bool lines = options.format == output_format::ndjson;
      if (with_file)
        write_json<true>(out, rows, options.key_names, lines);
      else
        write_json<false>(out, rows, options.key_names, lines);
      return;
    }
  }
  LABCOUNT_EXPECTS(false, "unknown output_format");
}

}  // namespace

void write_rows(output_file& out, std::span<const count_row> rows, const output_options& options) {
  write_rows_of(out, row_list{rows}, options);
}

void write_rows(output_file& out, const ordered_table& table, const output_options& options) {
  LABCOUNT_EXPECTS(!options.with_file_column, "an ordered_table has no file column");
  write_rows_of(out, table, options);
}

void write_table(output_file& out, std::span<const std::string_view> header, std::size_t num_rows,
                 const std::function<void(std::size_t, std::vector<table_cell>&)>& fill, output_format format) {
  chunked_writer writer(out);
  std::vector<table_cell> cells;
  if (format == output_format::json || format == output_format::ndjson) {
    const bool lines = format == output_format::ndjson;
    if (num_rows == 0) {
      if (!lines) writer.append("[]\n");
      writer.flush();
      return;
    }
    if (!lines) writer.append("[");
    for (std::size_t row = 0; row < num_rows; ++row) {
      cells.assign(header.size(), table_cell{});
      fill(row, cells);
      std::size_t bytes = 4;
      for (std::size_t c = 0; c < header.size(); ++c)
        bytes += json_max_bytes(header[c].size()) + json_max_bytes(cells[c].text.size()) + 2;
      char* cursor = writer.reserve(bytes);
      cursor = put(cursor, lines ? (row == 0 ? "{" : "\n{") : (row == 0 ? "\n{" : ",\n{"));
      for (std::size_t c = 0; c < header.size(); ++c) {
        if (c != 0) *cursor++ = ',';
        cursor = put_json_string(cursor, header[c]);
        *cursor++ = ':';
        cursor = cells[c].number ? put(cursor, cells[c].text) : put_json_string(cursor, cells[c].text);
      }
      *cursor++ = '}';
      writer.advance(cursor);
    }
    writer.append(lines ? "\n" : "\n]\n");
    writer.flush();
    return;
  }
  const bool csv = format == output_format::csv;
  const char separator = csv ? ',' : '\t';
  auto put_field = [csv](char* cursor, std::string_view text) {
    return csv ? put_csv_field(cursor, text) : put_tsv_field(cursor, text);
  };
  auto max_bytes = [csv](std::size_t size) { return csv ? csv_max_bytes(size) : tsv_max_bytes(size); };
  auto put_line = [&](const std::vector<table_cell>& line) {
    std::size_t bytes = 1;
    for (const auto& cell : line) bytes += max_bytes(cell.text.size()) + 1;
    char* cursor = writer.reserve(bytes);
    for (std::size_t c = 0; c < line.size(); ++c) {
      if (c != 0) *cursor++ = separator;
      cursor = line[c].number ? put(cursor, line[c].text) : put_field(cursor, line[c].text);
    }
    *cursor++ = '\n';
    writer.advance(cursor);
  };
  cells.clear();
  for (auto name : header) cells.push_back({name, false});
  put_line(cells);
  for (std::size_t row = 0; row < num_rows; ++row) {
    cells.assign(header.size(), table_cell{});
    fill(row, cells);
    put_line(cells);
  }
  writer.flush();
}

std::string_view to_string(output_format format) noexcept {
  switch (format) {
    case output_format::csv: return "csv";
    case output_format::tsv: return "tsv";
    case output_format::json: return "json";
    case output_format::ndjson: return "ndjson";
  }
  return "?";
}

std::string json_quoted(std::string_view text) {
  std::string out(json_max_bytes(text.size()), '\0');
  out.resize(static_cast<std::size_t>(put_json_string(out.data(), text) - out.data()));
  return out;
}

}  // namespace labcount
