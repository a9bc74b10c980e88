// The CPU backend's consume + finish over ready-made codes (no parsing): 4Mi rows x distinct keys x skew x
// workers. Each worker hands its slice over in batches of 64Ki codes, as the pipeline does. The counts of the
// last iteration are compared with a plain histogram computed once.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.hpp"
#include "bench_support.hpp"
#include "util/thread_pool.hpp"

namespace labcount::bench {
namespace {

constexpr std::size_t num_rows = std::size_t{1} << 22;
constexpr std::size_t batch_codes = std::size_t{1} << 16;

void BM_cpu_backend_consume_finish(benchmark::State& state) {
  const auto cardinality = static_cast<std::uint32_t>(state.range(0));
  const codes_input& in = codes_with_counts(num_rows, cardinality, skew_of(state.range(1)));
  const auto workers = static_cast<unsigned>(state.range(2));
  thread_pool pool(workers);
  backend_options options;
  options.num_workers = workers;
  std::vector<std::uint64_t> counts;
  for (auto _ : state) {
    auto backend = make_cpu_backend(options);
    pool.run_workers([&](unsigned worker) {
      const std::size_t begin = num_rows * worker / workers;
      const std::size_t end = num_rows * (worker + 1) / workers;
      for (std::size_t at = begin; at < end; at += batch_codes)
        backend->consume(worker, {std::span(in.codes).subspan(at, std::min(batch_codes, end - at))});
    });
    counts = backend->finish(cardinality).counts;
    benchmark::DoNotOptimize(counts.data());
  }
  if (counts != in.expected) state.SkipWithError("the CPU backend's counts differ from a plain histogram");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * num_rows * sizeof(std::uint32_t)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * num_rows));
}
BENCHMARK(BM_cpu_backend_consume_finish)
    ->ArgNames({"keys", "skew%", "workers"})
    ->ArgsProduct({{1'000, 100'000, 10'000'000}, {0, 65}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(0.2);

}  // namespace
}  // namespace labcount::bench
