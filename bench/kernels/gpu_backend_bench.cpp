// The device sort + reduce_by_key, through the GPU backend (kernels/gpu_backend.hpp): consume + finish of
// ready-made codes, so the numbers are the device path alone (staging copies, transfer, CUB sort, reduce, merge,
// copy back), not the host parser. Built only with CUDA (LABCOUNT_HAS_CUDA); each benchmark skips, saying why,
// where no GPU is usable. 16Mi rows x distinct keys x skew x rows per device batch (0: the backend's choice).
// Counts are compared with a plain histogram computed once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.hpp"
#include "bench_support.hpp"
#include "kernels/gpu_backend.hpp"

namespace labcount::bench {
namespace {

constexpr std::size_t num_rows = std::size_t{1} << 24;
constexpr std::size_t batch_codes = std::size_t{1} << 16;  // what a host worker hands over at a time

bool gpu_usable(benchmark::State& state) {
  static const backend_status status = probe_gpu_backend(backend_options{}, probe_detail::chosen_device);
  if (!status.usable) state.SkipWithError(("no usable GPU: " + status.why_not).c_str());
  return status.usable;
}

// Backend construction alone: streams, pinned staging buffers, device scratch (the context exists already).
void BM_gpu_backend_setup(benchmark::State& state) {
  if (!gpu_usable(state)) return;
  backend_options options;
  for (auto _ : state) {
    auto backend = make_gpu_backend(options, gpu_backend_tuning{});
    benchmark::DoNotOptimize(backend.get());
  }
}
BENCHMARK(BM_gpu_backend_setup)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_gpu_backend_consume_finish(benchmark::State& state) {
  if (!gpu_usable(state)) return;
  const auto cardinality = static_cast<std::uint32_t>(state.range(0));
  const codes_input& in = codes_with_counts(num_rows, cardinality, skew_of(state.range(1)));
  gpu_backend_tuning tuning;
  tuning.batch_rows = static_cast<std::size_t>(state.range(2));
  backend_options options;
  std::vector<std::uint64_t> counts;
  // One setup, as in a run of many inputs: each iteration is one input, then reset().
  auto backend = make_gpu_backend(options, tuning);
  for (auto _ : state) {
    for (std::size_t at = 0; at < num_rows; at += batch_codes)
      backend->consume(0, {std::span(in.codes).subspan(at, std::min(batch_codes, num_rows - at))});
    counts = backend->finish(cardinality).counts;
    state.PauseTiming();
    backend->reset();
    state.ResumeTiming();
  }
  if (counts != in.expected) state.SkipWithError("the GPU backend's counts differ from a plain histogram");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * num_rows * sizeof(std::uint32_t)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * num_rows));
}
BENCHMARK(BM_gpu_backend_consume_finish)
    ->ArgNames({"keys", "skew%", "batch"})
    ->ArgsProduct({{1'000, 100'000, 10'000'000}, {0, 65}, {0, 1 << 20}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(0.2);

}  // namespace
}  // namespace labcount::bench
