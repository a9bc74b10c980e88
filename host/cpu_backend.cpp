// The CPU backend: private per-worker state (no sharing, no atomics), combined once in finish*().
//   counts: one histogram per worker. Codes are dense, so a histogram is the direct form of
//           sort_by_key + reduce_by_key on the CPU.
//   stats : per code count/min/max, and a hash set of distinct (code, time) pairs; at the end the
//           union of the sets gives the distinct times (repeats = count - distinct) and distinct days.
//   groups: a hash map (code, bucket) -> count per worker, merged and sorted at the end.
#include <algorithm>
#include <limits>
#include <thread>

#include "backend.hpp"
#include "errors.hpp"

namespace labcount {
namespace {

// Open addressing over (code, value) pairs with a count, load factor <= 1/2.
class pair_table {
 public:
  struct entry {
    std::int64_t value;
    std::uint32_t code;
    std::uint32_t used;  // 0 = empty
    std::uint64_t count;
  };

  pair_table() : slots_(1024), mask_(1023) {}

  void add(std::uint32_t code, std::int64_t value, std::uint64_t count) {
    std::size_t i = hash(code, value) & mask_;
    for (;;) {
      entry& e = slots_[i];
      if (e.used == 0) {
        e = entry{value, code, 1, count};
        if (++size_ * 2 > slots_.size()) grow();
        return;
      }
      if (e.code == code && e.value == value) {
        e.count += count;
        return;
      }
      i = (i + 1) & mask_;
    }
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const entry& e : slots_)
      if (e.used != 0) fn(e);
  }
  std::size_t size() const noexcept { return size_; }

 private:
  static std::size_t hash(std::uint32_t code, std::int64_t value) noexcept {
    std::uint64_t h = (static_cast<std::uint64_t>(code) * 0x9e3779b97f4a7c15ULL) ^ static_cast<std::uint64_t>(value);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
  void grow() {
    std::vector<entry> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (const entry& e : old)
      if (e.used != 0) add(e.code, e.value, e.count);
  }

  std::vector<entry> slots_;
  std::size_t mask_;
  std::size_t size_ = 0;
};

struct worker_state {
  std::vector<std::uint64_t> counts;
  std::vector<timestamp> first;
  std::vector<timestamp> last;
  pair_table pairs;  // stats: distinct (code, time); groups: (code, bucket) -> rows
  std::uint32_t last_code = std::numeric_limits<std::uint32_t>::max();
  std::int64_t last_value = 0;
};

class cpu_backend final : public count_backend {
 public:
  explicit cpu_backend(const backend_options& options)
      : mode_(options.mode), per_worker_(std::max(1u, options.num_workers)) {}

  std::string_view name() const override { return "cpu"; }

  void consume(unsigned worker, std::span<const std::uint32_t> codes) override {
    LABCOUNT_EXPECTS(mode_ == value_mode::counts, "consume() needs value_mode::counts");
    auto& counts = per_worker_.at(worker).counts;
    for (std::uint32_t code : codes) {
      if (code >= counts.size()) counts.resize(std::max<std::size_t>(code + 1, counts.size() * 2), 0);
      ++counts[code];
    }
  }

  void consume_values(unsigned worker, std::span<const std::uint32_t> codes,
                      std::span<const std::int64_t> values) override {
    LABCOUNT_EXPECTS(mode_ != value_mode::counts, "consume_values() needs value_mode::stats or ::groups");
    LABCOUNT_EXPECTS(codes.size() == values.size(), "one value per code");
    worker_state& w = per_worker_.at(worker);
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const std::uint32_t code = codes[i];
      const std::int64_t value = values[i];
      if (mode_ == value_mode::groups) {
        w.pairs.add(code, value, 1);
        continue;
      }
      if (code >= w.counts.size()) {
        const std::size_t size = std::max<std::size_t>(code + 1, w.counts.size() * 2);
        w.counts.resize(size, 0);
        w.first.resize(size, std::numeric_limits<timestamp>::max());
        w.last.resize(size, std::numeric_limits<timestamp>::min());
      }
      ++w.counts[code];
      w.first[code] = std::min(w.first[code], value);
      w.last[code] = std::max(w.last[code], value);
      // Lab files log a sample's tests in runs: the same (code, time) as the row before is a repeat.
      if (code == w.last_code && value == w.last_value) continue;
      w.pairs.add(code, value, 1);
      w.last_code = code;
      w.last_value = value;
    }
  }

  std::vector<std::uint64_t> finish(std::size_t num_codes) override {
    LABCOUNT_EXPECTS(mode_ == value_mode::counts, "finish() needs value_mode::counts");
    std::vector<std::uint64_t> total(num_codes, 0);
    for (const auto& w : per_worker_) {
      const std::size_t n = std::min(w.counts.size(), num_codes);
      for (std::size_t code = 0; code < n; ++code) total[code] += w.counts[code];
    }
    return total;
  }

  std::vector<key_stats> finish_stats(std::size_t num_codes) override {
    LABCOUNT_EXPECTS(mode_ == value_mode::stats, "finish_stats() needs value_mode::stats");
    std::vector<key_stats> stats(num_codes);
    pair_table distinct;  // the union of the workers' distinct (code, time) pairs
    for (const auto& w : per_worker_) {
      const std::size_t n = std::min(w.counts.size(), num_codes);
      for (std::size_t code = 0; code < n; ++code) {
        if (w.counts[code] == 0) continue;
        key_stats& s = stats[code];
        s.first = s.count == 0 ? w.first[code] : std::min(s.first, w.first[code]);
        s.last = s.count == 0 ? w.last[code] : std::max(s.last, w.last[code]);
        s.count += w.counts[code];
      }
      w.pairs.for_each([&](const pair_table::entry& e) { distinct.add(e.code, e.value, 1); });
    }
    pair_table days;
    distinct.for_each([&](const pair_table::entry& e) {
      ++stats[e.code].repeats;  // counts distinct times for now
      days.add(e.code, day_of(e.value), 1);
    });
    days.for_each([&](const pair_table::entry& e) { ++stats[e.code].active_days; });
    for (auto& s : stats) s.repeats = s.count - s.repeats;
    return stats;
  }

  std::vector<group_count> finish_groups() override {
    LABCOUNT_EXPECTS(mode_ == value_mode::groups, "finish_groups() needs value_mode::groups");
    pair_table total;
    for (const auto& w : per_worker_) w.pairs.for_each([&](const pair_table::entry& e) { total.add(e.code, e.value, e.count); });
    std::vector<group_count> groups;
    groups.reserve(total.size());
    total.for_each([&](const pair_table::entry& e) { groups.push_back({e.code, e.value, e.count}); });
    std::sort(groups.begin(), groups.end(), [](const group_count& a, const group_count& b) {
      return a.code != b.code ? a.code < b.code : a.bucket < b.bucket;
    });
    return groups;
  }

 private:
  value_mode mode_;
  std::vector<worker_state> per_worker_;
};

}  // namespace

std::unique_ptr<count_backend> make_cpu_backend(const backend_options& options) {
  return std::make_unique<cpu_backend>(options);
}

backend_status probe_cpu_backend() {
  backend_status status;
  status.name = "cpu";
  status.usable = true;
  status.reason = "thread pool, " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
                  " hardware threads";
  return status;
}

}  // namespace labcount
