// Dictionary encoding: each distinct key gets a dense 32-bit code, 0, 1, 2, ... in order of first sight.
//
//   encode("S2") -> 0, encode("S1") -> 1, encode("S1") -> 1, encode("S3") -> 2;  key(1) == "S1"
//
// Open addressing over a power-of-two table of 8-byte slots (32-bit hash tag + code), key bytes in one
// arena. Not thread-safe: each parse worker owns one, and a shared one is guarded by its owner.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"

namespace labcount {

// A fast 64-bit hash for short keys; never reads outside [data, data + size).
std::uint64_t hash_key(const char* data, std::size_t size) noexcept;
inline std::uint64_t hash_key(std::string_view key) noexcept { return hash_key(key.data(), key.size()); }

class key_dictionary {
 public:
  key_dictionary();

  std::uint32_t encode(std::string_view key) { return encode(key, hash_key(key)); }
  std::uint32_t encode(std::string_view key, std::uint64_t hash) {
    const auto [code, index] = probe(key, hash);
    return code != missing ? code : insert(key, hash, index);
  }

  // The code of each keys[i] (whose hash_key is hashes[i]) in out[i]; `missing` for a key not here. What
  // a parse worker does with the keys of a batch that are new to it, under a lock shared with the other
  // workers (it only reads). The same as find() per key, with the memory reads of a block of keys
  // overlapped: on a dictionary of millions of keys every probe misses the cache three times in a row
  // (slot, offset, key bytes).
  static constexpr std::uint32_t missing = ~std::uint32_t{0};
  void find_many(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                 std::uint32_t* out) const;

  // The code of `key`, or `missing`.
  std::uint32_t find(std::string_view key, std::uint64_t hash) const noexcept { return probe(key, hash).code; }

  std::string_view key(std::uint32_t code) const noexcept {
    return {arena_.data() + offsets_[code], static_cast<std::size_t>(offsets_[code + 1] - offsets_[code])};
  }
  // Starts loading where key(code) is, for a caller about to read many keys out of code order.
  void prefetch(std::uint32_t code) const noexcept { bytes::prefetch(&offsets_[code]); }
  // The hash of key(code), kept so that growing and re-encoding elsewhere need not hash the bytes again.
  std::uint64_t hash(std::uint32_t code) const noexcept { return hashes_[code]; }
  std::size_t size() const noexcept { return offsets_.size() - 1; }
  std::size_t memory_bytes() const noexcept;
  void clear();

 private:
  // Linear probing from the key's home slot: its code and slot, or `missing` and the empty slot where
  // it would go.
  struct probe_result {
    std::uint32_t code;
    std::size_t index;
  };
  probe_result probe(std::string_view key, std::uint64_t hash) const noexcept {
    std::size_t index = hash & mask_;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (;;) {
      const std::uint64_t slot = slots_[index];
      if (slot == 0) return {missing, index};
      if (static_cast<std::uint32_t>(slot >> 32) == tag) {
        const auto code = static_cast<std::uint32_t>(slot) - 1;
        if (key_equals(code, key)) return {code, index};
      }
      index = (index + 1) & mask_;
    }
  }
  bool key_equals(std::uint32_t code, std::string_view key) const noexcept {
    const std::uint64_t begin = offsets_[code];
    return offsets_[code + 1] - begin == key.size() && bytes::equal(arena_.data() + begin, key.data(), key.size());
  }
  std::uint32_t insert(std::string_view key, std::uint64_t hash, std::size_t index);
  void grow();

  std::vector<std::uint64_t> slots_;  // 0 = empty, else (tag << 32) | (code + 1)
  std::size_t mask_ = 0;
  std::vector<char> arena_;             // key bytes, back to back
  std::vector<std::uint64_t> offsets_;  // key(code) = arena_[offsets_[code], offsets_[code + 1])
  std::vector<std::uint64_t> hashes_;   // hash_key(key(code))
};

}  // namespace labcount
