#include "encode/dictionary.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "util/errors.hpp"

namespace labcount {
namespace {

constexpr std::size_t initial_slots = 1024;

// 64x64->128 multiply, folded: the mixing step of the hash.
inline std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) noexcept {
  __extension__ using u128 = unsigned __int128;
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

constexpr std::uint64_t k0 = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t k1 = 0xc2b2ae3d27d4eb4fULL;
constexpr std::uint64_t k2 = 0x165667b19e3779f9ULL;

}  // namespace

std::uint64_t hash_key(const char* data, std::size_t size) noexcept {
  // Overlapping loads cover any length without reading past the key: keys are usually 4..16 bytes.
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (size <= 16) {
    if (size >= 8) {
      a = bytes::load<std::uint64_t>(data);
      b = bytes::load<std::uint64_t>(data + size - 8);
    } else if (size >= 4) {
      a = bytes::load<std::uint32_t>(data);
      b = bytes::load<std::uint32_t>(data + size - 4);
    } else if (size > 0) {
      a = (static_cast<std::uint64_t>(static_cast<unsigned char>(data[0])) << 16) |
          (static_cast<std::uint64_t>(static_cast<unsigned char>(data[size >> 1])) << 8) |
          static_cast<unsigned char>(data[size - 1]);
    }
    return fold_multiply(a ^ k1, b ^ k2 ^ (size * k0));
  }
  std::uint64_t h = size * k0;
  std::size_t i = 0;
  for (; i + 16 <= size; i += 16)
    h = fold_multiply(bytes::load<std::uint64_t>(data + i) ^ k1 ^ h, bytes::load<std::uint64_t>(data + i + 8) ^ k2);
  a = bytes::load<std::uint64_t>(data + size - 16);
  b = bytes::load<std::uint64_t>(data + size - 8);
  return fold_multiply(a ^ k1 ^ h, b ^ k2);
}

key_dictionary::key_dictionary() { clear(); }

void key_dictionary::clear() {
  slots_.assign(initial_slots, slot{});
  mask_ = initial_slots - 1;
  arena_.clear();
  offsets_.assign(1, 0);
  lookups_dropped_ = false;
}

std::size_t key_dictionary::memory_bytes() const noexcept {
  return slots_.capacity() * sizeof(slot) + arena_.capacity() + offsets_.capacity() * sizeof(std::uint64_t);
}

void key_dictionary::drop_lookups() noexcept {
  slots_ = std::vector<slot>(1);  // one empty slot (the old memory freed): find() says missing, encode() stops
  mask_ = 0;
  lookups_dropped_ = true;
}

std::uint32_t key_dictionary::append_key(std::string_view key) {
  const std::size_t code = size();
  if (code >= std::numeric_limits<std::uint32_t>::max() - 1)
    throw error(error_kind::too_many_keys, "more than 4 billion distinct keys", "", 0,
                "labcount encodes keys as 32-bit codes; split the input by key range");
  arena_.insert(arena_.end(), key.begin(), key.end());
  offsets_.push_back(arena_.size());
  return static_cast<std::uint32_t>(code);
}

std::uint32_t key_dictionary::append_distinct(std::string_view key) {
  LABCOUNT_EXPECTS(lookups_dropped_, "append_distinct() only after drop_lookups()");
  return append_key(key);
}

std::uint32_t key_dictionary::insert(std::string_view key, slot_image image, std::size_t index) {
  LABCOUNT_EXPECTS(!lookups_dropped_, "no encode() after drop_lookups()");
  const std::uint32_t code = append_key(key);
  slots_[index] = {code + 1, image.head, image.tail};
  // Keep the load factor at or below 3/4: with 16-byte slots a probe rarely leaves its first cache line.
  if ((std::size_t{code} + 1) * 4 > slots_.size() * 3) grow();
  return code;
}

void key_dictionary::find_many(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                               std::uint32_t* out) const {
  constexpr std::size_t block = 32;
  std::uint32_t candidate[block];
  for (std::size_t begin = 0; begin < keys.size(); begin += block) {
    const std::size_t n = std::min(block, keys.size() - begin);
    const std::string_view* key = keys.data() + begin;
    const std::uint64_t* hash = hashes.data() + begin;
    // A block of independent loads per pass: the home slots; then a short key is decided there, and a
    // long one's offsets and key bytes are loaded in two more passes before find() compares them.
    for (std::size_t i = 0; i < n; ++i) __builtin_prefetch(&slots_[hash[i] & mask_]);
    std::size_t longs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const slot_image image = image_of(key[i], hash[i]);
      if (image.is_short()) {
        out[begin + i] = probe(key[i], hash[i], image).code;
        continue;
      }
      const slot& s = slots_[hash[i] & mask_];
      out[begin + i] = missing;
      candidate[longs++] = static_cast<std::uint32_t>(i);
      if (s.code1 != 0 && s.head == image.head && s.tail == image.tail) __builtin_prefetch(&offsets_[s.code1 - 1]);
    }
    for (std::size_t j = 0; j < longs; ++j) {
      const slot& s = slots_[hash[candidate[j]] & mask_];
      if (s.code1 != 0) __builtin_prefetch(arena_.data() + offsets_[s.code1 - 1]);
    }
    for (std::size_t j = 0; j < longs; ++j) {
      const std::size_t i = candidate[j];
      out[begin + i] = find(key[i], hash[i]);
    }
  }
}

void key_dictionary::encode_missing(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                                    std::uint32_t* out) {
  constexpr std::size_t block = 32;
  for (std::size_t begin = 0; begin < keys.size(); begin += block) {
    const std::size_t end = std::min(begin + block, keys.size());
    for (std::size_t i = begin; i < end; ++i)
      if (out[i] == missing) __builtin_prefetch(&slots_[hashes[i] & mask_]);
    for (std::size_t i = begin; i < end; ++i)
      if (out[i] == missing) out[i] = encode(keys[i], hashes[i]);
  }
}

void key_dictionary::grow() {
  // From the slots alone: a short key is hashed from its own slot, a long one's hash is in it. No key
  // bytes are read from the arena (they are scattered in memory for big dictionaries).
  std::vector<slot> slots(slots_.size() * 2, slot{});
  const std::size_t mask = slots.size() - 1;
  for (const slot& s : slots_) {
    if (s.code1 == 0) continue;
    std::uint64_t hash = s.tail;
    if (static_cast<unsigned char>(s.head) != long_key) {
      char b[16];
      std::memcpy(b, &s, sizeof s);
      hash = hash_key(b + 5, static_cast<unsigned char>(s.head));
    }
    std::size_t index = hash & mask;
    while (slots[index].code1 != 0) index = (index + 1) & mask;
    slots[index] = s;
  }
  slots_ = std::move(slots);
  mask_ = mask;
}

}  // namespace labcount
