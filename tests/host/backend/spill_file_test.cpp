// The spill file of the value modes (backend/spill_file.hpp): runs come back by partition, every record of a
// code in its partition, and nothing is left on disk.
#include "backend/spill_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <vector>

#include "support/temp_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

bool less(const group_count& a, const group_count& b) {
  return a.code != b.code ? a.code < b.code : a.bucket != b.bucket ? a.bucket < b.bucket : a.count < b.count;
}

TEST(SpillFile, RunsComeBackByPartitionAndLeaveNothingBehind) {
  testing::temp_dir dir;
  std::vector<group_count> all;
  {
    spill_file spill(dir.path().string());
    std::mt19937 rng(3);
    for (int run = 0; run < 5; ++run) {
      std::vector<group_count> records(1000 + run * 333);
      for (auto& r : records) r = {static_cast<std::uint32_t>(rng() % 5000), static_cast<std::int64_t>(rng()) - 7, rng() % 9 + 1};
      all.insert(all.end(), records.begin(), records.end());
      spill.write_run(records);
      EXPECT_TRUE(records.empty());
    }
    EXPECT_EQ(spill.runs(), 5u);
    EXPECT_EQ(spill.bytes(), all.size() * sizeof(group_count));
    // The file is anonymous: the folder stays empty while it is in use.
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
    std::vector<group_count> back;
    for (unsigned p = 0; p < spill_file::partitions; ++p) {
      const std::size_t first = back.size();
      spill.read_partition(p, back);
      for (std::size_t i = first; i < back.size(); ++i) ASSERT_EQ(spill_file::partition_of(back[i].code), p);
    }
    std::sort(all.begin(), all.end(), less);
    std::sort(back.begin(), back.end(), less);
    EXPECT_EQ(back, all);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(SpillFile, PartitionsSpreadDenseCodes) {
  std::vector<std::size_t> sizes(spill_file::partitions, 0);
  for (std::uint32_t code = 0; code < 64'000; ++code) ++sizes[spill_file::partition_of(code)];
  EXPECT_GT(*std::min_element(sizes.begin(), sizes.end()), 800u);
  EXPECT_LT(*std::max_element(sizes.begin(), sizes.end()), 1200u);
}

TEST(SpillFile, AFolderItCannotWriteIsAnErrorThatSaysWhatToDo) {
  try {
    spill_file spill("/nonexistent/labcount");
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/labcount"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("TMPDIR"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace labcount
