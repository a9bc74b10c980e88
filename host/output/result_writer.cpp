#include "output/result_writer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "util/errors.hpp"

namespace labcount {
namespace {

// The keys live scattered across the dictionary's storage, so the first touch of each one is a cache
// miss; the sort and the writers ask for keys a few rows ahead to overlap those misses.
inline void prefetch(const void* address) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

constexpr std::size_t prefetch_distance = 8;

// Byte order (std::string_view::compare is memcmp on unsigned bytes, shorter prefix first). Keys are
// distinct in a count result; the count tie-break only keeps the order total if they are not.
struct by_key {
  bool operator()(const count_row& a, const count_row& b) const noexcept {
    int c = a.key.compare(b.key);
    if (c != 0) return c < 0;
    return a.count > b.count;
  }
};

struct by_count_desc {
  bool operator()(const count_row& a, const count_row& b) const noexcept {
    if (a.count != b.count) return a.count > b.count;
    return a.key < b.key;
  }
};

// The sort behind order_rows: an MSD string sort on 8-byte chunks of the keys.
//
//   keys [S10 S2 S1] -> entries (chunk "S10", tail 3) (chunk "S2", tail 2) (chunk "S1", tail 2)
//   sort the entries by (chunk, tail)                 -> [S1 S10 S2]
//   a run with equal chunks whose keys go on (tail 9) -> sorted again on their next 8 bytes
//
// Comparing cached integers instead of strings is what makes 10 M rows fast: with the keys scattered in
// memory, a comparator that reads them takes a cache miss on nearly every call (std::sort makes ~n log n
// calls), while filling the chunks reads each key once per 8 bytes of common prefix.
struct sort_entry {
  // The key's 8 bytes from `depth` on, zero-padded, big-endian: integer order is byte order.
  std::uint64_t chunk;
  // Key bytes left from `depth`: 0..8 when the key ends within the chunk, 9 when it goes on. With equal
  // chunks the shorter key is a prefix of the longer one, so it sorts first; equal tails <= 8 mean
  // equal keys.
  std::uint32_t tail;
  std::uint32_t row;
};

constexpr std::uint32_t tail_goes_on = 9;

bool operator<(const sort_entry& a, const sort_entry& b) noexcept {
  if (a.chunk != b.chunk) return a.chunk < b.chunk;
  return a.tail < b.tail;
}

bool same_group(const sort_entry& a, const sort_entry& b) noexcept { return a.chunk == b.chunk && a.tail == b.tail; }

// (chunk, tail) as 9 digits, most significant first.
constexpr unsigned num_digits = 9;

unsigned digit_of(const sort_entry& entry, unsigned digit) noexcept {
  return digit < 8 ? static_cast<unsigned>(entry.chunk >> (56 - 8 * digit)) & 0xFF : entry.tail;
}

// In-place MSD radix sort (American flag sort) of entries by (chunk, tail), from `digit` on: the
// entries are 16 bytes and the sort touches no key, so each digit is two sequential passes.
void radix_sort(std::span<sort_entry> range, unsigned digit) {
  // Below this size the histogram costs more than it saves.
  constexpr std::size_t small_range = 64;
  for (; digit < num_digits; ++digit) {
    if (range.size() <= small_range) {
      std::sort(range.begin(), range.end());
      return;
    }
    std::array<std::size_t, 256> bucket_size{};
    for (const sort_entry& entry : range) ++bucket_size[digit_of(entry, digit)];
    if (bucket_size[digit_of(range[0], digit)] == range.size()) continue;  // one bucket: next digit

    std::array<std::size_t, 256> bucket_end{};
    std::array<std::size_t, 256> next{};
    std::size_t offset = 0;
    for (unsigned b = 0; b < 256; ++b) {
      next[b] = offset;
      offset += bucket_size[b];
      bucket_end[b] = offset;
    }
    // Swap each entry straight into its bucket; every swap puts at least one entry in place.
    for (unsigned b = 0; b < 256; ++b) {
      while (next[b] < bucket_end[b]) {
        sort_entry entry = range[next[b]];
        unsigned d = digit_of(entry, digit);
        while (d != b) {
          std::swap(entry, range[next[d]++]);
          d = digit_of(entry, digit);
        }
        range[next[b]++] = entry;
      }
    }
    for (unsigned b = 0; b < 256; ++b) {
      const std::size_t size = bucket_size[b];
      if (size > 1) radix_sort(range.subspan(bucket_end[b] - size, size), digit + 1);
    }
    return;
  }
}

void load_chunk(sort_entry& entry, std::string_view key, std::size_t depth) noexcept {
  const std::size_t left = key.size() - depth;
  const std::size_t take = left < 8 ? left : 8;
  unsigned char bytes[8] = {};
  std::memcpy(bytes, key.data() + depth, take);
  std::uint64_t chunk = 0;
  for (unsigned char b : bytes) chunk = chunk << 8 | b;
  entry.chunk = chunk;
  entry.tail = left > 8 ? tail_goes_on : static_cast<std::uint32_t>(left);
}

// Loads the chunks at `depth` for a range whose keys all share their first `depth` bytes; returns
// whether they all came out equal (then the range needs no sort at this depth).
bool load_chunks(std::span<sort_entry> range, std::span<const count_row> rows, std::size_t depth) noexcept {
  const std::size_t size = range.size();
  for (std::size_t i = 0; i < size; ++i) {
    if (i + 2 * prefetch_distance < size) prefetch(&rows[range[i + 2 * prefetch_distance].row]);
    if (i + prefetch_distance < size) prefetch(rows[range[i + prefetch_distance].row].key.data() + depth);
    load_chunk(range[i], rows[range[i].row].key, depth);
  }
  for (std::size_t i = 1; i < size; ++i)
    if (!same_group(range[i], range[0])) return false;
  return true;
}

struct pending_range {
  std::size_t begin;
  std::size_t end;
  std::size_t depth;  // every key in the range shares its first `depth` bytes
};

// Sorts each pending range of entries by the bytes of its keys from the range's depth on.
void sort_ranges_by_key(std::span<sort_entry> entries, std::span<const count_row> rows,
                        std::vector<pending_range>& pending) {
  // Below this size one comparator sort is cheaper than another round of chunk loading.
  constexpr std::size_t small_range = 16;
  auto by_count_of_row = [&](const sort_entry& a, const sort_entry& b) {
    return rows[a.row].count > rows[b.row].count;
  };
  while (!pending.empty()) {
    const pending_range next = pending.back();
    pending.pop_back();
    std::span<sort_entry> range = entries.subspan(next.begin, next.end - next.begin);
    if (range.size() <= small_range) {
      std::sort(range.begin(), range.end(),
                [&](const sort_entry& a, const sort_entry& b) { return by_key{}(rows[a.row], rows[b.row]); });
      continue;
    }
    if (load_chunks(range, rows, next.depth)) {
      if (range[0].tail == tail_goes_on)
        pending.push_back({next.begin, next.end, next.depth + 8});
      else
        std::sort(range.begin(), range.end(), by_count_of_row);  // duplicate keys
      continue;
    }
    radix_sort(range, 0);
    for (std::size_t run = 0; run < range.size();) {
      std::size_t run_end = run + 1;
      while (run_end < range.size() && same_group(range[run_end], range[run])) ++run_end;
      if (run_end - run > 1) {
        if (range[run].tail == tail_goes_on)
          pending.push_back({next.begin + run, next.begin + run_end, next.depth + 8});
        else
          std::sort(range.begin() + run, range.begin() + run_end, by_count_of_row);
      }
      run = run_end;
    }
  }
}

std::vector<sort_entry> sorted_entries(std::span<const count_row> rows, sort_order order) {
  std::vector<sort_entry> entries(rows.size());
  std::vector<pending_range> pending;
  if (order == sort_order::key) {
    for (std::size_t i = 0; i < rows.size(); ++i) entries[i].row = static_cast<std::uint32_t>(i);
    pending.push_back({0, rows.size(), 0});
  } else {
    // Descending count as an ascending integer, then each run of equal counts by key.
    constexpr std::uint64_t max_count = std::numeric_limits<std::uint64_t>::max();
    for (std::size_t i = 0; i < rows.size(); ++i)
      entries[i] = {max_count - rows[i].count, 0, static_cast<std::uint32_t>(i)};
    radix_sort(entries, 0);
    for (std::size_t run = 0; run < entries.size();) {
      std::size_t run_end = run + 1;
      while (run_end < entries.size() && entries[run_end].chunk == entries[run].chunk) ++run_end;
      if (run_end - run > 1) pending.push_back({run, run_end, 0});
      run = run_end;
    }
  }
  sort_ranges_by_key(entries, rows, pending);
  return entries;
}

// The orders with a file column. Only the top selection compares strings; the sorts reuse the per-key
// sort above, so per-file results sort as fast as plain ones.
struct by_file_key {
  bool operator()(const count_row& a, const count_row& b) const noexcept {
    if (int c = a.file.compare(b.file); c != 0) return c < 0;
    return by_key{}(a, b);
  }
};

struct by_count_desc_file_key {
  bool operator()(const count_row& a, const count_row& b) const noexcept {
    if (a.count != b.count) return a.count > b.count;
    if (int c = a.file.compare(b.file); c != 0) return c < 0;
    return a.key < b.key;
  }
};

// A stable LSD radix sort of entries by chunk, one byte at a time, skipping the bytes that all chunks
// share (counts are mostly small, so usually one or two passes).
void stable_sort_by_chunk(std::vector<sort_entry>& entries) {
  if (entries.empty()) return;
  std::array<std::array<std::size_t, 256>, 8> bucket_size{};
  for (const sort_entry& entry : entries)
    for (unsigned byte = 0; byte < 8; ++byte) ++bucket_size[byte][(entry.chunk >> (8 * byte)) & 0xFF];
  std::vector<sort_entry> buffer(entries.size());
  for (unsigned byte = 0; byte < 8; ++byte) {
    const unsigned shift = 8 * byte;
    if (bucket_size[byte][(entries[0].chunk >> shift) & 0xFF] == entries.size()) continue;
    std::array<std::size_t, 256> next{};
    std::size_t offset = 0;
    for (unsigned b = 0; b < 256; ++b) {
      next[b] = offset;
      offset += bucket_size[byte][b];
    }
    for (const sort_entry& entry : entries) buffer[next[(entry.chunk >> shift) & 0xFF]++] = entry;
    entries.swap(buffer);
  }
}

// The entries of rows with a file column, in (file, key) or (count, file, key) order:
//
//   [(b,S1,1) (a,S2,5) (a,S1,1)] -> bucket by file: a [S2 S1], b [S1] -> each by key: [(a,S1) (a,S2) (b,S1)]
//   --sort count: then stable by descending count                    -> [(a,S2,5) (a,S1,1) (b,S1,1)]
//
// The files are few (one per input): rank them by their bytes, bucket the rows by that rank with a
// counting sort, and sort each bucket with the per-key sort above. Only the ranking compares strings.
std::vector<sort_entry> sorted_entries_with_file(std::span<const count_row> rows, sort_order order) {
  // The rows of one file usually share one string, so the map is consulted only when the file changes.
  std::vector<std::string_view> files;
  std::unordered_map<std::string_view, std::uint32_t> index_of_file;
  std::vector<std::uint32_t> file_of_row(rows.size());
  std::string_view last_file;
  std::uint32_t last_index = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string_view file = rows[i].file;
    if (i == 0 || file.data() != last_file.data() || file.size() != last_file.size()) {
      const auto [at, inserted] = index_of_file.try_emplace(file, static_cast<std::uint32_t>(files.size()));
      if (inserted) files.push_back(file);
      last_file = file;
      last_index = at->second;
    }
    file_of_row[i] = last_index;
  }
  std::vector<std::uint32_t> by_bytes(files.size());
  std::iota(by_bytes.begin(), by_bytes.end(), 0u);
  std::sort(by_bytes.begin(), by_bytes.end(), [&](std::uint32_t a, std::uint32_t b) { return files[a] < files[b]; });
  std::vector<std::uint32_t> rank(files.size());
  for (std::uint32_t r = 0; r < by_bytes.size(); ++r) rank[by_bytes[r]] = r;
  for (std::uint32_t& file : file_of_row) file = rank[file];

  std::vector<std::size_t> bucket_begin(files.size() + 1, 0);
  for (std::uint32_t file : file_of_row) ++bucket_begin[file + 1];
  std::partial_sum(bucket_begin.begin(), bucket_begin.end(), bucket_begin.begin());
  std::vector<std::size_t> next(bucket_begin.begin(), bucket_begin.end() - 1);
  std::vector<sort_entry> entries(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) entries[next[file_of_row[i]]++].row = static_cast<std::uint32_t>(i);
  std::vector<pending_range> pending;
  for (std::size_t bucket = 0; bucket < files.size(); ++bucket)
    if (bucket_begin[bucket + 1] - bucket_begin[bucket] > 1)
      pending.push_back({bucket_begin[bucket], bucket_begin[bucket + 1], 0});
  sort_ranges_by_key(entries, rows, pending);
  if (order == sort_order::key) return entries;

  constexpr std::uint64_t max_count = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i + prefetch_distance < entries.size()) prefetch(&rows[entries[i + prefetch_distance].row]);
    entries[i].chunk = max_count - rows[entries[i].row].count;
  }
  stable_sort_by_chunk(entries);
  return entries;
}

template <class Compare>
void select_top(std::vector<count_row>& rows, std::uint64_t top, Compare compare) {
  // O(n) selection; only the `top` survivors are then sorted.
  auto middle = rows.begin() + static_cast<std::ptrdiff_t>(top);
  std::nth_element(rows.begin(), middle, rows.end(), compare);
  rows.resize(static_cast<std::size_t>(top));
}

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

//   SampleID,count        SampleID<TAB>count        file,SampleID,count (WithFile)
//   S1,4                  S1<TAB>4                  a.csv,S1,4
template <char Separator, auto PutField, auto MaxFieldBytes, bool WithFile>
void write_separated(output_file& out, std::span<const count_row> rows, std::string_view key_name) {
  chunked_writer writer(out);
  char* cursor = writer.reserve(MaxFieldBytes(key_name.size()) + 12);
  if constexpr (WithFile) {
    cursor = put(cursor, "file");
    *cursor++ = Separator;
  }
  cursor = PutField(cursor, key_name);
  *cursor++ = Separator;
  writer.advance(put(cursor, "count\n"));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + prefetch_distance < rows.size()) prefetch(rows[i + prefetch_distance].key.data());
    const count_row& row = rows[i];
    if constexpr (WithFile) {
      cursor = writer.reserve(MaxFieldBytes(row.file.size()) + MaxFieldBytes(row.key.size()) + max_count_digits + 3);
      cursor = PutField(cursor, row.file);
      *cursor++ = Separator;
    } else {
      cursor = writer.reserve(MaxFieldBytes(row.key.size()) + max_count_digits + 2);
    }
    cursor = PutField(cursor, row.key);
    *cursor++ = Separator;
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
template <bool WithFile>
void write_json(output_file& out, std::span<const count_row> rows, std::string_view key_name) {
  chunked_writer writer(out);
  if (rows.empty()) {
    writer.append("[]\n");
    writer.flush();
    return;
  }
  constexpr std::string_view file_start = "{\"file\":";
  // '{' opens the object unless the file field came first; then a ',' separates the two.
  std::string key_start(json_max_bytes(key_name.size()) + 2, '\0');
  char* end = key_start.data();
  *end++ = WithFile ? ',' : '{';
  end = put_json_string(end, key_name);
  *end++ = ':';
  key_start.resize(static_cast<std::size_t>(end - key_start.data()));
  constexpr std::string_view count_name = ",\"count\":";

  writer.append("[");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + prefetch_distance < rows.size()) prefetch(rows[i + prefetch_distance].key.data());
    const count_row& row = rows[i];
    const std::size_t file_bytes = WithFile ? file_start.size() + json_max_bytes(row.file.size()) : 0;
    char* cursor = writer.reserve(2 + file_bytes + key_start.size() + json_max_bytes(row.key.size()) +
                                  count_name.size() + max_count_digits + 1);
    cursor = put(cursor, i == 0 ? "\n" : ",\n");
    if constexpr (WithFile) {
      cursor = put(cursor, file_start);
      cursor = put_json_string(cursor, row.file);
    }
    cursor = put(cursor, key_start);
    cursor = put_json_string(cursor, row.key);
    cursor = put(cursor, count_name);
    cursor = put_count(cursor, row.count);
    *cursor++ = '}';
    writer.advance(cursor);
  }
  writer.append("\n]\n");
  writer.flush();
}

}  // namespace

void order_rows(std::vector<count_row>& rows, const output_options& options) {
  LABCOUNT_EXPECTS(rows.size() <= std::numeric_limits<std::uint32_t>::max(), "order_rows indexes rows with 32 bits");
  if (options.top != 0 && options.top < rows.size()) {
    if (options.with_file_column && options.order == sort_order::key)
      select_top(rows, options.top, by_file_key{});
    else if (options.with_file_column)
      select_top(rows, options.top, by_count_desc_file_key{});
    else if (options.order == sort_order::key)
      select_top(rows, options.top, by_key{});
    else
      select_top(rows, options.top, by_count_desc{});
  }
  const std::vector<sort_entry> entries =
      options.with_file_column ? sorted_entries_with_file(rows, options.order) : sorted_entries(rows, options.order);
  // A gather into a second vector, not an in-place cycle walk: the gather's loads are independent, so
  // prefetching overlaps their cache misses, where a cycle walk waits for each miss in turn (3x slower).
  std::vector<count_row> sorted(rows.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i + prefetch_distance < entries.size()) prefetch(&rows[entries[i + prefetch_distance].row]);
    sorted[i] = rows[entries[i].row];
  }
  rows = std::move(sorted);
}

std::vector<std::uint32_t> output_order(std::span<const count_row> rows, sort_order order) {
  LABCOUNT_EXPECTS(rows.size() <= std::numeric_limits<std::uint32_t>::max(), "output_order indexes rows with 32 bits");
  const std::vector<sort_entry> entries = sorted_entries(rows, order);
  std::vector<std::uint32_t> indices(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) indices[i] = entries[i].row;
  return indices;
}

void write_rows(output_file& out, std::span<const count_row> rows, const output_options& options) {
  const bool with_file = options.with_file_column;
  switch (options.format) {
    case output_format::csv:
      if (with_file)
        write_separated<',', put_csv_field, csv_max_bytes, true>(out, rows, options.key_name);
      else
        write_separated<',', put_csv_field, csv_max_bytes, false>(out, rows, options.key_name);
      return;
    case output_format::tsv:
      if (with_file)
        write_separated<'\t', put_tsv_field, tsv_max_bytes, true>(out, rows, options.key_name);
      else
        write_separated<'\t', put_tsv_field, tsv_max_bytes, false>(out, rows, options.key_name);
      return;
    case output_format::json:
      if (with_file)
        write_json<true>(out, rows, options.key_name);
      else
        write_json<false>(out, rows, options.key_name);
      return;
  }
  LABCOUNT_EXPECTS(false, "unknown output_format");
}

void write_table(output_file& out, std::span<const std::string_view> header, std::size_t num_rows,
                 const std::function<void(std::size_t, std::vector<table_cell>&)>& fill, output_format format) {
  chunked_writer writer(out);
  std::vector<table_cell> cells;
  if (format == output_format::json) {
    if (num_rows == 0) {
      writer.append("[]\n");
      writer.flush();
      return;
    }
    writer.append("[");
    for (std::size_t row = 0; row < num_rows; ++row) {
      cells.assign(header.size(), table_cell{});
      fill(row, cells);
      std::size_t bytes = 4;
      for (std::size_t c = 0; c < header.size(); ++c)
        bytes += json_max_bytes(header[c].size()) + json_max_bytes(cells[c].text.size()) + 2;
      char* cursor = writer.reserve(bytes);
      cursor = put(cursor, row == 0 ? "\n{" : ",\n{");
      for (std::size_t c = 0; c < header.size(); ++c) {
        if (c != 0) *cursor++ = ',';
        cursor = put_json_string(cursor, header[c]);
        *cursor++ = ':';
        cursor = cells[c].number ? put(cursor, cells[c].text) : put_json_string(cursor, cells[c].text);
      }
      *cursor++ = '}';
      writer.advance(cursor);
    }
    writer.append("\n]\n");
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
  }
  return "?";
}

std::string_view to_string(sort_order order) noexcept {
  switch (order) {
    case sort_order::key: return "key";
    case sort_order::count: return "count";
  }
  return "?";
}

std::string json_quoted(std::string_view text) {
  std::string out(json_max_bytes(text.size()), '\0');
  out.resize(static_cast<std::size_t>(put_json_string(out.data(), text) - out.data()));
  return out;
}

}  // namespace labcount
