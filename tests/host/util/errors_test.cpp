#include "util/errors.hpp"

#include <gtest/gtest.h>

namespace labcount {
namespace {

TEST(Error, MessageHasWhatWhereAndHint) {
  error e(error_kind::too_few_fields, "too few fields: expected 2, found 1", "tests.csv", 17, "fix the row");
  EXPECT_STREQ(e.what(), "tests.csv:17: too few fields: expected 2, found 1\n  hint: fix the row");
  EXPECT_EQ(e.line(), 17u);
  EXPECT_EQ(exit_code_for(e.kind()), exit_data_error);
}

TEST(Error, NoLineNoFile) {
  error e(error_kind::usage, "bad option");
  EXPECT_STREQ(e.what(), "bad option");
  EXPECT_EQ(exit_code_for(e.kind()), exit_usage_error);
  EXPECT_EQ(exit_code_for(error_kind::io), exit_io_error);
  EXPECT_EQ(exit_code_for(error_kind::backend_unavailable), exit_backend_error);
}

}  // namespace
}  // namespace labcount
