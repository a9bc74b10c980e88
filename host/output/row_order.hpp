// Ordering a result: one total order per --sort, the same at any input order, fast for millions of
// keys (a radix sort on 16-byte chunks of the key bytes, not string compares).
//
//   rows [(S2,1) (S10,4) (S1,4)]  --order_rows(key)-->  [(S1,4) (S10,4) (S2,1)]
//                                 --order_rows(count, top=2)-->  [(S1,4) (S10,4)]
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "backend/values.hpp"
#include "encode/dictionary.hpp"
#include "output/result_rows.hpp"
#include "util/bytes.hpp"

namespace labcount {

// Sorts rows per options.order into a total order (the result does not depend on the input order)
// and keeps only the first options.top rows when top != 0.
void order_rows(std::vector<count_row>& rows, const output_options& options);

// The output order of `rows` (by `order`), as indices into rows: the fast sort of order_rows, for the
// tables that carry more than a count (--stats, --per). Ties that order leaves (equal keys; equal
// counts and keys) come in no particular order: the caller breaks them.
// `key_parts`: the columns of a composite key (natural order compares them one by one).
std::vector<std::uint32_t> output_order(std::span<const count_row> rows, sort_order order, std::size_t key_parts = 1);

// One entry of the sort: a key's bytes [depth, depth + 16) and its count travel with it, so the radix
// passes move everything the writer needs and writing the table reads no dictionary (for keys up to
// 16 bytes; longer ones are read back by code).
struct sort_entry {
  char bytes[16];  // key bytes from depth, zero-padded
  std::uint64_t count;
  // Key bytes left from depth: 0..16 when the key ends within `bytes`, 17 when it goes on; plus
  // `reloaded` once depth > 0 (then `bytes` no longer starts the key). With equal bytes a shorter key
  // is a prefix of the longer one and sorts first; equal tails <= 16 mean equal keys.
  std::uint32_t tail;
  std::uint32_t row;
  static constexpr std::uint32_t goes_on = 17;
  static constexpr std::uint32_t reloaded = 32;
};

// A count table in output order, straight from a result's dictionary (no count_row per key): what
// write_rows(out, table, options) writes.
class ordered_table {
 public:
  // The codes whose counts[code] is not 0, ordered by `order`; the first `top` of them (0 = all).
  // `key_parts`: the columns of a composite key (natural order compares them one by one).
  // `pool` (null: none): threads to order a large table on, by key or count (not natural order).
  ordered_table(const key_dictionary& dictionary, std::span<const std::uint64_t> counts, sort_order order,
                std::uint64_t top, std::size_t key_parts = 1, thread_pool* pool = nullptr);

  std::size_t size() const noexcept { return entries_.size(); }
  count_row row(std::size_t i) const noexcept {
    const sort_entry& entry = entries_[i];
    if (entry.tail <= 16) return {std::string_view(entry.bytes, entry.tail), entry.count};
    return {dictionary_.key(codes_[entry.row]), entry.count};
  }
  std::uint32_t code(std::size_t i) const noexcept { return codes_[entries_[i].row]; }
  // Starts loading code(i) (the codes lie in first-seen order, so reading them in output order misses).
  void prefetch_code(std::size_t i) const noexcept { bytes::prefetch(&codes_[entries_[i].row]); }
  // Starts loading the key of a row a few rows after i, when it is not held inline.
  void prefetch_ahead(std::size_t i) const noexcept;

 private:
  const key_dictionary& dictionary_;
  std::vector<std::uint32_t> codes_;  // entry.row -> code
  std::vector<sort_entry> entries_;
};

// The output order of a --per table, as indices into `groups` (one row per (code, bucket)): key orders by
// the key, then the bucket; count orders by the count, then key, then bucket. The first `top` (0: all).
// Keys are ordered once per key (not per row), and the rows follow by a counting sort on the key's rank.
std::vector<std::uint32_t> ordered_groups(const key_dictionary& dictionary, std::span<const group_count> groups,
                                          sort_order order, std::uint64_t top, std::size_t key_parts = 1);

std::string_view to_string(sort_order order) noexcept;

}  // namespace labcount
