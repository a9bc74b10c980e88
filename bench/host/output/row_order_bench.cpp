// The output phase of a count table against cardinality (1e5 .. 1e7 distinct 9-byte keys, "S" + 8
// digits, in first-seen order as a dictionary holds them; counts 1..8):
//   order: ordered_table (the radix sort of the keys), by key and by count
//   write: write_rows from the dictionary in that order, CSV, into a temporary file
// The order is checked once per size against std::sort of the keys.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "encode/dictionary.hpp"
#include "output/result_writer.hpp"
#include "output/row_order.hpp"

namespace labcount::bench {
namespace {

struct table_input {
  key_dictionary dictionary;
  std::vector<std::uint64_t> counts;
};

const table_input& table_for(std::uint32_t num_keys) {
  static std::map<std::uint32_t, table_input> cache;
  if (const auto it = cache.find(num_keys); it != cache.end()) return it->second;
  table_input& in = cache[num_keys];
  std::uint64_t state = 7;
  char key[16];
  // Multiplying by an odd number not divisible by 5 permutes Z/10^8: distinct, unordered keys.
  for (std::uint32_t i = 0; i < num_keys; ++i) {
    std::snprintf(key, sizeof key, "S%08llu", static_cast<unsigned long long>(i * 2654435761ULL % 100'000'000ULL));
    in.dictionary.encode(key);
    in.counts.push_back(1 + splitmix64(state) % 8);
  }
  return in;
}

bool ordered_right(const table_input& in, const ordered_table& table) {
  std::vector<std::string_view> keys;
  for (std::uint32_t code = 0; code < in.dictionary.size(); ++code) keys.push_back(in.dictionary.key(code));
  std::sort(keys.begin(), keys.end());
  if (table.size() != keys.size()) return false;
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (table.row(i).key != keys[i]) return false;
  return true;
}

void BM_output_order(benchmark::State& state) {
  const table_input& in = table_for(static_cast<std::uint32_t>(state.range(0)));
  const auto order = state.range(1) == 0 ? sort_order::key : sort_order::count;
  if (order == sort_order::key && !ordered_right(in, ordered_table(in.dictionary, in.counts, order, 0))) {
    state.SkipWithError("ordered_table is not in key order");
    return;
  }
  for (auto _ : state) {
    ordered_table table(in.dictionary, in.counts, order, 0);
    benchmark::DoNotOptimize(table.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_output_order)->ArgsProduct({{100'000, 1'000'000, 10'000'000}, {0, 1}})->Unit(benchmark::kMillisecond);

void BM_write_rows(benchmark::State& state) {
  const table_input& in = table_for(static_cast<std::uint32_t>(state.range(0)));
  const ordered_table table(in.dictionary, in.counts, sort_order::key, 0);
  const std::string path = (scratch_dir() / "table.csv").string();
  for (auto _ : state) {
    output_file out(path);
    write_rows(out, table, output_options{});
    out.commit();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_write_rows)->Arg(100'000)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace labcount::bench
