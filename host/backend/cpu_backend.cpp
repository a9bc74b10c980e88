// The CPU backend: private per-worker state (no sharing, no atomics), combined once in finish().
//   counts: one histogram per worker. Codes are dense, so a histogram is the direct form of
//           sort_by_key + reduce_by_key on the CPU.
//   stats : per code count/min/max, and a hash set of distinct (code, time) pairs; at the end the
//           union of the sets gives the distinct times (repeats = count - distinct) and distinct days.
//           A row with the same time as its key's previous row is a repeat and skips the set; a time later
//           than every earlier one of its key is a new pair, appended to a list instead (a log in time order
//           probes nothing), while batches give enough of those.
//   groups: a hash map (code, bucket) -> rows per worker, fed by runs of equal (code, bucket), merged
//           and sorted at the end; as for stats, a run whose bucket is later than every earlier one of its
//           code is appended to a list instead, and the rest are added a batch at a time, prefetched.
// In the value modes a worker whose table passes its share of backend_options::memory_budget writes it to its
// spill file (backend/spill_file.hpp) and starts an empty one; finish() then works through every worker's pairs
// one partition of the codes at a time, so --stats never needs them in memory at once (--per's result is its
// table, one row per key and bucket, which is held to be ordered).
#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <span>
#include <thread>
#include <unordered_map>

#include "backend/backend.hpp"
#include "backend/spill_file.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// Open addressing over 64-bit keys (all ones = empty), load factor <= 1/2. With Counted, a count per
// key in a parallel array; without, a plain set (stats only need distinct pairs: half the cache traffic).
template <bool Counted>
class word_table {
 public:
  static constexpr std::uint64_t empty = ~std::uint64_t{0};

  word_table() : keys_(1024, empty), counts_(Counted ? 1024 : 0, 0), mask_(1023) {}

  void add(std::uint64_t key, std::uint64_t count) {
    std::size_t i = hash(key) & mask_;
    for (;;) {
      if (keys_[i] == key) {
        if constexpr (Counted) counts_[i] += count;
        return;
      }
      if (keys_[i] == empty) {
        keys_[i] = key;
        if constexpr (Counted) counts_[i] = count;
        if (++size_ * 2 > keys_.size()) grow();
        return;
      }
      i = (i + 1) & mask_;
    }
  }

  // Adds each key with count 1. Probes miss the cache on big tables, so the slot of the key 32 ahead is
  // prefetched while this one is placed: the misses overlap instead of queueing.
  void add_batch(std::span<const std::uint64_t> keys) {
    constexpr std::size_t ahead = 32;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i + ahead < keys.size()) __builtin_prefetch(&keys_[hash(keys[i + ahead]) & mask_]);
      add(keys[i], 1);
    }
  }

  // Adds keys[i] with counts[i], prefetched as add_batch does.
  void add_batch(std::span<const std::uint64_t> keys, std::span<const std::uint64_t> counts) {
    constexpr std::size_t ahead = 32;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i + ahead < keys.size()) __builtin_prefetch(&keys_[hash(keys[i + ahead]) & mask_]);
      add(keys[i], counts[i]);
    }
  }

  template <class Fn>  // fn(key, count); the count is 1 in a set
  void for_each(Fn&& fn) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != empty) fn(keys_[i], Counted ? counts_[i] : std::uint64_t{1});
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept { return (keys_.capacity() + counts_.capacity()) * sizeof(std::uint64_t); }

 private:
  static std::size_t hash(std::uint64_t key) noexcept {
    key ^= key >> 31;
    key *= 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(key ^ (key >> 29));
  }
  void grow() {
    std::vector<std::uint64_t> keys(keys_.size() * 2, empty);
    std::vector<std::uint64_t> counts(Counted ? keys_.size() * 2 : 0, 0);
    keys.swap(keys_);
    counts.swap(counts_);
    mask_ = keys_.size() - 1;
    size_ = 0;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] != empty) add(keys[i], Counted ? counts[i] : 1);
  }

  std::vector<std::uint64_t> keys_;
  std::vector<std::uint64_t> counts_;
  std::size_t mask_;
  std::size_t size_ = 0;
};

// (code, value) -> count (or a set of pairs, without Counted). A pair usually packs into one word (code
// high, value / unit + offset low, when the division is exact and that fits 32 bits): times (microseconds,
// unit 10^6) in whole seconds from 1970 until 2106 with offset 0, or any bucket with unit 1 and offset 2^31.
// Others go to `wide_`: times before 1970 or after 2106, and times with a fraction of a second.
template <bool Counted>
class pair_table {
 public:
  explicit pair_table(std::int64_t offset = 0, std::int64_t unit = 1) : offset_(offset), unit_(unit) {}

  void add(std::uint32_t code, std::int64_t value, std::uint64_t count) {
    std::uint64_t word;
    if (pack_in(unit_, code, value, word))
      packed_.add(word, count);
    else
      wide_[{code, value}] += count;
  }

  // Set form: adds (code, value) pairs whose packed words were collected by pack(); see add_stats. The
  // table's unit must be Unit: a constant divisor is a multiply, not a division, on the per-row path.
  template <std::int64_t Unit>
  bool pack(std::uint32_t code, std::int64_t value, std::uint64_t& word) const noexcept {
    return pack_in(Unit, code, value, word);
  }
  void add_packed(std::span<const std::uint64_t> words) { packed_.add_batch(words); }
  // Map form (Counted): adds counts[i] to packed pair words[i].
  void add_packed(std::span<const std::uint64_t> words, std::span<const std::uint64_t> counts) {
    packed_.add_batch(words, counts);
  }
  // The packed word of (code, value) in this table's unit: false when it does not pack.
  bool pack_word(std::uint32_t code, std::int64_t value, std::uint64_t& word) const noexcept {
    return pack_in(unit_, code, value, word);
  }
  // The value a packed word holds.
  std::int64_t value_of(std::uint64_t word) const noexcept {
    return (static_cast<std::int64_t>(word & 0xffffffffULL) - offset_) * unit_;
  }
  std::int64_t unit() const noexcept { return unit_; }

  // The packed pairs as their words (code high, value + offset low: word order is (code, value) order),
  // and the rest as (code, value, count).
  template <class Packed, class Wide>  // packed(word, count), wide(code, value, count)
  void for_each_split(Packed&& packed, Wide&& wide) const {
    packed_.for_each(packed);
    for (const auto& [pair, count] : wide_) wide(pair.first, pair.second, count);
  }

  template <class Fn>  // fn(code, value, count)
  void for_each(Fn&& fn) const {
    packed_.for_each([&](std::uint64_t key, std::uint64_t count) {
      fn(static_cast<std::uint32_t>(key >> 32), value_of(key), count);
    });
    for (const auto& [pair, count] : wide_) fn(pair.first, pair.second, count);
  }
  std::size_t size() const noexcept { return packed_.size() + wide_.size(); }
  // About what the table holds in memory (a map node is some 64 bytes).
  std::size_t bytes() const noexcept { return packed_.bytes() + wide_.size() * 64; }

 private:
  struct pair_hash {
    std::size_t operator()(const std::pair<std::uint32_t, std::int64_t>& p) const noexcept {
      return std::hash<std::int64_t>{}(p.second * 0x9e3779b97f4a7c15LL ^ p.first);
    }
  };

  [[gnu::always_inline]] bool pack_in(std::int64_t unit, std::uint32_t code, std::int64_t value,
                                      std::uint64_t& word) const noexcept {
    const std::int64_t units = value / unit;
    const std::int64_t shifted = units + offset_;
    word = (static_cast<std::uint64_t>(code) << 32) | static_cast<std::uint64_t>(shifted);
    return units * unit == value && shifted >= 0 && shifted <= 0xffffffffLL;
  }

  std::int64_t offset_;
  std::int64_t unit_;
  word_table<Counted> packed_;
  std::unordered_map<std::pair<std::uint32_t, std::int64_t>, std::uint64_t, pair_hash> wide_;
};

// A stable LSD radix sort of items by a 64-bit key, 8 bits a pass, skipping the bytes every key shares
// (a (code, day) word varies in about four): the sort of sort_by_key + reduce_by_key, which the workers'
// pair tables are merged with at the end, instead of probing one global table at random per pair.
template <class Item, class KeyOf>
void radix_sort_by_key(std::vector<Item>& items, KeyOf key_of) {
  if (items.size() < 2) return;
  std::array<std::array<std::size_t, 256>, 8> bucket_size{};
  for (const Item& item : items) {
    const std::uint64_t key = key_of(item);
    for (unsigned byte = 0; byte < 8; ++byte) ++bucket_size[byte][(key >> (8 * byte)) & 0xFF];
  }
  std::vector<Item> scratch;
  for (unsigned byte = 0; byte < 8; ++byte) {
    const unsigned shift = 8 * byte;
    if (bucket_size[byte][(key_of(items[0]) >> shift) & 0xFF] == items.size()) continue;
    if (scratch.empty()) scratch.resize(items.size());
    std::array<std::size_t, 256> next{};
    std::size_t offset = 0;
    for (unsigned b = 0; b < 256; ++b) {
      next[b] = offset;
      offset += bucket_size[byte][b];
    }
    for (const Item& item : items) scratch[next[(key_of(item) >> shift) & 0xFF]++] = item;
    items.swap(scratch);
  }
}

constexpr std::int64_t bucket_offset = std::int64_t{1} << 31;
// Groups whose values are times (a --stats partial state) pack whole seconds from 1970 on; buckets pack as
// they are around 0.
pair_table<true> group_table(bool times) { return times ? pair_table<true>(0, ticks_per_second) : pair_table<true>(bucket_offset); }
constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::min();

struct key_state {  // stats, per code
  std::uint64_t count = 0;
  timestamp first = std::numeric_limits<timestamp>::max();
  timestamp last = std::numeric_limits<timestamp>::min();
  timestamp previous = no_time;  // the time of the code's previous row
};

// Words appended in batches, in blocks (2 MiB unless told): the room for a batch is made ahead without filling
// it, and growing never copies, so memory is the words plus at most one block (a budget's check sees what is
// held, with no doubling and no moment of old and new copies side by side).
class word_list {
 public:
  static constexpr std::size_t max_block_words = std::size_t{1} << 18;

  explicit word_list(std::size_t block_words = max_block_words) : block_words_(block_words) {}

  // Room for n more words at the end; take(k) then keeps the first k of them.
  std::uint64_t* room(std::size_t n) {
    if (blocks_.empty() || blocks_.back().size + n > blocks_.back().capacity) {
      const std::size_t capacity = std::max(block_words_, n);
      blocks_.push_back({std::make_unique_for_overwrite<std::uint64_t[]>(capacity), 0, capacity});
      bytes_ += capacity * sizeof(std::uint64_t);
    }
    return blocks_.back().words.get() + blocks_.back().size;
  }
  void take(std::size_t k) noexcept {
    blocks_.back().size += k;
    size_ += k;
  }
  template <class Fn>  // fn(word)
  void for_each(Fn&& fn) const {
    for (const block& b : blocks_)
      for (std::size_t i = 0; i < b.size; ++i) fn(b.words[i]);
  }
  // fn(words) for each block in turn, each freed after it; the list is then empty (also when fn throws).
  template <class Fn>
  void drain(Fn&& fn) {
    try {
      for (block& b : blocks_) {
        fn(std::span<const std::uint64_t>(b.words.get(), b.size));
        b.words.reset();
      }
    } catch (...) {
      clear();
      throw;
    }
    clear();
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept { return bytes_; }
  void clear() noexcept {
    blocks_.clear();
    size_ = bytes_ = 0;
  }

 private:
  struct block {
    std::unique_ptr<std::uint64_t[]> words;
    std::size_t size, capacity;
  };
  std::size_t block_words_;
  std::vector<block> blocks_;
  std::size_t size_ = 0, bytes_ = 0;
};

struct worker_state {
  worker_state(bool group_times, std::size_t list_block_words)
      : times(0, ticks_per_second),
        newer(list_block_words),
        groups(group_table(group_times)),
        group_times(group_times) {}

  std::vector<std::uint64_t> counts;   // counts
  std::vector<key_state> keys;         // stats
  pair_table<false> times;             // stats: distinct (code, time)
  // Packed pairs later than every earlier time (stats) or bucket (groups) of their code in this worker, so in no
  // table yet: a log in time order adds its pairs here, without a probe. stats: one word a pair; groups: the
  // word, then its rows. (Later out-of-order rows may add a pair to the table too: finish() makes the union
  // distinct, or sums the rows.)
  word_list newer;
  bool append_newer = true;                 // stats: whether the last batch's new pairs came mostly in time order
  std::vector<std::uint64_t> pending;       // packed pairs of one batch, added to the table together (scratch)
  std::vector<std::uint64_t> pending_rows;  // groups: their rows
  pair_table<true> groups;                  // groups: (code, bucket) -> rows
  std::vector<std::int64_t> last_bucket;    // groups: per code, the latest bucket of its runs so far
  bool group_times;                    // groups: the values are times, not buckets
  std::unique_ptr<spill_file> spill;   // value modes past the memory budget: the tables written so far
  std::vector<group_count> spill_scratch;
  // groups: the current run of rows with one (code, bucket), added to `pairs` when it ends.
  std::uint32_t run_code = 0;
  std::int64_t run_bucket = 0;
  std::uint64_t run_rows = 0;

  void end_run() {
    if (run_rows != 0) groups.add(run_code, run_bucket, run_rows);
    run_rows = 0;
  }

  // Forgets every row; the histogram keeps its size (the next input has about as many keys).
  void reset() {
    std::fill(counts.begin(), counts.end(), 0);
    std::fill(keys.begin(), keys.end(), key_state{});
    times = pair_table<false>(0, ticks_per_second);
    newer.clear();
    groups = group_table(group_times);
    last_bucket.clear();
    run_rows = 0;
    spill.reset();
  }
};

class cpu_backend final : public count_backend {
 public:
  explicit cpu_backend(const backend_options& options)
      : count_backend(options),
        // A table grows by doubling: old and new live together for a moment, three times the table's size.
        table_limit_(options.memory_budget == 0
                         ? 0
                         : std::max<std::size_t>(1, options.memory_budget / std::max(1u, num_workers()) / 3)),
        spill_directory_(options.spill_directory),
        spilled_progress_(options.spilled_bytes) {
    // A list block is at most a quarter of a worker's share of the budget, so that a small budget does not
    // spill at every batch for the sake of one block.
    const std::size_t block_words =
        table_limit_ == 0
            ? word_list::max_block_words
            : std::clamp<std::size_t>(table_limit_ / 4 / sizeof(std::uint64_t), 512, word_list::max_block_words);
    for (unsigned i = 0; i < num_workers(); ++i) per_worker_.emplace_back(options.group_times, block_words);
  }

  backend_timings timings() const override {
    backend_timings t;
    for (const auto& w : per_worker_)
      if (w.spill) t.spilled_bytes += w.spill->bytes();
    return t;
  }

  std::string_view name() const override { return "cpu"; }

 private:
  void do_consume(unsigned worker, row_batch batch) override {
    worker_state& w = per_worker_[worker];
    switch (mode()) {
      case value_mode::counts: return count(w, batch.codes);
      case value_mode::stats:
        add_stats(w, batch.codes, batch.values);
        if (table_limit_ != 0 && w.times.bytes() + w.newer.bytes() > table_limit_) spill(w);
        return;
      case value_mode::groups:
        add_groups(w, batch.codes, batch.values);
        if (table_limit_ != 0 && w.groups.bytes() + w.newer.bytes() > table_limit_) spill(w);
        return;
    }
  }

  // Writes the worker's table to its spill file and starts an empty one.
  void spill(worker_state& w) {
    if (!w.spill) w.spill = std::make_unique<spill_file>(spill_directory_);
    auto& records = w.spill_scratch;
    records.clear();
    const std::uint64_t before = w.spill->bytes();
    if (mode() == value_mode::stats) {
      records.reserve(w.times.size());
      w.times.for_each([&](std::uint32_t code, std::int64_t time, std::uint64_t) { records.push_back({code, time, 1}); });
      w.times = pair_table<false>(0, ticks_per_second);
      w.spill->write_run(records);
      // The appended pairs a block at a time, each freed once written: their records (24 B a pair against the
      // list's 8) never sit in memory all at once.
      w.newer.drain([&](std::span<const std::uint64_t> words) {
        records.clear();
        for (const std::uint64_t word : words)
          records.push_back({static_cast<std::uint32_t>(word >> 32), w.times.value_of(word), 1});
        w.spill->write_run(records);
      });
      records.clear();
    } else {
      records.reserve(w.groups.size());
      w.groups.for_each([&](std::uint32_t code, std::int64_t bucket, std::uint64_t rows) {
        records.push_back({code, bucket, rows});
      });
      w.groups = group_table(w.group_times);
      w.spill->write_run(records);
      w.newer.drain([&](std::span<const std::uint64_t> words) {
        records.clear();
        for (std::size_t i = 0; i + 1 < words.size(); i += 2)
          records.push_back({static_cast<std::uint32_t>(words[i] >> 32), w.groups.value_of(words[i]), words[i + 1]});
        w.spill->write_run(records);
      });
      records.clear();
    }
    w.spill->write_run(records);
    records.shrink_to_fit();
    if (spilled_progress_ != nullptr)
      spilled_progress_->fetch_add(w.spill->bytes() - before, std::memory_order_relaxed);
  }

  bool spilled() const {
    return std::any_of(per_worker_.begin(), per_worker_.end(), [](const worker_state& w) { return w.spill != nullptr; });
  }

  // After every worker's table went to its spill file: every pair of partition `p` of the codes, sorted by
  // (code, value), with the rows of equal pairs summed.
  std::vector<group_count> spilled_partition(unsigned p) const {
    std::vector<group_count> records;
    for (const auto& w : per_worker_)
      if (w.spill) w.spill->read_partition(p, records);
    std::sort(records.begin(), records.end(), [](const group_count& a, const group_count& b) {
      return a.code != b.code ? a.code < b.code : a.bucket < b.bucket;
    });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (kept != 0 && records[kept - 1].code == records[i].code && records[kept - 1].bucket == records[i].bucket)
        records[kept - 1].count += records[i].count;
      else
        records[kept++] = records[i];
    }
    records.resize(kept);
    return records;
  }

  void do_reset() override {
    for (auto& w : per_worker_) w.reset();
  }

  // A per-worker table indexed by code grows by half when a code passes its end: with 10 M keys and
  // two workers, doubling left ~70 MB of each table unused at the peak.
  static std::size_t grown_size(std::size_t size, std::uint32_t code) noexcept {
    return std::max(std::size_t{code} + 1, size + size / 2);
  }

  static void count(worker_state& w, std::span<const std::uint32_t> codes) {
    auto& counts = w.counts;
    // Past the caches (millions of keys) each increment misses: load the counter a few rows ahead.
    constexpr std::size_t cached_counts = std::size_t{1} << 18;  // 2 MiB of counters
    constexpr std::size_t ahead = 16;
    if (counts.size() > cached_counts) {
      for (std::size_t i = 0; i < codes.size(); ++i) {
        if (i + ahead < codes.size() && codes[i + ahead] < counts.size()) bytes::prefetch(&counts[codes[i + ahead]]);
        if (codes[i] >= counts.size()) counts.resize(grown_size(counts.size(), codes[i]), 0);
        ++counts[codes[i]];
      }
      return;
    }
    for (const std::uint32_t code : codes) {
      if (code >= counts.size()) counts.resize(grown_size(counts.size(), code), 0);
      ++counts[code];
    }
  }

  static void add_groups(worker_state& w, std::span<const std::uint32_t> codes, std::span<const std::int64_t> values) {
    if (w.pending.size() < codes.size()) {
      w.pending.resize(codes.size());
      w.pending_rows.resize(codes.size());
    }
    std::size_t pending = 0, newer = 0;
    std::uint64_t* const newer_words = w.newer.room(2 * codes.size());
    // A run that ends: appended when its bucket is later than every earlier one of its code (a log in time
    // order), else added to the table with the batch's others, each probe prefetched ahead.
    const auto end_run = [&] {
      const std::uint32_t code = w.run_code;
      if (code >= w.last_bucket.size()) w.last_bucket.resize(grown_size(w.last_bucket.size(), code), no_time);
      std::int64_t& last = w.last_bucket[code];
      std::uint64_t word;
      if (!w.groups.pack_word(code, w.run_bucket, word)) {
        w.groups.add(code, w.run_bucket, w.run_rows);
      } else if (w.run_bucket > last) {
        newer_words[2 * newer] = word;
        newer_words[2 * newer + 1] = w.run_rows;
        ++newer;
      } else {
        w.pending[pending] = word;
        w.pending_rows[pending] = w.run_rows;
        ++pending;
      }
      last = std::max(last, w.run_bucket);
    };
    for (std::size_t i = 0; i < codes.size(); ++i) {
      // Lab logs list a sample's tests in runs, so most rows extend the current (code, bucket) run.
      if (codes[i] == w.run_code && values[i] == w.run_bucket) {
        ++w.run_rows;
        continue;
      }
      if (w.run_rows != 0) end_run();
      w.run_code = codes[i];
      w.run_bucket = values[i];
      w.run_rows = 1;
    }
    w.newer.take(2 * newer);
    w.groups.add_packed(std::span(w.pending.data(), pending), std::span(w.pending_rows.data(), pending));
  }

  // A log in time order gives each key later and later times: those pairs are appended (worker_state::newer)
  // rather than probed for. A log whose times go back (files of other periods, the same rows twice) gives few:
  // then the append is dropped for the next batch, and the cost with it. Each batch says which it saw.
  static void add_stats(worker_state& w, std::span<const std::uint32_t> codes, std::span<const std::int64_t> values) {
    if (w.pending.size() < codes.size()) w.pending.resize(codes.size());
    w.append_newer =
        w.append_newer ? add_stats_batch<true>(w, codes, values) : add_stats_batch<false>(w, codes, values);
  }

  // Returns whether at least a quarter of the batch's new pairs came later than every earlier time of their key.
  template <bool AppendNewer>
  static bool add_stats_batch(worker_state& w, std::span<const std::uint32_t> codes,
                              std::span<const std::int64_t> values) {
    std::size_t pending = 0, newer = 0, later_pairs = 0, fresh_pairs = 0;
    std::uint64_t* const newer_words = AppendNewer ? w.newer.room(codes.size()) : nullptr;
    // Lab logs list a sample's tests in runs, so codes come in runs: a run's count, first, last and
    // previous time stay in registers instead of a chain of stores and reloads on one code's entry.
    for (std::size_t i = 0; i < codes.size();) {
      const std::uint32_t code = codes[i];
      if (code >= w.keys.size()) w.keys.resize(grown_size(w.keys.size(), code));
      key_state& k = w.keys[code];
      timestamp first = k.first, last = k.last, previous = k.previous;
      const std::size_t run_begin = i;
      do {
        const timestamp value = values[i];
        // A time later than every earlier one of this key is a new pair. The same time as the key's previous
        // row is a repeat already held: no probe. Branch-free, as about half the rows are repeats, in no
        // predictable pattern.
        const bool later = value > last;
        const bool fresh = value != previous;
        first = std::min(first, value);
        last = std::max(last, value);
        previous = value;
        later_pairs += later;
        fresh_pairs += fresh;
        std::uint64_t word;
        if (w.times.pack<ticks_per_second>(code, value, word)) [[likely]] {
          w.pending[pending] = word;
          if constexpr (AppendNewer) {
            newer_words[newer] = word;
            newer += later;
            pending += fresh & !later;
          } else {
            pending += fresh;
          }
        } else if (fresh) {
          w.times.add(code, value, 1);
        }
      } while (++i < codes.size() && codes[i] == code);
      k.count += i - run_begin;
      k.first = first;
      k.last = last;
      k.previous = previous;
    }
    // One batch of probes, each prefetched well ahead. The set is far bigger than the caches and each
    // pair's slot is touched about once per pass over the data, so nearly every probe misses: with the
    // misses overlapped, memory bandwidth rather than latency sets the pace. (Tried and measured slower
    // on the 2 GB file: one small set per key, and one per calendar day; neither is touched again soon
    // enough to stay in cache.)
    if constexpr (AppendNewer) w.newer.take(newer);
    w.times.add_packed(std::span(w.pending.data(), pending));
    return 4 * later_pairs >= fresh_pairs;
  }

  std::vector<std::uint64_t> finish_counts(std::size_t num_codes) override {
    std::vector<std::uint64_t> total(num_codes, 0);
    for (const auto& w : per_worker_) {
      const std::size_t n = std::min(w.counts.size(), num_codes);
      for (std::size_t code = 0; code < n; ++code) total[code] += w.counts[code];
    }
    return total;
  }

  std::vector<key_stats> finish_stats(std::size_t num_codes) override {
    std::vector<key_stats> stats(num_codes);
    for (const auto& w : per_worker_) {
      const std::size_t n = std::min(w.keys.size(), num_codes);
      for (std::size_t code = 0; code < n; ++code) {
        const key_state& k = w.keys[code];
        if (k.count == 0) continue;
        key_stats& s = stats[code];
        s.first = s.count == 0 ? k.first : std::min(s.first, k.first);
        s.last = s.count == 0 ? k.last : std::max(s.last, k.last);
        s.count += k.count;
      }
    }
    if (spilled()) {
      // Past the memory budget: the rest of every table to disk too, then one partition of the codes at a time.
      for (auto& w : per_worker_) spill(w);
      for (unsigned p = 0; p < spill_file::partitions; ++p) {
        std::uint32_t last_code = ~std::uint32_t{0};
        std::int64_t last_day = 0;
        for (const group_count& pair : spilled_partition(p)) {
          if (pair.code >= num_codes) continue;
          key_stats& s = stats[pair.code];
          ++s.repeats;  // distinct times for now: repeats = count - distinct below
          const std::int64_t day = day_of(pair.bucket);
          if (pair.code != last_code || day != last_day) ++s.active_days;
          last_code = pair.code;
          last_day = day;
        }
      }
      for (key_stats& s : stats) s.repeats = s.count - s.repeats;
      return stats;
    }
    // The distinct (code, time) pairs: every worker's set, sorted and made unique (a pair two workers saw
    // is one), each worker's set freed once read. Rare pairs that do not pack go the slow way.
    std::vector<std::uint64_t> words;
    std::vector<std::pair<std::uint32_t, std::int64_t>> wide;
    std::size_t total = 0;
    for (const auto& w : per_worker_) total += w.times.size() + w.newer.size();
    words.reserve(total);
    for (auto& w : per_worker_) {
      w.times.for_each_split([&](std::uint64_t word, std::uint64_t) { words.push_back(word); },
                             [&](std::uint32_t code, std::int64_t time, std::uint64_t) { wide.emplace_back(code, time); });
      w.times = pair_table<false>(0, ticks_per_second);
      w.newer.for_each([&](std::uint64_t word) { words.push_back(word); });
      w.newer.clear();
    }
    radix_sort_by_key(words, [](std::uint64_t word) { return word; });
    words.erase(std::unique(words.begin(), words.end()), words.end());
    const pair_table<false> decoder(0, ticks_per_second);
    std::vector<std::uint64_t> distinct_times(num_codes, 0);
    // Per code, its times come in order: a day change is a new active day.
    std::uint32_t last_code = ~std::uint32_t{0};
    std::int64_t last_day = 0;
    auto add_time = [&](std::uint32_t code, std::int64_t time) {
      if (code >= num_codes) return;  // codes the caller did not ask for
      ++distinct_times[code];
      const std::int64_t day = day_of(time);
      if (code != last_code || day != last_day) ++stats[code].active_days;
      last_code = code;
      last_day = day;
    };
    if (wide.empty()) {
      for (const std::uint64_t word : words) add_time(static_cast<std::uint32_t>(word >> 32), decoder.value_of(word));
    } else {  // times before 1970, after 2106 or with fractions: all pairs as (code, time), sorted together
      for (const std::uint64_t word : words)
        wide.emplace_back(static_cast<std::uint32_t>(word >> 32), decoder.value_of(word));
      words = {};
      std::sort(wide.begin(), wide.end());
      wide.erase(std::unique(wide.begin(), wide.end()), wide.end());
      for (const auto& [code, time] : wide) add_time(code, time);
    }
    for (std::size_t code = 0; code < num_codes; ++code) stats[code].repeats = stats[code].count - distinct_times[code];
    return stats;
  }

  std::vector<group_count> finish_groups() override {
    // Every worker's (code, bucket) -> rows, sorted by the packed word and summed where workers share a
    // pair; each worker's table freed once read. Pairs that do not pack (rare) are merged the slow way.
    struct keyed_rows {
      std::uint64_t word;
      std::uint64_t rows;
    };
    std::vector<keyed_rows> items;
    pair_table<true> total = group_table(per_worker_.empty() ? false : per_worker_[0].group_times);
    std::size_t size = 0;
    for (auto& w : per_worker_) {
      w.end_run();
      size += w.groups.size() + w.newer.size() / 2;
    }
    if (spilled()) {
      // Past the memory budget: the rest of every table to disk too, then one partition of the codes at a time.
      std::vector<group_count> groups;
      for (auto& w : per_worker_) spill(w);
      for (unsigned p = 0; p < spill_file::partitions; ++p) {
        const std::vector<group_count> part = spilled_partition(p);
        groups.insert(groups.end(), part.begin(), part.end());
      }
      std::sort(groups.begin(), groups.end(), [](const group_count& a, const group_count& b) {
        return a.code != b.code ? a.code < b.code : a.bucket < b.bucket;
      });
      return groups;
    }
    items.reserve(size);
    for (auto& w : per_worker_) {
      w.groups.for_each_split([&](std::uint64_t word, std::uint64_t rows) { items.push_back({word, rows}); },
                              [&](std::uint32_t code, std::int64_t bucket, std::uint64_t rows) { total.add(code, bucket, rows); });
      w.groups = group_table(w.group_times);
      w.newer.drain([&](std::span<const std::uint64_t> words) {
        for (std::size_t i = 0; i + 1 < words.size(); i += 2) items.push_back({words[i], words[i + 1]});
      });
    }
    radix_sort_by_key(items, [](const keyed_rows& item) { return item.word; });
    std::vector<group_count> groups;
    groups.reserve(items.size() + total.size());
    for (std::size_t i = 0; i < items.size();) {
      std::uint64_t rows = 0;
      const std::uint64_t word = items[i].word;
      for (; i < items.size() && items[i].word == word; ++i) rows += items[i].rows;
      groups.push_back({static_cast<std::uint32_t>(word >> 32), total.value_of(word), rows});
    }
    items = {};
    if (total.size() == 0) return groups;  // already in (code, bucket) order
    // The wide pairs are disjoint from the packed ones (a pair packs or not by its value alone).
    total.for_each([&](std::uint32_t code, std::int64_t bucket, std::uint64_t rows) {
      groups.push_back({code, bucket, rows});
    });
    std::sort(groups.begin(), groups.end(), [](const group_count& a, const group_count& b) {
      return a.code != b.code ? a.code < b.code : a.bucket < b.bucket;
    });
    return groups;
  }

  std::size_t table_limit_;  // a worker's table past this many bytes is spilled (0: never)
  std::string spill_directory_;
  std::atomic<std::uint64_t>* spilled_progress_;
  std::vector<worker_state> per_worker_;
};

}  // namespace

std::unique_ptr<count_backend> make_cpu_backend(const backend_options& options) {
  return std::make_unique<cpu_backend>(options);
}

backend_status probe_cpu_backend(const backend_options&, probe_detail) {
  backend_status status;
  status.name = "cpu";
  status.usable = true;
  status.summary =
      "thread pool, " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " hardware threads";
  return status;
}

}  // namespace labcount
