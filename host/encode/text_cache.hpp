// Small caches from field texts to the numbers they stand for, for the per-row hot loop.
//
// Lab logs are far from random: over 90% of rows repeat the previous row's key, and a time-ordered log
// has only a handful of distinct timestamps in any stretch of rows (the real file: 886,413 rows, 44,155
// distinct times). A compare of two or three machine words then replaces a hash-table lookup
// (key -> code) or a timestamp parse (text -> microseconds).
//   last_text       the previous text only: for keys, which come in runs.
//   recent_texts<N> N texts, direct-mapped by a hash of their bytes: for timestamps, which interleave
//                   (sample A at 1:15, sample B at 1:15, sample A at 1:16, ...).
// Neither ever answers wrongly: a text is found only when its bytes all match the remembered ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"

namespace labcount {

// The last text remembered (at most 32 bytes) and its number.
class last_text {
 public:
  static constexpr std::size_t max_size = 32;

  [[gnu::always_inline]] bool find(std::string_view text, std::int64_t& value) const noexcept {
    if (text.size() != size_ || !bytes::equal(text.data(), text_, size_)) return false;
    value = value_;
    return true;
  }
  void remember(std::string_view text, std::int64_t value) noexcept {
    if (text.size() > max_size) return;  // too long to be worth it: never found
    size_ = text.size();
    std::memcpy(text_, text.data(), size_);
    value_ = value;
  }
  void forget() noexcept { size_ = max_size + 1; }

 private:
  char text_[max_size];
  std::size_t size_ = max_size + 1;  // matches nothing
  std::int64_t value_ = 0;
};

// `Slots` (a power of two) remembered texts of 8 to 24 bytes and their numbers; a new text replaces the
// one in its slot. Texts outside 8..24 bytes are never remembered (the lab and ISO shapes are 8 to 23 bytes;
// an ISO time with an offset, 25, or a padded 12-hour time with a fraction is parsed on every row).
template <std::size_t Slots>
class recent_texts {
  static_assert(Slots >= 1 && (Slots & (Slots - 1)) == 0, "Slots must be a power of two");

 public:
  static constexpr std::size_t min_size = 8;
  static constexpr std::size_t max_size = 24;

  // The slots are allocated by the first remember(): a worker that never sees a timestamp holds none.
  [[gnu::always_inline]] bool find(std::string_view text, std::int64_t& value) const noexcept {
    const std::size_t n = text.size();
    if (n - min_size > max_size - min_size || slots_.empty()) return false;
    const words w = words_of(text.data(), n);
    const slot& s = slots_[index_of(w, n)];
    if (s.size != n || s.first != w.first || s.middle != w.middle || s.last != w.last) return false;
    value = s.value;
    return true;
  }
  void remember(std::string_view text, std::int64_t value) noexcept {
    const std::size_t n = text.size();
    if (n - min_size > max_size - min_size) return;
    if (slots_.empty()) slots_.resize(Slots);
    const words w = words_of(text.data(), n);
    slot& s = slots_[index_of(w, n)];
    s = slot{w.first, w.middle, w.last, value, n};
  }
  // Forgets every text (their numbers changed meaning: another input reads its times another way).
  void forget() noexcept {
    for (slot& s : slots_) s.size = 0;
  }

 private:
  // Three 8-byte words that hold every byte of the text: the first 8, the last 8, and 8 from the middle
  // (from byte 8 when n > 16; for n <= 16 the first two cover it, and middle repeats first).
  struct words {
    std::uint64_t first, middle, last;
  };
  [[gnu::always_inline]] static words words_of(const char* p, std::size_t n) noexcept {
    const std::uint64_t first = bytes::load<std::uint64_t>(p);
    return {first, n > 16 ? bytes::load<std::uint64_t>(p + 8) : first, bytes::load<std::uint64_t>(p + n - 8)};
  }
  [[gnu::always_inline]] static std::size_t index_of(const words& w, std::size_t n) noexcept {
    if constexpr (Slots == 1) {
      return 0;
    } else {
      const std::uint64_t h = (w.first * 0x9e3779b97f4a7c15ULL) ^ (w.last * 0xc2b2ae3d27d4eb4fULL) ^ w.middle ^ n;
      return static_cast<std::size_t>((h * 0x9e3779b97f4a7c15ULL) >> (64 - log2(Slots)));
    }
  }
  static constexpr unsigned log2(std::size_t x) noexcept { return x <= 1 ? 0 : 1 + log2(x / 2); }

  struct slot {
    std::uint64_t first = 0, middle = 0, last = 0;
    std::int64_t value = 0;
    std::size_t size = 0;  // 0: empty (no text that short is remembered)
  };
  std::vector<slot> slots_;
};

}  // namespace labcount
