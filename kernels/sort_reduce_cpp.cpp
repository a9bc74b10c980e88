// sort_reduce.cuh instantiated for Thrust's CPP system and compiled by g++ (THRUST_DEVICE_SYSTEM_CPP), so the
// steps the GPU backend runs are tested on machines without a GPU. Only the Thrust primitives run here; the CUB
// specialisation is compiled by nvcc into labcount_cuda.
#include <thrust/system/cpp/execution_policy.h>

#include <algorithm>
#include <functional>

#include "errors.hpp"
#include "sort_reduce.cuh"

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
  const std::uint32_t* unique = sort_and_count_codes(exec, keys.data(), alternate.data(), keys.size(), max_code,
                                                     counts.data(), &num_runs, [] {});
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
  const std::size_t num_runs =
      merge_code_counts(exec, a.codes.data(), a.counts.data(), a.codes.size(), b.codes.data(), b.counts.data(),
                        b.codes.size(), merged_codes.data(), merged_counts.data(), result.codes.data(),
                        result.counts.data());
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

}  // namespace
}  // namespace detail

code_counts reduce_codes_cpp(std::span<const std::uint32_t> codes) {
  LABCOUNT_EXPECTS(codes.size() <= max_batch_rows, "a batch holds at most max_batch_rows codes");
  return detail::reduce_codes_cpp(codes);
}

code_counts merge_code_counts_cpp(const code_counts& a, const code_counts& b) {
  LABCOUNT_EXPECTS(a.codes.size() == a.counts.size() && b.codes.size() == b.counts.size(),
                   "every code has one count");
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

}  // namespace labcount::kernels
