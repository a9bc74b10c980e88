// fuzz_merge: the bytes are one input of `labcount merge`. merge_counts must throw labcount::error or succeed;
// when it succeeds, merging the same file twice gives every entry exactly twice its count (or an error for a
// total past 2^64 - 1).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "fuzz_support.hpp"
#include "tools/merge.hpp"
#include "util/errors.hpp"

namespace {

using namespace labcount;

using entries = std::map<std::pair<std::string, std::string>, std::uint64_t>;  // (file, key) -> count

entries entries_of(const merge_result& result) {
  entries out;
  for (const count_row& row : result.rows()) {
    const bool inserted = out.emplace(std::pair{std::string(row.file), std::string(row.key)}, row.count).second;
    LABCOUNT_FUZZ_CHECK(inserted, "merge_result::rows() lists an entry twice");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::scratch_file file(".csv");
  const std::string& path = file.write(std::string_view(reinterpret_cast<const char*>(data), size));
  entries once;
  bool per_file = false;
  std::vector<std::string> key_names;
  try {
    const merge_result result = merge_counts({path});
    once = entries_of(result);
    per_file = result.per_file();
    key_names = result.key_names();
  } catch (const error&) {
    return 0;
  }
  bool overflows = false;
  for (const auto& [entry, count] : once) overflows |= count > std::numeric_limits<std::uint64_t>::max() / 2;
  try {
    const merge_result twice = merge_counts({path, path});
    LABCOUNT_FUZZ_CHECK(!overflows, "a total past 2^64 - 1 was not an error");
    LABCOUNT_FUZZ_CHECK(twice.per_file() == per_file && twice.key_names() == key_names, "another layout the second time");
    entries doubled = once;
    for (auto& [entry, count] : doubled) count *= 2;
    LABCOUNT_FUZZ_CHECK(entries_of(twice) == doubled, "merging a file twice is not twice its counts");
  } catch (const error& e) {
    LABCOUNT_FUZZ_CHECK(overflows, "the file merged once but not twice: %s", e.what());
  }
  return 0;
}
