// The MPI work split without MPI: how inputs are dealt to ranks, and that a file cut at any byte, with the
// cut moved to a record boundary by the quote parity, counts (and numbers its lines) as the whole file.
#include "distributed/distributed_count.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.hpp"
#include "csv/csv_scanner.hpp"
#include "input/input_source.hpp"
#include "support/temp_file.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

TEST(DealInputs, WholeInputsGoLargestFirstToTheLeastLoadedRank) {
  const std::vector<input_size> sizes = {{10}, {50}, {20}, {40}, {5}};
  const auto dealt = deal_inputs(sizes, 2);
  // 50 -> r0, 40 -> r1, 20 -> r1 (40 < 50), 10 -> r0 (50 < 60), 5 -> r0 (60 = 60: the lower rank)
  EXPECT_EQ(dealt[0], (std::vector<work_item>{{0}, {1}, {4}}));
  EXPECT_EQ(dealt[1], (std::vector<work_item>{{2}, {3}}));
}

TEST(DealInputs, SplitInputsGiveEveryRankOnePartInInputOrder) {
  const std::vector<input_size> sizes = {{100, true}, {7}, {300, true}};
  const auto dealt = deal_inputs(sizes, 3);
  for (std::uint32_t r = 0; r < 3; ++r) {
    std::vector<work_item> expected = {{0, r, 3}, {2, r, 3}};
    if (r == 0) expected.insert(expected.begin() + 1, work_item{1});
    EXPECT_EQ(dealt[r], expected) << "rank " << r;
  }
  // One rank: nothing is cut.
  EXPECT_EQ(deal_inputs(sizes, 1)[0], (std::vector<work_item>{{0}, {1}, {2}}));
  // More ranks than inputs: some get none.
  const auto sparse = deal_inputs(std::vector<input_size>{{1}}, 4);
  EXPECT_EQ(sparse[0].size() + sparse[1].size() + sparse[2].size() + sparse[3].size(), 1u);
}

TEST(RecordStart, FollowsTheQuoteParity) {
  const std::string f = "h\na,\"x\ny\"\nb\n";  // data from 2; records start at 2, 10, 12
  const std::uint64_t begin = 2;
  for (std::uint64_t pos = 0; pos <= f.size(); ++pos) {
    const std::uint64_t quotes = pos <= begin ? 0 : count_quotes(f.data() + begin, f.data() + pos);
    const std::uint64_t expected = pos <= 2 ? 2 : pos <= 10 ? 10 : pos <= 12 ? 12 : f.size();
    EXPECT_EQ(record_start_at_or_after(f, begin, pos, quotes), expected) << "pos " << pos;
  }
}

// Quoted multi-line keys, CRLF, records longer than the tests' chunks (64 bytes), a bad row near the end.
std::string tricky_file() {
  std::string s = "\xEF\xBB\xBFSampleID,Note\r\n";
  for (int i = 0; i < 60; ++i) {
    s += "\"S" + std::to_string(i % 7) + (i % 4 == 0 ? "\r\nline \"\"two\"\"" : "") + "\",";
    s += i % 3 == 0     ? "\"a,\nb\"\r\n"
         : i % 20 == 10 ? "\"" + std::string(150, 'y') + "\n" + std::string(60, 'z') + "\"\r\n"
                        : "plain\r\n";
  }
  s += "S1,x,extra\r\nS2,y\r\n";
  return s;
}

struct counted {
  std::map<std::string, std::uint64_t> counts;
  std::vector<std::uint64_t> bad_lines;
  std::vector<count_request::range_done> ranges_done;
};

counted count_ranges(const std::string& path, const std::vector<count_request::input_range>& ranges) {
  count_request request;
  request.inputs.assign(ranges.size(), path);
  request.ranges = ranges;
  request.on_bad_row = bad_row_policy::warn;
  request.chunk_bytes = 64;  // many chunks per range
  std::vector<count_request::range_done> done;
  request.ranges_done = &done;
  thread_pool pool(2);
  backend_options options;
  options.num_workers = 2;
  const count_result r = run_count(request, *make_cpu_backend(options), pool);
  counted out;
  for (std::uint32_t code = 0; code < r.dictionary.size(); ++code)
    out.counts[std::string(r.dictionary.key(code))] += r.counts[code];
  for (const auto& b : r.bad_row_samples) out.bad_lines.push_back(b.line);
  out.ranges_done = done;
  return out;
}

// Where the records of the file at `path` start (after its header), and their first line.
std::pair<std::uint64_t, std::uint64_t> data_start(const std::string& path) {
  input_source source(path);
  char delimiter = 0;
  std::vector<std::string> header;
  std::uint64_t line = 0;
  EXPECT_TRUE(source.read_first_record(delimiter, true, header, line));
  return {source.data_offset(), source.first_data_line()};
}

TEST(RecordStart, AFileCutAtAnyByteCountsAsTheWhole) {
  testing::temp_dir dir;
  const std::string text = tricky_file();
  const std::string path = dir.write("t.csv", text);
  const auto [begin, first_line] = data_start(path);
  const counted whole = count_ranges(path, {{}});
  ASSERT_EQ(whole.bad_lines.size(), 1u);
  for (std::uint64_t pos = begin; pos <= text.size(); ++pos) {
    SCOPED_TRACE("cut at byte " + std::to_string(pos));
    const quote_line_counts before = count_quotes_and_lines(text.data() + begin, text.data() + pos);
    const std::uint64_t cut = record_start_at_or_after(text, begin, pos, before.quotes);
    const std::uint64_t cut_line = first_line + count_quotes_and_lines(text.data() + begin, text.data() + cut).lines;
    const counted parts =
        count_ranges(path, {{false, begin, cut, first_line, {}}, {false, cut, text.size(), cut_line, {}}});
    EXPECT_EQ(parts.counts, whole.counts);
    EXPECT_EQ(parts.bad_lines, whole.bad_lines);
  }
}

// A rank that has not counted the quotes before its range's end gives the raw cut instead: the chunk cutter
// ends the range at the first record that starts at or after it, and says where, with the range's LFs.
TEST(RecordStart, ARangeGivenItsRawCutEndsAtTheFirstRecordAfterIt) {
  testing::temp_dir dir;
  const std::string text = tricky_file();
  const std::string path = dir.write("t.csv", text);
  const auto [begin, first_line] = data_start(path);
  const counted whole = count_ranges(path, {{}});
  for (std::uint64_t pos = begin; pos <= text.size(); ++pos) {
    SCOPED_TRACE("raw cut at byte " + std::to_string(pos));
    const std::uint64_t quotes = count_quotes(text.data() + begin, text.data() + pos);
    const std::uint64_t cut = record_start_at_or_after(text, begin, pos, quotes);
    const std::uint64_t lfs = count_quotes_and_lines(text.data() + begin, text.data() + cut).lines;
    // The second range starts past the cut here and there: it must not be counted twice.
    const counted parts = count_ranges(
        path, {{false, begin, text.size(), first_line, pos}, {false, cut, text.size(), first_line + lfs, {}}});
    EXPECT_EQ(parts.counts, whole.counts);
    EXPECT_EQ(parts.bad_lines, whole.bad_lines);
    ASSERT_EQ(parts.ranges_done.size(), 2u);
    EXPECT_EQ(parts.ranges_done[0].input, 0u);
    EXPECT_EQ(parts.ranges_done[0].end, cut);
    EXPECT_EQ(parts.ranges_done[0].lines, lfs);
    EXPECT_EQ(parts.ranges_done[1].end, text.size());
  }
}

// Quoted fields in every row, no line breaks inside them: most raw cuts fall inside quotes.
std::string fully_quoted_file() {
  std::string s = "\"TestTime\",\"SampleID\"\n";
  for (int i = 0; i < 300; ++i)
    s += "\"8/" + std::to_string(10 + i % 20) + "/2004 1:15\",\"S" + std::to_string(i % 13) + (i % 5 ? "" : ",x") +
         "\"\n";
  return s;
}

TEST(GuessRecordStart, RightAtEveryByteOfWellFormedFiles) {
  std::string plain = "TestTime,SampleID\r\n";
  for (int i = 0; i < 300; ++i) plain += "8/10/2004 1:15,S" + std::to_string(i % 13) + "\r\n";
  const std::string quoted = fully_quoted_file(), tricky = tricky_file();
  const std::vector<const std::string*> texts = {&plain, &quoted, &tricky};
  for (const std::string* text : texts) {
    const std::uint64_t begin = text->find('\n') + 1;
    std::uint64_t wrong = 0;
    for (std::uint64_t pos = begin; pos <= text->size(); ++pos) {
      const std::uint64_t exact =
          record_start_at_or_after(*text, begin, pos, count_quotes(text->data() + begin, text->data() + pos));
      wrong += guess_record_start(*text, begin, pos) != exact;
    }
    EXPECT_EQ(wrong, 0u) << text->substr(0, 40);
  }
  // A quoted field whose lines are well-formed records themselves, for longer than the guess looks at the quotes
  // (16 KiB): reading a cut inside it as outside quotes finds nothing misplaced, and wins the tie. The guess is
  // wrong, and the job counts again with exact cuts (Mpi.AGuessedCutThatDoesNotHoldIsCountedAgain).
  std::string fooled = "k,note\n1,\"a\n";
  for (int i = 0; i < 5000; ++i) fooled += "2,b\n";
  fooled += "4,d\"\n5,e\n";
  const std::uint64_t inside = fooled.find("2,b");
  EXPECT_EQ(guess_record_start(fooled, 7, inside), inside);
  EXPECT_EQ(record_start_at_or_after(fooled, 7, inside, 1), fooled.find("5,e"));
}

}  // namespace
}  // namespace labcount
