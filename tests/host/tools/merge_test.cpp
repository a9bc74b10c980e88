// `labcount merge`: merge_counts on files written here, and the built binary end to end.
//
//   count(part1) + count(part2) --merge-->  the bytes of count(part1 + part2)
#include "tools/merge.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"

extern char** environ;

namespace labcount {
namespace {

using namespace std::string_literals;  // "a\0b"s keeps embedded NULs
using testing::read_file;
using testing::temp_dir;

constexpr std::uint64_t max_count = std::numeric_limits<std::uint64_t>::max();

using merged_row = std::tuple<std::string, std::string, std::uint64_t>;  // file, key, count

// The merged rows of the inputs, in (file, key) order.
std::vector<merged_row> merged(const std::vector<std::string>& inputs) {
  const merge_result result = merge_counts(inputs);
  std::vector<merged_row> rows;
  for (const count_row& row : result.rows()) rows.emplace_back(std::string(row.file), std::string(row.key), row.count);
  std::sort(rows.begin(), rows.end());
  return rows;
}

// The error merge_counts throws for the inputs (a failed expectation if it throws none).
error merge_error(const std::vector<std::string>& inputs) {
  try {
    merge_counts(inputs);
  } catch (const error& e) {
    return e;
  }
  ADD_FAILURE() << "merge succeeded";
  return error(error_kind::internal, "no error");
}

// Each test gets its own directory; write() returns the path.
class MergeCounts : public ::testing::Test {
 protected:
  std::string write(const std::string& name, std::string_view bytes) { return dir_.write(name, bytes); }
  temp_dir dir_;
};

TEST_F(MergeCounts, SumsCountsPerKey) {
  const auto a = write("a.csv", "SampleID,count\nS1,2\nS2,1\n");
  const auto b = write("b.csv", "SampleID,count\nS1,1\nS3,4\n");
  const merge_result result = merge_counts({a, b});
  EXPECT_EQ(result.key_names()[0], "SampleID");
  EXPECT_FALSE(result.per_file());
  EXPECT_EQ(result.rows_read(), 4u);
  EXPECT_EQ(merged({a, b}), (std::vector<merged_row>{{"", "S1", 3}, {"", "S2", 1}, {"", "S3", 4}}));
}

TEST_F(MergeCounts, OneInputAndRepeatedKeysWithinAnInput) {
  const auto a = write("a.csv", "key,count\nS1,2\nS1,5\n");
  EXPECT_EQ(merged({a}), (std::vector<merged_row>{{"", "S1", 7}}));
  EXPECT_EQ(merge_counts({a}).key_names()[0], "key");
  EXPECT_EQ(merged({a, a}), (std::vector<merged_row>{{"", "S1", 14}}));
}

TEST_F(MergeCounts, PerFileOutputsSumPerFileAndKey) {
  const auto a = write("a.csv", "file,SampleID,count\nx.csv,S1,2\ny.csv,S1,1\n");
  const auto b = write("b.csv", "file,SampleID,count\nx.csv,S1,3\nx.csv,S2,1\nz.csv,S1,4\n");
  const merge_result result = merge_counts({a, b});
  EXPECT_TRUE(result.per_file());
  EXPECT_EQ(result.key_names()[0], "SampleID");
  EXPECT_EQ(merged({a, b}),
            (std::vector<merged_row>{{"x.csv", "S1", 5}, {"x.csv", "S2", 1}, {"y.csv", "S1", 1}, {"z.csv", "S1", 4}}));
}

TEST_F(MergeCounts, KeyColumnsNamedLikeTheOtherColumnsAreJustKeys) {
  EXPECT_EQ(merge_counts({write("a.csv", "file,count\nS1,2\n")}).key_names()[0], "file");
  EXPECT_FALSE(merge_counts({write("b.csv", "file,count\nS1,2\n")}).per_file());
  EXPECT_EQ(merge_counts({write("c.csv", "count,count\nS1,2\n")}).key_names()[0], "count");
  const merge_result per_file = merge_counts({write("d.csv", "file,file,count\na,S1,2\n")});
  EXPECT_TRUE(per_file.per_file());
  EXPECT_EQ(per_file.key_names()[0], "file");
  // A count --key first_test output is not a --stats output.
  EXPECT_EQ(merge_counts({write("e.csv", "first_test,count\nS1,2\n")}).key_names()[0], "first_test");
}

TEST_F(MergeCounts, QuotedKeysComeBackByteExact) {
  // Write the keys the way count does (write_rows), read them back, write again: the same bytes.
  const std::vector<std::string> keys{"a,b",   "say \"hi\"", "\"", "line\nbreak", "cr\rhere", "crlf\r\n",
                                      " lead", "trail ",     "",   "nul\0byte"s,  "\xFF\x80", "\xC3\xA9",
                                      "plain"};
  const std::vector<std::string> files{"x.csv", "dir/a,b \"c\".csv", ""};
  for (const bool per_file : {false, true}) {
    SCOPED_TRACE(per_file ? "per file" : "plain");
    std::vector<count_row> rows;
    for (std::size_t i = 0; i < keys.size(); ++i)
      rows.push_back({keys[i], i + 1, per_file ? std::string_view(files[i % files.size()]) : std::string_view()});
    output_options options;
    options.key_names = {"Sample, \"ID\""};
    options.with_file_column = per_file;
    order_rows(rows, options);
    const std::string path = (dir_.path() / (per_file ? "per_file.csv" : "plain.csv")).string();
    {
      output_file out(path);
      write_rows(out, rows, options);
      out.commit();
    }
    const merge_result result = merge_counts({path});
    EXPECT_EQ(result.key_names(), options.key_names);
    EXPECT_EQ(result.per_file(), per_file);
    std::vector<count_row> back = result.rows();
    order_rows(back, options);
    const std::string again = (dir_.path() / "again.csv").string();
    {
      output_file out(again);
      write_rows(out, back, options);
      out.commit();
    }
    EXPECT_EQ(read_file(again), read_file(path));
  }
}

TEST_F(MergeCounts, HeaderOnlyInputsGiveNoRows) {
  const auto a = write("a.csv", "SampleID,count\n");
  const auto b = write("b.csv", "SampleID,count");
  EXPECT_TRUE(merged({a, b}).empty());
  EXPECT_EQ(merge_counts({a}).key_names()[0], "SampleID");
}

TEST_F(MergeCounts, CrlfBomBlankLinesAndNoFinalNewlineAreAccepted) {
  const auto a = write("a.csv", "\xEF\xBB\xBFSampleID,count\r\nS1,2\r\n\r\n\"S,2\",3\r\n");
  const auto b = write("b.csv", "\nSampleID,count\nS1,1\n\nS3,4");
  EXPECT_EQ(merged({a, b}), (std::vector<merged_row>{{"", "S,2", 3}, {"", "S1", 3}, {"", "S3", 4}}));
}

TEST_F(MergeCounts, ZeroCountsAreLeftOutLikeCountDoes) {
  const auto a = write("a.csv", "SampleID,count\nS1,0\nS2,1\n");
  EXPECT_EQ(merged({a}), (std::vector<merged_row>{{"", "S2", 1}}));
  EXPECT_EQ(merge_counts({a}).size(), 2u);
}

TEST_F(MergeCounts, TheLargestCountsSumExactly) {
  const auto a = write("a.csv", "SampleID,count\nS1," + std::to_string(max_count - 5) + "\nS2,007\n");
  const auto b = write("b.csv", "SampleID,count\nS1,5\n");
  EXPECT_EQ(merged({a, b}), (std::vector<merged_row>{{"", "S1", max_count}, {"", "S2", 7}}));
}

TEST_F(MergeCounts, RecordsLongerThanTheReadBufferAndManyRows) {
  const std::string long_key(3 << 20, 'K');  // 3 MiB: past the 1 MiB read buffer
  std::string text = "SampleID,count\n";
  std::map<std::string, std::uint64_t> reference;
  for (int i = 0; i < 100000; ++i) {
    std::string key = "S";  // not "S" + ...: GCC 12 warns falsely on that (-Wrestrict, bug 105329)
    key += std::to_string(i % 5000);
    text += key + "," + std::to_string(i) + "\n";
    reference[key] += static_cast<std::uint64_t>(i);
    if (i == 50000) {
      text += "\"" + long_key + "\n\"\"\",2\n";
      reference[long_key + "\n\""] += 2;
    }
  }
  const auto a = write("a.csv", text);
  std::vector<merged_row> expected;
  for (const auto& [key, count] : reference) expected.emplace_back("", key, count);
  EXPECT_EQ(merged({a}), expected);
}

// ---- errors ----------------------------------------------------------------------------------------

TEST_F(MergeCounts, EmptyInputHasNoHeader) {
  for (const char* bytes : {"", "\n\n", "\r\n"}) {
    const auto path = write("empty.csv", bytes);
    const error e = merge_error({path});
    EXPECT_EQ(e.kind(), error_kind::bad_value);
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(e.description().find("not an output of labcount count: no header"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
    EXPECT_EQ(exit_code_for(e.kind()), exit_data_error);
  }
}

TEST_F(MergeCounts, MissingFileIsAnIoError) {
  const auto a = write("a.csv", "SampleID,count\nS1,1\n");
  const std::string missing = (dir_.path() / "missing.csv").string();
  const error e = merge_error({a, missing});
  EXPECT_EQ(e.kind(), error_kind::io);
  EXPECT_EQ(e.file(), missing);
  EXPECT_NE(e.description().find("No such file"), std::string::npos) << e.what();
  EXPECT_EQ(exit_code_for(e.kind()), exit_io_error);
  EXPECT_EQ(merge_error({dir_.path().string()}).kind(), error_kind::io);  // a directory
}

TEST_F(MergeCounts, StandardInputTwiceAndNoInputsAreUsageErrors) {
  EXPECT_EQ(merge_error({"-", "-"}).kind(), error_kind::usage);
  EXPECT_EQ(merge_error({}).kind(), error_kind::usage);
}

TEST_F(MergeCounts, MismatchedKeyColumnsNameBothHeadersAndTheFile) {
  const auto a = write("a.csv", "SampleID,count\nS1,1\n");
  const auto b = write("b.csv", "PatientID,count\nP1,1\n");
  const error e = merge_error({a, b});
  EXPECT_EQ(e.kind(), error_kind::bad_value);
  EXPECT_EQ(e.file(), b);
  EXPECT_EQ(e.line(), 1u);
  EXPECT_NE(e.description().find("'PatientID,count'"), std::string::npos) << e.what();
  EXPECT_NE(e.description().find("'SampleID,count'"), std::string::npos) << e.what();
  EXPECT_NE(e.description().find(a), std::string::npos) << "names the first input: " << e.what();
  EXPECT_NE(e.hint().find("--key"), std::string::npos) << e.what();
}

TEST_F(MergeCounts, PerFileAndPlainOutputsDoNotMix) {
  const auto plain = write("plain.csv", "SampleID,count\nS1,1\n");
  const auto per_file = write("per_file.csv", "file,SampleID,count\nx.csv,S1,1\n");
  for (const auto& inputs : {std::vector<std::string>{plain, per_file}, std::vector<std::string>{per_file, plain}}) {
    const error e = merge_error(inputs);
    EXPECT_EQ(e.file(), inputs[1]);
    EXPECT_NE(e.description().find("'file,SampleID,count'"), std::string::npos) << e.what();
    EXPECT_NE(e.description().find("'SampleID,count'"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("--per-file"), std::string::npos) << e.what();
  }
}

TEST_F(MergeCounts, StatsOutputsAreRefusedWithTheReason) {
  for (const char* header : {"SampleID,count,first_test,last_test,active_days,repeats",
                             "file,SampleID,count,first_test,last_test,active_days,repeats",
                             "SampleID,first_test,last_test,active_days,repeats,count"}) {
    SCOPED_TRACE(header);
    const auto path = write("stats.csv", std::string(header) + "\nS1,3,x,y,2,1\n");
    const error e = merge_error({path});
    EXPECT_EQ(e.kind(), error_kind::bad_value);
    EXPECT_EQ(e.file(), path);
    const std::string message = e.what();
    EXPECT_NE(message.find("merging --stats outputs is not supported"), std::string::npos) << message;
    EXPECT_NE(e.hint().find("active_days and repeats cannot be summed"), std::string::npos) << message;
    EXPECT_NE(e.hint().find("first_test and last_test could be"), std::string::npos) << message;
  }
}

TEST_F(MergeCounts, HeadersOfOtherFilesAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"TestTime,SampleID\n1,S1\n", "last column must be count"},
      {"SampleID,count,extra\nS1,1,x\n", "last column must be count"},
      {"count\n1\n", "neither"},
      {"TestTime\tSampleID\n1\tS1\n", "last column must be count"},                  // TSV
      {"[\n{\"TestTime\":\"1\",\"SampleID\":\"S1\"}\n]\n", "last column must be count"},  // JSON
  };
  for (const auto& [bytes, says] : cases) {
    SCOPED_TRACE(bytes);
    const auto path = write("other.csv", bytes);
    const error e = merge_error({path});
    EXPECT_EQ(e.kind(), error_kind::bad_value);
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 1u);
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("labcount count"), std::string::npos) << e.what();
  }
}

TEST_F(MergeCounts, BadCountValuesNameTheFileAndLine) {
  for (const char* value : {"-3", "abc", "", "1.5", " 7", "7 ", "+7", "0x10", "1e3", "\"\""}) {
    SCOPED_TRACE(value);
    // Line 4: the quoted key on line 2 spans two lines.
    const auto path = write("bad.csv", "SampleID,count\n\"two\nlines\",1\nS1," + std::string(value) + "\n");
    const error e = merge_error({path});
    EXPECT_EQ(e.kind(), error_kind::bad_value);
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 4u) << e.what();
    EXPECT_NE(e.description().find("not a whole number"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST_F(MergeCounts, CountsPastTheLargestAreRefused) {
  const auto big = write("big.csv", "SampleID,count\nS1,18446744073709551616\n");
  const error too_big = merge_error({big});
  EXPECT_EQ(too_big.line(), 2u);
  EXPECT_NE(too_big.description().find("larger than the largest count"), std::string::npos) << too_big.what();

  const auto a = write("a.csv", "SampleID,count\nS0,1\nS1," + std::to_string(max_count) + "\n");
  const auto b = write("b.csv", "SampleID,count\nS0,1\nS1,1\n");
  const error overflow = merge_error({a, b});
  EXPECT_EQ(overflow.kind(), error_kind::bad_value);
  EXPECT_EQ(overflow.file(), b);
  EXPECT_EQ(overflow.line(), 3u);
  EXPECT_NE(overflow.description().find("key 'S1'"), std::string::npos) << overflow.what();
  EXPECT_NE(overflow.description().find("passes the largest count"), std::string::npos) << overflow.what();

  const auto c = write("c.csv", "file,SampleID,count\nx.csv,S1," + std::to_string(max_count) + "\n");
  const error per_file = merge_error({c, c});
  EXPECT_NE(per_file.description().find("file 'x.csv', key 'S1'"), std::string::npos) << per_file.what();
}

TEST_F(MergeCounts, BadRowsNameTheFileLineAndProblem) {
  const std::vector<std::tuple<std::string, error_kind, std::uint64_t>> cases = {
      {"SampleID,count\nS1,1\nS2\n", error_kind::too_few_fields, 3},
      {"SampleID,count\nS1,1\na,b,3\n", error_kind::too_many_fields, 3},
      {"file,SampleID,count\nx,S1,1\nS2,1\n", error_kind::too_few_fields, 3},
      {"SampleID,count\n\"S1\n\n\",1\n\"open,1\nS2,1\n", error_kind::unterminated_quote, 5},
      {"SampleID,count\nS\"1,1\n", error_kind::stray_quote, 2},
      {"SampleID,count\n\"S1\"x,1\n", error_kind::stray_quote, 2},
  };
  for (const auto& [bytes, kind, line] : cases) {
    SCOPED_TRACE(bytes);
    const auto path = write("bad_row.csv", bytes);
    const error e = merge_error({path});
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_NE(e.hint().find("labcount count"), std::string::npos) << e.what();
    EXPECT_EQ(exit_code_for(e.kind()), exit_data_error);
  }
}

// ---- the built binary ------------------------------------------------------------------------------

struct run_result {
  int exit_code = -1;  // -1 when the child did not exit normally
  std::string out;
  std::string err;
};

// Runs `labcount args...` with standard input from stdin_path (/dev/null when empty); stdout and
// stderr go to files, so a chatty child never blocks on a pipe.
run_result run_labcount(const std::vector<std::string>& args, const std::string& stdin_path = {}) {
  temp_dir capture;
  const std::string out_path = (capture.path() / "stdout").string();
  const std::string err_path = (capture.path() / "stderr").string();
  std::vector<std::string> storage{LABCOUNT_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  run_result result;
  if (spawned != 0) {
    result.err = "posix_spawn failed";
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

std::string describe(const run_result& r) { return "exit " + std::to_string(r.exit_code) + "\n" + r.err; }

// Rows with keys that stress CSV quoting and byte order, written as count's input would be.
struct generated_input {
  std::string header = "TestTime,SampleID,note\r\n";
  std::vector<std::string> rows;  // each a complete record with its line ending
};

generated_input generate_rows(std::size_t num_rows, std::uint64_t seed) {
  const std::vector<std::string> pieces = {"A",  "B", "\0"s, "\xff", "\"",       ",",       "\n",
                                           "\r", " ", "S1",  "S10",  "\xc3\xa9", "AAAAAAAA"};
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    std::string key;
    for (std::uint64_t n = rng() % 10; n > 0; --n) key += pieces[rng() % pieces.size()];
    keys.push_back(key);
  }
  generated_input input;
  for (std::size_t row = 0; row < num_rows; ++row) {
    const std::size_t pool = std::size_t{1} << (rng() % 9);  // skewed: a few keys take most rows
    std::string key = keys[rng() % std::min(pool, keys.size())];
    std::string quoted;
    for (char c : key) quoted += c == '"' ? "\"\"" : std::string(1, c);
    input.rows.push_back(std::to_string(row) + ",\"" + quoted + "\",\"x\ny\"\r\n");
  }
  return input;
}

bool count_has_per_file() {
  const run_result help = run_labcount({"count", "--help"});
  return help.out.find("--per-file") != std::string::npos;
}

// count the whole input; count each part; merge the parts: the same bytes, in every output option.
void expect_merge_of_parts_equals_count_of_whole(bool per_file) {
  const generated_input input = generate_rows(4000, per_file ? 11 : 7);
  temp_dir dir;
  // Parts cut at row boundaries, of uneven sizes (one of them header only).
  const std::vector<std::size_t> cuts{0, 1, 1, 1700, 2900, input.rows.size()};
  std::vector<std::string> parts;
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    std::string bytes = input.header;
    for (std::size_t r = cuts[p]; r < cuts[p + 1]; ++r) bytes += input.rows[r];
    parts.push_back(dir.write("part" + std::to_string(p) + ".csv", bytes));
  }
  std::vector<std::string> extra;
  if (per_file) extra.push_back("--per-file");

  std::vector<std::string> counted;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const std::string out = (dir.path() / ("c" + std::to_string(p) + ".csv")).string();
    std::vector<std::string> args{"count", parts[p], "-o", out, "-j", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    const run_result r = run_labcount(args);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    counted.push_back(out);
  }
  const std::vector<std::vector<std::string>> output_options = {{},
                                                                {"--sort", "count"},
                                                                {"--top", "7"},
                                                                {"--sort", "count", "--top", "7"},
                                                                {"--format", "tsv"},
                                                                {"--format", "json", "--sort", "count"}};
  for (const auto& options : output_options) {
    std::string trace;
    for (const auto& o : options) trace += o + " ";
    SCOPED_TRACE(trace);
    std::vector<std::string> whole_args{"count"};
    whole_args.insert(whole_args.end(), parts.begin(), parts.end());
    whole_args.insert(whole_args.end(), extra.begin(), extra.end());
    whole_args.insert(whole_args.end(), options.begin(), options.end());
    const run_result whole = run_labcount(whole_args);
    ASSERT_EQ(whole.exit_code, 0) << describe(whole);

    std::vector<std::string> merge_args{"merge"};
    merge_args.insert(merge_args.end(), counted.begin(), counted.end());
    merge_args.insert(merge_args.end(), options.begin(), options.end());
    const run_result merged_parts = run_labcount(merge_args);
    ASSERT_EQ(merged_parts.exit_code, 0) << describe(merged_parts);
    EXPECT_EQ(merged_parts.err, "");
    EXPECT_GT(whole.out.size(), options.size() >= 2 && options[options.size() - 2] == "--top" ? 50u : 1000u);
    EXPECT_TRUE(merged_parts.out == whole.out) << "merge of the parts differs from the count of the whole";
  }
}

// A long quoted key read from a pipe in small pieces: the record scan resumes where it stopped (it
// once rescanned from the record's start after every read: quadratic), and the parity of the quotes
// seen so far carries over, even when a piece ends inside the quotes or between two quotes of a "".
TEST(MergeRecords, ALongQuotedRecordFromAPipeComesBackWhole) {
  temp_dir dir;
  const std::string fifo = (dir.path() / "pipe").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string key;
  for (int i = 0; i < 200000; ++i) key += (i % 7 == 0) ? "\"\"" : (i % 11 == 0 ? "\n" : "ab,");
  std::string unescaped;
  for (std::size_t i = 0; i < key.size(); ++i) {
    unescaped += key[i];
    if (key[i] == '"') ++i;
  }
  const std::string bytes = "SampleID,count\n\"" + key + "\",5\nS2,1\n";
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    for (std::size_t at = 0; at < bytes.size(); at += 4093) {  // odd pieces: they split "" pairs too
      const std::size_t n = std::min<std::size_t>(4093, bytes.size() - at);
      if (::write(fd, bytes.data() + at, n) != static_cast<ssize_t>(n)) break;
    }
    ::close(fd);
  });
  const auto rows = merged({fifo});
  writer.join();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(std::get<1>(rows[1]), "S2");
  EXPECT_TRUE(std::get<1>(rows[0]) == unescaped)
      << "the key came back with " << std::get<1>(rows[0]).size() << " bytes";
  EXPECT_EQ(std::get<2>(rows[0]), 5u);
}

TEST(MergeRecords, ARecordPastTheCapIsAnErrorNamingItsLine) {
  temp_dir dir;
  const std::string path = dir.write("long.csv", "SampleID,count\nS1,1\n" + std::string(3 << 20, 'x') + ",1\n");
  try {
    merge_counts({path}, std::size_t{1} << 20);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::record_too_long);
    EXPECT_EQ(e.line(), 3u);
    EXPECT_NE(std::string(e.what()).find("longer than 1 MiB"), std::string::npos) << e.what();
  }
}

TEST(MergeCli, MergeOfCountedPartsIsTheCountOfTheWhole) { expect_merge_of_parts_equals_count_of_whole(false); }

TEST(MergeCli, MergeOfPerFileCountedPartsIsThePerFileCountOfTheWhole) {
  if (!count_has_per_file()) GTEST_SKIP() << "labcount count has no --per-file yet";
  expect_merge_of_parts_equals_count_of_whole(true);
}

TEST(MergeCli, MergingAnOutputWithItselfDoublesItsCounts) {
  temp_dir dir;
  const auto input = dir.write("in.csv", "SampleID,count\n\"a,b\",2\nS1,3\n");
  const run_result r = run_labcount({"merge", input, input});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "SampleID,count\nS1,6\n\"a,b\",4\n");
}

// Every table format count writes reads back as the CSV table: TSV (escapes), JSON and NDJSON (string
// escapes, \u pairs), compressed too, with keys that hold quotes, commas, tabs, line breaks, backslashes,
// non-ASCII text and the empty key; formats mix in one merge; an empty JSON table adds nothing.
TEST(MergeCli, TsvJsonAndNdjsonOutputsMergeLikeTheCsv) {
  temp_dir dir;
  const auto input = dir.write("in.csv",
                               "TestTime,SampleID\n8/10/2004 1:15,\"a,\"\"b\"\"\"\n8/10/2004 1:15,\"t\tab\"\n"
                               "8/10/2004 1:15,\"line\nbreak\r\"\n8/10/2004 1:15,back\\slash\n8/10/2004 1:15,\xC3\xA9t\xC3\xA9\n"
                               "8/10/2004 1:15,\xF0\x9F\xA7\xAA\n8/10/2004 1:15,\"\"\n8/10/2004 1:15,S1\n8/10/2004 1:16,S1\n");
  const run_result csv = run_labcount({"count", input});
  ASSERT_EQ(csv.exit_code, 0) << describe(csv);
  std::vector<std::string> parts;
  for (const std::string format : {"tsv", "json", "ndjson"}) {
    for (const std::string suffix : {"", ".gz"}) {
      const std::string part = dir.path() / ("part." + format + suffix);
      const run_result written = run_labcount({"count", input, "--format", format, "-o", part});
      ASSERT_EQ(written.exit_code, 0) << describe(written);
      const run_result back = run_labcount({"merge", part});
      ASSERT_EQ(back.exit_code, 0) << format << suffix << describe(back);
      EXPECT_EQ(back.out, csv.out) << format << suffix;
      parts.push_back(part);
    }
  }
  const auto empty_json = dir.write("empty.json", "[]\n");
  const auto csv_part = dir.write("part.csv", csv.out);
  std::vector<std::string> mixed{"merge", empty_json, csv_part};
  mixed.insert(mixed.end(), parts.begin(), parts.end());
  const run_result all = run_labcount(mixed);
  ASSERT_EQ(all.exit_code, 0) << describe(all);
  std::vector<std::string> seven{"merge"};
  for (int i = 0; i < 7; ++i) seven.push_back(csv_part);
  EXPECT_EQ(all.out, run_labcount(seven).out);
}

TEST(MergeCli, BadJsonAndMismatchedFormatsNameTheFileAndLine) {
  temp_dir dir;
  const auto cut = dir.write("cut.json", "[\n{\"SampleID\":\"S1\",\"count\":2},\n{\"SampleID\":\"S2\",\"cou");
  const run_result r = run_labcount({"merge", cut});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("cut.json:3"), std::string::npos) << r.err;
  const auto unclosed = dir.write("unclosed.json", "[\n{\"SampleID\":\"S1\",\"count\":2},\n");
  EXPECT_NE(run_labcount({"merge", unclosed}).err.find("never closes"), std::string::npos);
  const auto other_key = dir.write("other.ndjson", "{\"Sample\":\"S1\",\"count\":2}\n");
  const auto csv = dir.write("a.csv", "SampleID,count\nS1,1\n");
  const run_result mixed = run_labcount({"merge", csv, other_key});
  EXPECT_EQ(mixed.exit_code, 1) << describe(mixed);
  EXPECT_NE(mixed.err.find("differs from header"), std::string::npos) << mixed.err;
  const auto bad_escape = dir.write("esc.ndjson", "{\"SampleID\":\"S\\u12G4\",\"count\":2}\n");
  EXPECT_NE(run_labcount({"merge", bad_escape}).err.find("\\u escape"), std::string::npos);
  const auto stats_tsv = dir.write("stats.tsv", "SampleID\tcount\tfirst_test\tlast_test\tactive_days\trepeats\n");
  EXPECT_NE(run_labcount({"merge", stats_tsv}).err.find("--stats outputs is not supported"), std::string::npos);
}

TEST(MergeCli, StandardInputAndOutputFile) {
  temp_dir dir;
  const auto a = dir.write("a.csv", "SampleID,count\nS2,1\nS1,2\n");
  const auto b = dir.write("b.csv", "SampleID,count\nS1,1\n");
  const std::string out = (dir.path() / "total.csv").string();
  const run_result r = run_labcount({"merge", a, "-", "-o", out}, b);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_file(out), "SampleID,count\nS1,3\nS2,1\n");
  // -o may name an input: it is only replaced once everything was read.
  const run_result again = run_labcount({"merge", out, b, "-o", out});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_EQ(read_file(out), "SampleID,count\nS1,4\nS2,1\n");
}

TEST(MergeCli, FailuresExitWithTheirCodeAndLeaveTheOutputAlone) {
  temp_dir dir;
  const auto good = dir.write("good.csv", "SampleID,count\nS1,1\n");
  const auto other_key = dir.write("other_key.csv", "PatientID,count\nP1,1\n");
  const auto stats = dir.write("stats.csv", "SampleID,count,first_test,last_test,active_days,repeats\n");
  const auto bad_count = dir.write("bad_count.csv", "SampleID,count\nS1,-1\n");
  const auto empty = dir.write("empty.csv", "");
  const std::string missing = (dir.path() / "missing.csv").string();
  const std::vector<std::tuple<std::vector<std::string>, int, std::string>> failing = {
      {{"merge", good, other_key}, 1, "other_key.csv:1: header 'PatientID,count' differs"},
      {{"merge", good, stats}, 1, "merging --stats outputs is not supported"},
      {{"merge", good, bad_count}, 1, "bad_count.csv:2: count '-1'"},
      {{"merge", empty}, 1, "no header"},
      {{"merge", good, missing}, 3, "missing.csv: cannot open"},
      {{"merge", good, "--format", "xml"}, 2, "unknown output format"},
      {{"merge", good, "--sort", "size"}, 2, "unknown sort order"},
      {{"merge", good, "--top", "-1"}, 2, ""},
      {{"merge", "-", "-"}, 2, "more than once"},
  };
  for (const auto& [args, exit_code, says] : failing) {
    SCOPED_TRACE(args.back());
    const std::string out = (dir.path() / "out" / "total.csv").string();
    std::filesystem::create_directories(dir.path() / "out");
    dir.write("out/total.csv", "OLD");
    std::vector<std::string> with_output = args;
    with_output.insert(with_output.end(), {"-o", out});
    const run_result r = run_labcount(with_output);
    EXPECT_EQ(r.exit_code, exit_code) << describe(r);
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    if (exit_code != 2 || !says.empty()) {
      EXPECT_NE(r.err.find("hint"), std::string::npos) << r.err;
    }
    EXPECT_EQ(read_file(out), "OLD");
    EXPECT_EQ(
        std::distance(std::filesystem::directory_iterator(dir.path() / "out"), std::filesystem::directory_iterator()),
        1)
        << "a temporary file was left behind";
  }
}

TEST(MergeCli, HelpHasTheOptionsAndAnExample) {
  const run_result r = run_labcount({"merge", "--help"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  for (const char* text : {"--sort", "--top", "--format", "--output", "labcount merge c1.csv c2.csv", "--stats",
                           "--per-file", "Exit codes"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << " is not in:\n" << r.out;
  const run_result top = run_labcount({"--help"});
  EXPECT_NE(top.out.find("merge"), std::string::npos) << top.out;
}

}  // namespace
}  // namespace labcount
