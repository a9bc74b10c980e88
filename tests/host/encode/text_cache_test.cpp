// The per-row caches in front of the dictionary and the timestamp parser: a text is found only when every
// byte matches, whatever its length, and never read past its end (the texts here sit at the very end of
// their own heap blocks, so a sanitizer or valgrind run would catch an over-read).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "encode/text_cache.hpp"

namespace labcount {
namespace {

// A copy of `s` in a heap block of exactly its size.
struct exact_text {
  explicit exact_text(const std::string& s) : bytes(new char[s.size() == 0 ? 1 : s.size()]), size(s.size()) {
    s.copy(bytes.get(), s.size());
  }
  std::string_view view() const { return {bytes.get(), size}; }
  std::unique_ptr<char[]> bytes;
  std::size_t size;
};

std::string text_of(std::size_t n, char fill = 'a') {
  std::string s(n, fill);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST(LastText, FindsOnlyTheSameBytes) {
  for (std::size_t n = 0; n <= last_text::max_size; ++n) {
    last_text cache;
    const std::string s = text_of(n);
    std::int64_t value = 0;
    EXPECT_FALSE(cache.find(exact_text(s).view(), value)) << n;
    cache.remember(exact_text(s).view(), 40 + static_cast<std::int64_t>(n));
    ASSERT_TRUE(cache.find(exact_text(s).view(), value)) << n;
    EXPECT_EQ(value, 40 + static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) {  // one byte differs, at every position
      std::string other = s;
      other[i] = '#';
      EXPECT_FALSE(cache.find(exact_text(other).view(), value)) << n << " " << i;
    }
    EXPECT_FALSE(cache.find(exact_text(s + "x").view(), value)) << n;
    if (n != 0) {
      EXPECT_FALSE(cache.find(exact_text(s.substr(1)).view(), value)) << n;
    }
    cache.forget();
    EXPECT_FALSE(cache.find(exact_text(s).view(), value)) << n;
  }
}

TEST(LastText, TooLongIsNeverRemembered) {
  last_text cache;
  const std::string s = text_of(last_text::max_size + 1);
  cache.remember(s, 1);
  std::int64_t value = 0;
  EXPECT_FALSE(cache.find(s, value));
}

TEST(RecentTexts, FindsOnlyTheSameBytesAtEveryLength) {
  for (std::size_t n = 0; n <= 30; ++n) {
    recent_texts<64> cache;
    const std::string s = text_of(n);
    std::int64_t value = 0;
    cache.remember(exact_text(s).view(), -7 - static_cast<std::int64_t>(n));
    const bool kept = n >= recent_texts<64>::min_size && n <= recent_texts<64>::max_size;
    ASSERT_EQ(cache.find(exact_text(s).view(), value), kept) << n;
    if (kept) {
      EXPECT_EQ(value, -7 - static_cast<std::int64_t>(n));
    }
    for (std::size_t i = 0; i < n; ++i) {
      std::string other = s;
      other[i] = '#';
      EXPECT_FALSE(cache.find(exact_text(other).view(), value)) << n << " " << i;
    }
  }
}

TEST(RecentTexts, KeepsManyAndANewTextReplacesOnlyItsSlot) {
  recent_texts<1> one;  // every text shares the one slot
  std::int64_t value = 0;
  one.remember("8/10/2004 1:15", 1);
  one.remember("8/10/2004 1:16", 2);
  EXPECT_FALSE(one.find("8/10/2004 1:15", value));
  ASSERT_TRUE(one.find("8/10/2004 1:16", value));
  EXPECT_EQ(value, 2);

  recent_texts<4096> many;
  for (int minute = 0; minute < 60; ++minute)
    many.remember("8/10/2004 1:" + std::string(minute < 10 ? "0" : "") + std::to_string(minute), minute);
  int found = 0;
  for (int minute = 0; minute < 60; ++minute) {
    const std::string text = "8/10/2004 1:" + std::string(minute < 10 ? "0" : "") + std::to_string(minute);
    if (many.find(text, value)) {
      EXPECT_EQ(value, minute) << text;  // a text found is never another's value
      ++found;
    }
  }
  EXPECT_GE(found, 50);  // 60 texts in 4096 slots: few collisions
}

}  // namespace
}  // namespace labcount
