#include "encode/dictionary.hpp"

#include <algorithm>
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
  slots_.assign(initial_slots, 0);
  mask_ = initial_slots - 1;
  arena_.clear();
  offsets_.assign(1, 0);
  hashes_.clear();
}

std::size_t key_dictionary::memory_bytes() const noexcept {
  return slots_.capacity() * sizeof(std::uint64_t) + arena_.capacity() + offsets_.capacity() * sizeof(std::uint64_t) +
         hashes_.capacity() * sizeof(std::uint64_t);
}

std::uint32_t key_dictionary::insert(std::string_view key, std::uint64_t hash, std::size_t index) {
  const std::size_t code = size();
  if (code >= std::numeric_limits<std::uint32_t>::max() - 1)
    throw error(error_kind::too_many_keys, "more than 4 billion distinct keys", "", 0,
                "labcount encodes keys as 32-bit codes; split the input by key range");
  arena_.insert(arena_.end(), key.begin(), key.end());
  offsets_.push_back(arena_.size());
  hashes_.push_back(hash);
  slots_[index] = (hash >> 32 << 32) | (code + 1);
  // Keep the load factor at or below 1/2 so probes stay short.
  if ((code + 1) * 2 > slots_.size()) grow();
  return static_cast<std::uint32_t>(code);
}

void key_dictionary::find_many(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                               std::uint32_t* out) const {
  constexpr std::size_t block = 32;
  std::uint32_t candidate[block];
  for (std::size_t begin = 0; begin < keys.size(); begin += block) {
    const std::size_t n = std::min(block, keys.size() - begin);
    const std::uint64_t* hash = hashes.data() + begin;
    // Three passes, each a block of independent loads: the home slots, then the offsets of the codes
    // whose tag matches there, then those keys' bytes. The last pass is plain find(), on cached lines.
    for (std::size_t i = 0; i < n; ++i) __builtin_prefetch(&slots_[hash[i] & mask_]);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t slot = slots_[hash[i] & mask_];
      candidate[i] = slot != 0 && static_cast<std::uint32_t>(slot >> 32) == static_cast<std::uint32_t>(hash[i] >> 32)
                         ? static_cast<std::uint32_t>(slot) - 1
                         : missing;
      if (candidate[i] != missing) __builtin_prefetch(&offsets_[candidate[i]]);
    }
    for (std::size_t i = 0; i < n; ++i)
      if (candidate[i] != missing) __builtin_prefetch(arena_.data() + offsets_[candidate[i]]);
    for (std::size_t i = 0; i < n; ++i) out[begin + i] = find(keys[begin + i], hash[i]);
  }
}

void key_dictionary::grow() {
  // From the stored hashes: no key bytes are read (they are scattered in memory for big dictionaries).
  std::vector<std::uint64_t> slots(slots_.size() * 2, 0);
  const std::size_t mask = slots.size() - 1;
  for (std::uint32_t code = 0; code < size(); ++code) {
    const std::uint64_t hash = hashes_[code];
    std::size_t index = hash & mask;
    while (slots[index] != 0) index = (index + 1) & mask;
    slots[index] = (hash >> 32 << 32) | (code + 1);
  }
  slots_ = std::move(slots);
  mask_ = mask;
}

}  // namespace labcount
