#include "output/row_order.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "util/bytes.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

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
    if (i + 2 * bytes::prefetch_distance < size) bytes::prefetch(&rows[range[i + 2 * bytes::prefetch_distance].row]);
    if (i + bytes::prefetch_distance < size)
      bytes::prefetch(rows[range[i + bytes::prefetch_distance].row].key.data() + depth);
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
    if (i + bytes::prefetch_distance < entries.size())
      bytes::prefetch(&rows[entries[i + bytes::prefetch_distance].row]);
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
    if (i + bytes::prefetch_distance < entries.size())
      bytes::prefetch(&rows[entries[i + bytes::prefetch_distance].row]);
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

std::string_view to_string(sort_order order) noexcept {
  switch (order) {
    case sort_order::key: return "key";
    case sort_order::count: return "count";
  }
  return "?";
}

}  // namespace labcount
