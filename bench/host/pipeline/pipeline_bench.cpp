// run_count end to end over a generated file (page cache warm after the first iteration), CPU backend, threads
// 1..hardware threads: how the host pipeline scales. The per-key counts are compared with a single-threaded line
// split of the same bytes, computed once; the last iteration's result is checked after the loop.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "backend/backend.hpp"
#include "bench_support.hpp"
#include "pipeline/count_pipeline.hpp"
#include "util/thread_pool.hpp"

namespace labcount::bench {
namespace {

constexpr std::uint64_t num_rows = 2'000'000;

// key -> count by splitting lines (generated data has no quotes), and the file's size.
struct reference {
  std::map<std::string, std::uint64_t, std::less<>> counts;
  std::uint64_t bytes = 0;
};

const reference& reference_for(const std::string& path) {
  static std::map<std::string, reference> cache;
  if (const auto it = cache.find(path); it != cache.end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string bytes = std::move(text).str();
  reference ref;
  ref.bytes = bytes.size();
  std::string_view body = std::string_view(bytes).substr(bytes.find('\n') + 1);
  while (!body.empty()) {
    const std::size_t lf = body.find('\n');
    std::string_view line = body.substr(0, lf);
    body.remove_prefix(lf == std::string_view::npos ? body.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) ++ref.counts[std::string(line.substr(line.find(',') + 1))];
  }
  return cache.emplace(path, std::move(ref)).first->second;
}

bool matches(const count_result& result, const reference& ref) {
  std::size_t keys = 0;
  for (std::uint32_t code = 0; code < result.dictionary.size(); ++code) {
    if (result.counts[code] == 0) continue;
    ++keys;
    const auto it = ref.counts.find(result.dictionary.key(code));
    if (it == ref.counts.end() || it->second != result.counts[code]) return false;
  }
  return keys == ref.counts.size();
}

void BM_run_count(benchmark::State& state) {
  const auto samples = static_cast<std::uint32_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.range(1));
  const std::string& path = generated_csv_file(num_rows, samples, 0.65);
  const reference& ref = reference_for(path);
  count_request request;
  request.inputs = {path};
  backend_options options;
  options.num_workers = threads;
  thread_pool pool(threads);
  count_result result;
  for (auto _ : state) result = run_count(request, *make_cpu_backend(options), pool);
  // After the loop: a million map look-ups would weigh on the timed runs.
  if (result.rows != num_rows || !matches(result, ref))
    state.SkipWithError("run_count's counts differ from a single-threaded line split");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * ref.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * num_rows));
}
BENCHMARK(BM_run_count)
    ->ArgNames({"keys", "threads"})
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (const std::int64_t keys : {1'243, 1'000'000})
        for (unsigned threads = 1; threads <= thread_pool::default_threads(); ++threads) b->Args({keys, threads});
    })
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(0.3);

}  // namespace
}  // namespace labcount::bench
