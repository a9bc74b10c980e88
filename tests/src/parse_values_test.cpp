// The command-line value parsers (src/parse_values.hpp): every documented word is accepted, everything
// else is a usage error whose hint lists the choices.
#include "parse_values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "backend_registry.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

TEST(ParseOptions, AcceptsTheDocumentedNames) {
  EXPECT_EQ(parse_output_format("csv"), output_format::csv);
  EXPECT_EQ(parse_output_format("tsv"), output_format::tsv);
  EXPECT_EQ(parse_output_format("json"), output_format::json);
  EXPECT_EQ(parse_sort_order("key"), sort_order::key);
  EXPECT_EQ(parse_sort_order("count"), sort_order::count);
  EXPECT_EQ(parse_sort_order("count-asc"), sort_order::count_asc);
  EXPECT_EQ(parse_sort_order("natural"), sort_order::natural);
  for (output_format format : {output_format::csv, output_format::tsv, output_format::json})
    EXPECT_EQ(parse_output_format(to_string(format)), format);
  for (sort_order order : {sort_order::key, sort_order::count, sort_order::count_asc, sort_order::natural})
    EXPECT_EQ(parse_sort_order(to_string(order)), order);
}

TEST(ParseOptions, WordsAreMatchedWithoutCase) {
  EXPECT_EQ(parse_output_format("CSV"), output_format::csv);
  EXPECT_EQ(parse_output_format("Json"), output_format::json);
  EXPECT_EQ(parse_sort_order("Count"), sort_order::count);
  EXPECT_EQ(parse_time_bucket("Hour"), time_bucket::hour);
  EXPECT_EQ(parse_backend_choice("CPU"), backend_choice::cpu);
  EXPECT_EQ(parse_backend_choice("Auto"), backend_choice::automatic);
  EXPECT_EQ(parse_bad_row_policy("WARN"), bad_row_policy::warn);
  EXPECT_EQ(parse_bad_file_policy("Skip"), bad_file_policy::skip);
  EXPECT_EQ(parse_delimiter("Tab"), '\t');
}

TEST(ParseOptions, RejectsOthersWithAUsageErrorListingTheChoices) {
  for (std::string_view text : {"xml", "", " csv", "csv ", "cs"}) {
    try {
      parse_output_format(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage);
      EXPECT_NE(e.description().find("'" + std::string(text) + "'"), std::string::npos) << e.what();
      EXPECT_NE(e.hint().find("csv, tsv, json"), std::string::npos) << e.what();
      EXPECT_EQ(exit_code_for(e.kind()), exit_usage_error);
    }
  }
  for (std::string_view text : {"value", "", "keys", "count "}) {
    try {
      parse_sort_order(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage);
      EXPECT_NE(e.hint().find("key"), std::string::npos) << e.what();
      EXPECT_NE(e.hint().find("count"), std::string::npos) << e.what();
    }
  }
}

TEST(TimeBucket, ParseAndColumnNames) {
  for (const time_bucket b : {time_bucket::hour, time_bucket::day, time_bucket::week, time_bucket::month})
    EXPECT_EQ(parse_time_bucket(bucket_column_name(b)), b);
  EXPECT_STREQ(bucket_column_name(time_bucket::week), "week");
  for (const char* text : {"", "days", "year", "minute", " day"}) {
    try {
      parse_time_bucket(text);
      ADD_FAILURE() << "'" << text << "' accepted";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::usage);
      EXPECT_NE(e.hint().find("hour, day, week, month"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace labcount
