#include "output/row_order.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "csv/key_tuple.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

// What the sort reads of the rows it orders: row i's key and count, and a prefetch of both. Two kinds
// of rows are ordered: count_row values (merge, --per-file, the --stats/--per tables) and a count
// table straight from its dictionary (codes[i] is row i), which saves building 10 M count_rows.
struct row_values {
  std::span<const count_row> rows;
  std::size_t size() const noexcept { return rows.size(); }
  std::string_view key(std::uint32_t i) const noexcept { return rows[i].key; }
  std::uint64_t count(std::uint32_t i) const noexcept { return rows[i].count; }
  void prefetch_row(std::uint32_t i) const noexcept { bytes::prefetch(&rows[i]); }
};

struct dictionary_rows {
  const key_dictionary& dictionary;
  std::span<const std::uint64_t> counts;
  std::span<const std::uint32_t> codes;
  std::size_t size() const noexcept { return codes.size(); }
  std::string_view key(std::uint32_t i) const noexcept { return dictionary.key(codes[i]); }
  std::uint64_t count(std::uint32_t i) const noexcept { return counts[codes[i]]; }
  void prefetch_row(std::uint32_t i) const noexcept { dictionary.prefetch(codes[i]); }
};

// The sort behind every order: an MSD radix sort on 16-byte chunks of the keys.
//
//   keys [S10 S2 S1] -> entries ("S10", tail 3) ("S2", tail 2) ("S1", tail 2)
//   radix sort the entries by (chunk, tail)            -> [S1 S10 S2]
//   a run with equal chunks whose keys go on (tail 17) -> sorted again on their next 16 bytes
//
// Sorting the bytes held in the entries instead of comparing strings is what makes 10 M rows fast: the
// keys lie scattered in memory (in first-seen order), so a comparator that reads them misses the cache
// on nearly every call, while loading the chunks reads each key once per 16 bytes of common prefix
// (once, for keys up to 16 bytes), in the order the rows come.

// Word w (0, 1) of an entry's bytes as a big-endian integer: integer order is byte order.
std::uint64_t word(const sort_entry& entry, unsigned w) noexcept {
  return __builtin_bswap64(bytes::load<std::uint64_t>(entry.bytes + 8 * w));
}

bool entry_less(const sort_entry& a, const sort_entry& b) noexcept {
  if (const std::uint64_t x = word(a, 0), y = word(b, 0); x != y) return x < y;
  if (const std::uint64_t x = word(a, 1), y = word(b, 1); x != y) return x < y;
  return a.tail < b.tail;
}

bool same_group(const sort_entry& a, const sort_entry& b) noexcept {
  return a.tail == b.tail && bytes::equal(a.bytes, b.bytes, sizeof a.bytes);
}

// (bytes, tail) as 17 digits, most significant first.
constexpr unsigned num_digits = sizeof(sort_entry::bytes) + 1;

unsigned digit_of(const sort_entry& entry, unsigned digit) noexcept {
  return digit < sizeof entry.bytes ? static_cast<unsigned char>(entry.bytes[digit]) : entry.tail & 0xFF;
}

// The first digit from `digit` on where the entries of `range` (not empty) differ, or num_digits: one
// pass that skips every shared digit at once (the "S000" of "S00012345").
unsigned first_varying_digit(std::span<const sort_entry> range, unsigned digit) noexcept {
  const std::uint64_t w0 = word(range[0], 0);
  const std::uint64_t w1 = word(range[0], 1);
  const std::uint32_t tail = range[0].tail;
  std::uint64_t differ0 = 0;
  std::uint64_t differ1 = 0;
  std::uint32_t differ_tail = 0;
  for (const sort_entry& entry : range) {
    differ0 |= word(entry, 0) ^ w0;
    differ1 |= word(entry, 1) ^ w1;
    differ_tail |= entry.tail ^ tail;
  }
  unsigned first = num_digits;
  if (differ0 != 0)
    first = static_cast<unsigned>(__builtin_clzll(differ0)) / 8;
  else if (differ1 != 0)
    first = 8 + static_cast<unsigned>(__builtin_clzll(differ1)) / 8;
  else if (differ_tail != 0)
    first = num_digits - 1;
  return first < digit ? digit : first;
}

// MSD radix sort of `from` by (bytes, tail), from `digit` on, through `other` (as large): each digit
// is a histogram pass and a scatter into the other buffer, both sequential, and the buckets go on from
// there, so the buffers swap roles at every level. The sorted entries end in `other` when
// result_in_other, else in `from`.
void radix_sort(std::span<sort_entry> from, std::span<sort_entry> other, unsigned digit, bool result_in_other) {
  // Below this size the histogram costs more than it saves.
  constexpr std::size_t small_range = 48;
  if (from.size() > small_range) digit = first_varying_digit(from, digit);
  if (digit < num_digits && from.size() > small_range) {
    std::array<std::size_t, 256> bucket_size{};
    for (const sort_entry& entry : from) ++bucket_size[digit_of(entry, digit)];

    std::array<std::size_t, 256> next;
    std::size_t offset = 0;
    for (unsigned b = 0; b < 256; ++b) {
      next[b] = offset;
      offset += bucket_size[b];
    }
    for (const sort_entry& entry : from) other[next[digit_of(entry, digit)]++] = entry;
    offset = 0;
    for (unsigned b = 0; b < 256; ++b) {
      const std::size_t size = bucket_size[b];
      if (size > 1)
        radix_sort(other.subspan(offset, size), from.subspan(offset, size), digit + 1, !result_in_other);
      else if (size == 1 && !result_in_other)
        from[offset] = other[offset];
      offset += size;
    }
    return;
  }
  if (digit < num_digits) std::sort(from.begin(), from.end(), entry_less);
  if (result_in_other) std::copy(from.begin(), from.end(), other.begin());
}

void load_chunk(sort_entry& entry, std::string_view key, std::size_t depth) noexcept {
  constexpr std::size_t chunk = sizeof entry.bytes;
  const std::size_t left = key.size() - depth;
  const std::size_t take = left < chunk ? left : chunk;
  std::memset(entry.bytes, 0, chunk);
  if (take != 0) std::memcpy(entry.bytes, key.data() + depth, take);  // data() may be null when empty
  entry.tail = (left > chunk ? sort_entry::goes_on : static_cast<std::uint32_t>(left)) +
               (depth > 0 ? sort_entry::reloaded : 0);
}

// Loads the chunks at `depth` for a range whose keys all share their first `depth` bytes.
template <class Rows>
void load_chunks(std::span<sort_entry> range, const Rows& rows, std::size_t depth) noexcept {
  const std::size_t size = range.size();
  for (std::size_t i = 0; i < size; ++i) {
    if (i + 2 * bytes::prefetch_distance < size) rows.prefetch_row(range[i + 2 * bytes::prefetch_distance].row);
    if (i + bytes::prefetch_distance < size)
      bytes::prefetch(rows.key(range[i + bytes::prefetch_distance].row).data() + depth);
    load_chunk(range[i], rows.key(range[i].row), depth);
  }
}

// Splits a range too large for the scratch buffer in place, by its first varying digit (an American
// flag sort step: each swap puts one entry into its bucket), and calls bucket(begin, end) for each
// bucket of more than one entry, offsets within range. Returns false when the entries all share
// every digit (they form one group).
template <class Bucket>
bool split_in_place(std::span<sort_entry> range, Bucket bucket) {
  const unsigned digit = first_varying_digit(range, 0);
  if (digit == num_digits) return false;
  std::array<std::size_t, 256> bucket_size{};
  for (const sort_entry& entry : range) ++bucket_size[digit_of(entry, digit)];
  std::array<std::size_t, 256> bucket_end{};
  std::array<std::size_t, 256> next{};
  std::size_t offset = 0;
  for (unsigned b = 0; b < 256; ++b) {
    next[b] = offset;
    offset += bucket_size[b];
    bucket_end[b] = offset;
  }
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
  for (unsigned b = 0; b < 256; ++b)
    if (bucket_size[b] > 1) bucket(bucket_end[b] - bucket_size[b], bucket_end[b]);
  return true;
}

struct pending_range {
  std::size_t begin;
  std::size_t end;
  std::size_t depth;  // every key in the range shares its first `depth` bytes
  bool loaded;        // the entries hold the bytes from `depth` (else they are loaded first)
};

// The scratch buffer of a sort of n entries: an eighth of them (at least all of a small sort), so
// that a large table costs 1.125x its entries rather than 2x; larger ranges are split in place first.
std::size_t scratch_size(std::size_t n) noexcept {
  constexpr std::size_t small_sort = std::size_t{1} << 16;
  return n <= small_sort ? n : std::max(small_sort, n / 8);
}

// Sorts each pending range of entries by the bytes of its keys from the range's depth on; equal keys
// (which a count result does not have, but the order stays total) by descending count.
template <class Rows>
void sort_ranges_by_key(std::span<sort_entry> entries, std::span<sort_entry> scratch, const Rows& rows,
                        std::vector<pending_range>& pending) {
  auto by_count = [](const sort_entry& a, const sort_entry& b) { return a.count > b.count; };
  while (!pending.empty()) {
    const pending_range next = pending.back();
    pending.pop_back();
    const std::size_t size = next.end - next.begin;
    std::span<sort_entry> range = entries.subspan(next.begin, size);
    if (!next.loaded) load_chunks(range, rows, next.depth);
    // A group: entries equal in every digit, whose keys go on (sorted on their next bytes) or are equal.
    auto group = [&](std::size_t begin, std::size_t end) {
      if ((range[begin].tail & ~sort_entry::reloaded) == sort_entry::goes_on)
        pending.push_back({next.begin + begin, next.begin + end, next.depth + sizeof(sort_entry::bytes), false});
      else
        std::sort(range.begin() + static_cast<std::ptrdiff_t>(begin), range.begin() + static_cast<std::ptrdiff_t>(end),
                  by_count);
    };
    if (size > scratch.size()) {
      const bool split = split_in_place(range, [&](std::size_t begin, std::size_t end) {
        pending.push_back({next.begin + begin, next.begin + end, next.depth, true});
      });
      if (!split) group(0, size);
      continue;
    }
    radix_sort(range, scratch.first(size), 0, false);
    for (std::size_t run = 0; run < size;) {
      std::size_t run_end = run + 1;
      while (run_end < size && same_group(range[run_end], range[run])) ++run_end;
      if (run_end - run > 1) group(run, run_end);
      run = run_end;
    }
  }
}

// sort_ranges_by_key on the pool's threads, for a large table: the largest ranges are split in place
// (one bucket pass each) until there are a few per thread, then each thread sorts the ranges it takes
// from a shared list, largest first, with its own scratch. The same order as one thread gives.
template <class Rows>
void sort_ranges_in_parallel(std::span<sort_entry> entries, const Rows& rows, std::vector<pending_range>& pending,
                             thread_pool& pool) {
  const std::size_t threads = pool.size();
  const std::size_t enough = 4 * threads;
  const std::size_t small = std::max<std::size_t>(entries.size() / enough, 1);
  std::vector<pending_range> whole;  // ranges that split_in_place cannot split: groups, for the sort itself
  auto larger = [](const pending_range& a, const pending_range& b) { return a.end - a.begin < b.end - b.begin; };
  std::make_heap(pending.begin(), pending.end(), larger);
  while (!pending.empty() && pending.size() + whole.size() < enough &&
         pending.front().end - pending.front().begin > small) {
    std::pop_heap(pending.begin(), pending.end(), larger);
    const pending_range next = pending.back();
    pending.pop_back();
    std::span<sort_entry> range = entries.subspan(next.begin, next.end - next.begin);
    if (!next.loaded) load_chunks(range, rows, next.depth);
    const bool split = split_in_place(range, [&](std::size_t begin, std::size_t end) {
      pending.push_back({next.begin + begin, next.begin + end, next.depth, true});
      std::push_heap(pending.begin(), pending.end(), larger);
    });
    if (!split) whole.push_back({next.begin, next.end, next.depth, true});
  }
  pending.insert(pending.end(), whole.begin(), whole.end());
  std::sort(pending.begin(), pending.end(), larger);  // popped from the back: largest first
  std::mutex taking;
  pool.run_workers([&](unsigned) {
    std::vector<sort_entry> scratch(scratch_size(std::max(entries.size() / threads, std::size_t{1})));
    std::vector<pending_range> mine;
    for (;;) {
      {
        std::lock_guard lock(taking);
        if (pending.empty()) return;
        mine.push_back(pending.back());
        pending.pop_back();
      }
      sort_ranges_by_key(entries, std::span<sort_entry>(scratch), rows, mine);
    }
  });
}

// A stable LSD radix sort of entries by count (descending for sort_order::count, else ascending), one
// byte at a time, skipping the bytes that all counts share (counts are mostly small, so usually one or
// two passes): run after the key sort, it leaves ties in key order. Scratch as large as entries.
void stable_sort_by_count(std::vector<sort_entry>& entries, std::vector<sort_entry>& scratch, sort_order order) {
  if (entries.empty()) return;
  scratch.resize(entries.size());
  // ~count is max - count: ascending ~count is descending count.
  const std::uint64_t flip = order == sort_order::count ? ~std::uint64_t{0} : 0;
  std::array<std::array<std::size_t, 256>, 8> bucket_size{};
  for (const sort_entry& entry : entries)
    for (unsigned byte = 0; byte < 8; ++byte) ++bucket_size[byte][((entry.count ^ flip) >> (8 * byte)) & 0xFF];
  for (unsigned byte = 0; byte < 8; ++byte) {
    const unsigned shift = 8 * byte;
    if (bucket_size[byte][((entries[0].count ^ flip) >> shift) & 0xFF] == entries.size()) continue;
    std::array<std::size_t, 256> next{};
    std::size_t offset = 0;
    for (unsigned b = 0; b < 256; ++b) {
      next[b] = offset;
      offset += bucket_size[byte][b];
    }
    for (const sort_entry& entry : entries) scratch[next[((entry.count ^ flip) >> shift) & 0xFF]++] = entry;
    entries.swap(scratch);
  }
}

// Natural order (sort_order::natural): compares runs of ASCII digits by their value (leading zeros
// aside: fewer significant digits is smaller, then digit by digit), other bytes unsigned, a prefix
// first; keys equal so (S01, S1) by byte order. A comparison sort: natural keys are not byte strings.
int natural_compare(std::string_view a, std::string_view b) noexcept {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t i_end = i;
      std::size_t j_end = j;
      while (i_end < a.size() && is_digit(a[i_end])) ++i_end;
      while (j_end < b.size() && is_digit(b[j_end])) ++j_end;
      std::size_t i_lead = i;
      std::size_t j_lead = j;
      while (i_lead + 1 < i_end && a[i_lead] == '0') ++i_lead;
      while (j_lead + 1 < j_end && b[j_lead] == '0') ++j_lead;
      if (i_end - i_lead != j_end - j_lead) return i_end - i_lead < j_end - j_lead ? -1 : 1;
      if (int c = a.substr(i_lead, i_end - i_lead).compare(b.substr(j_lead, j_end - j_lead)); c != 0) return c;
      i = i_end;
      j = j_end;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
    ++i;
    ++j;
  }
  if (i < a.size() || j < b.size()) return i < a.size() ? 1 : -1;
  return 0;
}

// Natural order of keys of `num_parts` columns: column by column, each naturally and then by its bytes (so a
// composite key sorts as its first column would alone, then by the next...). One column: the key itself.
class natural_keys {
 public:
  explicit natural_keys(std::size_t num_parts) : num_parts_(num_parts) {}
  int compare(std::string_view a, std::string_view b) {
    if (num_parts_ == 1) return compare_one(a, b);
    const bool ok = key_tuple::split(a, num_parts_, a_parts_, a_scratch_) &&
                    key_tuple::split(b, num_parts_, b_parts_, b_scratch_);
    LABCOUNT_EXPECTS(ok, "composite keys of as many parts as the key has columns");
    for (std::size_t part = 0; part < num_parts_; ++part)
      if (const int c = compare_one(a_parts_[part], b_parts_[part]); c != 0) return c;
    return 0;
  }

 private:
  static int compare_one(std::string_view a, std::string_view b) noexcept {
    if (const int c = natural_compare(a, b); c != 0) return c;
    return a.compare(b);
  }
  std::size_t num_parts_;
  std::vector<std::string_view> a_parts_, b_parts_;
  std::string a_scratch_, b_scratch_;
};

template <class Rows>
void sort_naturally(std::span<sort_entry> entries, const Rows& rows, std::size_t key_parts) {
  natural_keys keys(key_parts);
  std::sort(entries.begin(), entries.end(), [&](const sort_entry& x, const sort_entry& y) {
    if (const int c = keys.compare(rows.key(x.row), rows.key(y.row)); c != 0) return c < 0;
    return x.count > y.count;
  });
}

// The entries of `rows` in output order: by key (and by descending count for equal keys), naturally,
// or by count with ties by key. Row i's entry starts with its key's first bytes and its count.
// `pool` (null: none) orders a table of a million rows or more by key on several threads.
template <class Rows>
std::vector<sort_entry> sorted_entries(const Rows& rows, sort_order order, std::size_t key_parts,
                                       thread_pool* pool = nullptr) {
  constexpr std::size_t parallel_rows = std::size_t{1} << 20;
  const bool parallel = pool != nullptr && pool->size() > 1 && rows.size() >= parallel_rows;
  std::vector<sort_entry> entries(rows.size());
  auto fill = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      entries[i].row = static_cast<std::uint32_t>(i);
      entries[i].count = rows.count(entries[i].row);
    }
    load_chunks(std::span<sort_entry>(entries).subspan(begin, end - begin), rows, 0);
  };
  if (parallel)
    pool->run_workers([&](unsigned worker) {
      const std::size_t share = (rows.size() + pool->size() - 1) / pool->size();
      fill(std::min(rows.size(), worker * share), std::min(rows.size(), (worker + 1) * share));
    });
  else
    fill(0, rows.size());
  std::vector<sort_entry> scratch;
  if (order == sort_order::natural) {
    sort_naturally(std::span<sort_entry>(entries), rows, key_parts);
  } else {
    std::vector<pending_range> pending;
    if (!entries.empty()) pending.push_back({0, entries.size(), 0, true});
    if (parallel) {
      sort_ranges_in_parallel(std::span<sort_entry>(entries), rows, pending, *pool);
    } else {
      scratch.resize(scratch_size(rows.size()));
      sort_ranges_by_key(std::span<sort_entry>(entries), scratch, rows, pending);
    }
  }
  if (by_count(order)) stable_sort_by_count(entries, scratch, order);
  return entries;
}

// The entries of rows with a file column, in (file, key) or (count, file, key) order:
//
//   [(b,S1,1) (a,S2,5) (a,S1,1)] -> bucket by file: a [S2 S1], b [S1] -> each by key: [(a,S1) (a,S2) (b,S1)]
//   --sort count: then stable by descending count                    -> [(a,S2,5) (a,S1,1) (b,S1,1)]
//
// The files are few (one per input): rank them by their bytes, bucket the rows by that rank with a
// counting sort, and sort each bucket with the per-key sort above. Only the ranking compares strings.
std::vector<sort_entry> sorted_entries_with_file(std::span<const count_row> rows, sort_order order,
                                                std::size_t key_parts) {
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
  std::vector<sort_entry> scratch(scratch_size(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    sort_entry& entry = entries[next[file_of_row[i]]++];
    entry.row = static_cast<std::uint32_t>(i);
    entry.count = rows[i].count;
  }
  const row_values values{rows};
  load_chunks(std::span<sort_entry>(entries), values, 0);
  std::vector<pending_range> pending;
  for (std::size_t bucket = 0; bucket < files.size(); ++bucket) {
    const std::size_t begin = bucket_begin[bucket];
    const std::size_t end = bucket_begin[bucket + 1];
    if (end - begin < 2) continue;
    if (order == sort_order::natural)
      sort_naturally(std::span<sort_entry>(entries).subspan(begin, end - begin), values, key_parts);
    else
      pending.push_back({begin, end, 0, true});
  }
  sort_ranges_by_key(std::span<sort_entry>(entries), scratch, values, pending);
  if (by_count(order)) stable_sort_by_count(entries, scratch, order);
  return entries;
}

}  // namespace

void order_rows(std::vector<count_row>& rows, const output_options& options) {
  LABCOUNT_EXPECTS(rows.size() <= std::numeric_limits<std::uint32_t>::max(), "order_rows indexes rows with 32 bits");
  const std::size_t key_parts = options.key_names.size();
  const std::vector<sort_entry> entries = options.with_file_column
                                              ? sorted_entries_with_file(rows, options.order, key_parts)
                                              : sorted_entries(row_values{rows}, options.order, key_parts);
  const std::size_t kept = options.top != 0 && options.top < entries.size() ? options.top : entries.size();
  // A gather into a second vector, not an in-place cycle walk: the gather's loads are independent, so
  // prefetching overlaps their cache misses, where a cycle walk waits for each miss in turn (3x slower).
  std::vector<count_row> sorted(kept);
  for (std::size_t i = 0; i < kept; ++i) {
    if (i + bytes::prefetch_distance < kept) bytes::prefetch(&rows[entries[i + bytes::prefetch_distance].row]);
    sorted[i] = rows[entries[i].row];
  }
  rows = std::move(sorted);
}

std::vector<std::uint32_t> output_order(std::span<const count_row> rows, sort_order order, std::size_t key_parts) {
  LABCOUNT_EXPECTS(rows.size() <= std::numeric_limits<std::uint32_t>::max(), "output_order indexes rows with 32 bits");
  const std::vector<sort_entry> entries = sorted_entries(row_values{rows}, order, key_parts);
  std::vector<std::uint32_t> indices(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) indices[i] = entries[i].row;
  return indices;
}

ordered_table::ordered_table(const key_dictionary& dictionary, std::span<const std::uint64_t> counts,
                             sort_order order, std::uint64_t top, std::size_t key_parts, thread_pool* pool)
    : dictionary_(dictionary) {
  LABCOUNT_EXPECTS(counts.size() >= dictionary.size(), "ordered_table needs a count per code");
  codes_.reserve(dictionary.size());
  for (std::uint32_t code = 0; code < dictionary.size(); ++code)
    if (counts[code] != 0) codes_.push_back(code);
  entries_ = sorted_entries(dictionary_rows{dictionary, counts, codes_}, order, key_parts, pool);
  if (top != 0 && top < entries_.size()) entries_.resize(static_cast<std::size_t>(top));
}

void ordered_table::prefetch_ahead(std::size_t i) const noexcept {
  if (i + 2 * bytes::prefetch_distance < entries_.size()) {
    const sort_entry& entry = entries_[i + 2 * bytes::prefetch_distance];
    if (entry.tail > 16) dictionary_.prefetch(codes_[entry.row]);
  }
  if (i + bytes::prefetch_distance < entries_.size()) {
    const sort_entry& entry = entries_[i + bytes::prefetch_distance];
    if (entry.tail > 16) bytes::prefetch(dictionary_.key(codes_[entry.row]).data());
  }
}

std::vector<std::uint32_t> ordered_groups(const key_dictionary& dictionary, std::span<const group_count> groups,
                                          sort_order order, std::uint64_t top, std::size_t key_parts) {
  LABCOUNT_EXPECTS(groups.size() <= std::numeric_limits<std::uint32_t>::max(), "ordered_groups indexes with 32 bits");
  // The rows in (code, bucket) order, as backends and merges hand them out (sorted here if not).
  std::vector<std::uint32_t> by_code(groups.size());
  std::iota(by_code.begin(), by_code.end(), 0u);
  const auto code_bucket_less = [&](std::uint32_t a, std::uint32_t b) {
    return groups[a].code != groups[b].code ? groups[a].code < groups[b].code : groups[a].bucket < groups[b].bucket;
  };
  if (!std::is_sorted(by_code.begin(), by_code.end(), code_bucket_less))
    std::sort(by_code.begin(), by_code.end(), code_bucket_less);

  // Each key's place: the keys with rows, in key (or natural) order, then the rows of key k at its offset.
  std::vector<std::uint64_t> rows_of(dictionary.size(), 0);
  for (const group_count& g : groups) ++rows_of[g.code];
  const ordered_table keys(dictionary, rows_of, order == sort_order::natural ? sort_order::natural : sort_order::key, 0,
                           key_parts);
  std::vector<std::uint64_t>& next = rows_of;  // reused: rows_of[code] becomes the code's next output slot
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::uint32_t code = keys.code(i);
    const std::uint64_t n = next[code];
    next[code] = offset;
    offset += n;
  }
  std::vector<std::uint32_t> ordered(groups.size());
  for (const std::uint32_t row : by_code) ordered[next[groups[row].code]++] = row;

  if (by_count(order) && !ordered.empty()) {
    // Stable LSD by count over the (key, bucket) order: ties keep it.
    std::vector<sort_entry> entries(ordered.size());
    for (std::size_t i = 0; i < ordered.size(); ++i) {
      entries[i].row = ordered[i];
      entries[i].count = groups[ordered[i]].count;
    }
    std::vector<sort_entry> scratch;
    stable_sort_by_count(entries, scratch, order);
    for (std::size_t i = 0; i < entries.size(); ++i) ordered[i] = entries[i].row;
  }
  if (top != 0 && top < ordered.size()) ordered.resize(static_cast<std::size_t>(top));
  return ordered;
}

std::string_view to_string(sort_order order) noexcept {
  switch (order) {
    case sort_order::key: return "key";
    case sort_order::count: return "count";
    case sort_order::count_asc: return "count-asc";
    case sort_order::natural: return "natural";
  }
  return "?";
}

}  // namespace labcount
