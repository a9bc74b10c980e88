#include "encode/dictionary.hpp"
#include "util/errors.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace labcount {
namespace {

using namespace std::string_view_literals;

TEST(KeyDictionary, DenseCodesInFirstSeenOrder) {
  key_dictionary dict;
  EXPECT_EQ(dict.size(), 0u);
  EXPECT_EQ(dict.encode("S2"), 0u);
  EXPECT_EQ(dict.encode("S1"), 1u);
  EXPECT_EQ(dict.encode("S1"), 1u);
  EXPECT_EQ(dict.encode("S3"), 2u);
  EXPECT_EQ(dict.encode("S2"), 0u);
  EXPECT_EQ(dict.size(), 3u);
  EXPECT_EQ(dict.key(0), "S2");
  EXPECT_EQ(dict.key(1), "S1");
  EXPECT_EQ(dict.key(2), "S3");
}

TEST(KeyDictionary, SameKeyFromDifferentStorageGetsTheSameCode) {
  key_dictionary dict;
  std::string a = "SampleID-000123";
  std::vector<char> b(a.begin(), a.end());
  const std::uint32_t code = dict.encode(a);
  a.assign(a.size(), 'x');  // the dictionary keeps its own copy
  EXPECT_EQ(dict.encode(std::string_view(b.data(), b.size())), code);
  EXPECT_EQ(dict.key(code), "SampleID-000123");
}

TEST(KeyDictionary, EmptyKeyIsAKey) {
  key_dictionary dict;
  EXPECT_EQ(dict.encode(""), 0u);
  EXPECT_EQ(dict.encode("a"), 1u);
  EXPECT_EQ(dict.encode(""), 0u);
  EXPECT_EQ(dict.encode(std::string_view()), 0u);
  EXPECT_EQ(dict.key(0), "");
  EXPECT_EQ(dict.size(), 2u);
}

TEST(KeyDictionary, KeysThatArePrefixesOfEachOther) {
  key_dictionary dict;
  const std::string longest = "S1234567890123456789012345678901234567890";
  std::vector<std::uint32_t> codes;
  for (std::size_t n = 0; n <= longest.size(); ++n)
    codes.push_back(dict.encode(std::string_view(longest).substr(0, n)));
  EXPECT_EQ(dict.size(), longest.size() + 1);
  for (std::size_t n = 0; n <= longest.size(); ++n) {
    EXPECT_EQ(codes[n], n);
    EXPECT_EQ(dict.encode(std::string_view(longest).substr(0, n)), n);
    EXPECT_EQ(dict.key(codes[n]), std::string_view(longest).substr(0, n));
  }
}

TEST(KeyDictionary, BinaryKeysWithNulBytes) {
  key_dictionary dict;
  const std::vector<std::string_view> keys = {
      "a\0b"sv,    "a\0c"sv, "a"sv, "a\0"sv, "\0"sv, "\0\0"sv, ""sv, "\0\0\0\0\0\0\0\0\0"sv, "\0\0\0\0\0\0\0\0\0\0"sv,
      "\xff\xfe"sv};
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(dict.encode(keys[i]), i) << i;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(dict.encode(keys[i]), i) << i;
    EXPECT_EQ(dict.key(static_cast<std::uint32_t>(i)), keys[i]) << i;
  }
}

// Lengths around the compare paths' edges: < 4 (memcmp), 4..7 (two 4-byte loads), 8..16 (two 8-byte
// loads), > 16 (memcmp).
constexpr std::size_t lengths[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 100};

TEST(KeyDictionary, KeysDifferingInOneByteAtEveryPositionAndLength) {
  key_dictionary dict;
  std::vector<std::string> keys;
  for (std::size_t length : lengths) {
    const std::string base(length, 'k');
    keys.push_back(base);
    for (std::size_t at = 0; at < length; ++at) {
      std::string variant = base;
      variant[at] = 'K';
      keys.push_back(variant);
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(dict.encode(keys[i]), i) << keys[i];
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(dict.encode(keys[i]), i) << keys[i];
    EXPECT_EQ(dict.key(static_cast<std::uint32_t>(i)), keys[i]);
  }
}

TEST(KeyDictionary, CollidingHashesStillCompareEveryByte) {
  // The same hash for every key: each lookup walks a probe chain of equal tags, so only the byte
  // compare tells keys apart. Stays below the first resize (which re-hashes with hash_key).
  key_dictionary dict;
  constexpr std::uint64_t same_hash = 0x1234567800000042ULL;
  std::vector<std::string> keys;
  for (std::size_t length : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 16, 17, 20, 33}) {
    const std::string base(length, 'c');
    keys.push_back(base);
    for (std::size_t at = 0; at < length; ++at) {
      std::string variant = base;
      variant[at] = '\0';
      keys.push_back(variant);
    }
  }
  ASSERT_LT(keys.size(), 500u);
  for (std::size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(dict.encode(keys[i], same_hash), i) << i;
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(dict.encode(keys[i], same_hash), i) << i;
  EXPECT_EQ(dict.size(), keys.size());
}

TEST(KeyDictionary, GrowsPastManyResizesAndFindsEveryKey) {
  constexpr std::uint32_t num_keys = 1'000'000;
  key_dictionary dict;
  auto make_key = [](std::uint32_t i) {
    // Mixed lengths so every compare path is used: digits ("7", "123456"), digits and "S" (2..7
    // bytes), digits and a 26-byte tail (> 16 bytes).
    std::string key = std::to_string(i);
    if (i % 3 == 1) key += 'S';
    if (i % 3 == 2) key += "-sample-with-a-longer-tail";
    return key;
  };
  for (std::uint32_t i = 0; i < num_keys; ++i) ASSERT_EQ(dict.encode(make_key(i)), i);
  ASSERT_EQ(dict.size(), num_keys);
  for (std::uint32_t i = 0; i < num_keys; ++i) {
    const std::string key = make_key(i);
    ASSERT_EQ(dict.encode(key), i) << key;
    ASSERT_EQ(dict.key(i), key);
  }
  EXPECT_EQ(dict.size(), num_keys);
  EXPECT_GT(dict.memory_bytes(), std::size_t{num_keys} * 8);
}

TEST(KeyDictionary, DropLookupsKeepsTheKeysAndRefusesNewOnes) {
  key_dictionary dict;
  for (int i = 0; i < 100'000; ++i) dict.encode("S" + std::to_string(i) + (i % 2 == 0 ? "" : "-a-longer-key"));
  const std::size_t before = dict.memory_bytes();
  dict.drop_lookups();
  EXPECT_LT(dict.memory_bytes(), before - 100'000 * 16);  // the slots are gone
  ASSERT_EQ(dict.size(), 100'000u);
  EXPECT_EQ(dict.key(0), "S0");
  EXPECT_EQ(dict.key(99'999), "S99999-a-longer-key");
  EXPECT_EQ(dict.find("S0", hash_key("S0")), key_dictionary::missing);
  EXPECT_THROW(dict.encode("S0"), error);
  dict.clear();
  EXPECT_EQ(dict.encode("S0"), 0u);
  EXPECT_EQ(dict.encode("S0"), 0u);
}

TEST(KeyDictionary, ClearForgetsAllKeys) {
  key_dictionary dict;
  for (int i = 0; i < 5000; ++i) dict.encode("key" + std::to_string(i));
  ASSERT_EQ(dict.size(), 5000u);
  dict.clear();
  EXPECT_EQ(dict.size(), 0u);
  EXPECT_EQ(dict.encode("key4999"), 0u);
  EXPECT_EQ(dict.encode("key0"), 1u);
  EXPECT_EQ(dict.encode("key4999"), 0u);
  EXPECT_EQ(dict.key(1), "key0");
  EXPECT_EQ(dict.size(), 2u);
}

// Two pages, the second one unreadable: bytes placed right before it fault on any read past them.
class guarded_page {
 public:
  guarded_page() : page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {
    void* p = ::mmap(nullptr, 3 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    // Guard pages on both sides of the middle one: reads before the start fault too.
    if (::mprotect(base_, page_, PROT_NONE) != 0 || ::mprotect(base_ + 2 * page_, page_, PROT_NONE) != 0)
      throw std::runtime_error("mprotect failed");
  }
  ~guarded_page() { ::munmap(base_, 3 * page_); }
  guarded_page(const guarded_page&) = delete;
  guarded_page& operator=(const guarded_page&) = delete;

  // Copies `bytes` to the very end of the readable page.
  const char* at_end(std::string_view bytes) {
    char* p = base_ + 2 * page_ - bytes.size();
    std::memcpy(p, bytes.data(), bytes.size());
    return p;
  }
  // Copies `bytes` to the very start of the readable page.
  const char* at_start(std::string_view bytes) {
    char* p = base_ + page_;
    std::memcpy(p, bytes.data(), bytes.size());
    return p;
  }

 private:
  std::size_t page_;
  char* base_ = nullptr;
};

TEST(KeyDictionary, LookupsNeverReadOutsideTheKey) {
  // A key up to 11 bytes is copied into its slot, a longer one's first bytes are: neither may read past it.
  guarded_page page;
  std::mt19937 rng(3);
  key_dictionary dict;
  std::vector<std::string> keys;
  for (std::size_t length = 0; length <= 40; ++length) {
    std::string key(length, '\0');
    for (auto& c : key) c = static_cast<char>(rng());
    keys.push_back(key);
    const std::uint32_t code = dict.encode(std::string_view(page.at_end(key), length));
    EXPECT_EQ(dict.find(std::string_view(page.at_start(key), length), hash_key(key)), code) << length;
    EXPECT_EQ(dict.encode(std::string_view(page.at_end(key), length)), code) << length;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(dict.key(static_cast<std::uint32_t>(i)), keys[i]);
}

TEST(KeyDictionary, FindManyAgreesWithFindOnShortLongAndMissingKeys) {
  // Past several resizes, keys of every length class (in the slot, and in the arena), looked up in blocks
  // that mix present and missing keys, short and long.
  key_dictionary dict;
  auto make_key = [](std::uint32_t i) {
    std::string key = std::to_string(i * 2654435761u);
    key.resize(i % 24, 'x');  // 0..23 bytes
    return key + std::to_string(i);
  };
  constexpr std::uint32_t present = 200'000;
  for (std::uint32_t i = 0; i < present; ++i) ASSERT_EQ(dict.encode(make_key(i)), i);
  std::vector<std::string> keys;
  for (std::uint32_t i = 0; i < 2 * present; i += 3) keys.push_back(make_key(i));  // a third missing
  keys.push_back("");
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::uint64_t> hashes;
  for (const auto v : views) hashes.push_back(hash_key(v));
  std::vector<std::uint32_t> out(views.size(), 7);
  dict.find_many(views, hashes, out.data());
  for (std::size_t j = 0; j < views.size(); ++j) {
    const std::uint32_t i = static_cast<std::uint32_t>(j * 3);
    const std::uint32_t expected = j + 1 == views.size() || i >= present ? key_dictionary::missing : i;
    ASSERT_EQ(out[j], expected) << keys[j];
    ASSERT_EQ(dict.find(views[j], hashes[j]), expected) << keys[j];
  }
}

TEST(HashKey, NeverReadsOutsideTheKey) {
  guarded_page page;
  std::mt19937 rng(1);
  for (std::size_t length = 0; length <= 200; ++length) {
    std::string key(length, '\0');
    for (auto& c : key) c = static_cast<char>(rng());
    const std::uint64_t expected = hash_key(key);
    EXPECT_EQ(hash_key(page.at_end(key), length), expected) << length;    // a read past the end would fault
    EXPECT_EQ(hash_key(page.at_start(key), length), expected) << length;  // a read before the start would fault
  }
}

TEST(HashKey, KeysAtTheEndOfAnExactlySizedVector) {
  std::mt19937 rng(2);
  for (std::size_t length = 0; length <= 64; ++length) {
    std::vector<char> bytes(length);
    for (auto& c : bytes) c = static_cast<char>(rng());
    const std::string copy(bytes.begin(), bytes.end());
    EXPECT_EQ(hash_key(bytes.data(), bytes.size()), hash_key(copy)) << length;
    key_dictionary dict;
    const std::uint32_t code = dict.encode(std::string_view(bytes.data(), bytes.size()));
    EXPECT_EQ(dict.encode(copy), code);
  }
}

TEST(HashKey, EqualBytesAtDifferentAddressesAndAlignmentsHashEqual) {
  const std::string key = "S00802-some-key-longer-than-sixteen-bytes";
  for (std::size_t length = 0; length <= key.size(); ++length) {
    const std::string_view prefix = std::string_view(key).substr(0, length);
    const std::uint64_t expected = hash_key(prefix);
    for (std::size_t offset = 1; offset < 16; ++offset) {
      std::vector<char> buffer(offset + length + 16, '#');
      std::memcpy(buffer.data() + offset, prefix.data(), length);
      EXPECT_EQ(hash_key(buffer.data() + offset, length), expected) << "length " << length << " offset " << offset;
    }
  }
}

TEST(HashKey, DependsOnLengthAndEveryByte) {
  // Not a quality test: the cases the overlapping loads could miss.
  EXPECT_NE(hash_key(""), hash_key(std::string_view("\0", 1)));
  EXPECT_NE(hash_key(std::string_view("\0", 1)), hash_key(std::string_view("\0\0", 2)));
  EXPECT_NE(hash_key("abcd"), hash_key("abcde"));
  for (std::size_t length : lengths) {
    const std::string base(length, 'h');
    const std::uint64_t base_hash = hash_key(base);
    for (std::size_t at = 0; at < length; ++at) {
      std::string variant = base;
      variant[at] = 'H';
      EXPECT_NE(hash_key(variant), base_hash) << "length " << length << " byte " << at;
    }
  }
}

}  // namespace
}  // namespace labcount
