// Dictionary encoding: each distinct key gets a dense 32-bit code, 0, 1, 2, ... in order of first sight.
//
//   encode("S2") -> 0, encode("S1") -> 1, encode("S1") -> 1, encode("S3") -> 2;  key(1) == "S1"
//
// Open addressing (linear probing) over a power-of-two table of 16-byte slots, key bytes in one arena. A
// slot holds the code and the key itself when it has at most 11 bytes (sample IDs, barcodes: most keys),
// else its length class, first bytes and 64-bit hash:
//
//   short key "S53123737":  [code+1 : 4] [9 : 1] [S53123737\0\0 : 11]     equal slot bytes = equal keys
//   long key  (12+ bytes):  [code+1 : 4] [0xFF : 1] [first 3 bytes] [hash : 8]  then the arena decides
//
// so a lookup of a short key reads one cache line, not three (slot, offset, key bytes): on millions of
// keys each of those is a miss. Not thread-safe: each parse worker owns one, and a shared one is guarded
// by its owner.
#pragma once

#include <cstdint>
#include <cstring>
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

  // `hash` is always hash_key(key): growing the table re-hashes short keys from their slots.
  std::uint32_t encode(std::string_view key) { return encode(key, hash_key(key)); }
  std::uint32_t encode(std::string_view key, std::uint64_t hash) {
    const slot_image image = image_of(key, hash);
    const auto [code, index] = probe(key, hash, image);
    return code != missing ? code : insert(key, image, index);
  }

  // The code of each keys[i] (whose hash_key is hashes[i]) in out[i]; `missing` for a key not here. What
  // a parse worker does with the keys of a batch that are new to it, under a lock shared with the other
  // workers (it only reads). The same as find() per key, with the memory reads of a block of keys
  // overlapped: on a dictionary of millions of keys every probe misses the cache (once for a key held in
  // its slot, three times in a row for a longer one: slot, offset, key bytes).
  static constexpr std::uint32_t missing = ~std::uint32_t{0};
  void find_many(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                 std::uint32_t* out) const;

  // encode(keys[i], hashes[i]) into out[i] for each i where out[i] is `missing` (find_many's leftovers);
  // the others are left as they are. The home slots of a block of keys are loaded ahead, as in find_many.
  void encode_missing(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                      std::uint32_t* out);

  // The code of `key`, or `missing`.
  std::uint32_t find(std::string_view key, std::uint64_t hash) const noexcept {
    return probe(key, hash, image_of(key, hash)).code;
  }

  std::string_view key(std::uint32_t code) const noexcept {
    return {arena_.data() + offsets_[code], static_cast<std::size_t>(offsets_[code + 1] - offsets_[code])};
  }
  // Starts loading where key(code) is, for a caller about to read many keys out of code order.
  void prefetch(std::uint32_t code) const noexcept { bytes::prefetch(&offsets_[code]); }
  std::size_t size() const noexcept { return offsets_.size() - 1; }
  std::size_t memory_bytes() const noexcept;
  // Frees the hash table, keeping the keys: afterwards key(), size(), prefetch() work, find() says missing
  // and encode() of a new key is an internal error (until clear()). For a result about to be written, whose
  // ordering would otherwise find the table (16 B a slot, 256 MB at 10 M keys) still taking memory.
  void drop_lookups() noexcept;
  // Appends `key`, known to be new, after drop_lookups(): a list of distinct keys, as rank 0 of an MPI job
  // gathers them from ranks that own disjoint keys. Returns its code.
  std::uint32_t append_distinct(std::string_view key);
  void clear();

 private:
  // What a slot holds besides the code (see the top of this file): bytes 4..16 of the slot.
  static constexpr std::size_t inline_bytes = 11;  // keys up to this long live in their slot
  static constexpr unsigned char long_key = 0xFF;  // the length byte of a longer key
  struct slot_image {
    std::uint32_t head;  // the length byte (or long_key) and the next 3 bytes
    std::uint64_t tail;  // the key's bytes 3..11, zero-padded (short), or its hash (long)
    bool is_short() const noexcept { return static_cast<unsigned char>(head) != long_key; }
  };
  struct slot {
    std::uint32_t code1;  // 0 = empty, else code + 1
    std::uint32_t head;
    std::uint64_t tail;
  };
  static_assert(sizeof(slot) == 16);
  static slot_image image_of(std::string_view key, std::uint64_t hash) noexcept {
    const char* k = key.data();
    const std::size_t n = key.size();
    if (n > inline_bytes) return {long_key | bytes::load<std::uint32_t>(k) << 8, hash};
    // The key as a zero-padded little-endian number lo + hi * 2^64, from overlapping loads that stay
    // within its bytes (no call to memcpy for a variable length).
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    if (n >= 8) {
      lo = bytes::load<std::uint64_t>(k);
      if (n > 8) hi = bytes::load<std::uint64_t>(k + n - 8) >> (8 * (16 - n));
    } else if (n >= 4) {
      lo = bytes::load<std::uint32_t>(k) |
           static_cast<std::uint64_t>(bytes::load<std::uint32_t>(k + n - 4)) << (8 * (n - 4));
    } else if (n > 0) {
      const auto byte = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(k[i])); };
      lo = byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1));
    }
    return {static_cast<std::uint32_t>(n | lo << 8), lo >> 24 | hi << 40};
  }

  // Linear probing from the key's home slot: its code and slot, or `missing` and the empty slot where
  // it would go.
  struct probe_result {
    std::uint32_t code;
    std::size_t index;
  };
  probe_result probe(std::string_view key, std::uint64_t hash, slot_image image) const noexcept {
    std::size_t index = hash & mask_;
    for (;;) {
      const slot& s = slots_[index];
      if (s.code1 == 0) return {missing, index};
      if (s.head == image.head && s.tail == image.tail && (image.is_short() || key_equals(s.code1 - 1, key)))
        return {s.code1 - 1, index};
      index = (index + 1) & mask_;
    }
  }
  bool key_equals(std::uint32_t code, std::string_view key) const noexcept {
    const std::uint64_t begin = offsets_[code];
    return offsets_[code + 1] - begin == key.size() && bytes::equal(arena_.data() + begin, key.data(), key.size());
  }
  std::uint32_t append_key(std::string_view key);  // to the arena and offsets: the new key's code
  std::uint32_t insert(std::string_view key, slot_image image, std::size_t index);
  void grow();

  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::vector<char> arena_;             // key bytes, back to back
  std::vector<std::uint64_t> offsets_;  // key(code) = arena_[offsets_[code], offsets_[code + 1])
  bool lookups_dropped_ = false;
};

}  // namespace labcount
