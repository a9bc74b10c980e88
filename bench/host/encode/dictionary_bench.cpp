// key_dictionary::encode throughput against cardinality (1e3 .. 1e7 distinct keys), 4Mi rows of 9-byte keys
// ("S" + 8 digits) with Zipf skew 0.65:
//   cold: a fresh dictionary each iteration (every key inserted once, then looked up): what one worker sees
//   warm: every key already present (lookups only)
// The sum of the returned codes is compared with the codes a first-seen numbering gives, computed once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench_support.hpp"
#include "encode/dictionary.hpp"

namespace labcount::bench {
namespace {

constexpr std::size_t num_rows = std::size_t{1} << 22;
constexpr std::size_t key_bytes = 9;

struct dictionary_input {
  std::string keys;            // num_rows keys of key_bytes each, back to back
  std::uint64_t code_sum = 0;  // sum over rows of the first-seen code of the row's key
  std::size_t distinct = 0;
  std::string_view key(std::size_t row) const noexcept { return {keys.data() + row * key_bytes, key_bytes}; }
};

const dictionary_input& input_for(std::uint32_t cardinality) {
  static std::map<std::uint32_t, dictionary_input> cache;
  if (const auto it = cache.find(cardinality); it != cache.end()) return it->second;
  dictionary_input in;
  const std::vector<std::uint32_t> ids = zipf_codes(num_rows, cardinality, 0.65);
  in.keys.resize(num_rows * key_bytes + 1);
  // Distinct ids give distinct keys: multiplying by an odd number not divisible by 5 permutes Z/10^8.
  for (std::size_t row = 0; row < num_rows; ++row)
    std::snprintf(in.keys.data() + row * key_bytes, key_bytes + 1, "S%08llu",
                  static_cast<unsigned long long>(ids[row] * 2654435761ULL % 100'000'000ULL));
  in.keys.resize(num_rows * key_bytes);
  std::vector<std::int64_t> first_code(cardinality, -1);
  for (const std::uint32_t id : ids) {
    if (first_code[id] < 0) first_code[id] = static_cast<std::int64_t>(in.distinct++);
    in.code_sum += static_cast<std::uint64_t>(first_code[id]);
  }
  return cache.emplace(cardinality, std::move(in)).first->second;
}

bool check(benchmark::State& state, const dictionary_input& in, std::uint64_t code_sum, std::size_t size) {
  if (code_sum == in.code_sum && size == in.distinct) return true;
  state.SkipWithError("encode returned other codes than a first-seen numbering");
  return false;
}

void BM_encode_cold(benchmark::State& state) {
  const dictionary_input& in = input_for(static_cast<std::uint32_t>(state.range(0)));
  for (auto _ : state) {
    key_dictionary dictionary;
    std::uint64_t code_sum = 0;
    for (std::size_t row = 0; row < num_rows; ++row) code_sum += dictionary.encode(in.key(row));
    if (!check(state, in, code_sum, dictionary.size())) break;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.keys.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * num_rows));
}
BENCHMARK(BM_encode_cold)
    ->ArgName("keys")
    ->RangeMultiplier(10)
    ->Range(1'000, 10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.2);

void BM_encode_warm(benchmark::State& state) {
  const dictionary_input& in = input_for(static_cast<std::uint32_t>(state.range(0)));
  key_dictionary dictionary;
  for (std::size_t row = 0; row < num_rows; ++row) dictionary.encode(in.key(row));
  for (auto _ : state) {
    std::uint64_t code_sum = 0;
    for (std::size_t row = 0; row < num_rows; ++row) code_sum += dictionary.encode(in.key(row));
    if (!check(state, in, code_sum, dictionary.size())) break;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.keys.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * num_rows));
}
BENCHMARK(BM_encode_warm)
    ->ArgName("keys")
    ->RangeMultiplier(10)
    ->Range(1'000, 10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.2);

}  // namespace
}  // namespace labcount::bench
