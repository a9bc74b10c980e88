// util/bytes.hpp: the small text helpers every layer shares.
#include "util/bytes.hpp"

#include <gtest/gtest.h>

namespace labcount {
namespace {

TEST(Bytes, Fnv1a64MatchesThePublishedVectors) {
  EXPECT_EQ(bytes::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(bytes::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(bytes::fnv1a64("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(bytes::fnv1a64("bar", bytes::fnv1a64("foo")), bytes::fnv1a64("foobar"));  // piece by piece
}

TEST(Bytes, SuffixesAndWordsIgnoreAsciiCaseOnly) {
  EXPECT_TRUE(bytes::ends_with_ignoring_case("A.CSV.GZ", ".csv.gz"));
  EXPECT_TRUE(bytes::ends_with_ignoring_case("x.csv", ".CSV"));
  EXPECT_FALSE(bytes::ends_with_ignoring_case("csv", ".csv"));
  EXPECT_FALSE(bytes::ends_with_ignoring_case("a.csv.bak", ".csv"));
  EXPECT_TRUE(bytes::equal_ignoring_case("Json", "JSON"));
  EXPECT_FALSE(bytes::equal_ignoring_case("\xC3\xA9", "\xC3\x89"));  // é and É: not ASCII, compared exactly
}

}  // namespace
}  // namespace labcount
