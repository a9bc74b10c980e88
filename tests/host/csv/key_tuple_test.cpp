// Composite keys as one byte string (csv/key_tuple.hpp): split undoes encode for any bytes, and byte order of
// the encodings is the order of the tuples, column by column, each by unsigned bytes.
#include "csv/key_tuple.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace labcount {
namespace {

using tuple = std::vector<std::string>;

std::string encoded(const tuple& t) {
  std::vector<std::string_view> views(t.begin(), t.end());
  return key_tuple::encode(views);
}

tuple split(std::string_view key, std::size_t parts) {
  std::vector<std::string_view> views;
  std::string scratch;
  EXPECT_TRUE(key_tuple::split(key, parts, views, scratch));
  return {views.begin(), views.end()};
}

// Tuples compared as the output orders keys: column by column, each by unsigned bytes, a prefix first.
bool tuple_less(const tuple& a, const tuple& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](const std::string& x, const std::string& y) {
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(),
                                        [](char p, char q) { return static_cast<unsigned char>(p) < static_cast<unsigned char>(q); });
  });
}

TEST(KeyTuple, WorkedExample) {
  EXPECT_EQ(encoded({"S1", std::string("A\0B", 3)}), std::string("S1\0\1A\0\xFF" "B", 8));
  EXPECT_EQ(split(std::string("S1\0\1A\0\xFF" "B", 8), 2), (tuple{"S1", std::string("A\0B", 3)}));
}

TEST(KeyTuple, OnePartIsTheKeyItself) {
  const std::string binary("a\0\1b", 4);  // never decoded: a one-column key may hold any bytes
  EXPECT_EQ(split(binary, 1), (tuple{binary}));
}

TEST(KeyTuple, EmptyPartsAndEdgeBytes) {
  for (const tuple& t : {tuple{"", ""}, tuple{"", "", ""}, tuple{std::string(1, '\0'), ""},
                         tuple{"\xFF", std::string(1, '\0')}, tuple{std::string("\0\0", 2), "\x01"},
                         tuple{std::string("\0\1", 2), std::string("\0\xFF", 2)}}) {
    EXPECT_EQ(split(encoded(t), t.size()), t);
  }
}

TEST(KeyTuple, RejectsWhatEncodeNeverWrites) {
  std::vector<std::string_view> parts;
  std::string scratch;
  EXPECT_FALSE(key_tuple::split(std::string("a\0", 2), 2, parts, scratch));      // a lone 00 at the end
  EXPECT_FALSE(key_tuple::split(std::string("a\0\2b", 4), 2, parts, scratch));   // 00 then neither 01 nor FF
  EXPECT_FALSE(key_tuple::split("ab", 2, parts, scratch));                       // too few parts
  EXPECT_FALSE(key_tuple::split(std::string("a\0\1b\0\1c", 7), 2, parts, scratch));  // too many
}

TEST(KeyTuple, RandomTuplesRoundTripAndSortAsTuples) {
  std::mt19937 rng(7);
  // Bytes the encoding cares about, more often than chance would give them.
  const std::string alphabet = std::string("\0\1\xFE\xFF" "ab", 6);
  for (std::size_t parts = 2; parts <= 4; ++parts) {
    std::vector<tuple> tuples(400);
    for (auto& t : tuples) {
      for (std::size_t p = 0; p < parts; ++p) {
        std::string s(rng() % 4, 'x');
        for (char& c : s) c = alphabet[rng() % alphabet.size()];
        t.push_back(s);
      }
      EXPECT_EQ(split(encoded(t), parts), t);
    }
    for (std::size_t i = 0; i + 1 < tuples.size(); ++i) {
      const tuple& a = tuples[i];
      const tuple& b = tuples[i + 1];
      EXPECT_EQ(tuple_less(a, b), encoded(a) < encoded(b)) << i;
      EXPECT_EQ(a == b, encoded(a) == encoded(b)) << i;
    }
  }
}

}  // namespace
}  // namespace labcount
