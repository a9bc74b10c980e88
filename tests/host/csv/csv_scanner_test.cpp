#include "csv/csv_scanner.hpp"
#include "csv/key_tuple.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace labcount {
namespace {

std::vector<std::string> fields_of(std::string_view record, char delimiter = ',') {
  parsed_record out;
  parse_record(record.data(), record.data() + record.size(), delimiter, out);
  EXPECT_EQ(out.problem, row_problem::none) << record;
  return {out.fields.begin(), out.fields.end()};
}

row_problem problem_of(std::string_view record, std::size_t* at = nullptr) {
  parsed_record out;
  parse_record(record.data(), record.data() + record.size(), ',', out);
  if (at != nullptr && out.problem_at != nullptr) *at = static_cast<std::size_t>(out.problem_at - record.data());
  return out.problem;
}

using strings = std::vector<std::string>;

TEST(ParseRecord, PlainAndEmptyFields) {
  EXPECT_EQ(fields_of("a,b,c"), (strings{"a", "b", "c"}));
  EXPECT_EQ(fields_of(""), (strings{""}));
  EXPECT_EQ(fields_of(",,"), (strings{"", "", ""}));
  EXPECT_EQ(fields_of("a,b\r"), (strings{"a", "b"}));        // CR before the LF is the line ending
  EXPECT_EQ(fields_of("a\rb,c"), (strings{"a\rb", "c"}));    // a CR inside a field is data
  EXPECT_EQ(fields_of(" a , b "), (strings{" a ", " b "}));  // no trimming
  EXPECT_EQ(fields_of("a;b,c", ';'), (strings{"a", "b,c"}));
}

TEST(ParseRecord, QuotedFields) {
  EXPECT_EQ(fields_of("\"a,b\",c"), (strings{"a,b", "c"}));
  EXPECT_EQ(fields_of("\"say \"\"hi\"\"\""), (strings{"say \"hi\""}));
  EXPECT_EQ(fields_of("\"\""), (strings{""}));
  EXPECT_EQ(fields_of("\"\"\"\""), (strings{"\""}));
  EXPECT_EQ(fields_of("\"line\r\nbreak\",x"), (strings{"line\r\nbreak", "x"}));
  EXPECT_EQ(fields_of("x,\"q\"\r"), (strings{"x", "q"}));
  EXPECT_EQ(fields_of("\"a\",\"b\","), (strings{"a", "b", ""}));
}

TEST(ParseRecord, Problems) {
  std::size_t at = 0;
  EXPECT_EQ(problem_of("a,\"open", &at), row_problem::unterminated_quote);
  EXPECT_EQ(at, 2u);
  EXPECT_EQ(problem_of("a,5\"x", &at), row_problem::stray_quote);
  EXPECT_EQ(at, 3u);
  EXPECT_EQ(problem_of("\"a\"b,c", &at), row_problem::stray_quote);
  EXPECT_EQ(at, 3u);
  EXPECT_EQ(problem_of("\"a\" ,c"), row_problem::stray_quote);
}

TEST(RecordBoundaries, FindRecordEndFollowsQuoteParity) {
  const std::string text = "a,\"x\ny\"\nnext";
  EXPECT_EQ(find_record_end(text.data(), text.data() + text.size()) - text.data(), 7);
  const std::string open = "a,\"x\ny";
  EXPECT_EQ(find_record_end(open.data(), open.data() + open.size()), open.data() + open.size());
}

TEST(RecordBoundaries, FindLastRecordEnd) {
  const std::string text = "a\nb,\"c\nd\"\ne,\"f\ng";  // the last LF is inside an open quote
  const auto counts = count_quotes_and_lines(text.data(), text.data() + text.size());
  EXPECT_EQ(counts.quotes, 3u);
  EXPECT_EQ(counts.lines, 4u);
  const char* lf = find_last_record_end(text.data(), text.data() + text.size(), counts.quotes);
  ASSERT_NE(lf, nullptr);
  EXPECT_EQ(lf - text.data(), 9);
  const std::string none = "\"a\nb\nc";
  EXPECT_EQ(find_last_record_end(none.data(), none.data() + none.size(), 1), nullptr);
}

TEST(CountQuotesAndLines, MatchesAByteLoopAtEveryLength) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "ab\"c\n,"[i % 6];
  for (std::size_t len = 0; len <= text.size(); ++len) {
    std::uint64_t quotes = 0, lines = 0;
    for (std::size_t i = 0; i < len; ++i) {
      quotes += text[i] == '"';
      lines += text[i] == '\n';
    }
    const auto got = count_quotes_and_lines(text.data(), text.data() + len);
    ASSERT_EQ(got.quotes, quotes) << len;
    ASSERT_EQ(got.lines, lines) << len;
  }
}

TEST(PrefixXor, MarksInsideQuotes) {
  EXPECT_EQ(detail::prefix_xor(0b1001), 0b0111u);
  EXPECT_EQ(detail::prefix_xor(0), 0u);
  EXPECT_EQ(detail::prefix_xor(std::uint64_t{1} << 63), std::uint64_t{1} << 63);
}

struct scan_output {
  strings keys;
  std::vector<std::pair<row_problem, std::size_t>> bad;  // problem, offset of the record
};

scan_output scan(std::string_view text, std::uint32_t key_field, std::uint32_t num_fields, bool at_eof = true) {
  scan_output out;
  parsed_record scratch;
  scan_options options;
  options.key_field = key_field;
  options.num_fields = num_fields;
  scan_records(
      text.data(), text.data() + text.size(), at_eof, options, scratch,
      [&](std::string_view key, std::string_view, const char*) {
        out.keys.emplace_back(key);
        return true;
      },
      [&](row_problem p, const char*, const char* record, std::uint32_t) {
        out.bad.emplace_back(p, static_cast<std::size_t>(record - text.data()));
        return true;
      });
  return out;
}

TEST(ScanRecords, FastAndSlowPathsAgree) {
  EXPECT_EQ(scan("1,a\n2,b\r\n3,\"c\"\n4,\"d,e\"\r\n", 1, 2).keys, (strings{"a", "b", "c", "d,e"}));
  EXPECT_EQ(scan("a,1\nb,2", 0, 2).keys, (strings{"a", "b"}));  // no final LF
  EXPECT_EQ(scan("a,1\nb,2\r", 1, 2).keys, (strings{"1", "2"}));
}

TEST(ScanRecords, BlankLinesAndBadRows) {
  const auto out = scan("a,1\n\n\r\nb\nc,2,3\nd,4\n", 0, 2);
  EXPECT_EQ(out.keys, (strings{"a", "d"}));
  ASSERT_EQ(out.bad.size(), 2u);
  EXPECT_EQ(out.bad[0], std::make_pair(row_problem::too_few_fields, std::size_t{7}));
  EXPECT_EQ(out.bad[1], std::make_pair(row_problem::too_many_fields, std::size_t{9}));
}

TEST(ScanRecords, RecordsLongerThanABlock) {
  const std::string long_field(1000, 'x');
  const std::string text = long_field + ",k1\n\"" + long_field + "\n\",k2\n";
  EXPECT_EQ(scan(text, 1, 2).keys, (strings{"k1", "k2"}));
}

// A composite key's columns, split back out of the encoded key the scanner hands over.
std::vector<strings> scan_composite(std::string_view text, std::vector<std::uint32_t> key_fields,
                                    std::uint32_t num_fields, char comment = '\0') {
  std::vector<strings> out;
  parsed_record scratch;
  scan_options options;
  options.key_field = key_fields[0];
  options.key_parts = static_cast<std::uint32_t>(key_fields.size());
  std::copy(key_fields.begin(), key_fields.end(), options.key_fields.begin());
  options.num_fields = num_fields;
  options.skip_comments = comment != '\0';
  options.comment = comment;
  std::vector<std::string_view> parts;
  std::string part_scratch;
  scan_records(
      text.data(), text.data() + text.size(), true, options, scratch,
      [&](std::string_view key, std::string_view, const char*) {
        EXPECT_TRUE(key_tuple::split(key, key_fields.size(), parts, part_scratch)) << key;
        out.emplace_back(parts.begin(), parts.end());
        return true;
      },
      [&](row_problem, const char*, const char*, std::uint32_t) { return true; });
  return out;
}

TEST(ScanRecords, CompositeKeysInAnyColumnOrderOnBothPaths) {
  // Fast path (no quote), quoted path, CR before LF, a last record without LF, a key column that ends the record.
  const std::string text = "t1,S1,PCR,x\r\nt2,\"S,2\",\"a\"\"b\",y\nt3,S3,,z\r\nt4,S4,ELISA,w";
  EXPECT_EQ(scan_composite(text, {1, 2}, 4),
            (std::vector<strings>{{"S1", "PCR"}, {"S,2", "a\"b"}, {"S3", ""}, {"S4", "ELISA"}}));
  EXPECT_EQ(scan_composite(text, {3, 1}, 4),
            (std::vector<strings>{{"x", "S1"}, {"y", "S,2"}, {"z", "S3"}, {"w", "S4"}}));
  EXPECT_EQ(scan_composite(text, {2, 0, 3}, 4), (std::vector<strings>{{"PCR", "t1", "x"},
                                                                     {"a\"b", "t2", "y"},
                                                                     {"", "t3", "z"},
                                                                     {"ELISA", "t4", "w"}}));
}

TEST(ScanRecords, CompositeKeysKeepNulAndJointBytes) {
  // Bytes that the encoding escapes come back unchanged.
  const std::string text = std::string("a\0b,\0\1,c\n", 9) + std::string("\xff,\0,\n", 5);
  EXPECT_EQ(scan_composite(text, {0, 1, 2}, 3),
            (std::vector<strings>{{std::string("a\0b", 3), std::string("\0\1", 2), "c"},
                                  {"\xff", std::string(1, '\0'), ""}}));
}

TEST(ScanRecords, CommentLinesAreLeftOutWhateverTheyHold) {
  const std::string text = "#x\na,1\n# \"quoted, balanced\",1,2,3\n#c,9\nb,2\r\n#\r\n#last";
  EXPECT_EQ(scan_composite(text, {0, 1}, 2, '#'), (std::vector<strings>{{"a", "1"}, {"b", "2"}}));
  // Without --comment they are rows: "#c,9" counts, the others are bad (fields, a stray quote).
  EXPECT_EQ(scan_composite(text, {0, 1}, 2), (std::vector<strings>{{"a", "1"}, {"#c", "9"}, {"b", "2"}}));
}

TEST(ScanRecords, UnterminatedQuoteAtEof) {
  const auto out = scan("a,1\nb,\"2\n", 1, 2);
  EXPECT_EQ(out.keys, (strings{"1"}));
  ASSERT_EQ(out.bad.size(), 1u);
  EXPECT_EQ(out.bad[0].first, row_problem::unterminated_quote);
}

}  // namespace
}  // namespace labcount
