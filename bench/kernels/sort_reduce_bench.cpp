// The GPU backend's per-batch algorithm, sort + reduce_by_key, instantiated for Thrust's CPP system
// (kernels/sort_reduce.hpp; built wherever the CCCL headers are, GPU or not): a host baseline for the device
// version, and a check that the algorithm scales with the key range (radix_end_bit) as expected.
// Batches of 1Mi codes x distinct keys x skew; results compared with a plain histogram computed once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench_support.hpp"
#include "kernels/sort_reduce.hpp"

namespace labcount::bench {
namespace {

constexpr std::size_t batch_rows = std::size_t{1} << 20;

// reduce_codes_cpp: the sparse (code, count) of one batch.
void BM_reduce_codes_cpp(benchmark::State& state) {
  const auto cardinality = static_cast<std::uint32_t>(state.range(0));
  const codes_input& in = codes_with_counts(batch_rows, cardinality, skew_of(state.range(1)));
  kernels::code_counts result;
  for (auto _ : state) {
    result = kernels::reduce_codes_cpp(in.codes);
    benchmark::DoNotOptimize(result.codes.data());
  }
  std::vector<std::uint64_t> dense(cardinality, 0);
  bool ok = result.codes.size() == result.counts.size();
  for (std::size_t i = 0; ok && i < result.codes.size(); ++i) {
    ok = result.codes[i] < cardinality && (i == 0 || result.codes[i - 1] < result.codes[i]);
    if (ok) dense[result.codes[i]] = result.counts[i];
  }
  if (!ok || dense != in.expected) state.SkipWithError("reduce_codes_cpp differs from a plain histogram");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch_rows * sizeof(std::uint32_t)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_rows));
}
BENCHMARK(BM_reduce_codes_cpp)
    ->ArgNames({"keys", "skew%"})
    ->ArgsProduct({{1'000, 100'000, 10'000'000}, {0, 65}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.2);

// accumulate_codes_cpp: sort + reduce_by_key, then add into dense running totals (the GPU backend's batch step).
void BM_accumulate_codes_cpp(benchmark::State& state) {
  const auto cardinality = static_cast<std::uint32_t>(state.range(0));
  const codes_input& in = codes_with_counts(batch_rows, cardinality, skew_of(state.range(1)));
  std::vector<std::uint64_t> totals(cardinality, 0);
  std::uint64_t batches = 0;
  for (auto _ : state) {
    kernels::accumulate_codes_cpp(in.codes, totals);
    ++batches;
  }
  bool ok = true;
  for (std::size_t code = 0; ok && code < cardinality; ++code) ok = totals[code] == in.expected[code] * batches;
  if (!ok) state.SkipWithError("accumulate_codes_cpp's totals differ from a plain histogram");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch_rows * sizeof(std::uint32_t)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_rows));
}
BENCHMARK(BM_accumulate_codes_cpp)
    ->ArgNames({"keys", "skew%"})
    ->ArgsProduct({{1'000, 100'000}, {0, 65}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.2);

}  // namespace
}  // namespace labcount::bench
