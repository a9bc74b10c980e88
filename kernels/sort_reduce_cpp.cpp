// sort_reduce.cuh instantiated for Thrust's CPP system and compiled by g++ (THRUST_DEVICE_SYSTEM_CPP), so the
// steps the GPU backend runs are tested on machines without a GPU. Only the Thrust primitives run here; the CUB
// specialisation is compiled by nvcc into labcount_cuda.
#include <thrust/system/cpp/execution_policy.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "kernels/sort_reduce.cuh"
#include "util/errors.hpp"

namespace labcount::kernels {
namespace detail {
namespace {

std::uint32_t max_code_of(std::span<const std::uint32_t> codes) {
  return codes.empty() ? 0 : *std::max_element(codes.begin(), codes.end());
}

bool strictly_increasing(const std::vector<std::uint32_t>& codes) {
  return std::adjacent_find(codes.begin(), codes.end(), std::greater_equal<>{}) == codes.end();
}

code_counts reduce_codes_cpp(std::span<const std::uint32_t> codes) {
  code_counts result;
  if (codes.empty()) return result;
  std::vector<std::uint32_t> keys(codes.begin(), codes.end());
  std::vector<std::uint32_t> alternate(codes.size());
  const std::uint32_t max_code = max_code_of(codes);
  std::vector<std::uint64_t> counts(std::min(codes.size(), std::size_t{max_code} + 1));
  run_count_t num_runs = 0;
  auto exec = thrust::cpp::par;
  const std::uint32_t* unique =
      sort_and_count_codes(exec, keys.data(), alternate.data(), keys.size(), max_code, counts.data(), &num_runs, [] {});
  result.codes.assign(unique, unique + num_runs);
  counts.resize(num_runs);
  result.counts = std::move(counts);
  return result;
}

code_counts merge_code_counts_cpp(const code_counts& a, const code_counts& b) {
  const std::size_t size = a.codes.size() + b.codes.size();
  std::vector<std::uint32_t> merged_codes(size);
  std::vector<std::uint64_t> merged_counts(size);
  code_counts result;
  result.codes.resize(size);
  result.counts.resize(size);
  auto exec = thrust::cpp::par;
  const std::size_t num_runs = merge_code_counts(exec, a.codes.data(), a.counts.data(), a.codes.size(), b.codes.data(),
                                                 b.counts.data(), b.codes.size(), merged_codes.data(),
                                                 merged_counts.data(), result.codes.data(), result.counts.data());
  result.codes.resize(num_runs);
  result.counts.resize(num_runs);
  return result;
}

void accumulate_codes_cpp(std::span<const std::uint32_t> codes, std::uint32_t max_code,
                          std::span<std::uint64_t> totals) {
  if (codes.empty()) return;
  std::vector<std::uint32_t> keys(codes.begin(), codes.end());
  std::vector<std::uint32_t> alternate(codes.size());
  std::vector<std::uint64_t> run_counts(std::min(codes.size(), std::size_t{max_code} + 1));
  run_count_t num_runs = 0;
  auto exec = thrust::cpp::par;
  count_codes_into(exec, keys.data(), alternate.data(), keys.size(), max_code, run_counts.data(), &num_runs,
                   totals.data(), [] {});
}

// ---- value modes ----

// A pair set as the steps see it.
struct pair_set {
  std::vector<code_value> pairs;
  std::vector<std::uint64_t> counts;
};

pair_set reduce_batch_pairs(std::span<const std::uint32_t> codes, std::span<const std::int64_t> values,
                            pair_sort sort) {
  pair_set result;
  const std::size_t num_rows = codes.size();
  if (num_rows == 0) return result;
  const std::uint32_t max_code = max_code_of(codes);
  const auto [min_value, max_value] = std::minmax_element(values.begin(), values.end());
  const composite_layout layout = composite_layout_for(max_code, *min_value, *max_value);
  result.pairs.resize(num_rows);
  result.counts.resize(num_rows);
  run_count_t num_pairs = 0;
  auto exec = thrust::cpp::par;
  if (sort == pair_sort::automatic && layout.fits) {
    std::vector<std::uint64_t> keys(num_rows);
    std::vector<std::uint64_t> keys_alt(num_rows);
    reduce_pairs_composite(exec, codes.data(), values.data(), keys.data(), keys_alt.data(), num_rows, layout,
                           *min_value, result.pairs.data(), result.counts.data(), &num_pairs, [] {});
  } else {
    std::vector<std::uint32_t> batch_codes(codes.begin(), codes.end());
    std::vector<std::int64_t> batch_values(values.begin(), values.end());
    std::vector<std::uint32_t> codes_alt(num_rows);
    std::vector<std::int64_t> values_alt(num_rows);
    std::vector<code_value> pairs_scratch(num_rows);
    reduce_pairs_two_keys(exec, batch_codes.data(), codes_alt.data(), batch_values.data(), values_alt.data(),
                          pairs_scratch.data(), num_rows, max_code, result.pairs.data(), result.counts.data(),
                          &num_pairs, [] {});
  }
  result.pairs.resize(num_pairs);
  result.counts.resize(num_pairs);
  return result;
}

pair_set merge_two_pair_sets(const pair_set& a, const pair_set& b) {
  const std::size_t size = a.pairs.size() + b.pairs.size();
  std::vector<code_value> merged_pairs(size);
  std::vector<std::uint64_t> merged_counts(size);
  pair_set result;
  result.pairs.resize(size);
  result.counts.resize(size);
  run_count_t num_pairs = 0;
  auto exec = thrust::cpp::par;
  merge_pair_sets(exec, a.pairs.data(), a.counts.data(), a.pairs.size(), b.pairs.data(), b.counts.data(),
                  b.pairs.size(), merged_pairs.data(), merged_counts.data(), result.pairs.data(), result.counts.data(),
                  &num_pairs);
  result.pairs.resize(num_pairs);
  result.counts.resize(num_pairs);
  return result;
}

// The batches of a whole input, reduced and merged into the running pairs one after the other.
pair_set accumulate_pairs_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> values,
                              std::size_t batch_rows, pair_sort sort) {
  pair_set running;
  if (batch_rows == 0) batch_rows = std::max<std::size_t>(codes.size(), 1);
  for (std::size_t begin = 0; begin < codes.size(); begin += batch_rows) {
    const std::size_t rows = std::min(batch_rows, codes.size() - begin);
    running =
        merge_two_pair_sets(running, reduce_batch_pairs(codes.subspan(begin, rows), values.subspan(begin, rows), sort));
  }
  return running;
}

// The per-code stats of a pair set, sparse: (codes, parts), one entry per code.
struct sparse_stats {
  std::vector<std::uint32_t> codes;
  std::vector<stats_part> parts;
};

sparse_stats stats_of_pair_set(const pair_set& set) {
  const std::size_t num_pairs = set.pairs.size();
  std::vector<std::uint32_t> codes_scratch(num_pairs);
  std::vector<stats_part> parts_scratch(num_pairs);
  sparse_stats result;
  result.codes.resize(num_pairs);
  result.parts.resize(num_pairs);
  run_count_t num_codes = 0;
  auto exec = thrust::cpp::par;
  stats_of_pairs(exec, set.pairs.data(), set.counts.data(), num_pairs, codes_scratch.data(), parts_scratch.data(),
                 result.codes.data(), result.parts.data(), &num_codes);
  result.codes.resize(num_codes);
  result.parts.resize(num_codes);
  return result;
}

pair_set to_pair_set(const pair_counts& counts) {
  pair_set set;
  set.pairs.resize(counts.codes.size());
  for (std::size_t i = 0; i < counts.codes.size(); ++i) set.pairs[i] = code_value{counts.codes[i], counts.values[i]};
  set.counts = counts.counts;
  return set;
}

pair_counts to_pair_counts(const pair_set& set) {
  pair_counts counts;
  counts.codes.reserve(set.pairs.size());
  counts.values.reserve(set.pairs.size());
  for (const code_value& pair : set.pairs) {
    counts.codes.push_back(pair.code);
    counts.values.push_back(pair.value);
  }
  counts.counts = set.counts;
  return counts;
}

bool strictly_increasing(const pair_counts& counts) {
  for (std::size_t i = 1; i < counts.codes.size(); ++i)
    if (!code_value_less{}(code_value{counts.codes[i - 1], counts.values[i - 1]},
                           code_value{counts.codes[i], counts.values[i]}))
      return false;
  return true;
}

}  // namespace
}  // namespace detail

code_counts reduce_codes_cpp(std::span<const std::uint32_t> codes) {
  LABCOUNT_EXPECTS(codes.size() <= max_batch_rows, "a batch holds at most max_batch_rows codes");
  return detail::reduce_codes_cpp(codes);
}

code_counts merge_code_counts_cpp(const code_counts& a, const code_counts& b) {
  LABCOUNT_EXPECTS(a.codes.size() == a.counts.size() && b.codes.size() == b.counts.size(), "every code has one count");
  LABCOUNT_EXPECTS(detail::strictly_increasing(a.codes) && detail::strictly_increasing(b.codes),
                   "partial results have strictly increasing codes");
  return detail::merge_code_counts_cpp(a, b);
}

void accumulate_codes_cpp(std::span<const std::uint32_t> codes, std::span<std::uint64_t> totals) {
  LABCOUNT_EXPECTS(codes.size() <= max_batch_rows, "a batch holds at most max_batch_rows codes");
  const std::uint32_t max_code = detail::max_code_of(codes);
  LABCOUNT_EXPECTS(codes.empty() || max_code < totals.size(), "totals has a slot for every code");
  detail::accumulate_codes_cpp(codes, max_code, totals);
}

pair_counts reduce_pairs_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> values,
                             pair_sort sort) {
  LABCOUNT_EXPECTS(codes.size() == values.size(), "one value per code");
  LABCOUNT_EXPECTS(codes.size() <= max_batch_rows, "a batch holds at most max_batch_rows rows");
  return detail::to_pair_counts(detail::reduce_batch_pairs(codes, values, sort));
}

pair_counts merge_pair_counts_cpp(const pair_counts& a, const pair_counts& b) {
  LABCOUNT_EXPECTS(a.codes.size() == a.values.size() && a.codes.size() == a.counts.size() &&
                       b.codes.size() == b.values.size() && b.codes.size() == b.counts.size(),
                   "every pair has one value and one count");
  LABCOUNT_EXPECTS(detail::strictly_increasing(a) && detail::strictly_increasing(b),
                   "pair sets are sorted by code then value, each pair once");
  LABCOUNT_EXPECTS(a.codes.size() + b.codes.size() <= std::numeric_limits<detail::run_count_t>::max(),
                   "fewer than 2^32 pairs");
  return detail::to_pair_counts(detail::merge_two_pair_sets(detail::to_pair_set(a), detail::to_pair_set(b)));
}

code_stats stats_of_pairs_cpp(const pair_counts& pairs) {
  LABCOUNT_EXPECTS(pairs.codes.size() == pairs.values.size() && pairs.codes.size() == pairs.counts.size(),
                   "every pair has one value and one count");
  LABCOUNT_EXPECTS(detail::strictly_increasing(pairs), "pair sets are sorted by code then value, each pair once");
  const detail::sparse_stats sparse = detail::stats_of_pair_set(detail::to_pair_set(pairs));
  code_stats result;
  result.codes = sparse.codes;
  result.stats.resize(sparse.parts.size());
  for (std::size_t i = 0; i < sparse.parts.size(); ++i) detail::store_stats(sparse.parts[i], result.stats[i]);
  return result;
}

std::vector<key_stats> stats_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> seconds,
                                 std::size_t num_codes, std::size_t batch_rows, pair_sort sort) {
  LABCOUNT_EXPECTS(codes.size() == seconds.size(), "one time per code");
  LABCOUNT_EXPECTS(batch_rows <= max_batch_rows, "a batch holds at most max_batch_rows rows");
  const detail::sparse_stats sparse =
      detail::stats_of_pair_set(detail::accumulate_pairs_cpp(codes, seconds, batch_rows, sort));
  // the GPU backend's last step: scatter into zeroed dense stats
  std::vector<key_stats> stats(num_codes);
  const auto num_sparse = static_cast<detail::run_count_t>(sparse.codes.size());
  auto exec = thrust::cpp::par;
  detail::for_each_index(
      exec, sparse.codes.size(),
      detail::scatter_stats{sparse.codes.data(), sparse.parts.data(), &num_sparse, num_codes, stats.data()});
  return stats;
}

std::vector<group_count> groups_cpp(std::span<const std::uint32_t> codes, std::span<const std::int64_t> buckets,
                                    std::size_t batch_rows, pair_sort sort) {
  LABCOUNT_EXPECTS(codes.size() == buckets.size(), "one bucket per code");
  LABCOUNT_EXPECTS(batch_rows <= max_batch_rows, "a batch holds at most max_batch_rows rows");
  const detail::pair_set set = detail::accumulate_pairs_cpp(codes, buckets, batch_rows, sort);
  std::vector<group_count> groups(set.pairs.size());
  for (std::size_t i = 0; i < groups.size(); ++i)
    groups[i] = group_count{set.pairs[i].code, set.pairs[i].value, set.counts[i]};
  return groups;
}

}  // namespace labcount::kernels
