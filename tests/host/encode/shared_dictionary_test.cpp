// shared_dictionary: many workers encoding overlapping keys at once get one code per key, the same
// code for the same key everywhere, and dense codes 0..N-1.
#include "encode/shared_dictionary.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

namespace labcount {
namespace {

TEST(SharedDictionary, WorkedExample) {
  shared_dictionary global;
  const std::vector<std::string_view> a{"S1", "S2"};
  const std::vector<std::uint64_t> a_hashes{hash_key("S1"), hash_key("S2")};
  std::uint32_t out[2];
  global.encode_many(a, a_hashes, out);
  EXPECT_EQ(out[0], 0u);
  EXPECT_EQ(out[1], 1u);
  const std::vector<std::string_view> b{"S2", "S3"};
  const std::vector<std::uint64_t> b_hashes{hash_key("S2"), hash_key("S3")};
  global.encode_many(b, b_hashes, out);
  EXPECT_EQ(out[0], 1u);
  EXPECT_EQ(out[1], 2u);
  EXPECT_EQ(global.size(), 3u);
}

TEST(SharedDictionary, ConcurrentWorkersAgreeOnEveryCode) {
  constexpr int num_threads = 8;
  constexpr int keys_per_thread = 20000;
  shared_dictionary global;
  // Each worker encodes its own keys and a shared half, in batches of 31, in its own order.
  std::vector<std::map<std::string, std::uint32_t>> seen(num_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < num_threads; ++t)
    threads.emplace_back([&, t] {
      std::vector<std::string> keys;
      for (int i = 0; i < keys_per_thread; ++i)
        keys.push_back(i % 2 == 0 ? "shared" + std::to_string((i * 7 + t * 13) % keys_per_thread)
                                  : "own" + std::to_string(t) + "-" + std::to_string(i));
      for (std::size_t at = 0; at < keys.size(); at += 31) {
        const std::size_t n = std::min<std::size_t>(31, keys.size() - at);
        std::vector<std::string_view> views(keys.begin() + static_cast<std::ptrdiff_t>(at),
                                            keys.begin() + static_cast<std::ptrdiff_t>(at + n));
        std::vector<std::uint64_t> hashes;
        for (auto v : views) hashes.push_back(hash_key(v));
        std::vector<std::uint32_t> codes(n);
        global.encode_many(views, hashes, codes.data());
        for (std::size_t i = 0; i < n; ++i) seen[t][keys[at + i]] = codes[i];
      }
    });
  for (auto& t : threads) t.join();
  std::map<std::string, std::uint32_t> all;
  for (const auto& s : seen)
    for (const auto& [key, code] : s) {
      const auto [it, inserted] = all.emplace(key, code);
      ASSERT_EQ(it->second, code) << key << " got two codes";
    }
  const key_dictionary dictionary = std::move(global).release();
  ASSERT_EQ(dictionary.size(), all.size());
  std::vector<bool> used(all.size(), false);
  for (const auto& [key, code] : all) {
    ASSERT_LT(code, all.size());
    EXPECT_FALSE(used[code]) << "code " << code << " given twice";
    used[code] = true;
    EXPECT_EQ(dictionary.key(code), key);
  }
}

}  // namespace
}  // namespace labcount
