// `mpirun -np N labcount count ...` against one process: the same output bytes, the same messages (printed
// once, by rank 0) and the same exit code, for N = 1..4, in every mode, with bad rows under every policy,
// with inputs cut into byte ranges whose boundaries fall inside quoted multi-line fields, and with an input
// one rank cannot read. ctest label `mpi`; every test skips where mpirun or the MPI plugin is missing.
//
// LABCOUNT_MPI_SPLIT_BYTES=1 makes every plain file a split one (so the small files here are cut into one
// range per rank); LABCOUNT_MPI_PIECE_BYTES makes the exchange send its messages in small pieces.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_file.hpp"

namespace {

namespace fs = std::filesystem;
using labcount::testing::read_file;
using labcount::testing::temp_dir;

const fs::path data_dir = LABCOUNT_TEST_DATA_DIR;

struct run_result {
  int exit_code = -1;
  std::string out;  // the -o file ("<none>" when it was not written)
  std::string err;  // stderr, without mpirun's own notices
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool have_mpi() {
  static const bool found = [] {
    if (std::system("command -v mpirun >/dev/null 2>&1") != 0) return false;
    const fs::path plugin = fs::path(LABCOUNT_BINARY).parent_path() / "liblabcount_mpi.so";
    return fs::exists(plugin);
  }();
  return found;
}

#define SKIP_WITHOUT_MPI()                                                                           \
  do {                                                                                               \
    if (!have_mpi()) GTEST_SKIP() << "mpirun or liblabcount_mpi.so missing (install libopenmpi-dev " \
                                     "openmpi-bin and build with -DLABCOUNT_ENABLE_MPI=ON)";         \
  } while (0)

// mpirun's notices ("Primary job terminated normally, but 1 process returned a non-zero exit code"):
// framed by lines of dashes. They are the launcher's, not labcount's.
std::string without_launcher_notices(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("-----", 0) == 0) {
      inside = !inside;
      continue;
    }
    if (!inside) out += line + "\n";
  }
  return out;
}

// `labcount args...` (ranks == 0: one process; else mpirun -np ranks), writing -o to a fresh file.
run_result run(int ranks, const std::vector<std::string>& args, const fs::path& cwd, const std::string& env = "") {
  temp_dir capture;
  const std::string out_path = (capture.path() / "out").string();
  const std::string err_path = (capture.path() / "err").string();
  std::string cmd = "cd " + quoted(cwd.string()) + " && env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " +
                    "OMPI_MCA_mpi_yield_when_idle=1 " + env + " timeout 120 ";
  if (ranks > 0) cmd += "mpirun --oversubscribe -np " + std::to_string(ranks) + " ";
  cmd += quoted(LABCOUNT_BINARY);
  for (const auto& a : args) cmd += " " + quoted(a);
  cmd += " -o " + quoted(out_path) + " </dev/null 2>" + quoted(err_path);
  const int status = std::system(cmd.c_str());
  run_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = fs::exists(out_path) ? read_file(out_path) : "<none>";
  r.err = without_launcher_notices(read_file(err_path));
  return r;
}

// One process, then 1..4 ranks: every output byte, message and exit code the same.
void expect_same_on_ranks(const std::vector<std::string>& args, const fs::path& cwd,
                          const std::string& env = "LABCOUNT_MPI_SPLIT_BYTES=1", std::vector<int> ranks = {1, 2, 3, 4}) {
  const run_result one = run(0, args, cwd);
  for (int n : ranks) {
    SCOPED_TRACE("mpirun -np " + std::to_string(n) + " " + env);
    const run_result many = run(n, args, cwd, env);
    EXPECT_EQ(many.exit_code, one.exit_code);
    // (Not EXPECT_EQ: gtest's line diff of two large tables takes quadratic memory.)
    EXPECT_TRUE(many.out == one.out) << "outputs differ: " << many.out.size() << " vs " << one.out.size()
                                     << " bytes; first bytes:\n"
                                     << many.out.substr(0, 300) << "\nvs\n"
                                     << one.out.substr(0, 300);
    EXPECT_EQ(many.err, one.err);
  }
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

const std::vector<std::vector<std::string>> modes = {
    {}, {"--stats"}, {"--per", "day"}, {"--per", "month"}, {"--per-file"}, {"--sort", "count", "--top", "5"},
    {"--format", "json"}};

// A file of quoted multi-line keys and time fields: most of its bytes are inside quotes, so the raw cuts
// between ranks fall inside quoted fields and between the CR and LF of line ends.
std::string quoted_multiline(std::size_t rows, std::size_t pad) {
  std::string s = "TestTime,SampleID,Note\r\n";
  for (std::size_t i = 0; i < rows; ++i) {
    s += "\"8/" + std::to_string(10 + i % 20) + "/2004 " + std::to_string(i % 24) + ":15\",";
    s += "\"S" + std::to_string(i % 37) + (i % 3 == 0 ? "\nsecond line\r\nthird, with \"\"quotes\"\"" : "") + "\",";
    s += "\"" + std::string(pad + i % 7, 'x') + (i % 2 == 0 ? "\n" : ",") + "\"\r\n";
  }
  return s;
}

// `labcount generate ARGS -o dir/gen.csv`: whether it succeeded.
bool generate(const fs::path& dir, const std::string& args) {
  return std::system(
             (quoted(LABCOUNT_BINARY) + " generate " + args + " -o " + quoted((dir / "gen.csv").string())).c_str()) ==
         0;
}

TEST(Mpi, RealShapedDataEveryMode) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  ASSERT_TRUE(generate(tmp.path(), "--rows 20000 --samples 300 --seed 3"));
  for (const auto& mode : modes) {
    SCOPED_TRACE(mode.empty() ? "counts" : mode[0]);
    expect_same_on_ranks(with({"count", "gen.csv"}, mode), tmp.path());
  }
}

TEST(Mpi, QuotesStraddleEveryRankBoundary) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  // Several paddings shift every cut to another byte of the quoted fields.
  for (std::size_t pad = 0; pad < 6; ++pad) {
    SCOPED_TRACE("pad " + std::to_string(pad));
    tmp.write("q.csv", quoted_multiline(300, pad));
    expect_same_on_ranks({"count", "q.csv"}, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1", {2, 3, 4});
    expect_same_on_ranks({"count", "q.csv", "--stats"}, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1", {3});
  }
}

// A rank guesses where its part of a split input starts (from the quotes near its raw cut) and rank 0 checks
// each guess against where the part before it ended. LABCOUNT_MPI_CUT=outside makes every guess read the cut
// as outside quotes, so most are wrong on this file: the job must find it and count again with exact cuts,
// giving the same bytes, bad-row lines and exit code. =exact cuts exactly from the start.
TEST(Mpi, AGuessedCutThatDoesNotHoldIsCountedAgain) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  const std::string clean = quoted_multiline(900, 2);
  const std::string bad_row = "\"8/10/2004 1:15\",\"S1\",\"x\",extra\r\n";
  // Right after the record that ends at or after `at`.
  const auto insert_after = [](std::string& text, std::size_t at, const std::string& row) {
    at = text.find("\"\r\n\"", at);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + 3, row);
  };
  std::string s = clean;
  for (std::size_t at = s.size() / 5; at < s.size() * 9 / 10; at += s.size() / 5) insert_after(s, at, bad_row);
  tmp.write("q.csv", s);
  tmp.write("clean.csv", clean);
  for (const std::string method : {"outside", "exact"})
    for (const auto& policy : {"warn", "error"}) {
      SCOPED_TRACE(method + " " + policy);
      expect_same_on_ranks({"count", "q.csv", "--on-bad-row", policy}, tmp.path(),
                           "LABCOUNT_MPI_SPLIT_BYTES=1 LABCOUNT_MPI_CUT=" + method, {2, 3});
    }
  // Wrong guesses on a clean file make bad rows that are not there: under --on-bad-row error the job must
  // not stop at one.
  expect_same_on_ranks({"count", "clean.csv", "--on-bad-row", "error"}, tmp.path(),
                       "LABCOUNT_MPI_SPLIT_BYTES=1 LABCOUNT_MPI_CUT=outside", {2, 3});
  // One bad row, in the last rank's part: named at its line of the file after guessed cuts.
  std::string last = clean;
  insert_after(last, last.size() * 19 / 20, bad_row);
  tmp.write("last.csv", last);
  expect_same_on_ranks({"count", "last.csv", "--on-bad-row", "error"}, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1",
                       {2, 3});

  const std::string env = "LABCOUNT_MPI_SPLIT_BYTES=1 LABCOUNT_MPI_TRACE=1";
  const run_result wrong =
      run(3, {"count", "q.csv", "--on-bad-row", "skip"}, tmp.path(), env + " LABCOUNT_MPI_CUT=outside");
  EXPECT_NE(wrong.err.find("a guessed cut did not hold: counting again"), std::string::npos) << wrong.err;
  const run_result guessed = run(3, {"count", "q.csv", "--on-bad-row", "skip"}, tmp.path(), env);
  EXPECT_EQ(guessed.err.find("counting again"), std::string::npos) << guessed.err;
  EXPECT_EQ(guessed.exit_code, 0);
  EXPECT_TRUE(guessed.out == wrong.out);
  EXPECT_TRUE(guessed.out == run(0, {"count", "q.csv", "--on-bad-row", "skip"}, tmp.path()).out);

  // A rank that fails on a later input (a whole one, dealt to rank 0) still says where its part of the split
  // input ended: the guesses are checked without counting again, and the error is one process's.
  tmp.write("late.csv", "TestTime,SampleID\n8/10/2004 1:15,S1\n8/10/2004 1:15,S2,extra\n");
  const std::vector<std::string> late = {"count", "clean.csv", "late.csv", "--on-bad-row", "error"};
  expect_same_on_ranks(late, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=20000", {3});
  const run_result traced = run(3, late, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=20000 LABCOUNT_MPI_TRACE=1");
  EXPECT_NE(traced.exit_code, 0);
  EXPECT_EQ(traced.err.find("counting again"), std::string::npos) << traced.err;
  EXPECT_NE(traced.err.find("late.csv:3"), std::string::npos) << traced.err;
}

TEST(Mpi, ManyFilesSomeSplitSomeWhole) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  tmp.write("a.csv", quoted_multiline(2000, 3));  // large: cut into ranges
  tmp.write("b.csv", "SampleID,TestTime\nS1,8/10/2004 1:15\nS2,8/11/2004 1:15\n");
  tmp.write("c.csv", "TestTime,SampleID\n");  // a header alone
  tmp.write("d.csv", "");                     // empty: a warning
  tmp.write("e.csv", quoted_multiline(500, 1));
  for (const auto& mode : modes) {
    SCOPED_TRACE(mode.empty() ? "counts" : mode[0]);
    expect_same_on_ranks(with({"count", "a.csv", "b.csv", "c.csv", "d.csv", "e.csv"}, mode), tmp.path(),
                         "LABCOUNT_MPI_SPLIT_BYTES=20000");
  }
}

// More split inputs than a process maps at once (64): each is mapped in turn, and with --no-header too.
TEST(Mpi, ManySplitInputs) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  std::vector<std::string> args = {"count"};
  for (int i = 0; i < 70; ++i) {
    const std::string name = "p" + std::to_string(i) + ".csv";
    tmp.write(name, "SampleID\nS" + std::to_string(i % 9) + "\nS1\n\"S" + std::to_string(i % 4) + "\"\n");
    args.push_back(name);
  }
  expect_same_on_ranks(args, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1", {2, 3});
  expect_same_on_ranks(with(args, {"--no-header", "--per-file"}), tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1", {2});
}

TEST(Mpi, OverAMillionKeys) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  std::string s = "TestTime,SampleID\n";
  for (long i = 0; i < 1'100'000; ++i) s += "8/10/2004 1:15,K" + std::to_string(i * 7919 % 1'100'003) + "\n";
  tmp.write("keys.csv", s);
  // Small pieces: the exchange's messages (megabytes) go in many rounds.
  expect_same_on_ranks({"count", "keys.csv"}, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1 LABCOUNT_MPI_PIECE_BYTES=65537",
                       {2, 4});
  expect_same_on_ranks({"count", "keys.csv", "--stats"}, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1", {3});
}

TEST(Mpi, BadRowsUnderEveryPolicy) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  std::string s = "TestTime,SampleID\n";
  for (int i = 0; i < 4000; ++i) {
    if (i % 450 == 449)
      s += "8/10/2004 1:15,S1,extra\n";  // too many fields: bad rows spread over every rank's range
    else if (i % 700 == 699)
      s += "13/45/2004 1:15,S2\n";  // a bad timestamp (--stats)
    else
      s += "8/" + std::to_string(10 + i % 9) + "/2004 1:15,S" + std::to_string(i % 50) + "\n";
  }
  tmp.write("bad.csv", s);
  tmp.write("good.csv", "TestTime,SampleID\n8/10/2004 1:15,S1\n");
  for (const auto& policy : {"error", "skip", "warn"}) {
    for (const auto& mode : std::vector<std::vector<std::string>>{{}, {"--stats"}, {"--per", "day"}}) {
      SCOPED_TRACE(std::string(policy) + (mode.empty() ? "" : " " + mode[0]));
      expect_same_on_ranks(with({"count", "good.csv", "bad.csv", "--on-bad-row", policy}, mode), tmp.path());
    }
  }
  // --max-bad-rows counts the bad rows of the whole job, though no rank alone passes it.
  for (const auto& limit : {"3", "8", "100"}) {
    SCOPED_TRACE(std::string("--max-bad-rows ") + limit);
    expect_same_on_ranks({"count", "bad.csv", "good.csv", "--on-bad-row", "warn", "--max-bad-rows", limit}, tmp.path());
  }
  // Whole files dealt to ranks, each with 6 bad rows: one process passes 10 at the second file. A rank holding
  // the second and a later file must not stop at its own eleventh bad row and take its tallies with it.
  std::vector<std::string> args = {"count"};
  for (int f = 0; f < 5; ++f) {
    std::string text = "TestTime,SampleID\n";
    for (int i = 0; i < 60 + 40 * f; ++i) text += i % 10 == 9 && i < 60 ? "1,S1,extra\n" : "1,S" + std::to_string(i % 7) + "\n";
    tmp.write("six_bad_" + std::to_string(f) + ".csv", text);
    args.push_back("six_bad_" + std::to_string(f) + ".csv");
  }
  args.insert(args.end(), {"--on-bad-row", "skip", "--max-bad-rows", "10"});
  expect_same_on_ranks(args, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1000000000", {2, 3});
}

TEST(Mpi, AnInputOneRankCannotRead) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  for (int i = 0; i < 5; ++i)
    tmp.write("f" + std::to_string(i) + ".csv", "SampleID\nS" + std::to_string(i) + "\nS9\n");
  // gzip's magic number, then garbage: the rank dealt it fails to read it.
  tmp.write("f5.csv.gz", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage, not deflate", 30));
  const std::vector<std::string> inputs = {"count", "f0.csv", "f1.csv", "f5.csv.gz", "f2.csv", "f3.csv", "f4.csv"};
  expect_same_on_ranks(inputs, tmp.path());
  expect_same_on_ranks(with(inputs, {"--on-bad-file", "skip"}), tmp.path());
  expect_same_on_ranks(with(inputs, {"--on-bad-file", "skip", "--per-file"}), tmp.path());
}

// Warnings and --verbose notes come in input order, as one process gives them, though the ranks are dealt
// the inputs largest first: with 2 ranks, rank 0 holds c.csv and d.csv, rank 1 b.csv and a.csv.
TEST(Mpi, WarningsAndNotesInInputOrder) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  std::string rows;
  for (int i = 0; i < 29; ++i) rows += "S1\n";
  tmp.write("a.csv", "");                             // empty: a warning
  tmp.write("b.csv", "SampleID\n" + rows + "S2\n");   // 99 bytes: a note (its delimiter)
  tmp.write("c.csv", "SampleID\n" + rows + "S12\n");  // 100 bytes
  tmp.write("d.csv", "");
  const std::vector<std::string> args = {"count", "a.csv", "b.csv", "c.csv", "d.csv"};
  expect_same_on_ranks(args, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1000000000", {2, 3});
  // --verbose: the same lines but the backend's (one per rank) and the last ones' timings.
  const auto messages = [](const std::string& err) {
    std::string kept;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
      if (line.find(" distinct keys, ") == std::string::npos && line.find(" phases: ") == std::string::npos &&
          line.find("backend cpu (") == std::string::npos)
        kept += line + "\n";
    return kept;
  };
  const run_result one = run(0, with(args, {"--verbose"}), tmp.path());
  ASSERT_NE(one.err.find("a.csv: the input is empty"), std::string::npos) << one.err;
  ASSERT_LT(one.err.find("b.csv: delimiter"), one.err.find("c.csv: delimiter")) << one.err;
  const run_result two = run(2, with(args, {"--verbose"}), tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1000000000");
  EXPECT_EQ(messages(two.err), messages(one.err));
}

// Inputs that read their slash dates in different orders: one process warns at each input whose order differs
// from the input with slash dates before it. Ranks see only their own inputs, so rank 0 decides the warnings
// from every input's order, in input order.
TEST(Mpi, DateOrderWarningsAsOneProcessGivesThem) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  const auto file = [](const std::string& date, int rows) {
    std::string s = "TestTime,SampleID\n";
    for (int i = 0; i < rows; ++i) s += date + " 1:15,S" + std::to_string(i % 5) + "\n";
    return s;
  };
  tmp.write("a.csv", file("8/13/2004", 40));                       // month first (13 is no month)
  tmp.write("b.csv", file("13/8/2004", 10));                       // day first: a warning
  tmp.write("c.csv", file("14/8/2004", 30));                       // day first, as the one before it: none
  tmp.write("d.csv", file("8/20/2004", 20));                       // month first: a warning
  tmp.write("e.csv", "TestTime,SampleID\n2004-08-10 01:15,S1\n");  // no slash dates: not compared
  tmp.write("f.csv", file("21/8/2004", 50));                       // day first after d: a warning
  const std::vector<std::string> args = {"count", "a.csv", "b.csv", "c.csv", "d.csv", "e.csv", "f.csv", "--stats"};
  const run_result one = run(0, args, tmp.path());
  ASSERT_NE(one.err.find("b.csv reads its dates day first"), std::string::npos) << one.err;
  ASSERT_EQ(one.err.find("c.csv reads"), std::string::npos) << one.err;
  expect_same_on_ranks(args, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1000000000", {2, 3, 4});
  expect_same_on_ranks(args, tmp.path(), "LABCOUNT_MPI_SPLIT_BYTES=1", {3});
}

// --progress: rank 0 draws one line for the whole job (a line showing more rows than its own share proves the
// sum); without it, nothing, for the ranks' stderr is no terminal. (A run of seconds: the line shows from 0.5 s.)
TEST(Mpi, RankZeroDrawsTheWholeJobsProgress) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  ASSERT_TRUE(generate(tmp.path(), "--rows 4M --samples 1M --skew 0"));
  const run_result drawn = run(2, {"count", "gen.csv", "--stats", "--progress"}, tmp.path());
  ASSERT_EQ(drawn.exit_code, 0) << drawn.err;
  std::uint64_t most_rows = 0;
  std::size_t lines = 0;
  for (std::size_t at = drawn.err.find(" rows"); at != std::string::npos; at = drawn.err.find(" rows", at + 1)) {
    std::size_t from = at;
    while (from > 0 && (std::isdigit(static_cast<unsigned char>(drawn.err[from - 1])) || drawn.err[from - 1] == ','))
      --from;
    std::string digits;
    for (std::size_t i = from; i < at; ++i)
      if (drawn.err[i] != ',') digits += drawn.err[i];
    if (!digits.empty()) most_rows = std::max<std::uint64_t>(most_rows, std::stoull(digits));
    ++lines;
  }
  EXPECT_GT(lines, 0u) << drawn.err;
  EXPECT_GT(most_rows, 2'200'000u) << "no line showed more than one rank's share: " << drawn.err;
  EXPECT_LE(most_rows, 4'000'000u) << drawn.err;
  EXPECT_NE(drawn.err.find("\r\033[K", drawn.err.rfind(" rows")), std::string::npos)
      << "the line is cleared at the end: " << drawn.err;
  const run_result plain = run(2, {"count", "gen.csv", "--stats"}, tmp.path());
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_EQ(plain.err, "");
  EXPECT_EQ(plain.out, drawn.out);
}

TEST(Mpi, ErrorsArePrintedOnceWithOneExitCode) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  tmp.write("t.csv", "SampleID\nS1\n");
  const run_result missing_column = run(3, {"count", "t.csv", "--key", "Sample"}, tmp.path());
  EXPECT_EQ(missing_column.exit_code, 1);
  EXPECT_EQ(missing_column.err, run(0, {"count", "t.csv", "--key", "Sample"}, tmp.path()).err);
  const run_result piped = run(2, {"count", "-"}, tmp.path());
  EXPECT_EQ(piped.exit_code, 2);
  EXPECT_NE(piped.err.find("standard input (-) cannot be counted under MPI"), std::string::npos) << piped.err;
  EXPECT_EQ(piped.err.find("labcount: error:"), piped.err.rfind("labcount: error:")) << "printed once: " << piped.err;
  // Launched, but without the plugin: one error, exit 4 on every rank.
  const run_result no_plugin = run(3, {"count", "t.csv"}, tmp.path(), "LABCOUNT_MPI_PLUGIN=/nonexistent/plugin.so");
  EXPECT_EQ(no_plugin.exit_code, 4);
  EXPECT_NE(no_plugin.err.find("started by an MPI launcher, but LABCOUNT_MPI_PLUGIN names no file"), std::string::npos)
      << no_plugin.err;
  EXPECT_EQ(no_plugin.err.find("labcount: error:"), no_plugin.err.rfind("labcount: error:")) << no_plugin.err;
  const run_result merge = run(2, {"merge", "t.csv"}, tmp.path());
  EXPECT_EQ(merge.exit_code, 2);
  EXPECT_NE(merge.err.find("runs as one process"), std::string::npos) << merge.err;
}

TEST(Mpi, PartialStatesOfAJobMergeLikeTheWhole) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  tmp.write("a.csv", quoted_multiline(800, 2));
  tmp.write("b.csv", quoted_multiline(300, 5));
  for (const auto& mode : std::vector<std::vector<std::string>>{{}, {"--stats"}, {"--per", "day"}, {"--per-file"}}) {
    SCOPED_TRACE(mode.empty() ? "counts" : mode[0]);
    const run_result whole = run(0, with({"count", "a.csv", "b.csv"}, mode), tmp.path());
    ASSERT_EQ(whole.exit_code, 0) << whole.err;
    const std::string state = (tmp.path() / "job.lcp").string();
    std::vector<std::string> args = with({"count", "a.csv", "b.csv", "--partial", state}, mode);
    std::string cmd = "cd " + quoted(tmp.path().string()) +
                      " && env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 "
                      "LABCOUNT_MPI_SPLIT_BYTES=1 "
                      "timeout 120 mpirun --oversubscribe -np 3 " +
                      quoted(LABCOUNT_BINARY);
    for (const auto& a : args) cmd += " " + quoted(a);
    ASSERT_EQ(std::system((cmd + " </dev/null").c_str()), 0);
    const run_result merged = run(0, {"merge", "job.lcp"}, tmp.path());
    EXPECT_EQ(merged.exit_code, 0) << merged.err;
    EXPECT_EQ(merged.out, whole.out);
  }
}

TEST(Mpi, InfoSaysTheJob) {
  SKIP_WITHOUT_MPI();
  temp_dir tmp;
  const std::string cmd = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 60 mpirun "
                          "--oversubscribe -np 2 " +
                          quoted(LABCOUNT_BINARY) + " info </dev/null >" + quoted((tmp.path() / "info").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string info = read_file((tmp.path() / "info").string());
  EXPECT_NE(info.find("this job: 2 ranks"), std::string::npos) << info;
  EXPECT_EQ(info.find("build: "), info.rfind("build: ")) << "printed by rank 0 only: " << info;
}

}  // namespace
