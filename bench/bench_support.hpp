// Shared inputs of the micro-benchmarks, built once per process outside any timed region.
//
//   generated_csv(1'000'000, 1243, 0.65)  ->  the bytes of `labcount generate --rows 1M --samples 1243`
//   zipf_codes(4M, 1e5, 0.65)             ->  4M codes in [0, 1e5), code k drawn with weight ~ 1/(k+1)^0.65
//
// Axes shared by every benchmark (STYLE.md): rows x distinct keys x skew; skew is passed as an integer
// percent (65 = 0.65) because Google Benchmark arguments are integers.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "output/output_file.hpp"
#include "tools/generate.hpp"

namespace labcount::bench {

// A temporary directory for the process, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct holder {
    std::filesystem::path path;
    holder() {
      std::string pattern = (std::filesystem::temp_directory_path() / "labcount-microbench-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: set TMPDIR");
      path = pattern;
    }
    ~holder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const holder dir;
  return dir.path;
}

inline double skew_of(std::int64_t percent) { return static_cast<double>(percent) / 100.0; }

// A file in `labcount generate`'s format (TestTime,SampleID, CRLF), cached per (rows, samples, skew).
inline const std::string& generated_csv_file(std::uint64_t rows, std::uint32_t samples, double skew) {
  static std::map<std::tuple<std::uint64_t, std::uint32_t, double>, std::string> cache;
  const auto key = std::make_tuple(rows, samples, skew);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  const std::string path = (scratch_dir() / ("gen-" + std::to_string(rows) + "-" + std::to_string(samples) + "-" +
                                             std::to_string(static_cast<int>(skew * 100)) + ".csv"))
                               .string();
  generate_options options;
  options.rows = rows;
  options.samples = samples;
  options.skew = skew;
  output_file out(path);
  generate_csv(options, out);
  out.commit();
  return cache.emplace(key, path).first->second;
}

// The same bytes in memory.
inline const std::string& generated_csv(std::uint64_t rows, std::uint32_t samples, double skew) {
  static std::map<std::tuple<std::uint64_t, std::uint32_t, double>, std::string> cache;
  const auto key = std::make_tuple(rows, samples, skew);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  std::ifstream in(generated_csv_file(rows, samples, skew), std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return cache.emplace(key, std::move(bytes).str()).first->second;
}

using detail::splitmix64;

// num_rows codes in [0, cardinality), Zipf-distributed with exponent skew (the generator's weights), shuffled so
// that code 0 is not the most frequent one.
inline std::vector<std::uint32_t> zipf_codes(std::size_t num_rows, std::uint32_t cardinality, double skew,
                                             std::uint64_t seed = 1) {
  const std::vector<std::uint64_t> weights = detail::zipf_weights(cardinality, skew);
  std::vector<std::uint64_t> cumulative(weights.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) cumulative[i] = total += weights[i];
  std::vector<std::uint32_t> permutation(cardinality);
  for (std::uint32_t i = 0; i < cardinality; ++i) permutation[i] = i;
  std::uint64_t state = seed;
  for (std::uint32_t i = cardinality; i > 1; --i) std::swap(permutation[i - 1], permutation[splitmix64(state) % i]);
  std::vector<std::uint32_t> codes(num_rows);
  for (auto& code : codes) {
    const std::uint64_t r = splitmix64(state) % total;
    const auto rank =
        static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin());
    code = permutation[rank];
  }
  return codes;
}

// num_rows codes from zipf_codes and their counts (counts[code]), the checksum a benchmark checks its result
// against. Built once per (num_rows, cardinality, skew) in a process, outside any timed loop.
struct codes_input {
  std::vector<std::uint32_t> codes;
  std::vector<std::uint64_t> expected;
};
inline const codes_input& codes_with_counts(std::size_t num_rows, std::uint32_t cardinality, double skew) {
  static std::map<std::tuple<std::size_t, std::uint32_t, double>, codes_input> cache;
  const auto key = std::make_tuple(num_rows, cardinality, skew);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  codes_input in;
  in.codes = zipf_codes(num_rows, cardinality, skew);
  in.expected.assign(cardinality, 0);
  for (const std::uint32_t code : in.codes) ++in.expected[code];
  return cache.emplace(key, std::move(in)).first->second;
}

}  // namespace labcount::bench
