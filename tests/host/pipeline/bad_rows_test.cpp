// bad_row_log: rows reported by workers in any order come out in input order with their physical
// lines, wherever the chunk seams fall; the first problem in input order is the one thrown.
#include "pipeline/bad_rows.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "input/input_source.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

// Cuts `text` (after a one-line header) into chunks at the given LF counts, reports each chunk's bad
// rows ("bad" lines) to the log in a shuffled order, and returns the summary.
struct chunked {
  std::string text;
  std::vector<std::pair<std::size_t, std::size_t>> chunks;  // [begin, end) offsets
};

chunked cut(const std::string& body, const std::vector<std::size_t>& lines_per_chunk) {
  chunked c{body, {}};
  std::size_t at = 0;
  for (std::size_t lines : lines_per_chunk) {
    std::size_t end = at;
    for (std::size_t i = 0; i < lines && end < body.size(); ++i) end = body.find('\n', end) + 1;
    c.chunks.push_back({at, end});
    at = end;
  }
  if (at < body.size()) c.chunks.push_back({at, body.size()});
  return c;
}

bad_row_log::summary report(const std::string& path, const chunked& c, bad_row_policy policy, unsigned seed) {
  input_source source(path);
  std::vector<std::string> header;
  std::uint64_t header_line = 0;
  char delimiter = ',';
  EXPECT_TRUE(source.read_first_record(delimiter, true, header, header_line));
  bad_row_log log(policy, 0, no_bad_row_limit);
  std::vector<std::size_t> order(c.chunks.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  for (std::size_t index : order) {
    const auto [begin, end] = c.chunks[index];
    bad_row_log::chunk_findings found;
    std::uint64_t lines = 0;
    for (std::size_t at = begin; at < end;) {
      const std::size_t lf = c.text.find('\n', at);
      if (c.text.compare(at, 3, "bad") == 0) {
        ++found.count;
        found.rows.push_back({c.text.data() + at, bad_row{.file = "f.csv", .problem = row_problem::too_few_fields}});
      }
      ++lines;
      at = lf + 1;
    }
    log.add_chunk(index, c.text.data() + begin, lines, found);
  }
  return log.finish(source);
}

TEST(BadRowLog, LinesAreResolvedAcrossChunkSeamsInAnyOrder) {
  testing::temp_dir dir;
  std::string body;
  std::vector<std::uint64_t> bad_lines;
  for (int i = 0; i < 200; ++i) {
    const bool bad = i % 17 == 3 || i == 0 || i == 199;
    body += bad ? "bad\n" : "1,x\n";
    if (bad) bad_lines.push_back(static_cast<std::uint64_t>(i) + 2);  // line 1 is the header
  }
  const std::string path = dir.write("f.csv", "a,k\n" + body);
  // Lines per chunk: one line each, uneven, 17 each, everything in one, two halves.
  const std::vector<std::vector<std::size_t>> layouts = {
      std::vector<std::size_t>(200, 1), {3, 1, 4, 1, 5, 9, 2, 6}, std::vector<std::size_t>(12, 17), {200}, {50, 150}};
  for (const auto& sizes : layouts)
    for (unsigned seed = 0; seed < 3; ++seed) {
      const auto summary = report(path, cut(body, sizes), bad_row_policy::skip, seed);
      EXPECT_EQ(summary.bad_rows, bad_lines.size());
      std::vector<std::uint64_t> got;
      for (const auto& row : summary.samples) got.push_back(row.line);
      const std::vector<std::uint64_t> want(bad_lines.begin(),
                                            bad_lines.begin() + std::min(bad_lines.size(), bad_row_sample_limit));
      EXPECT_EQ(got, want) << "chunk sizes starting " << sizes[0] << ", seed " << seed;
    }
}

TEST(BadRowLog, UnderErrorTheFirstBadRowInInputOrderIsThrown) {
  testing::temp_dir dir;
  std::string body;
  for (int i = 0; i < 100; ++i) body += (i == 40 || i == 70) ? "bad\n" : "1,x\n";
  const std::string path = dir.write("f.csv", "a,k\n" + body);
  for (unsigned seed = 0; seed < 5; ++seed) {
    try {
      report(path, cut(body, std::vector<std::size_t>(20, 7)), bad_row_policy::error, seed);
      FAIL() << "expected an error";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::too_few_fields);
      EXPECT_EQ(e.line(), 42u) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace labcount
