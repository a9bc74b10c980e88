// scan_records throughput over generated CSV in memory (no I/O, one thread): rows x distinct keys x skew.
// A checksum of the keys the scanner reports, in order, is compared with a plain line split done once outside the
// timed loop, so a fast scanner that drops or cuts keys fails.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "bench_support.hpp"
#include "csv/csv_scanner.hpp"

namespace labcount::bench {
namespace {

struct key_digest {
  std::uint64_t rows = 0;
  std::uint64_t hash = 0;
  void add(std::string_view key) noexcept {
    ++rows;
    const std::uint64_t ends = key.empty()
                                   ? 0
                                   : static_cast<unsigned char>(key.front()) |
                                         static_cast<std::uint64_t>(static_cast<unsigned char>(key.back())) << 8;
    hash = (hash ^ key.size() ^ ends << 16) * 0x100000001b3ULL;
  }
  friend bool operator==(const key_digest&, const key_digest&) = default;
};

// The reference: split lines at LF, drop a CR, take the text after the first comma (the data has no quotes).
key_digest reference_digest(std::string_view body) {
  key_digest d;
  while (!body.empty()) {
    const std::size_t lf = body.find('\n');
    std::string_view line = body.substr(0, lf);
    body.remove_prefix(lf == std::string_view::npos ? body.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    d.add(line.substr(line.find(',') + 1));
  }
  return d;
}

void BM_scan_records(benchmark::State& state) {
  const auto rows = static_cast<std::uint64_t>(state.range(0));
  const auto samples = static_cast<std::uint32_t>(state.range(1));
  const std::string& csv = generated_csv(rows, samples, skew_of(state.range(2)));
  const std::string_view body = std::string_view(csv).substr(csv.find('\n') + 1);  // after the header
  const key_digest expected = reference_digest(body);

  scan_options options;
  options.delimiter = ',';
  options.key_field = 1;
  options.num_fields = 2;
  parsed_record scratch;
  for (auto _ : state) {
    key_digest got;
    scan_records(
        body.data(), body.data() + body.size(), true, options, scratch,
        [&](std::string_view key, std::string_view, const char*) {
          got.add(key);
          return true;
        },
        [](row_problem, const char*, const char*, std::uint32_t) { return false; });
    benchmark::DoNotOptimize(got);
    if (!(got == expected)) {
      state.SkipWithError("scan_records reported other keys than the reference line split");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_scan_records)
    ->ArgNames({"rows", "keys", "skew%"})
    ->ArgsProduct({{100'000, 1'000'000}, {1'243, 100'000}, {0, 65}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.2);

}  // namespace
}  // namespace labcount::bench
