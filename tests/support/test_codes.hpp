// Dictionary codes for backend and sort/reduce tests, by key cardinality: dense, from 0, as the host's
// dictionary hands them out.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace labcount::testing {

enum class cardinality { one_key, all_unique, random, skewed, growing_dictionary };

inline std::string to_string(cardinality c) {
  switch (c) {
    case cardinality::one_key: return "OneKey";
    case cardinality::all_unique: return "AllUnique";
    case cardinality::random: return "Random";
    case cardinality::skewed: return "Skewed";
    case cardinality::growing_dictionary: return "GrowingDictionary";
  }
  return "?";
}

inline std::vector<std::uint32_t> make_codes(std::size_t num_rows, cardinality c, std::mt19937& rng) {
  std::vector<std::uint32_t> codes(num_rows);
  switch (c) {
    case cardinality::one_key: std::fill(codes.begin(), codes.end(), 0u); break;
    case cardinality::all_unique:
      for (std::size_t i = 0; i < num_rows; ++i) codes[i] = static_cast<std::uint32_t>(i);
      std::shuffle(codes.begin(), codes.end(), rng);
      break;
    case cardinality::random: {
      std::uniform_int_distribution<std::uint32_t> pick(0, 1242);  // 1,243 keys, as in the real data
      for (auto& code : codes) code = pick(rng);
      break;
    }
    case cardinality::skewed: {
      // Zipf-like: code k has weight 1/(k+1); most rows share a few codes, a long tail has one row each.
      std::vector<double> weights(std::max<std::size_t>(num_rows / 4, 1));
      for (std::size_t k = 0; k < weights.size(); ++k) weights[k] = 1.0 / static_cast<double>(k + 1);
      std::discrete_distribution<std::uint32_t> pick(weights.begin(), weights.end());
      for (auto& code : codes) code = pick(rng);
      break;
    }
    case cardinality::growing_dictionary: {
      // A new key gets the next code, so the largest code keeps rising while the input is read (a
      // backend's totals must grow and keep what they had).
      std::uint32_t next_code = 0;
      std::bernoulli_distribution new_key(0.05);
      for (auto& code : codes) {
        if (next_code == 0 || new_key(rng))
          code = next_code++;
        else
          code = std::uniform_int_distribution<std::uint32_t>(0, next_code - 1)(rng);
      }
      break;
    }
  }
  return codes;
}

inline std::vector<std::uint32_t> make_codes(std::size_t num_rows, cardinality c, std::uint32_t seed) {
  std::mt19937 rng(seed);
  return make_codes(num_rows, c, rng);
}

}  // namespace labcount::testing
