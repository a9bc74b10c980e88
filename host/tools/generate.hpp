// `labcount generate`: deterministic demo data in the format of the real lab file.
//
//   TestTime,SampleID            (--rows 8 --lf; the default is CRLF like the real file)
//   8/10/2004 0:00,S94223
//   8/10/2004 0:00,S29589
//   ...
//   8/10/2004 0:00,S73157
//   8/10/2004 0:01,S76016
//   8/10/2004 0:01,S49697
//
// Sample popularity follows a Zipf law (a few samples are tested very often, most rarely) and
// timestamps only move forward, a minute at a time, ~20 rows per minute. The same options give
// the same bytes on every platform and compiler: the PRNG, the sampling and even the Zipf weights
// use integer arithmetic only, never <random> distributions, pow() or exp(), whose results are
// implementation-defined.
#pragma once

#include <cstdint>
#include <vector>

#include "output/output_file.hpp"

namespace labcount {

struct generate_options {
  std::uint64_t rows = 886413;   // as many data rows as the real file
  std::uint32_t samples = 1243;  // as many distinct SampleIDs as the real file
  double skew = 0.65;            // Zipf exponent; 0.65 fits the real file's counts best (generate.cpp)
  std::uint64_t seed = 1;
  bool crlf = true;  // the real file uses CRLF; --lf gives LF
};

inline constexpr std::uint64_t max_generate_rows = 100'000'000'000ULL;
inline constexpr std::uint32_t max_generate_samples = 10'000'000;
inline constexpr double max_generate_skew = 10.0;

// Throws error(usage) naming the option and how to fix it.
void validate(const generate_options& options);

// Writes the header and options.rows data rows to out (does not commit it).
// Same options => same bytes, on every platform and compiler.
void generate_csv(const generate_options& options, output_file& out);

namespace detail {

// splitmix64 seeds xoshiro256** (Blackman & Vigna): both are fully specified integer recurrences,
// so every platform draws the same numbers, unlike std:: distributions. Also the benchmarks' generator.
inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Digits after the "S" of a sample id: 5 like the real file, more when samples > 99999.
unsigned sample_id_digits(std::uint32_t samples) noexcept;

// The id number of each popularity rank (index 0 = most frequent): distinct, in
// [1, 10^digits - 1], shuffled by seed so the most frequent sample is not S00001.
std::vector<std::uint32_t> sample_id_numbers(std::uint32_t samples, std::uint64_t seed);

// Integer Zipf weights: weight[k] ~= 2^38 / (k + 1)^skew, computed in fixed point so that
// every platform gets the same table. Weights too small for the fixed point are 0 (never drawn).
std::vector<std::uint64_t> zipf_weights(std::uint32_t samples, double skew);

}  // namespace detail
}  // namespace labcount
