#include "output/result_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "output/output_file.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

using namespace std::string_literals;  // "a\0b"s keeps embedded NULs

// Writes rows through an output_file into a fresh temporary folder and returns the committed bytes.
// (A path made from the test's name once clashed between suites with a test of the same name, which
// ctest runs at the same time.)
template <class Rows>
std::string written(const Rows& rows, const output_options& options) {
  const labcount::testing::temp_dir dir;
  const std::filesystem::path path = dir.path() / "rows.out";
  {
    output_file out(path.string());
    write_rows(out, rows, options);
    out.commit();
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

std::string written(const std::vector<count_row>& rows, output_format format, std::string key_name = "SampleID") {
  output_options options;
  options.format = format;
  options.key_names = {std::move(key_name)};
  return written(std::span<const count_row>(rows), options);
}

std::string csv_of(std::string_view key) {
  std::vector<count_row> rows{{key, 1}};
  std::string all = written(rows, output_format::csv);
  const std::string header = "SampleID,count\n";
  EXPECT_EQ(all.substr(0, header.size()), header);
  return all.substr(header.size());
}

std::string tsv_of(std::string_view key) {
  std::vector<count_row> rows{{key, 1}};
  std::string all = written(rows, output_format::tsv);
  const std::string header = "SampleID\tcount\n";
  EXPECT_EQ(all.substr(0, header.size()), header);
  return all.substr(header.size());
}

// The JSON string literal written for key, quotes included.
std::string json_of(std::string_view key) {
  std::vector<count_row> rows{{key, 1}};
  std::string all = written(rows, output_format::json);
  const std::string prefix = "[\n{\"SampleID\":";
  const std::string suffix = ",\"count\":1}\n]\n";
  EXPECT_EQ(all.substr(0, prefix.size()), prefix);
  EXPECT_GE(all.size(), prefix.size() + suffix.size());
  EXPECT_EQ(all.substr(all.size() - suffix.size()), suffix);
  return all.substr(prefix.size(), all.size() - prefix.size() - suffix.size());
}

std::vector<std::string> keys_of(const std::vector<count_row>& rows) {
  std::vector<std::string> keys;
  for (const count_row& row : rows) keys.emplace_back(row.key);
  return keys;
}

std::vector<count_row> ordered(std::vector<count_row> rows, sort_order order, std::uint64_t top = 0) {
  output_options options;
  options.order = order;
  options.top = top;
  order_rows(rows, options);
  return rows;
}

// The reference orders, written the obvious way.
bool reference_key_less(const count_row& a, const count_row& b) {
  if (a.key != b.key) return a.key < b.key;
  return a.count > b.count;
}

bool reference_count_less(const count_row& a, const count_row& b) {
  if (a.count != b.count) return a.count > b.count;
  return a.key < b.key;
}

bool reference_count_asc_less(const count_row& a, const count_row& b) {
  if (a.count != b.count) return a.count < b.count;
  return a.key < b.key;
}

// Natural order as tokens: each non-digit byte is a token of its own, ranked by its value doubled; a
// run of digits is one token ranked between '/' and ':' (96 = 2 * '0'), then by its significant digits
// (how many, then which). Vectors of tokens compare lexicographically, a prefix first.
using natural_token = std::tuple<int, std::size_t, std::string>;
std::vector<natural_token> natural_tokens(std::string_view key) {
  std::vector<natural_token> tokens;
  for (std::size_t i = 0; i < key.size();) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c < '0' || c > '9') {
      tokens.emplace_back(2 * c, 0, "");
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < key.size() && key[end] >= '0' && key[end] <= '9') ++end;
    std::string digits(key.substr(i, end - i));
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    tokens.emplace_back(2 * '0', digits.size(), digits);
    i = end;
  }
  return tokens;
}

bool reference_natural_less(const count_row& a, const count_row& b) {
  const auto x = natural_tokens(a.key);
  const auto y = natural_tokens(b.key);
  if (x != y) return x < y;
  if (a.key != b.key) return a.key < b.key;
  return a.count > b.count;
}

bool (*reference_less(sort_order order))(const count_row&, const count_row&) {
  switch (order) {
    case sort_order::key: return reference_key_less;
    case sort_order::count: return reference_count_less;
    case sort_order::count_asc: return reference_count_asc_less;
    case sort_order::natural: return reference_natural_less;
  }
  return nullptr;
}

constexpr sort_order all_orders[] = {sort_order::key, sort_order::count, sort_order::count_asc, sort_order::natural};

std::vector<std::pair<std::string, std::uint64_t>> as_pairs(const std::vector<count_row>& rows) {
  std::vector<std::pair<std::string, std::uint64_t>> pairs;
  for (const count_row& row : rows) pairs.emplace_back(std::string(row.key), row.count);
  return pairs;
}

TEST(OrderRows, KeyOrderIsByteOrderWithPrefixesFirst) {
  const std::vector<std::string> storage{"S2", "S10", "S1", "", "S100", "S1\xC3\xA9", "S1\x7F", "T"};
  std::vector<count_row> rows;
  for (const std::string& key : storage) rows.push_back({key, 1});
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key)),
            (std::vector<std::string>{"", "S1", "S10", "S100", "S1\x7F", "S1\xC3\xA9", "S2", "T"}));
}

TEST(OrderRows, KeyOrderComparesBytesUnsignedAndKeepsEmbeddedNuls) {
  const std::vector<std::string> storage{"a\x01"s, "b"s, "a\0"s, "a"s, "\xFF"s, "a\0\0"s, "\x80"s};
  std::vector<count_row> rows;
  for (const std::string& key : storage) rows.push_back({key, 1});
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key)),
            (std::vector<std::string>{"a"s, "a\0"s, "a\0\0"s, "a\x01"s, "b"s, "\x80"s, "\xFF"s}));
}

TEST(OrderRows, KeyOrderBeyondEightBytesOfCommonPrefix) {
  const std::vector<std::string> storage{"SAMPLE-000000010", "SAMPLE-000000002", "SAMPLE-00000001",
                                         "SAMPLE-0000000",   "SAMPLE-000000001", "SAMPLE-00000000"};
  std::vector<count_row> rows;
  for (const std::string& key : storage) rows.push_back({key, 1});
  std::vector<std::string> expected = storage;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key)), expected);
}

TEST(OrderRows, ManyKeysSharingLongPrefixes) {
  std::mt19937_64 rng(3);
  std::vector<std::string> storage;
  for (int i = 0; i < 200; ++i) storage.push_back("SAMPLE-0000000000000000-" + std::to_string(i));
  std::vector<std::string> expected = storage;
  std::sort(expected.begin(), expected.end());
  std::shuffle(storage.begin(), storage.end(), rng);
  std::vector<count_row> rows;
  for (const std::string& key : storage) rows.push_back({key, 1});
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key)), expected);
  EXPECT_EQ(keys_of(ordered(rows, sort_order::count)), expected);
}

TEST(OrderRows, DuplicateKeysAreOrderedByCount) {
  // Not produced by `count` (its keys are distinct), but the order stays total if they ever are.
  std::vector<count_row> rows;
  for (std::uint64_t i = 0; i < 40; ++i) rows.push_back({i % 2 == 0 ? "dup" : "dup-with-a-long-key", i});
  std::vector<count_row> result = ordered(rows, sort_order::key);
  for (std::size_t i = 0; i < 40; ++i) {
    EXPECT_EQ(result[i].key, i < 20 ? "dup" : "dup-with-a-long-key");
    EXPECT_EQ(result[i].count, i < 20 ? 38 - 2 * i : 39 - 2 * (i - 20));
  }
  std::vector<count_row> same;
  for (std::uint64_t i = 0; i < 40; ++i) same.push_back({"same", i});
  std::vector<count_row> same_result = ordered(same, sort_order::key);
  for (std::size_t i = 0; i < 40; ++i) EXPECT_EQ(same_result[i].count, 39 - i);
}

TEST(OrderRows, CountOrderIsDescendingWithTiesByKey) {
  std::vector<count_row> rows{{"S2", 5}, {"S10", 7}, {"S1", 5}, {"", 5}, {"S3", 1}, {"S20", 7}};
  std::vector<count_row> result = ordered(rows, sort_order::count);
  EXPECT_EQ(as_pairs(result), (std::vector<std::pair<std::string, std::uint64_t>>{
                                  {"S10", 7}, {"S20", 7}, {"", 5}, {"S1", 5}, {"S2", 5}, {"S3", 1}}));
}

TEST(OrderRows, CountOrderHandlesTheLargestCounts) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  std::vector<count_row> rows{{"a", 0}, {"b", max}, {"c", max - 1}, {"d", 1}};
  EXPECT_EQ(keys_of(ordered(rows, sort_order::count)), (std::vector<std::string>{"b", "c", "d", "a"}));
}

TEST(OrderRows, TopKeepsTheFirstRowsAfterSorting) {
  std::vector<count_row> rows{{"S2", 5}, {"S10", 7}, {"S1", 5}, {"S3", 9}};
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key, 0)), (std::vector<std::string>{"S1", "S10", "S2", "S3"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key, 1)), (std::vector<std::string>{"S1"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key, 2)), (std::vector<std::string>{"S1", "S10"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key, 4)), (std::vector<std::string>{"S1", "S10", "S2", "S3"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::key, 100)), (std::vector<std::string>{"S1", "S10", "S2", "S3"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::count, 1)), (std::vector<std::string>{"S3"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::count, 3)), (std::vector<std::string>{"S3", "S10", "S1"}));
  EXPECT_TRUE(ordered({}, sort_order::count, 5).empty());
  EXPECT_TRUE(ordered({}, sort_order::key, 0).empty());
}

// Random keys of the shapes that stress the chunked sort: long shared prefixes, lengths around the
// 8- and 16-byte chunk boundaries, embedded NULs (equal to the padding), high bytes, duplicates, skewed counts.
std::vector<std::string> random_keys(std::size_t num_keys, std::mt19937_64& rng) {
  const std::vector<std::string> prefixes{
      "", "S", "SAMPLE-0", "SAMPLE-00000000", "SAMPLE-000000000", "SAMPLE-0000000000000000000000000",
      "\0\0\0\0\0\0\0\0"s, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"s, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
      "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"};
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < num_keys; ++i) {
    std::string key = prefixes[rng() % prefixes.size()];
    const std::size_t length = rng() % 19;
    for (std::size_t k = 0; k < length; ++k) {
      switch (rng() % 4) {
        case 0: key.push_back(static_cast<char>('0' + rng() % 3)); break;
        case 1: key.push_back('\0'); break;
        case 2: key.push_back(static_cast<char>(rng() % 256)); break;
        default: key.push_back(static_cast<char>(0xFE + rng() % 2)); break;
      }
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

TEST(OrderRows, MatchesReferenceSortOnRandomKeys) {
  std::mt19937_64 rng(20240611);
  for (std::size_t num_rows : {0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 20000}) {
    const std::vector<std::string> keys = random_keys(num_rows, rng);
    std::vector<count_row> rows;
    for (const std::string& key : keys) rows.push_back({key, rng() % 4 == 0 ? rng() : rng() % 5});
    for (sort_order order : all_orders) {
      for (std::uint64_t top : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{10}, std::uint64_t{num_rows / 2}}) {
        std::vector<count_row> expected = rows;
        std::sort(expected.begin(), expected.end(), reference_less(order));
        if (top != 0 && top < expected.size()) expected.resize(top);
        EXPECT_EQ(as_pairs(ordered(rows, order, top)), as_pairs(expected))
            << "rows " << num_rows << ", order " << to_string(order) << ", top " << top;
      }
    }
  }
}

// Past 64 Ki rows the sort splits ranges larger than its scratch buffer in place first (and again
// for a bucket still too large, as the shared prefixes make some): the same order as the reference.
TEST(OrderRows, MatchesReferenceSortPastTheInPlaceSplit) {
  std::mt19937_64 rng(77);
  const std::vector<std::string> keys = random_keys(150'000, rng);
  std::vector<count_row> rows;
  for (const std::string& key : keys) rows.push_back({key, rng() % 3 == 0 ? rng() : rng() % 7});
  // (natural is a comparison sort: it has no split)
  for (sort_order order : {sort_order::key, sort_order::count, sort_order::count_asc}) {
    std::vector<count_row> expected = rows;
    std::sort(expected.begin(), expected.end(), reference_less(order));
    EXPECT_EQ(as_pairs(ordered(rows, order)), as_pairs(expected)) << to_string(order);
  }
}

// A count table ordered straight from its dictionary (what `count` writes): the rows and bytes of
// order_rows + write_rows on count_rows of the keys with a count, at every size the sort treats
// differently, with keys up to and past the 16 bytes an entry holds, and keys of count 0 left out.
TEST(OrderedTable, SameRowsAndBytesAsOrderRows) {
  std::mt19937_64 rng(5);
  for (std::size_t num_keys : {0, 1, 2, 47, 49, 1000, 70'000, 100'000}) {
    key_dictionary dictionary;
    for (const std::string& key : random_keys(num_keys, rng)) dictionary.encode(key);
    std::vector<std::uint64_t> counts(dictionary.size());
    std::vector<count_row> rows;
    for (std::uint32_t code = 0; code < dictionary.size(); ++code) {
      counts[code] = rng() % 5 == 0 ? 0 : (rng() % 9 == 0 ? rng() : 1 + rng() % 6);
      if (counts[code] != 0) rows.push_back({dictionary.key(code), counts[code]});
    }
    for (sort_order order : all_orders) {
      for (std::uint64_t top : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{num_keys / 3}}) {
        const ordered_table table(dictionary, counts, order, top);
        const std::vector<count_row> expected = ordered(rows, order, top);
        std::vector<count_row> got;
        for (std::size_t i = 0; i < table.size(); ++i) got.push_back(table.row(i));
        ASSERT_EQ(as_pairs(got), as_pairs(expected)) << num_keys << " keys, " << to_string(order) << ", top " << top;
        if (num_keys > 1000 && top != 0) continue;
        for (output_format format : {output_format::csv, output_format::tsv, output_format::json, output_format::ndjson}) {
          output_options options;
          options.format = format;
          EXPECT_EQ(written(table, options), written(std::span<const count_row>(expected), options)) << to_string(format);
        }
      }
    }
  }
}

// A table of a million keys or more is ordered on the run's threads (split in place until each thread has
// ranges, then sorted range by range): the same rows as on one thread, for every shape of key, with two and
// three threads, and for keys that all share their first 16 bytes (a range the split cannot divide).
TEST(OrderedTable, SameOrderOnThePoolAsOnOneThread) {
  std::mt19937_64 rng(11);
  std::vector<std::string> shared;
  for (std::size_t i = 0; i < 1'400'000; ++i)
    shared.push_back("PREFIX-SHARED-16B-" + std::to_string(rng() % 20'000'000));
  for (const std::vector<std::string>& keys : {random_keys(2'000'000, rng), shared}) {
    key_dictionary dictionary;
    for (const std::string& key : keys) dictionary.encode(key);
    std::vector<std::uint64_t> counts(dictionary.size());
    for (auto& count : counts) count = rng() % 7 == 0 ? 0 : 1 + rng() % 9;
    for (unsigned threads : {2u, 3u}) {
      thread_pool pool(threads);
      for (sort_order order : {sort_order::key, sort_order::count, sort_order::count_asc}) {
        const ordered_table alone(dictionary, counts, order, 0);
        const ordered_table on_pool(dictionary, counts, order, 0, 1, &pool);
        ASSERT_GE(alone.size(), std::size_t{1} << 20);  // past the size that is ordered in parallel
        ASSERT_EQ(on_pool.size(), alone.size());
        for (std::size_t i = 0; i < alone.size(); ++i)
          ASSERT_EQ(on_pool.code(i), alone.code(i)) << i << ", " << threads << " threads, " << to_string(order);
      }
    }
  }
}

TEST(OrderRows, NaturalOrderReadsNumbersInKeys) {
  std::vector<count_row> rows{{"S10", 1}, {"S2", 1}, {"S1", 1}, {"S01", 1}, {"S10a", 1}, {"R100", 1}, {"S", 1},
                              {"S2-10", 1}, {"S2-9", 1}, {"s1", 1}, {"S0", 1}, {"S00", 1}};
  EXPECT_EQ(keys_of(ordered(rows, sort_order::natural)),
            (std::vector<std::string>{"R100", "S", "S0", "S00", "S01", "S1", "S2", "S2-9", "S2-10", "S10", "S10a", "s1"}));
}

TEST(OrderRows, CountAscendingPutsTheLeastTestedFirst) {
  std::vector<count_row> rows{{"b", 5}, {"a", 2}, {"c", 2}, {"d", 9}};
  EXPECT_EQ(keys_of(ordered(rows, sort_order::count_asc)), (std::vector<std::string>{"a", "c", "b", "d"}));
  EXPECT_EQ(keys_of(ordered(rows, sort_order::count_asc, 1)), (std::vector<std::string>{"a"}));
}

TEST(OrderRows, DoesNotDependOnInputOrder) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> keys = random_keys(5000, rng);
  std::vector<count_row> rows;
  for (const std::string& key : keys) rows.push_back({key, rng() % 3});
  for (sort_order order : {sort_order::key, sort_order::count}) {
    const auto first = as_pairs(ordered(rows, order));
    std::shuffle(rows.begin(), rows.end(), rng);
    EXPECT_EQ(as_pairs(ordered(rows, order)), first);
  }
}

TEST(WriteRows, CsvExactBytes) {
  std::vector<count_row> rows{{"S00802", 519}, {"S1", 0}, {"S2", 18446744073709551615ull}};
  EXPECT_EQ(written(rows, output_format::csv), "SampleID,count\nS00802,519\nS1,0\nS2,18446744073709551615\n");
  EXPECT_EQ(written({}, output_format::csv), "SampleID,count\n");
  EXPECT_EQ(written(rows, output_format::csv, "key"), "key,count\nS00802,519\nS1,0\nS2,18446744073709551615\n");
}

TEST(WriteRows, TsvExactBytes) {
  std::vector<count_row> rows{{"S00802", 519}, {"S1", 3}};
  EXPECT_EQ(written(rows, output_format::tsv), "SampleID\tcount\nS00802\t519\nS1\t3\n");
  EXPECT_EQ(written({}, output_format::tsv), "SampleID\tcount\n");
}

TEST(WriteRows, JsonExactBytes) {
  std::vector<count_row> rows{{"S00802", 519}, {"S1", 3}};
  EXPECT_EQ(written(rows, output_format::json),
            "[\n{\"SampleID\":\"S00802\",\"count\":519},\n{\"SampleID\":\"S1\",\"count\":3}\n]\n");
  std::vector<count_row> one{{"S1", 3}};
  EXPECT_EQ(written(one, output_format::json, "key"), "[\n{\"key\":\"S1\",\"count\":3}\n]\n");
  EXPECT_EQ(written({}, output_format::json), "[]\n");
}

TEST(WriteRows, CsvQuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_of("S1"), "S1,1\n");
  EXPECT_EQ(csv_of("a,b"), "\"a,b\",1\n");
  EXPECT_EQ(csv_of("say \"hi\""), "\"say \"\"hi\"\"\",1\n");
  EXPECT_EQ(csv_of("\""), "\"\"\"\",1\n");
  EXPECT_EQ(csv_of("a\rb"), "\"a\rb\",1\n");
  EXPECT_EQ(csv_of("a\nb"), "\"a\nb\",1\n");
  EXPECT_EQ(csv_of(" lead"), "\" lead\",1\n");
  EXPECT_EQ(csv_of("trail "), "\"trail \",1\n");
  EXPECT_EQ(csv_of(" "), "\" \",1\n");
  EXPECT_EQ(csv_of("in side"), "in side,1\n");
  EXPECT_EQ(csv_of(""), "\"\",1\n");
  EXPECT_EQ(csv_of("a\tb"), "a\tb,1\n");
  EXPECT_EQ(csv_of("\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA7\xAA"), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA7\xAA,1\n");
  EXPECT_EQ(csv_of("\xFF\x80\0x"s), "\xFF\x80\0x,1\n"s);  // arbitrary bytes pass through
}

TEST(WriteRows, TsvEscapesBackslashTabAndLineBreaks) {
  EXPECT_EQ(tsv_of("S1"), "S1\t1\n");
  EXPECT_EQ(tsv_of("a\tb"), "a\\tb\t1\n");
  EXPECT_EQ(tsv_of("a\nb"), "a\\nb\t1\n");
  EXPECT_EQ(tsv_of("a\rb"), "a\\rb\t1\n");
  EXPECT_EQ(tsv_of("a\\b"), "a\\\\b\t1\n");
  EXPECT_EQ(tsv_of("\\t"), "\\\\t\t1\n");  // a literal backslash-t stays distinguishable from a tab
  EXPECT_EQ(tsv_of("a,\"b\" "), "a,\"b\" \t1\n");
  EXPECT_EQ(tsv_of(""), "\t1\n");
  EXPECT_EQ(tsv_of("\xC3\xA9\xFF"), "\xC3\xA9\xFF\t1\n");
}

TEST(WriteRows, JsonEscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_of("S1"), "\"S1\"");
  EXPECT_EQ(json_of(""), "\"\"");
  EXPECT_EQ(json_of("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(json_of("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(json_of("/"), "\"/\"");
  EXPECT_EQ(json_of("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_of("\0\x01\x1F"s), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(json_of("\x7F"), "\"\x7F\"");
}

TEST(WriteRows, JsonPassesValidUtf8Unchanged) {
  for (std::string_view key :
       {"\xC2\x80", "\xC3\xA9t\xC3\xA9", "\xDF\xBF", "\xE0\xA0\x80", "\xE2\x82\xAC", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF0\x9F\xA7\xAA", "\xF4\x8F\xBF\xBF", "\xE6\xA0\xB7\xE6\x9C\xAC-1"})
    EXPECT_EQ(json_of(key), "\"" + std::string(key) + "\"") << key;
}

TEST(WriteRows, JsonReplacesEachByteOfInvalidUtf8) {
  const std::string fffd = "\xEF\xBF\xBD";
  auto q = [](const std::string& s) { return "\"" + s + "\""; };
  EXPECT_EQ(json_of("\x80"), q(fffd));  // lone continuation byte
  EXPECT_EQ(json_of("a\xBF"
                    "b"),
            q("a" + fffd + "b"));
  EXPECT_EQ(json_of("\xC0\xAF"), q(fffd + fffd));                        // overlong '/'
  EXPECT_EQ(json_of("\xC1\xBF"), q(fffd + fffd));                        // overlong
  EXPECT_EQ(json_of("\xE0\x80\x80"), q(fffd + fffd + fffd));             // overlong NUL
  EXPECT_EQ(json_of("\xE0\x9F\xBF"), q(fffd + fffd + fffd));             // overlong U+07FF
  EXPECT_EQ(json_of("\xF0\x8F\xBF\xBF"), q(fffd + fffd + fffd + fffd));  // overlong U+FFFF
  EXPECT_EQ(json_of("\xED\xA0\x80"), q(fffd + fffd + fffd));             // surrogate U+D800
  EXPECT_EQ(json_of("\xED\xBF\xBF"), q(fffd + fffd + fffd));             // surrogate U+DFFF
  EXPECT_EQ(json_of("\xF4\x90\x80\x80"), q(fffd + fffd + fffd + fffd));  // U+110000
  EXPECT_EQ(json_of("\xF5\x80\x80\x80"), q(fffd + fffd + fffd + fffd));
  EXPECT_EQ(json_of("\xFE\xFF"), q(fffd + fffd));
  EXPECT_EQ(json_of("x\xE2\x82"), q("x" + fffd + fffd));  // truncated at the end
  EXPECT_EQ(json_of("\xE2\x82"
                    "A"),
            q(fffd + fffd + "A"));  // truncated before ASCII
  EXPECT_EQ(json_of("\xF0\x9F\xA7"), q(fffd + fffd + fffd));
  EXPECT_EQ(json_of("\xC3\xC3\xA9"), q(fffd + "\xC3\xA9"));  // a valid sequence after a bad lead
  EXPECT_EQ(json_of("\xC3\xA9\xA9\"\x01"), q("\xC3\xA9" + fffd + "\\\"\\u0001"));
}

TEST(WriteRows, HeaderNameIsQuotedAndEscapedLikeAKey) {
  std::vector<count_row> rows{{"S1", 2}};
  EXPECT_EQ(written(rows, output_format::csv, "Sample, ID"), "\"Sample, ID\",count\nS1,2\n");
  EXPECT_EQ(written(rows, output_format::csv, "the \"id\""), "\"the \"\"id\"\"\",count\nS1,2\n");
  EXPECT_EQ(written(rows, output_format::csv, " id"), "\" id\",count\nS1,2\n");
  EXPECT_EQ(written(rows, output_format::csv, ""), "\"\",count\nS1,2\n");
  EXPECT_EQ(written(rows, output_format::tsv, "a\tb\\"), "a\\tb\\\\\tcount\nS1\t2\n");
  EXPECT_EQ(written(rows, output_format::json, "the \"id\"\n\xFF"),
            "[\n{\"the \\\"id\\\"\\n\xEF\xBF\xBD\":\"S1\",\"count\":2}\n]\n");
}

// Plain per-row formatting, to check the buffered writer across its 1 MB flushes.
std::string reference_csv(const std::vector<count_row>& rows) {
  std::string text = "SampleID,count\n";
  for (const count_row& row : rows) text += std::string(row.key) + "," + std::to_string(row.count) + "\n";
  return text;
}

TEST(WriteRows, LargeOutputCrossesFlushesIntact) {
  std::vector<std::string> keys;
  for (std::uint64_t i = 0; i < 300000; ++i) keys.push_back("S" + std::to_string(i * 7919));
  std::vector<count_row> rows;
  for (std::size_t i = 0; i < keys.size(); ++i) rows.push_back({keys[i], i * i});
  EXPECT_EQ(written(rows, output_format::csv), reference_csv(rows));
  const std::string json = written(rows, output_format::json);
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), static_cast<std::ptrdiff_t>(rows.size() + 2));
  EXPECT_EQ(json.substr(json.size() - 4), "}\n]\n");
}

TEST(WriteRows, KeysLargerThanTheBuffer) {
  const std::string controls(3 << 20, '\x01');  // 3 MB of bytes that each grow to 6
  const std::string quotes(3 << 20, '"');
  std::vector<count_row> rows{{"S1", 1}, {controls, 2}, {quotes, 3}};
  std::string expected_json = "[\n{\"SampleID\":\"S1\",\"count\":1},\n{\"SampleID\":\"";
  for (std::size_t i = 0; i < controls.size(); ++i) expected_json += "\\u0001";
  expected_json += "\",\"count\":2},\n{\"SampleID\":\"";
  for (std::size_t i = 0; i < quotes.size(); ++i) expected_json += "\\\"";
  expected_json += "\",\"count\":3}\n]\n";
  EXPECT_EQ(written(rows, output_format::json), expected_json);

  std::string expected_csv = "SampleID,count\nS1,1\n" + controls + ",2\n\"";
  expected_csv += std::string(2 * quotes.size(), '"') + "\",3\n";
  EXPECT_EQ(written(rows, output_format::csv), expected_csv);
}

// ---- With a file column (count --per-file, merge of per-file outputs) -----------------------------

std::string written_with_file(const std::vector<count_row>& rows, output_format format,
                              std::string key_name = "SampleID") {
  output_options options;
  options.format = format;
  options.key_names = {std::move(key_name)};
  options.with_file_column = true;
  return written(std::span<const count_row>(rows), options);
}

std::vector<count_row> ordered_with_file(std::vector<count_row> rows, sort_order order, std::uint64_t top = 0) {
  output_options options;
  options.order = order;
  options.top = top;
  options.with_file_column = true;
  order_rows(rows, options);
  return rows;
}

bool reference_file_key_less(const count_row& a, const count_row& b) {
  if (a.file != b.file) return a.file < b.file;
  if (a.key != b.key) return a.key < b.key;
  return a.count > b.count;
}


// Every order with a file column: the count orders by count, file, key; the key orders by file, then
// as without a file.
bool reference_with_file_less(sort_order order, const count_row& a, const count_row& b) {
  if (by_count(order)) {
    if (a.count != b.count) return order == sort_order::count ? a.count > b.count : a.count < b.count;
    if (a.file != b.file) return a.file < b.file;
    return a.key < b.key;
  }
  if (a.file != b.file) return a.file < b.file;
  return reference_less(order)(a, b);
}

using file_row = std::tuple<std::string, std::string, std::uint64_t>;

std::vector<file_row> as_file_rows(const std::vector<count_row>& rows) {
  std::vector<file_row> out;
  for (const count_row& row : rows) out.emplace_back(std::string(row.file), std::string(row.key), row.count);
  return out;
}

TEST(WriteRowsWithFile, CsvExactBytes) {
  std::vector<count_row> rows{{"S1", 4, "a.csv"}, {"S2", 18446744073709551615ull, "a.csv"}, {"S1", 1, "b.csv"}};
  EXPECT_EQ(written_with_file(rows, output_format::csv),
            "file,SampleID,count\na.csv,S1,4\na.csv,S2,18446744073709551615\nb.csv,S1,1\n");
  EXPECT_EQ(written_with_file({}, output_format::csv), "file,SampleID,count\n");
  EXPECT_EQ(written_with_file({}, output_format::csv, "Sample, ID"), "file,\"Sample, ID\",count\n");
}

TEST(WriteRowsWithFile, TsvExactBytes) {
  std::vector<count_row> rows{{"S1", 4, "a.csv"}, {"S2", 1, "b.csv"}};
  EXPECT_EQ(written_with_file(rows, output_format::tsv), "file\tSampleID\tcount\na.csv\tS1\t4\nb.csv\tS2\t1\n");
  EXPECT_EQ(written_with_file({}, output_format::tsv), "file\tSampleID\tcount\n");
}

TEST(WriteRowsWithFile, JsonExactBytes) {
  std::vector<count_row> rows{{"S1", 4, "a.csv"}, {"S2", 1, "b.csv"}};
  EXPECT_EQ(written_with_file(rows, output_format::json),
            "[\n{\"file\":\"a.csv\",\"SampleID\":\"S1\",\"count\":4},\n"
            "{\"file\":\"b.csv\",\"SampleID\":\"S2\",\"count\":1}\n]\n");
  std::vector<count_row> one{{"S1", 3, "x"}};
  EXPECT_EQ(written_with_file(one, output_format::json, "key"), "[\n{\"file\":\"x\",\"key\":\"S1\",\"count\":3}\n]\n");
  EXPECT_EQ(written_with_file({}, output_format::json), "[]\n");
}

TEST(WriteRowsWithFile, FileNamesAreQuotedAndEscapedLikeKeys) {
  std::vector<count_row> rows{{"k,1", 2, "dir/a,b \"c\".csv"}};
  EXPECT_EQ(written_with_file(rows, output_format::csv), "file,SampleID,count\n\"dir/a,b \"\"c\"\".csv\",\"k,1\",2\n");
  std::vector<count_row> odd{{"k", 2, "a\tb\nc\\.csv"}};
  EXPECT_EQ(written_with_file(odd, output_format::tsv), "file\tSampleID\tcount\na\\tb\\nc\\\\.csv\tk\t2\n");
  std::vector<count_row> invalid{{"k", 2, "\"\xFF\""}};
  EXPECT_EQ(written_with_file(invalid, output_format::json),
            "[\n{\"file\":\"\\\"\xEF\xBF\xBD\\\"\",\"SampleID\":\"k\",\"count\":2}\n]\n");
  std::vector<count_row> empty_name{{"k", 2, ""}};
  EXPECT_EQ(written_with_file(empty_name, output_format::csv), "file,SampleID,count\n\"\",k,2\n");
}

TEST(WriteRowsWithFile, WithoutTheOptionTheFileIsNotWritten) {
  std::vector<count_row> rows{{"S1", 4, "a.csv"}};
  EXPECT_EQ(written(rows, output_format::csv), "SampleID,count\nS1,4\n");
}

TEST(WriteRowsWithFile, LargeOutputCrossesFlushesIntact) {
  std::vector<std::string> keys;
  for (std::uint64_t i = 0; i < 200000; ++i) keys.push_back("S" + std::to_string(i * 7919));
  const std::string files[] = {"part-a.csv", "part-b.csv"};
  std::vector<count_row> rows;
  std::string expected = "file,SampleID,count\n";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    rows.push_back({keys[i], i, files[i % 2]});
    expected += files[i % 2] + "," + keys[i] + "," + std::to_string(i) + "\n";
  }
  EXPECT_EQ(written_with_file(rows, output_format::csv), expected);
}

TEST(OrderRowsWithFile, KeyOrderIsFileThenKey) {
  std::vector<count_row> rows{{"S2", 1, "b.csv"}, {"S10", 4, "a.csv"}, {"S1", 4, "b.csv"},
                              {"S1", 9, "a.csv"}, {"", 1, "a.csv"},    {"S1", 2, ""}};
  EXPECT_EQ(as_file_rows(ordered_with_file(rows, sort_order::key)), (std::vector<file_row>{{"", "S1", 2},
                                                                                           {"a.csv", "", 1},
                                                                                           {"a.csv", "S1", 9},
                                                                                           {"a.csv", "S10", 4},
                                                                                           {"b.csv", "S1", 4},
                                                                                           {"b.csv", "S2", 1}}));
}

TEST(OrderRowsWithFile, CountOrderIsCountThenFileThenKey) {
  std::vector<count_row> rows{{"S2", 4, "b.csv"}, {"S10", 4, "a.csv"}, {"S1", 4, "b.csv"},
                              {"S1", 9, "b.csv"}, {"S9", 4, "a.csv"},  {"S1", 1, "a.csv"}};
  EXPECT_EQ(as_file_rows(ordered_with_file(rows, sort_order::count)), (std::vector<file_row>{{"b.csv", "S1", 9},
                                                                                             {"a.csv", "S10", 4},
                                                                                             {"a.csv", "S9", 4},
                                                                                             {"b.csv", "S1", 4},
                                                                                             {"b.csv", "S2", 4},
                                                                                             {"a.csv", "S1", 1}}));
  EXPECT_EQ(as_file_rows(ordered_with_file(rows, sort_order::count, 2)),
            (std::vector<file_row>{{"b.csv", "S1", 9}, {"a.csv", "S10", 4}}));
  EXPECT_EQ(as_file_rows(ordered_with_file(rows, sort_order::key, 2)),
            (std::vector<file_row>{{"a.csv", "S1", 1}, {"a.csv", "S10", 4}}));
}

TEST(OrderRowsWithFile, FilesAreComparedByTheirBytesNotTheirStorage) {
  // The same name in separate strings is one file; names that are prefixes of others sort first.
  const std::vector<std::string> names{"a", "a", "ab", "a\xFF", "a\0"s, "", "a"};
  std::vector<count_row> rows;
  for (std::size_t i = 0; i < names.size(); ++i) rows.push_back({i % 2 == 0 ? "k" : "j", i, names[i]});
  std::vector<count_row> expected = rows;
  std::sort(expected.begin(), expected.end(), reference_file_key_less);
  EXPECT_EQ(as_file_rows(ordered_with_file(rows, sort_order::key)), as_file_rows(expected));
}

TEST(OrderRowsWithFile, MatchesReferenceSortOnRandomRows) {
  std::mt19937_64 rng(99);
  const std::vector<std::string> file_names{"", "a.csv", "a.csv.gz", "b.csv", "\xFF", "dir/a.csv"};
  // Each row gets its own copy of its file name, as rows from different sources would.
  for (std::size_t num_rows : {0, 1, 2, 17, 64, 65, 1000, 20000}) {
    const std::vector<std::string> keys = random_keys(num_rows, rng);
    std::vector<std::string> files;
    for (std::size_t i = 0; i < num_rows; ++i) files.push_back(file_names[rng() % file_names.size()]);
    std::vector<count_row> rows;
    for (std::size_t i = 0; i < num_rows; ++i) rows.push_back({keys[i], rng() % 4 == 0 ? rng() : rng() % 5, files[i]});
    for (sort_order order : all_orders) {
      for (std::uint64_t top : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{10}, std::uint64_t{num_rows / 2}}) {
        std::vector<count_row> expected = rows;
        std::sort(expected.begin(), expected.end(),
                  [order](const count_row& a, const count_row& b) { return reference_with_file_less(order, a, b); });
        if (top != 0 && top < expected.size()) expected.resize(top);
        EXPECT_EQ(as_file_rows(ordered_with_file(rows, order, top)), as_file_rows(expected))
            << "rows " << num_rows << ", order " << to_string(order) << ", top " << top;
      }
    }
  }
}

TEST(OrderRowsWithFile, DoesNotDependOnInputOrder) {
  std::mt19937_64 rng(5);
  const std::vector<std::string> keys = random_keys(3000, rng);
  const std::string files[] = {"x.csv", "y.csv", "z.csv"};
  std::vector<count_row> rows;
  for (const std::string& key : keys) rows.push_back({key, rng() % 3, files[rng() % 3]});
  for (sort_order order : {sort_order::key, sort_order::count}) {
    const auto first = as_file_rows(ordered_with_file(rows, order));
    std::shuffle(rows.begin(), rows.end(), rng);
    EXPECT_EQ(as_file_rows(ordered_with_file(rows, order)), first);
  }
}

}  // namespace
}  // namespace labcount
