// Golden end-to-end tests: run the built `labcount` binary and compare its stdout byte for byte with a
// file under tests/data/expected/, its exit code, and what its stderr says.
//
//   {"count", "few_fields.csv"}  ->  exit 1, stdout "", stderr has "few_fields.csv:4:" and "hint"
//
// The child runs with the data directory as its working directory, so messages name inputs as given.
// "@TMP@" in an argument is a fresh temporary directory of the test (for -o).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "support/temp_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labcount {
namespace {

namespace fs = std::filesystem;

// The build's paths, unless the environment names others: scripts/gpu_check.sh runs this binary on a GPU machine
// where the checkout and the labcount binary live elsewhere.
std::string from_environment(const char* name, const char* built_in) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : built_in;
}
const std::string labcount_binary = from_environment("LABCOUNT_BINARY", LABCOUNT_BINARY);
const fs::path data_dir = from_environment("LABCOUNT_TEST_DATA_DIR", LABCOUNT_TEST_DATA_DIR);
const fs::path expected_dir = data_dir / "expected";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Bytes as a reader can see them in a failure message: line breaks kept, other controls escaped.
std::string printable(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

using labcount::testing::temp_dir;

struct run_result {
  int exit_code = -1;  // -1 when the child did not exit normally
  int signal = 0;      // the signal that ended the child, 0 if it exited
  std::string out;
  std::string err;
};

// Runs `labcount args...` in `cwd` with standard input from `stdin_path` (/dev/null when empty).
// stdout and stderr go to files, not pipes, so a chatty child can never block on a full pipe; an alarm
// ends a child that hangs, which then shows up as a signal.
run_result run_labcount(const std::vector<std::string>& args, const fs::path& stdin_path = {},
                        const fs::path& cwd = data_dir) {
  temp_dir capture;
  const std::string out_path = (capture.path() / "stdout").string();
  const std::string err_path = (capture.path() / "stderr").string();
  const std::string in_path = stdin_path.empty() ? std::string("/dev/null") : stdin_path.string();
  const std::string cwd_path = cwd.string();
  std::string binary = labcount_binary;
  std::vector<std::string> arg_storage(args);
  std::vector<char*> argv;
  argv.push_back(binary.data());
  for (auto& a : arg_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0 || ::chdir(cwd_path.c_str()) != 0) ::_exit(127);
    if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0) ::_exit(127);
    ::alarm(60);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  run_result result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The names of the entries of a directory.
std::set<std::string> list_dir(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

bool has_temp_leftover(const fs::path& dir) {
  for (const auto& name : list_dir(dir))
    if (name.find(".labcount-tmp-") != std::string::npos) return true;
  return false;
}

std::string describe_run(const run_result& r) {
  return "exit " + std::to_string(r.exit_code) + (r.signal != 0 ? ", signal " + std::to_string(r.signal) : "") +
         "\n--- stdout ---\n" + printable(r.out) + "\n--- stderr ---\n" + r.err;
}

// ---- The golden table ------------------------------------------------------------------------------

struct cli_case {
  std::string name;               // the test's name: what it pins
  std::vector<std::string> args;  // after the binary; "@TMP@" is the test's temporary directory
  std::string stdin_file;         // under tests/data/; empty: /dev/null
  std::string expected_stdout;    // under tests/data/expected/; empty: stdout must be empty
  int exit_code = 0;
  std::vector<std::string> stderr_has;  // substrings; when empty and exit_code is 0, stderr must be empty
  std::string output_file;              // a file the run writes under @TMP@ (-o) ...
  std::string expected_output;          // ... and its expected bytes, under tests/data/expected/
  std::string known_bug;                // non-empty: the case pins a known bug and is skipped
};

std::ostream& operator<<(std::ostream& os, const cli_case& c) { return os << c.name; }

// Each case names only the fields it needs; the rest keep their defaults on purpose.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const std::vector<cli_case>& golden_cases() {
  static const std::vector<cli_case> cases = {
      // -- the seed format (an excerpt of the real samplesTests.csv: CRLF, "TestTime,SampleID") --
      {.name = "SeedDefaultOutputSortedByKey", .args = {"count", "seed_crlf.csv"}, .expected_stdout = "seed.csv"},
      {.name = "StandardInputWhenNoInputIsNamed",
       .args = {"count"},
       .stdin_file = "seed_crlf.csv",
       .expected_stdout = "seed.csv"},
      {.name = "TopAloneListsTheLargestCounts",
       .args = {"count", "seed_crlf.csv", "--top", "3"},
       .expected_stdout = "seed_sort_count_top3.csv"},
      {.name = "TopWithSortKeyKeepsKeyOrder",
       .args = {"count", "seed_crlf.csv", "--top", "3", "--sort", "key"},
       .expected_stdout = "seed_key_top3.csv"},
      {.name = "OptionWordsIgnoreCase",
       .args = {"count", "seed_crlf.csv", "--format", "CSV", "--backend", "CPU", "--sort", "Key"},
       .expected_stdout = "seed.csv"},
      // -- time analytics: --stats, --per --
      {.name = "StatsOnTheSeedFormat",
       .args = {"count", "seed_crlf.csv", "--stats"},
       .expected_stdout = "seed_stats.csv"},
      {.name = "StatsSortCountTopJson",
       .args = {"count", "seed_crlf.csv", "--stats", "--sort", "count", "--top", "2", "--format", "json"},
       .expected_stdout = "seed_stats_top2.json"},
      {.name = "PerHour", .args = {"count", "seed_crlf.csv", "--per", "hour"}, .expected_stdout = "seed_per_hour.csv"},
      {.name = "PerWeekIsoTimesOtherColumnsAndDelimiter",
       .args = {"count", "iso_times.csv", "-d", ";", "--key", "Sample", "--time", "When", "--per", "week"},
       .expected_stdout = "iso_per_week.csv"},
      {.name = "UnparseableTimestampNamesFileAndLine",
       .args = {"count", "bad_timestamp.csv", "--stats"},
       .exit_code = 1,
       .stderr_has = {"bad_timestamp.csv:3:", "13/10/2004 1:15", "hint:", "--time-format"}},
      {.name = "UnparseableTimestampUnderTimeFormatSaysChangeIt",
       .args = {"count", "bad_timestamp.csv", "--stats", "--time-format", "%m/%d/%Y %H:%M"},
       .exit_code = 1,
       .stderr_has = {"bad_timestamp.csv:3:", "expected %m/%d/%Y %H:%M (--time-format)",
                      "change --time-format to match it"}},
      {.name = "MissingTimeColumn",
       .args = {"count", "seed_crlf.csv", "--stats", "--time", "When"},
       .exit_code = 1,
       .stderr_has = {"no column named 'When'", "--time"}},
      {.name = "StatsWithPerIsAUsageError",
       .args = {"count", "seed_crlf.csv", "--stats", "--per", "day"},
       .exit_code = 2,
       .stderr_has = {"cannot be combined"}},
      {.name = "StatsWithPerFileIsAUsageError",
       .args = {"count", "seed_crlf.csv", "--stats", "--per-file"},
       .exit_code = 2,
       .stderr_has = {"--per-file"}},
      {.name = "TimeWithoutStatsOrPerIsAUsageError",
       .args = {"count", "seed_crlf.csv", "--time", "TestTime"},
       .exit_code = 2,
       .stderr_has = {"--time only applies to --stats and --per", "hint: add --stats or --per"}},
      {.name = "TimeFormatWithoutStatsOrPerIsAUsageError",
       .args = {"count", "seed_crlf.csv", "--time-format", "%d.%m.%Y"},
       .exit_code = 2,
       .stderr_has = {"--time-format only applies to --stats and --per"}},
      {.name = "BenchTimeWithoutStatsOrPerIsAUsageError",
       .args = {"bench", "seed_crlf.csv", "--time", "TestTime"},
       .exit_code = 2,
       .stderr_has = {"--time only applies to --stats and --per"}},
      {.name = "UnknownBucket",
       .args = {"count", "seed_crlf.csv", "--per", "fortnight"},
       .exit_code = 2,
       .stderr_has = {"hour, day, week, month"}},
      // -- batches: gzip by content, directories, per-file counts, bad files --
      {.name = "GzipFileCountsLikeThePlainFile",
       .args = {"count", "gz/plain.csv.gz"},
       .expected_stdout = "gz_plain.csv"},
      {.name = "GzipOnStandardInput",
       .args = {"count", "-"},
       .stdin_file = "gz/plain.csv.gz",
       .expected_stdout = "gz_plain.csv"},
      {.name = "TruncatedGzipIsAnError",
       .args = {"count", "gz_bad/truncated.csv.gz"},
       .exit_code = 1,
       .stderr_has = {"gz_bad/truncated.csv.gz", "truncated", "hint:"}},
      {.name = "ZstdBzip2AndXzCountLikeThePlainFile",
       .args = {"count", "compressed/plain.csv.zst", "compressed/plain.csv.bz2", "compressed/plain.csv.xz"},
       .expected_stdout = "compressed_dir_plain.csv"},
      {.name = "XzOnStandardInput",
       .args = {"count", "-"},
       .stdin_file = "compressed/two_streams.csv.xz",
       .expected_stdout = "gz_plain.csv"},
      {.name = "ZstdOnStandardInput",
       .args = {"count", "-"},
       .stdin_file = "compressed/two_streams.csv.zst",
       .expected_stdout = "gz_plain.csv"},
      {.name = "TruncatedBzip2IsAnError",
       .args = {"count", "compressed_bad/truncated.csv.bz2"},
       .exit_code = 1,
       .stderr_has = {"compressed_bad/truncated.csv.bz2", "bzip2", "truncated", "hint:"}},
      {.name = "TruncatedZstdIsAnError",
       .args = {"count", "compressed_bad/truncated.csv.zst"},
       .exit_code = 1,
       .stderr_has = {"compressed_bad/truncated.csv.zst", "zstd", "hint:"}},
      {.name = "TruncatedXzIsAnError",
       .args = {"count", "compressed_bad/truncated.csv.xz"},
       .exit_code = 1,
       .stderr_has = {"compressed_bad/truncated.csv.xz", "xz", "hint:"}},
      {.name = "DirectoryRecursivePicksEveryCompressedCsv",
       .args = {"count", "compressed", "--recursive"},
       .expected_stdout = "compressed_dir.csv"},
      // -- ZIP archives: their CSV members, each an input; spreadsheets refused with what to do --
      {.name = "ZipArchiveCountsItsCsvMembers",
       .args = {"count", "zip/two_members.zip"},
       .expected_stdout = "zip_two.csv"},
      {.name = "ZipPerFileNamesArchiveSlashMember",
       .args = {"count", "zip/two_members.zip", "--per-file"},
       .expected_stdout = "zip_two_per_file.csv"},
      {.name = "ZipWithAStoredMember", .args = {"count", "zip/stored.zip"}, .expected_stdout = "gz_plain.csv"},
      {.name = "ExcelWorkbookIsRefusedWithWhatToDo",
       .args = {"count", "zip/workbook.xlsx"},
       .exit_code = 1,
       .stderr_has = {"zip/workbook.xlsx", "Excel workbook", "save it as CSV"}},
      {.name = "ZipWithoutATableListsWhatItHolds",
       .args = {"count", "zip/no_tables.zip"},
       .exit_code = 1,
       .stderr_has = {"no .csv, .tsv or .txt file", "photo.jpg", "hint:"}},
      {.name = "DamagedZipMemberIsAnErrorNamingIt",
       .args = {"count", "zip_bad/damaged.zip"},
       .exit_code = 1,
       .stderr_has = {"zip_bad/damaged.zip/a.csv"}},
      {.name = "DamagedZipSkippedWithOnBadFileSkip",
       .args = {"count", "zip_bad/damaged.zip", "gz/plain.csv", "--on-bad-file", "skip"},
       .expected_stdout = "zip_damaged_skipped.csv",
       .stderr_has = {"left out 1 of 3 inputs", "zip_bad/damaged.zip/a.csv"}},
      {.name = "DirectoryRecursiveCountsCsvAndCsvGz",
       .args = {"count", "gz", "--recursive"},
       .expected_stdout = "gz_dir.csv"},
      {.name = "DirectoryWithoutRecursiveIsAnError",
       .args = {"count", "gz"},
       .exit_code = 3,
       .stderr_has = {"gz: the input is a directory", "--recursive"}},
      {.name = "PerFileAddsAFileColumn",
       .args = {"count", "gz", "-r", "--per-file"},
       .expected_stdout = "gz_dir_per_file.csv"},
      {.name = "OnBadFileSkipLeavesTheFileOutAndSaysSo",
       .args = {"count", "gz/plain.csv", "gz_bad/truncated.csv.gz", "--on-bad-file", "skip"},
       .expected_stdout = "gz_plain.csv",
       .stderr_has = {"left out 1 of 2 inputs", "gz_bad/truncated.csv.gz"}},
      {.name = "OnBadFileDefaultStopsAndWritesNothing",
       .args = {"count", "gz/plain.csv", "gz_bad/truncated.csv.gz"},
       .exit_code = 1,
       .stderr_has = {"truncated"}},
      {.name = "InvalidOnBadFile",
       .args = {"count", "gz/plain.csv", "--on-bad-file", "warn"},
       .exit_code = 2,
       .stderr_has = {"--on-bad-file"}},
      {.name = "InvalidMemory",
       .args = {"count", "gz/plain.csv", "--memory", "12x"},
       .exit_code = 2,
       .stderr_has = {"--memory"}},
      {.name = "SeedSortCountDescendingTiesByKey",
       .args = {"count", "seed_crlf.csv", "--sort", "count"},
       .expected_stdout = "seed_sort_count.csv"},
      {.name = "SeedSortKeyExplicit",
       .args = {"count", "seed_crlf.csv", "--sort", "key"},
       .expected_stdout = "seed.csv"},
      {.name = "SeedTop3ByKey", .args = {"count", "seed_crlf.csv", "--top", "3"}, .expected_stdout = "seed_sort_count_top3.csv"},
      {.name = "SeedTop3ByCount",
       .args = {"count", "seed_crlf.csv", "--sort", "count", "--top", "3"},
       .expected_stdout = "seed_sort_count_top3.csv"},
      {.name = "SeedTopZeroMeansAll", .args = {"count", "seed_crlf.csv", "--top", "0"}, .expected_stdout = "seed.csv"},
      {.name = "SeedTopLargerThanKeysKeepsAll",
       .args = {"count", "seed_crlf.csv", "--top", "100", "--sort", "key"},
       .expected_stdout = "seed.csv"},
      {.name = "SeedTopAloneLargerThanKeysKeepsAllInCountOrder",
       .args = {"count", "seed_crlf.csv", "--top", "100"},
       .expected_stdout = "seed_sort_count.csv"},
      {.name = "SeedFormatTsv", .args = {"count", "seed_crlf.csv", "--format", "tsv"}, .expected_stdout = "seed.tsv"},
      {.name = "SeedFormatJson",
       .args = {"count", "seed_crlf.csv", "--format", "json"},
       .expected_stdout = "seed.json"},
      {.name = "SeedFormatCsvExplicit", .args = {"count", "seed_crlf.csv", "-f", "csv"}, .expected_stdout = "seed.csv"},
      {.name = "SeedOutputFileLeavesStdoutEmpty",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@/counts.csv"},
       .output_file = "counts.csv",
       .expected_output = "seed.csv"},
      {.name = "SeedOutputFileJson",
       .args = {"count", "seed_crlf.csv", "--output", "@TMP@/counts.json", "--format", "json"},
       .output_file = "counts.json",
       .expected_output = "seed.json"},
      {.name = "ARowEqualToTheHeaderIsLeftOutWithAWarning",
       .args = {"count", "concatenated.csv"},
       .expected_stdout = "concatenated.csv",
       .stderr_has = {"concatenated.csv: left out 1 row equal to the header"}},
      {.name = "ARowEqualToTheHeaderIsNotABadTimeUnderStats",
       .args = {"count", "concatenated.csv", "--stats", "--top", "1", "--sort", "key"},
       .expected_stdout = "concatenated_stats_top1.csv",
       .stderr_has = {"left out 1 row equal to the header"}},
      {.name = "SeedFormatNdjson",
       .args = {"count", "seed_crlf.csv", "--format", "ndjson"},
       .expected_stdout = "seed.ndjson"},
      {.name = "OutputExtensionJsonImpliesTheFormat",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@/counts.json"},
       .output_file = "counts.json",
       .expected_output = "seed.json"},
      {.name = "OutputExtensionNdjsonImpliesTheFormat",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@/counts.NDJSON"},
       .output_file = "counts.NDJSON",
       .expected_output = "seed.ndjson"},
      {.name = "OutputExtensionTsvImpliesTheFormat",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@/counts.tsv"},
       .output_file = "counts.tsv",
       .expected_output = "seed.tsv"},
      {.name = "ExplicitFormatWinsOverTheExtension",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@/counts.json", "--format", "csv"},
       .output_file = "counts.json",
       .expected_output = "seed.csv"},
      {.name = "SeedOutputDashIsStdout", .args = {"count", "seed_crlf.csv", "-o", "-"}, .expected_stdout = "seed.csv"},
      {.name = "SeedKeyByNumber", .args = {"count", "seed_crlf.csv", "--key", "2"}, .expected_stdout = "seed.csv"},
      {.name = "SeedKeyByName", .args = {"count", "seed_crlf.csv", "--key", "SampleID"}, .expected_stdout = "seed.csv"},
      {.name = "SeedKeyFirstColumnWithSpacesInKeys",
       .args = {"count", "seed_crlf.csv", "-k", "1"},
       .expected_stdout = "seed_key1.csv"},
      {.name = "SeedShortOptions",
       .args = {"count", "-k", "SampleID", "-d", ",", "-j", "1", "-f", "csv", "seed_crlf.csv"},
       .expected_stdout = "seed.csv"},
      {.name = "SeedBackendCpu", .args = {"count", "seed_crlf.csv", "--backend", "cpu"}, .expected_stdout = "seed.csv"},
      {.name = "SeedBackendAuto",
       .args = {"count", "seed_crlf.csv", "--backend", "auto"},
       .expected_stdout = "seed.csv"},
      {.name = "SeedOneThread", .args = {"count", "seed_crlf.csv", "--threads", "1"}, .expected_stdout = "seed.csv"},
      {.name = "SeedQuietPrintsNothingOnStderr",
       .args = {"count", "seed_crlf.csv", "-q"},
       .expected_stdout = "seed.csv"},
      {.name = "SeedVerboseNamesTheBackend",
       .args = {"count", "seed_crlf.csv", "--backend", "cpu", "--verbose"},
       .expected_stdout = "seed.csv",
       .stderr_has = {"backend cpu", "30 rows", "7 distinct keys"}},
      {.name = "TwoInputsCountsSummed",
       .args = {"count", "seed_crlf.csv", "seed_crlf_b.csv"},
       .expected_stdout = "seed_two_files.csv"},
      {.name = "TwoInputsWithTheKeyInDifferentColumns",
       .args = {"count", "seed_crlf.csv", "layout_key_first.csv"},
       .expected_stdout = "two_files_different_layout.csv"},
      {.name = "EmptyInputAmongOthersIsSkippedWithAWarning",
       .args = {"count", "empty.csv", "seed_crlf.csv"},
       .expected_stdout = "seed.csv",
       .stderr_has = {"empty.csv: the input is empty"}},
      {.name = "StandardInput", .args = {"count", "-"}, .stdin_file = "seed_crlf.csv", .expected_stdout = "seed.csv"},
      {.name = "StandardInputWithAFile",
       .args = {"count", "seed_crlf_b.csv", "-"},
       .stdin_file = "seed_crlf.csv",
       .expected_stdout = "seed_two_files.csv"},

      // -- quoting and line endings --
      {.name = "QuotedHeaderNames",
       .args = {"count", "quoted_header.csv", "--key", "Sample, ID"},
       .expected_stdout = "quoted_header.csv"},
      {.name = "QuotedKeysWithDelimiterDoubledQuoteAndNewlineKeyNotLast",
       .args = {"count", "quoted_keys.csv"},
       .expected_stdout = "quoted_keys.csv"},
      {.name = "QuotedKeysTsvEscapesNewline",
       .args = {"count", "quoted_keys.csv", "--format", "tsv"},
       .expected_stdout = "quoted_keys.tsv"},
      {.name = "QuotedKeysJsonEscapesQuoteAndNewline",
       .args = {"count", "quoted_keys.csv", "--format", "json"},
       .expected_stdout = "quoted_keys.json"},
      {.name = "MultiLineQuotedFieldsInOtherColumns",
       .args = {"count", "multiline_other_fields.csv"},
       .expected_stdout = "s1_2_s2_1_s3_1.csv"},
      {.name = "Utf8KeysInByteOrder", .args = {"count", "utf8_keys.csv"}, .expected_stdout = "utf8_keys.csv"},
      {.name = "Utf8KeysJsonPassThrough",
       .args = {"count", "utf8_keys.csv", "-f", "json"},
       .expected_stdout = "utf8_keys.json"},
      {.name = "LeadingAndTrailingSpacesKeptByteExact",
       .args = {"count", "spaces_in_keys.csv"},
       .expected_stdout = "spaces_in_keys.csv"},
      {.name = "EmptyKeyQuotedOrNotIsOneKey", .args = {"count", "empty_key.csv"}, .expected_stdout = "empty_key.csv"},
      {.name = "BinaryKeysWithNulAndInvalidUtf8KeptByteExact",
       .args = {"count", "binary_keys.csv"},
       .expected_stdout = "binary_keys.csv"},
      {.name = "BinaryKeysJsonEscapesControlsAndReplacesInvalidUtf8",
       .args = {"count", "binary_keys.csv", "--format", "json"},
       .expected_stdout = "binary_keys.json"},
      {.name = "BlankLinesSkipped", .args = {"count", "blank_lines.csv"}, .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "MixedCrlfAndLfKeyInLastColumn", .args = {"count", "mixed_eol.csv"}, .expected_stdout = "mixed_eol.csv"},
      {.name = "LastLineWithoutNewline", .args = {"count", "no_final_newline.csv"}, .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "QuotedLastLineWithoutNewline",
       .args = {"count", "no_final_newline_quoted.csv"},
       .expected_stdout = "s1_1_s2_2.csv"},
      {.name = "Utf8BomBeforeHeader", .args = {"count", "bom.csv"}, .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "Utf8BomBeforeQuotedHeader", .args = {"count", "bom_quoted_header.csv"}, .expected_stdout = "s1_1.csv"},
      {.name = "Utf8BomOnStandardInput",
       .args = {"count", "-"},
       .stdin_file = "bom.csv",
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "DelimiterSemicolon",
       .args = {"count", "semicolon.csv", "--delimiter", ";"},
       .expected_stdout = "semicolon.csv"},
      {.name = "DelimiterTabByName",
       .args = {"count", "tab.csv", "--delimiter", "tab"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "DelimiterTabAsBackslashT",
       .args = {"count", "tab.csv", "--delimiter", "\\t"},
       .expected_stdout = "s1_2_s2_1.csv"},
      // -- UTF-16 with a byte order mark (Excel's "Unicode text"), transcoded to UTF-8 --
      {.name = "Utf16LittleEndianTabSeparated",
       .args = {"count", "utf16le_tab.txt"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "Utf16BigEndianWithSurrogatePairsAndQuotes",
       .args = {"count", "utf16be.csv"},
       .expected_stdout = "utf16be.csv"},
      {.name = "Utf16InsideGzip",
       .args = {"count", "utf16be.csv.gz"},
       .expected_stdout = "utf16be.csv"},
      {.name = "Utf16OnStandardInput",
       .args = {"count", "-"},
       .stdin_file = "utf16be.csv",
       .expected_stdout = "utf16be.csv"},
      {.name = "Utf16UnpairedSurrogateIsAnError",
       .args = {"count", "utf16_bad.csv"},
       .exit_code = 1,
       .stderr_has = {"utf16_bad.csv", "unpaired UTF-16 surrogate", "hint:"}},
      // -- preambles before the header: --comment and --skip (quotes in them do not matter) --
      {.name = "CommentLinesBeforeTheHeaderAreLeftOut",
       .args = {"count", "lims_preamble.csv", "--comment", "#"},
       .expected_stdout = "s1_2_s2_1.csv"},
      // -- composite keys: --key A,B (names or numbers), one column per part before count, in every mode --
      {.name = "CompositeKeyByNames", .args = {"count", "composite.csv", "--key", "SampleID,Assay"},
       .expected_stdout = "composite.csv"},
      {.name = "CompositeKeyJson", .args = {"count", "composite.csv", "--key", "SampleID,Assay", "-f", "json"},
       .expected_stdout = "composite.json"},
      {.name = "CompositeKeyStats", .args = {"count", "composite.csv", "--key", "SampleID,Assay", "--stats"},
       .expected_stdout = "composite_stats.csv"},
      {.name = "CompositeKeyPerDayInAnyColumnOrder",
       .args = {"count", "composite.csv", "--key", "Assay,SampleID", "--per", "day", "-f", "ndjson"},
       .expected_stdout = "composite_per_day.ndjson"},
      {.name = "CompositeKeyNaturalOrderColumnByColumn",
       .args = {"count", "composite.csv", "--key", "2,3", "--sort", "natural"},
       .expected_stdout = "composite_natural.csv"},
      {.name = "CompositeKeyWithoutHeaderNamesKey1Key2",
       .args = {"count", "composite_no_header.csv", "--no-header", "--key", "2,3", "-f", "tsv"},
       .expected_stdout = "composite_no_header.tsv"},
      {.name = "CompositeKeyLooseNamesMatch", .args = {"count", "composite.csv", "--key", "sampleid, assay"},
       .expected_stdout = "composite.csv"},
      {.name = "CompositeKeyQuotedNameWithAComma",
       .args = {"count", "quoted_header.csv", "--key", "\"Sample, ID\",Test Time"},
       .expected_stdout = "quoted_header_composite.csv"},
      {.name = "SingleKeyQuotedBecauseOfItsComma",
       .args = {"count", "quoted_header.csv", "--key", "\"Sample, ID\""},
       .expected_stdout = "quoted_header.csv"},
      // -- the day order of slash dates, from each input's first rows (quoted fields and a last row without LF too)
      {.name = "QuotedDatesWithADayAbove12AreReadDayFirst",
       .args = {"count", "quoted_day_first.csv", "--stats"},
       .expected_stdout = "quoted_day_first_stats.csv"},
      {.name = "InputsReadInDifferentDayOrdersGetAWarning",
       .args = {"count", "quoted_day_first.csv", "no_day_above_12.csv", "--per", "month"},
       .expected_stdout = "day_orders_per_month.csv",
       .stderr_has = {"no_day_above_12.csv reads its dates month first (nothing in its first rows tells)",
                      "--time-format"}},
      {.name = "CompositeKeyColumnTwiceIsRefused", .args = {"count", "composite.csv", "--key", "SampleID,2"},
       .exit_code = 2,
       .stderr_has = {"names column 2 'SampleID' twice"}},
      {.name = "CompositeKeyUnknownPartSaysWhich", .args = {"count", "composite.csv", "--key", "SampleID,Asay"},
       .exit_code = 1,
       .stderr_has = {"no column named 'Asay'", "did you mean --key 'Assay'"}},
      {.name = "MergeOfCompositeKeyTablesInAnyFormat",
       .args = {"merge", "expected/composite.csv", "expected/composite.json"},
       .expected_stdout = "composite_doubled.csv"},
      {.name = "CommentLinesAmongTheRowsAreLeftOut",
       .args = {"count", "comments_among_rows.csv", "--comment", "#"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "CommentLinesAmongTheRowsAreLeftOutWithStats",
       .args = {"count", "comments_among_rows.csv", "--comment", "#", "--stats", "-j", "1", "--chunk-size", "7"},
       .expected_stdout = "comments_among_rows_stats.csv"},
      {.name = "CommentLinesAmongTheRowsWithoutCommentAreBadRows",
       .args = {"count", "comments_among_rows.csv", "--skip", "1"},
       .exit_code = 1,
       .stderr_has = {"comments_among_rows.csv:4:", "--comment"}},
      {.name = "SkipLeavesOutLeadingLinesThenTheDelimiterIsDetected",
       .args = {"count", "two_line_preamble.csv", "--skip", "2"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "StdinWithSkip",
       .args = {"count", "-", "--skip", "2"},
       .stdin_file = "two_line_preamble.csv",
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "InvalidComment",
       .args = {"count", "lims_preamble.csv", "--comment", "##"},
       .exit_code = 2,
       .stderr_has = {"--comment", "one character"}},
      // -- the delimiter detected from the header among , ; TAB |, or Excel's sep= line --
      {.name = "DelimiterSemicolonDetected", .args = {"count", "semicolon.csv"}, .expected_stdout = "semicolon.csv"},
      {.name = "DelimiterTabDetected", .args = {"count", "tab.csv"}, .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "DelimiterPipeDetectedOutsideQuotes",
       .args = {"count", "pipe.csv"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "ExcelSepLineSetsTheDelimiterAndIsSkipped",
       .args = {"count", "excel_sep_line.csv"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "LoneCrLineEndsAreReadAsLineEnds",
       .args = {"count", "cr_only.csv", "--verbose"},
       .expected_stdout = "s1_2_s2_1.csv",
       .stderr_has = {"cr_only.csv: records end in a lone CR"}},
      {.name = "DetectedDelimiterIsSaidUnderVerbose",
       .args = {"count", "semicolon.csv", "--verbose"},
       .expected_stdout = "semicolon.csv",
       .stderr_has = {"semicolon.csv: delimiter ';' (detected from the header)"}},
      {.name = "DelimiterTabCharacter", .args = {"count", "tab.csv", "-d", "\t"}, .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "NoHeaderKeyByNumberHeaderIsKey",
       .args = {"count", "no_header.csv", "--no-header", "--key", "2"},
       .expected_stdout = "no_header.csv"},
      {.name = "NoHeaderUtf8BomIsNotPartOfTheFirstKey",
       .args = {"count", "bom_no_header.csv", "--no-header", "--key", "1"},
       .expected_stdout = "no_header.csv"},
      {.name = "HeaderNameThatIsANumberWinsOverColumnNumber",
       .args = {"count", "numeric_header_name.csv", "--key", "2"},
       .expected_stdout = "numeric_header_name.csv"},

      // -- empty and header-only inputs --
      {.name = "EmptyFilePrintsHeaderOnly",
       .args = {"count", "empty.csv"},
       .expected_stdout = "header_only.csv",
       .stderr_has = {"empty.csv: the input is empty"}},
      {.name = "EmptyFileJsonIsEmptyArray",
       .args = {"count", "empty.csv", "--format", "json"},
       .expected_stdout = "empty.json",
       .stderr_has = {"empty"}},
      {.name = "EmptyFileQuietPrintsNothingOnStderr",
       .args = {"count", "empty.csv", "--quiet"},
       .expected_stdout = "header_only.csv"},
      {.name = "EmptyStandardInput",
       .args = {"count", "-"},
       .stdin_file = "empty.csv",
       .expected_stdout = "header_only.csv",
       .stderr_has = {"<stdin>: the input is empty"}},
      {.name = "EmptyFileNoHeaderHeaderIsKey",
       .args = {"count", "empty.csv", "--no-header", "--key", "2"},
       .expected_stdout = "key_header_only.csv",
       .stderr_has = {"empty"}},
      {.name = "BomAndBlankLinesOnlyIsEmpty",
       .args = {"count", "bom_and_blank_lines_only.csv"},
       .expected_stdout = "header_only.csv",
       .stderr_has = {"the input is empty"}},
      {.name = "HeaderOnlyFile", .args = {"count", "header_only.csv"}, .expected_stdout = "header_only.csv"},
      {.name = "HeaderOnlyFileWithoutNewline",
       .args = {"count", "header_only_no_newline.csv"},
       .expected_stdout = "header_only.csv"},
      {.name = "HeaderOnlyFileJsonIsEmptyArray",
       .args = {"count", "header_only.csv", "-f", "json"},
       .expected_stdout = "empty.json"},

      // -- bad input: exit code, and stderr says what, where and how to fix it --
      {.name = "MissingInputFileExits3",
       .args = {"count", "no_such_file.csv"},
       .exit_code = 3,
       .stderr_has = {"no_such_file.csv", "No such file", "hint"}},
      {.name = "MissingSecondInputExits3",
       .args = {"count", "seed_crlf.csv", "no_such_file.csv"},
       .exit_code = 3,
       .stderr_has = {"no_such_file.csv", "hint"}},
      {.name = "DirectoryInputExits3",
       .args = {"count", "expected"},
       .exit_code = 3,
       .stderr_has = {"expected", "directory", "hint"}},
      {.name = "MissingKeyColumnListsTheColumns",
       .args = {"count", "seed_crlf.csv", "--key", "Sample"},
       .exit_code = 1,
       .stderr_has = {"seed_crlf.csv:1:", "no column named 'Sample'", "1:TestTime, 2:SampleID", "hint"}},
      {.name = "MissingKeyColumnSuggestsTheNearestName",
       .args = {"count", "seed_crlf.csv", "--key", "SampleIDs"},
       .exit_code = 1,
       .stderr_has = {"seed_crlf.csv:1:", "hint", "did you mean --key 'SampleID'"}},
      {.name = "KeyMatchesIgnoringCaseAndSeparators",
       .args = {"count", "seed_crlf.csv", "--key", "sample_id", "--verbose"},
       .expected_stdout = "seed.csv",
       .stderr_has = {"--key sample_id matched column 2 'SampleID' (ignoring case and separators)"}},
      {.name = "DuplicateKeyColumnIsAnErrorListingBoth",
       .args = {"count", "duplicate_header_name.csv"},
       .exit_code = 1,
       .stderr_has = {"duplicate_header_name.csv:1:", "ambiguous", "columns 1 and 3", "--key 1 or --key 3"}},
      {.name = "EmptyHeaderNameStaysEmptyInTheOutput",
       .args = {"count", "empty_header_name.csv", "--key", "2"},
       .expected_stdout = "empty_header_name.csv"},
      {.name = "MissingKeyColumnDefaultKeyOnWrongDelimiterSuggestsDelimiter",
       .args = {"count", "semicolon.csv", "--delimiter", ","},
       .exit_code = 1,
       .stderr_has = {"semicolon.csv:1:", "SampleID", "hint", "--delimiter"}},
      {.name = "MissingKeyColumnAfterBlankLinesNamesTheHeaderLine",
       .args = {"count", "blank_lines.csv", "--key", "Nope"},
       .exit_code = 1,
       .stderr_has = {"blank_lines.csv:3:", "no column named 'Nope'", "hint"}},
      {.name = "KeyNumberOutOfRange",
       .args = {"count", "seed_crlf.csv", "--key", "5"},
       .exit_code = 1,
       .stderr_has = {"seed_crlf.csv", "--key 5 is out of range", "2 columns", "hint"}},
      {.name = "KeyNumberZeroIsOutOfRange",
       .args = {"count", "seed_crlf.csv", "--key", "0"},
       .exit_code = 1,
       .stderr_has = {"seed_crlf.csv", "out of range", "hint"}},
      {.name = "KeyNumberOutOfRangeNamesTheHeaderLine",
       .args = {"count", "seed_crlf.csv", "--key", "5"},
       .exit_code = 1,
       .stderr_has = {"seed_crlf.csv:1:", "out of range"}},
      {.name = "NoHeaderWithKeyNameIsAUsageError",
       .args = {"count", "no_header.csv", "--no-header"},
       .exit_code = 2,
       .stderr_has = {"no_header.csv", "--no-header", "hint", "--key 2"}},
      {.name = "TooFewFieldsNamesFileAndLine",
       .args = {"count", "few_fields.csv"},
       .exit_code = 1,
       .stderr_has = {"few_fields.csv:4:", "too few fields", "expected 2, found 1", "hint", "--on-bad-row"}},
      {.name = "TooFewFieldsOnStandardInputNamesStdin",
       .args = {"count", "-"},
       .stdin_file = "few_fields.csv",
       .exit_code = 1,
       .stderr_has = {"<stdin>:4:", "too few fields", "hint"}},
      {.name = "TooFewFieldsInTheSecondInputNamesThatInput",
       .args = {"count", "seed_crlf.csv", "few_fields.csv"},
       .exit_code = 1,
       .stderr_has = {"few_fields.csv:4:", "too few fields", "hint"}},
      {.name = "BadRowLineNumberCountsBlankLines",
       .args = {"count", "blank_lines_then_bad_row.csv"},
       .exit_code = 1,
       .stderr_has = {"blank_lines_then_bad_row.csv:6:", "too few fields", "hint"}},
      {.name = "BadRowLineNumberCountsNewlinesInsideQuotes",
       .args = {"count", "multiline_then_bad_row.csv"},
       .exit_code = 1,
       .stderr_has = {"multiline_then_bad_row.csv:7:", "too few fields", "hint"}},
      {.name = "TooManyFieldsNamesFileAndLine",
       .args = {"count", "many_fields.csv"},
       .exit_code = 1,
       .stderr_has = {"many_fields.csv:3:", "too many fields", "expected 2, found 3", "hint"}},
      {.name = "UnterminatedQuoteNamesTheOpeningLine",
       .args = {"count", "unterminated_quote.csv"},
       .exit_code = 1,
       .stderr_has = {"unterminated_quote.csv:3:", "unterminated", "hint"}},
      {.name = "UnterminatedQuoteInHeader",
       .args = {"count", "unterminated_quote_in_header.csv"},
       .exit_code = 1,
       .stderr_has = {"unterminated_quote_in_header.csv:1:", "unterminated", "header", "hint"}},
      {.name = "StrayQuoteInUnquotedField",
       .args = {"count", "stray_quote.csv"},
       .exit_code = 1,
       .stderr_has = {"stray_quote.csv:3:", "stray quote", "hint"}},
      {.name = "StrayQuoteTextAfterClosingQuote",
       .args = {"count", "text_after_closing_quote.csv"},
       .exit_code = 1,
       .stderr_has = {"text_after_closing_quote.csv:3:", "stray quote", "hint"}},
      {.name = "OnBadRowErrorIsTheDefault",
       .args = {"count", "few_fields.csv", "--on-bad-row", "error"},
       .exit_code = 1,
       .stderr_has = {"few_fields.csv:4:", "hint"}},
      {.name = "OnBadRowSkipCountsTheRestAndSummarizes",
       .args = {"count", "few_fields.csv", "--on-bad-row", "skip"},
       .expected_stdout = "s1_2_s2_1.csv",
       .stderr_has = {"left out 1 bad row", "3 rows counted"}},
      {.name = "OnBadRowSkipQuietPrintsNothingOnStderr",
       .args = {"count", "few_fields.csv", "--on-bad-row", "skip", "--quiet"},
       .expected_stdout = "s1_2_s2_1.csv"},
      {.name = "OnBadRowWarnListsTheLine",
       .args = {"count", "few_fields.csv", "--on-bad-row", "warn"},
       .expected_stdout = "s1_2_s2_1.csv",
       .stderr_has = {"few_fields.csv:4:", "too few fields", "left out 1 bad row"}},
      {.name = "OnBadRowSkipTooManyFields",
       .args = {"count", "many_fields.csv", "--on-bad-row", "skip"},
       .expected_stdout = "s1_2.csv",
       .stderr_has = {"left out 1 bad row"}},
      // Once an unterminated quote under skip counted the rows before it and said "left out 1 bad row":
      // the quote swallowed the rest of the input, which is never one bad row.
      {.name = "OnBadRowSkipUnterminatedQuoteIsABadInput",
       .args = {"count", "unterminated_quote.csv", "--on-bad-row", "skip"},
       .exit_code = 1,
       .stderr_has = {"unterminated_quote.csv:3:", "never closes", "the remaining 2 lines (9 B) are one field",
                      "hint"}},
      // A stray quote in an unquoted field (y"z) makes the quotes odd too: the rest of the input is one field.
      {.name = "OnBadRowSkipStrayQuoteThatSwallowsTheRestIsABadInput",
       .args = {"count", "stray_quote_swallows_the_rest.csv", "--key", "k", "--on-bad-row", "skip"},
       .exit_code = 1,
       .stderr_has = {"stray_quote_swallows_the_rest.csv:3:", "stray quote: the quote here never closes",
                      "the remaining 3 lines (11 B) are one field"}},
      {.name = "OnBadRowWarnUnterminatedQuoteIsABadInput",
       .args = {"count", "unterminated_quote.csv", "--on-bad-row", "warn"},
       .exit_code = 1,
       .stderr_has = {"unterminated_quote.csv:3:", "never closes", "the remaining 2 lines (9 B) are one field"}},
      {.name = "OnBadRowErrorUnterminatedQuoteSaysWhatItSwallowed",
       .args = {"count", "unterminated_quote.csv", "--on-bad-row", "error", "--chunk-size", "1"},
       .exit_code = 1,
       .stderr_has = {"unterminated_quote.csv:3:", "never closes", "the remaining 2 lines (9 B) are one field"}},
      {.name = "OnBadFileSkipLeavesOutAnInputWithAnUnterminatedQuote",
       .args = {"count", "seed_crlf.csv", "unterminated_quote.csv", "--on-bad-row", "skip", "--on-bad-file", "skip"},
       .expected_stdout = "seed.csv",
       .stderr_has = {"left out 1 of 2 inputs", "unterminated_quote.csv:3:", "never closes"}},
      {.name = "MaxBadRowsStopsPastTheLimit",
       .args = {"count", "few_fields.csv", "--on-bad-row", "skip", "--max-bad-rows", "0"},
       .exit_code = 1,
       .stderr_has = {"more than 0 bad rows", "--max-bad-rows", "hint"}},
      {.name = "MaxBadRowsAtTheLimitCounts",
       .args = {"count", "few_fields.csv", "--on-bad-row", "warn", "--max-bad-rows", "1"},
       .expected_stdout = "s1_2_s2_1.csv",
       .stderr_has = {"left out 1 bad row of 4 (25%"}},
      {.name = "StrayQuoteInTheHeaderIsAStrayQuote",
       .args = {"count", "stray_quote_in_header.csv"},
       .exit_code = 1,
       .stderr_has = {"stray_quote_in_header.csv:1:", "stray quote in the header", "hint"}},
      // Once the same file named twice under --per-file gave two rows for one (file, key).
      {.name = "PerFileInputNamedTwiceIsCountedOnce",
       .args = {"count", "seed_crlf.csv", "seed_crlf.csv", "--per-file"},
       .expected_stdout = "seed_per_file_once.csv",
       .stderr_has = {"seed_crlf.csv is the same file as seed_crlf.csv, given before: counted once"}},
      // Once every row bad under skip printed an empty table and exited 0.
      {.name = "AllRowsBadUnderSkipIsAnError",
       .args = {"count", "all_rows_bad.csv", "--on-bad-row", "skip"},
       .exit_code = 1,
       .stderr_has = {"no rows counted: all 2 data rows were bad", "--on-bad-row skip", "hint"}},
      {.name = "AllRowsBadUnderWarnListsThemAndFails",
       .args = {"count", "all_rows_bad.csv", "--on-bad-row", "warn"},
       .exit_code = 1,
       .stderr_has = {"all_rows_bad.csv:2:", "all_rows_bad.csv:3:", "no rows counted"}},
      {.name = "EveryInputLeftOutIsAnError",
       .args = {"count", "few_fields.csv", "all_rows_bad.csv", "--on-bad-file", "skip"},
       .exit_code = 1,
       .stderr_has = {"left out 2 of 2 inputs", "no rows counted: every input was left out"}},
      {.name = "MaxBadRowsNeedsSkipOrWarn",
       .args = {"count", "few_fields.csv", "--max-bad-rows", "3"},
       .exit_code = 2,
       .stderr_has = {"--max-bad-rows applies to --on-bad-row skip or warn"}},
      {.name = "OnBadRowSkipSummarySaysOneRowSingular",
       .args = {"count", "one_good_one_bad.csv", "--on-bad-row", "skip"},
       .expected_stdout = "s1_1.csv",
       .stderr_has = {"left out 1 bad row", "1 row counted"}},
      {.name = "OnBadRowWarnStrayQuote",
       .args = {"count", "stray_quote.csv", "--on-bad-row", "warn"},
       .expected_stdout = "s1_1_s3_1.csv",
       .stderr_has = {"stray_quote.csv:3:", "stray quote", "left out 1 bad row"}},

      // -- invalid command lines exit 2 --
      {.name = "InvalidFormatXml",
       .args = {"count", "seed_crlf.csv", "--format", "xml"},
       .exit_code = 2,
       .stderr_has = {"xml", "hint", "csv, tsv, json"}},
      {.name = "InvalidSortSize",
       .args = {"count", "seed_crlf.csv", "--sort", "size"},
       .exit_code = 2,
       .stderr_has = {"size", "hint"}},
      {.name = "InvalidOnBadRowNope",
       .args = {"count", "seed_crlf.csv", "--on-bad-row", "nope"},
       .exit_code = 2,
       .stderr_has = {"nope", "hint"}},
      {.name = "InvalidThreadsZero",
       .args = {"count", "seed_crlf.csv", "--threads", "0"},
       .exit_code = 2,
       .stderr_has = {"--threads"}},
      {.name = "InvalidDelimiterTwoCharacters",
       .args = {"count", "seed_crlf.csv", "--delimiter", "ab"},
       .exit_code = 2,
       .stderr_has = {"'ab'", "one character", "hint"}},
      {.name = "InvalidDelimiterQuote",
       .args = {"count", "seed_crlf.csv", "--delimiter", "\""},
       .exit_code = 2,
       .stderr_has = {"--delimiter", "hint"}},
      {.name = "InvalidBackendName",
       .args = {"count", "seed_crlf.csv", "--backend", "tpu"},
       .exit_code = 2,
       .stderr_has = {"tpu", "hint"}},
      {.name = "InvalidTopNegative",
       .args = {"count", "seed_crlf.csv", "--top", "-1"},
       .exit_code = 2,
       .stderr_has = {"--top"}},
      {.name = "InvalidTopNotANumber",
       .args = {"count", "seed_crlf.csv", "--top", "ten"},
       .exit_code = 2,
       .stderr_has = {"--top"}},
      {.name = "InvalidChunkSizeZero",
       .args = {"count", "seed_crlf.csv", "--chunk-size", "0"},
       .exit_code = 2,
       .stderr_has = {"--chunk-size"}},
      {.name = "InvalidUnknownOption",
       .args = {"count", "seed_crlf.csv", "--frobnicate"},
       .exit_code = 2,
       .stderr_has = {"--frobnicate"}},
      {.name = "QuietAndVerboseContradict",
       .args = {"count", "seed_crlf.csv", "--quiet", "--verbose"},
       .exit_code = 2,
       .stderr_has = {"--quiet", "--verbose", "hint"}},
      {.name = "StandardInputTwice", .args = {"count", "-", "-"}, .exit_code = 2, .stderr_has = {"more than once"}},
      // -- the parser's own errors, in labcount's format, with a "did you mean" --
      {.name = "CountWithoutInputs",
       .args = {"count"},
       .exit_code = 2,
       .stderr_has = {"labcount: error: no input given to `labcount count`", "hint: give CSV files"}},
      {.name = "NoSubcommand",
       .args = {},
       .exit_code = 2,
       .stderr_has = {"labcount: error: no command given", "hint:"}},
      {.name = "UnknownOptionSuggestsTheNearestOne",
       .args = {"count", "seed_crlf.csv", "--kye", "2"},
       .exit_code = 2,
       .stderr_has = {"labcount: error: unknown option --kye for `labcount count`", "hint: did you mean --key?"}},
      {.name = "UnknownOptionOfMergeSuggestsItsOwn",
       .args = {"merge", "seed_crlf.csv", "--srot", "key"},
       .exit_code = 2,
       .stderr_has = {"unknown option --srot for `labcount merge`", "did you mean --sort?"}},
      {.name = "UnknownOptionFarFromAllSaysWhereToLook",
       .args = {"count", "seed_crlf.csv", "--zzzzzzzz"},
       .exit_code = 2,
       .stderr_has = {"unknown option --zzzzzzzz", "see `labcount count --help`"}},
      {.name = "UnknownCommandSuggestsTheNearestOne",
       .args = {"cont", "seed_crlf.csv"},
       .exit_code = 2,
       .stderr_has = {"labcount: error: unknown command 'cont'", "did you mean `labcount count`?"}},
      {.name = "VersionAsACommandPointsToTheFlag",
       .args = {"version"},
       .exit_code = 2,
       .stderr_has = {"unknown command 'version'", "did you mean --version?"}},
      {.name = "MisspelledTopLevelFlag",
       .args = {"--versoin"},
       .exit_code = 2,
       .stderr_has = {"unknown option --versoin", "did you mean --version?"}},
      {.name = "MissingOptionValueNamesTheOption",
       .args = {"count", "seed_crlf.csv", "--key"},
       .exit_code = 2,
       .stderr_has = {"labcount: error: --key needs a value", "hint: -k,--key: Key column"}},
      {.name = "OutOfRangeValueNamesTheOption",
       .args = {"count", "seed_crlf.csv", "-j", "0"},
       .exit_code = 2,
       .stderr_has = {"labcount: error: invalid value: --threads", "hint: -j,--threads"}},
      {.name = "RepeatedOptionTakesTheLastValue",
       .args = {"count", "seed_crlf.csv", "--key", "TestTime", "--key", "SampleID"},
       .expected_stdout = "seed.csv"},
      {.name = "EmptyOutputPathIsRejected",
       .args = {"count", "seed_crlf.csv", "-o", ""},
       .exit_code = 2,
       .stderr_has = {"the output path is empty", "hint"}},

      // -- output paths that cannot work exit 3 --
      {.name = "OutputInMissingDirectoryExits3",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@/missing/counts.csv"},
       .exit_code = 3,
       .stderr_has = {"missing/counts.csv", "hint"}},
      {.name = "OutputIsADirectoryExits3",
       .args = {"count", "seed_crlf.csv", "-o", "@TMP@"},
       .exit_code = 3,
       .stderr_has = {"directory", "hint"}},
  };
  return cases;
}
#pragma GCC diagnostic pop

class CliGolden : public ::testing::TestWithParam<cli_case> {};

TEST_P(CliGolden, Run) {
  const cli_case& c = GetParam();
  if (!c.known_bug.empty()) GTEST_SKIP() << "known bug: " << c.known_bug;
  temp_dir tmp;
  std::vector<std::string> args;
  for (const auto& a : c.args) args.push_back(replace_all(a, "@TMP@", tmp.path().string()));
  const run_result r = run_labcount(args, c.stdin_file.empty() ? fs::path() : data_dir / c.stdin_file);

  ASSERT_EQ(r.signal, 0) << describe_run(r);
  EXPECT_EQ(r.exit_code, c.exit_code) << describe_run(r);
  const std::string expected = c.expected_stdout.empty() ? std::string() : read_file(expected_dir / c.expected_stdout);
  EXPECT_TRUE(r.out == expected) << "stdout differs from " << (c.expected_stdout.empty() ? "\"\"" : c.expected_stdout)
                                 << "\n--- expected ---\n"
                                 << printable(expected) << "\n--- got ---\n"
                                 << printable(r.out);
  for (const auto& s : c.stderr_has)
    EXPECT_NE(r.err.find(s), std::string::npos) << "stderr lacks \"" << s << "\":\n" << r.err;
  if (c.stderr_has.empty() && c.exit_code == 0) {
    EXPECT_EQ(r.err, "");
  }
  if (c.exit_code != 0) {
    EXPECT_NE(r.err, "") << "a failing run must say why";
  }
  if (!c.output_file.empty()) {
    const fs::path written = tmp.path() / c.output_file;
    ASSERT_TRUE(fs::exists(written)) << describe_run(r);
    const std::string want = read_file(expected_dir / c.expected_output);
    const std::string got = read_file(written);
    EXPECT_TRUE(got == want) << "--- expected ---\n" << printable(want) << "\n--- got ---\n" << printable(got);
  }
  EXPECT_FALSE(has_temp_leftover(tmp.path()));
}

INSTANTIATE_TEST_SUITE_P(Cli, CliGolden, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<cli_case>& info) { return info.param.name; });

// ---- Every golden count on the GPU, against the CPU (ctest label gpu; skips without a usable GPU) -------------

// Whether `labcount count --backend gpu` can run here (exit 4: no usable GPU, with the reason on stderr).
const std::string& gpu_unusable_reason() {
  static const std::string reason = [] {
    const run_result r = run_labcount({"count", "seed_crlf.csv", "--backend", "gpu"});
    return r.exit_code == 0 ? std::string() : r.err.empty() ? std::string("exit ") + std::to_string(r.exit_code) : r.err;
  }();
  return reason;
}

class CliGoldenOnGpu : public ::testing::TestWithParam<cli_case> {};

// The same arguments with --backend gpu and with --backend cpu: the same stdout, exit code and written file.
// With -j 12 as well, more workers than most machines' threads (each worker streams to the GPU on its own).
TEST_P(CliGoldenOnGpu, SameBytesAsTheCpu) {
  const cli_case& c = GetParam();
  if (!gpu_unusable_reason().empty()) GTEST_SKIP() << "no usable GPU: " << gpu_unusable_reason();
  if (c.args.empty() || c.args[0] != "count" ||
      std::find(c.args.begin(), c.args.end(), "--backend") != c.args.end() || !c.known_bug.empty())
    GTEST_SKIP() << "not a count that picks its backend";
  for (const std::string threads : {"", "12"}) {
    std::string outputs[2];
    int codes[2] = {0, 0};
    const char* backends[2] = {"cpu", "gpu"};
    for (int b = 0; b < 2; ++b) {
      temp_dir tmp;
      std::vector<std::string> args;
      for (const auto& a : c.args) args.push_back(replace_all(a, "@TMP@", tmp.path().string()));
      args.insert(args.end(), {"--backend", backends[b]});
      if (!threads.empty()) args.insert(args.end(), {"-j", threads});
      const run_result r = run_labcount(args, c.stdin_file.empty() ? fs::path() : data_dir / c.stdin_file);
      ASSERT_EQ(r.signal, 0) << describe_run(r);
      codes[b] = r.exit_code;
      outputs[b] = r.out;
      if (!c.output_file.empty() && fs::exists(tmp.path() / c.output_file))
        outputs[b] += "\n--- " + c.output_file + " ---\n" + read_file(tmp.path() / c.output_file);
    }
    EXPECT_EQ(codes[1], codes[0]) << "-j " << threads;
    EXPECT_TRUE(outputs[1] == outputs[0]) << "-j " << threads << "\n--- cpu ---\n"
                                          << printable(outputs[0]) << "\n--- gpu ---\n" << printable(outputs[1]);
  }
}

INSTANTIATE_TEST_SUITE_P(Cli, CliGoldenOnGpu, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<cli_case>& info) { return info.param.name; });

// ---- How a file is cut into chunks, and by how many threads, never changes the result -------------

struct chunk_case {
  std::string input;
  std::vector<std::string> extra_args;
  std::string expected_stdout;  // empty: the run fails ...
  std::string stderr_has;       // ... and stderr has this (the bad row's file:line)
};

TEST(CliChunking, ChunkSizeAndThreadsDoNotChangeResultsOrBadRowLines) {
  const std::vector<chunk_case> cases = {
      {"seed_crlf.csv", {}, "seed.csv", ""},
      {"quoted_keys.csv", {}, "quoted_keys.csv", ""},
      {"multiline_other_fields.csv", {}, "s1_2_s2_1_s3_1.csv", ""},
      {"mixed_eol.csv", {}, "mixed_eol.csv", ""},
      {"blank_lines.csv", {}, "s1_2_s2_1.csv", ""},
      {"no_final_newline_quoted.csv", {}, "s1_1_s2_2.csv", ""},
      {"bom.csv", {}, "s1_2_s2_1.csv", ""},
      {"spaces_in_keys.csv", {}, "spaces_in_keys.csv", ""},
      {"few_fields.csv", {"--on-bad-row", "skip"}, "s1_2_s2_1.csv", ""},
      {"few_fields.csv", {}, "", ":4:"},
      {"blank_lines_then_bad_row.csv", {}, "", ":6:"},
      {"multiline_then_bad_row.csv", {}, "", ":7:"},
      {"unterminated_quote.csv", {}, "", ":3:"},
  };
  for (const auto& c : cases) {
    for (const char* chunk : {"1", "3", "64", "65"}) {
      for (const char* threads : {"1", "2"}) {
        for (const bool use_stdin : {false, true}) {
          std::vector<std::string> args = {"count", use_stdin ? "-" : c.input, "--chunk-size", chunk, "-j", threads};
          args.insert(args.end(), c.extra_args.begin(), c.extra_args.end());
          SCOPED_TRACE(c.input + " --chunk-size " + chunk + " -j " + threads + (use_stdin ? " (stdin)" : ""));
          const run_result r = run_labcount(args, use_stdin ? data_dir / c.input : fs::path());
          ASSERT_EQ(r.signal, 0) << describe_run(r);
          if (c.expected_stdout.empty()) {
            EXPECT_EQ(r.exit_code, 1) << describe_run(r);
            EXPECT_EQ(r.out, "");
            EXPECT_NE(r.err.find((use_stdin ? "<stdin>" : c.input) + c.stderr_has), std::string::npos) << r.err;
          } else {
            EXPECT_EQ(r.exit_code, 0) << describe_run(r);
            EXPECT_EQ(printable(r.out), printable(read_file(expected_dir / c.expected_stdout)));
          }
        }
      }
    }
  }
}

// ---- Generated inputs ------------------------------------------------------------------------------

// RFC 4180 quoting as labcount writes it: quoted when the key holds a delimiter, quote or line break,
// starts or ends with a space, or is empty.
std::string csv_field(const std::string& key) {
  const bool quote =
      key.empty() || key.front() == ' ' || key.back() == ' ' || key.find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) return key;
  std::string field(1, '"');
  field += replace_all(key, "\"", "\"\"");
  field += '"';
  return field;
}

TEST(CliGenerated, ManyKeysMatchAReferenceCount) {
  // Keys from pieces that stress byte order: prefixes of each other, NUL, 0xFF, UTF-8, quotes,
  // delimiters, line breaks, spaces, and 8-byte-aligned common prefixes.
  const std::vector<std::string> pieces = {"A",  "B",   std::string(1, '\0'), "\xff",    "\"", ",", "\n", "\r", " ",
                                           "S1", "S10", "\xc3\xa9",           "AAAAAAAA"};
  std::mt19937_64 rng(42);
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) {
    std::string key;
    for (std::uint64_t n = rng() % 12; n > 0; --n) key += pieces[rng() % pieces.size()];
    keys.push_back(key);
  }
  std::map<std::string, std::uint64_t> reference;  // std::string compares as memcmp: byte order
  std::string input = "TestTime,SampleID,note\r\n";
  for (int row = 0; row < 3000; ++row) {
    // Skewed: a few keys take most rows.
    const std::size_t pool = std::size_t{1} << (rng() % 10);
    const std::string& key = keys[rng() % std::min(pool, keys.size())];
    ++reference[key];
    input += std::to_string(row) + ",\"" + replace_all(key, "\"", "\"\"") + "\",x\r\n";
  }
  temp_dir tmp;
  write_file(tmp.path() / "generated.csv", input);

  std::string by_key = "SampleID,count\n";
  for (const auto& [key, count] : reference) by_key += csv_field(key) + "," + std::to_string(count) + "\n";
  std::vector<std::pair<std::string, std::uint64_t>> rows(reference.begin(), reference.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string by_count = "SampleID,count\n";
  for (const auto& [key, count] : rows) by_count += csv_field(key) + "," + std::to_string(count) + "\n";
  ASSERT_GT(reference.size(), 100u) << "too few distinct keys to exercise the sort";

  for (const auto& extra : std::vector<std::vector<std::string>>{{}, {"--chunk-size", "100", "-j", "2"}}) {
    for (const bool sort_count : {false, true}) {
      std::vector<std::string> args = {"count", (tmp.path() / "generated.csv").string()};
      if (sort_count) args.insert(args.end(), {"--sort", "count"});
      args.insert(args.end(), extra.begin(), extra.end());
      SCOPED_TRACE(std::string(sort_count ? "--sort count" : "--sort key") + (extra.empty() ? "" : " small chunks"));
      const run_result r = run_labcount(args);
      ASSERT_EQ(r.exit_code, 0) << describe_run(r);
      EXPECT_TRUE(r.out == (sort_count ? by_count : by_key)) << "output differs from the reference count";
    }
  }
}

TEST(CliGenerated, VeryLongKeyKeptWhole) {
  const std::string key(100'000, 'K');
  std::string key_a = key;
  key_a.back() = 'a';
  std::string key_b = key;
  key_b.back() = 'b';
  temp_dir tmp;
  // The long key twice (once quoted, once as the last line without a newline), two keys that differ only
  // in their last byte, and a short one.
  write_file(tmp.path() / "long.csv",
             "TestTime,SampleID\r\n1," + key + "\r\n2,\"" + key_b + "\"\r\n3," + key_a + "\r\n4,S1\r\n5," + key);
  const std::string expected = "SampleID,count\n" + key + ",2\n" + key_a + ",1\n" + key_b + ",1\nS1,1\n";
  for (const char* chunk : {"4194304", "4096", "1"}) {
    SCOPED_TRACE(std::string("--chunk-size ") + chunk);
    const run_result r = run_labcount({"count", (tmp.path() / "long.csv").string(), "--chunk-size", chunk, "-j", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.size(), expected.size());
    EXPECT_TRUE(r.out == expected);
  }
  const run_result piped = run_labcount({"count", "-"}, tmp.path() / "long.csv");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_TRUE(piped.out == expected);
}

TEST(CliGenerated, WarnListsTheFirstBadRowsInInputOrder) {
  // 25 bad rows (lines 3, 5, ..., 51) between good ones; small chunks on two threads finish out of order.
  std::string input = "TestTime,SampleID\n";
  for (int i = 0; i < 25; ++i) input += std::to_string(i) + ",S1\nbad\n";
  temp_dir tmp;
  write_file(tmp.path() / "bad_rows.csv", input);
  const run_result r = run_labcount(
      {"count", (tmp.path() / "bad_rows.csv").string(), "--on-bad-row", "warn", "--chunk-size", "16", "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  EXPECT_EQ(r.out, "SampleID,count\nS1,25\n");
  std::size_t from = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string where = "bad_rows.csv:" + std::to_string(3 + 2 * i) + ":";
    const std::size_t at = r.err.find(where, from);
    ASSERT_NE(at, std::string::npos) << "missing or out of order: " << where << "\n" << r.err;
    from = at;
  }
  EXPECT_EQ(r.err.find("bad_rows.csv:43:"), std::string::npos) << "only the first 20 are listed:\n" << r.err;
  EXPECT_NE(r.err.find("and 5 more bad rows"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("left out 25 bad rows"), std::string::npos) << r.err;
}

TEST(CliGenerated, BinaryGarbageNeverCrashes) {
  // Bytes biased towards what a CSV parser reacts to; exit 0 or 1, never a signal or an internal error.
  const std::string specials = std::string("\",\r\n\n;\t \xef\xbb\xbf\xff") + '\0';
  std::mt19937_64 rng(7);
  temp_dir tmp;
  const std::vector<std::vector<std::string>> option_sets = {
      {},
      {"--key", "1", "--on-bad-row", "skip"},
      {"--no-header", "--key", "2", "--on-bad-row", "warn", "--chunk-size", "7", "-j", "2"},
  };
  for (int file = 0; file < 12; ++file) {
    std::string bytes;
    const std::size_t size = static_cast<std::size_t>(rng() % 4096);
    for (std::size_t i = 0; i < size; ++i)
      bytes += rng() % 2 == 0 ? specials[rng() % specials.size()] : static_cast<char>(rng() & 0xFF);
    const fs::path path = tmp.path() / ("garbage" + std::to_string(file) + ".bin");
    write_file(path, bytes);
    for (const auto& options : option_sets) {
      std::vector<std::string> args = {"count", path.string()};
      args.insert(args.end(), options.begin(), options.end());
      SCOPED_TRACE(path.filename().string() + " option set " + std::to_string(&options - option_sets.data()));
      const run_result r = run_labcount(args);
      ASSERT_EQ(r.signal, 0) << describe_run(r);
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << describe_run(r);
      if (r.exit_code != 0) {
        EXPECT_EQ(r.out, "");
      }
    }
  }
}

// ---- Never clobber an existing output -------------------------------------------------------------

TEST(CliNoClobber, FailingRunLeavesExistingOutputByteIdenticalAndNoTempFile) {
  const std::vector<std::pair<std::vector<std::string>, int>> failing = {
      {{"count", "few_fields.csv"}, 1},
      {{"count", "unterminated_quote.csv"}, 1},
      {{"count", "seed_crlf.csv", "--key", "Nope"}, 1},
      {{"count", "seed_crlf.csv", "few_fields.csv"}, 1},
      {{"count", "no_such_file.csv"}, 3},
      {{"count", "seed_crlf.csv", "--format", "xml"}, 2},
  };
  for (const auto& [args, exit_code] : failing) {
    temp_dir tmp;
    const fs::path out = tmp.path() / "counts.csv";
    write_file(out, "OLD");
    std::vector<std::string> with_output = args;
    with_output.insert(with_output.end(), {"-o", out.string()});
    SCOPED_TRACE(args[1]);
    const run_result r = run_labcount(with_output);
    EXPECT_EQ(r.exit_code, exit_code) << describe_run(r);
    EXPECT_EQ(read_file(out), "OLD");
    EXPECT_EQ(list_dir(tmp.path()), std::set<std::string>{"counts.csv"});
  }
}

TEST(CliNoClobber, SuccessfulRunReplacesExistingOutput) {
  temp_dir tmp;
  const fs::path out = tmp.path() / "counts.csv";
  write_file(out, "OLD");
  const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_file(out), read_file(expected_dir / "seed.csv"));
  EXPECT_EQ(list_dir(tmp.path()), std::set<std::string>{"counts.csv"});
}

// Once `count data.csv -o data.csv` replaced the data with its counts.
TEST(CliNoClobber, OutputNamingAnInputIsRefusedAndTheInputKept) {
  temp_dir tmp;
  const fs::path path = tmp.path() / "data.csv";
  fs::copy_file(data_dir / "seed_crlf.csv", path);
  const fs::path link = tmp.path() / "link.csv";
  fs::create_symlink(path, link);
  for (const fs::path& out : {path, link}) {
    const run_result r = run_labcount({"count", path.string(), "-o", out.string()});
    EXPECT_EQ(r.exit_code, 2) << describe_run(r);
    EXPECT_NE(r.err.find("the output is also an input"), std::string::npos) << r.err;
    EXPECT_EQ(read_file(path), read_file(data_dir / "seed_crlf.csv"));
  }
}

// `-o counts.csv.gz` / `.zst`: the table compressed, which gzip itself reads back (where installed)
// and merge reads as it reads the plain table; the format comes from the name inside the suffix; a
// --partial state is never compressed, so such a name is refused before any work.
TEST(CliCompressedOutput, GzipAndZstdOutputsReadBackAsThePlainTable) {
  temp_dir tmp;
  const std::string plain = read_file(expected_dir / "seed.csv");
  for (const std::string name : {"counts.csv.gz", "counts.csv.zst"}) {
    SCOPED_TRACE(name);
    const fs::path out = tmp.path() / name;
    const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << describe_run(r);
    EXPECT_NE(read_file(out), plain);
    const run_result back = run_labcount({"merge", out.string()});
    ASSERT_EQ(back.exit_code, 0) << describe_run(back);
    EXPECT_EQ(back.out, plain);
  }
  if (std::system("gzip --version > /dev/null 2>&1") == 0) {
    const std::string command = "gzip -dc '" + (tmp.path() / "counts.csv.gz").string() + "' > '" +
                                (tmp.path() / "gunzipped.csv").string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    EXPECT_EQ(read_file(tmp.path() / "gunzipped.csv"), plain);
  }
  const fs::path json = tmp.path() / "counts.json.gz";
  ASSERT_EQ(run_labcount({"count", "seed_crlf.csv", "-o", json.string()}).exit_code, 0);
  const run_result as_json = run_labcount({"count", "seed_crlf.csv", "--format", "json"});
  const fs::path unzipped = tmp.path() / "counts.json";
  if (std::system("gzip --version > /dev/null 2>&1") == 0) {
    const std::string command = "gzip -dc '" + json.string() + "' > '" + unzipped.string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    EXPECT_EQ(read_file(unzipped), as_json.out);
  }
  const run_result state = run_labcount({"count", "seed_crlf.csv", "--partial", (tmp.path() / "p.lcp.gz").string()});
  EXPECT_EQ(state.exit_code, 2) << describe_run(state);
  EXPECT_NE(state.err.find("uncompressed"), std::string::npos) << state.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "p.lcp.gz"));
}

// ---- The other commands ---------------------------------------------------------------------------

// -q and -v are accepted by every command; -v says something, -q with -v is a usage error everywhere.
TEST(CliMessages, EveryCommandTakesQuietAndVerbose) {
  temp_dir tmp;
  const std::string table = (tmp.path() / "t.csv").string();
  ASSERT_EQ(run_labcount({"count", "seed_crlf.csv", "-o", table}).exit_code, 0);
  const std::vector<std::vector<std::string>> commands{
      {"count", "seed_crlf.csv"},
      {"merge", table},
      {"generate", "--rows", "10"},
      {"info"},
      {"bench", "--generate", "1000", "--repeat", "1", "--warmup", "0", "--backends", "cpu"},
  };
  for (const auto& command : commands) {
    SCOPED_TRACE(command[0]);
    for (const std::string flag : {"-q", "--quiet", "-v", "--verbose"}) {
      std::vector<std::string> args = command;
      args.push_back(flag);
      const run_result r = run_labcount(args);
      EXPECT_EQ(r.exit_code, 0) << flag << describe_run(r);
      if (flag == "-q") {
        EXPECT_EQ(r.err, "") << flag;
      }
      if (flag == "-v" && command[0] != "info") {
        EXPECT_NE(r.err, "") << flag;
      }
    }
    std::vector<std::string> both = command;
    both.insert(both.end(), {"-q", "-v"});
    const run_result r = run_labcount(both);
    EXPECT_EQ(r.exit_code, 2) << describe_run(r);
    EXPECT_NE(r.err.find("contradict"), std::string::npos) << r.err;
  }
}

// `info --json` is one JSON object with the facts `info` prints.
TEST(CliInfo, JsonIsOneObjectWithTheBackends) {
  const run_result r = run_labcount({"info", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
  for (const std::string field : {"\"version\":", "\"cuda\":", "\"hardware_threads\":", "\"mpi\":{",
                                  "\"compressed_inputs\":{", "\"backends\":[", "\"name\":\"cpu\",\"available\":true"})
    EXPECT_NE(r.out.find(field), std::string::npos) << field << " in " << r.out;
  if (std::system("python3 -c pass > /dev/null 2>&1") == 0) {
    temp_dir tmp;
    write_file(tmp.path() / "info.json", r.out);
    const std::string check = "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "
                              "d[\"backends\"][0][\"name\"]==\"cpu\" else 1)' '" +
                              (tmp.path() / "info.json").string() + "'";
    EXPECT_EQ(std::system(check.c_str()), 0) << r.out;
  }
}

// The lines of `labcount info` that start with "  NAME ".
std::string backend_line(const std::string& info, const std::string& name) {
  std::istringstream lines(info);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("  " + name + " ", 0) == 0) return line;
  return {};
}

TEST(CliMeta, VersionPrintsTheVersion) {
  for (const char* flag : {"--version", "-V"}) {
    const run_result r = run_labcount({flag});
    EXPECT_EQ(r.exit_code, 0) << describe_run(r);
    EXPECT_EQ(r.out, std::string("labcount ") + LABCOUNT_VERSION + "\n");
  }
}

TEST(CliMeta, InfoListsCpuAvailableAndGpuWithAReason) {
  const run_result r = run_labcount({"info"});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  EXPECT_NE(r.out.find(std::string("labcount ") + LABCOUNT_VERSION), std::string::npos) << r.out;
  const std::string cpu = backend_line(r.out, "cpu");
  EXPECT_NE(cpu.find(" available"), std::string::npos) << r.out;
  const std::string gpu = backend_line(r.out, "gpu");
  ASSERT_NE(gpu, "") << r.out;
  const std::size_t unavailable = gpu.find("unavailable: ");
  if (unavailable != std::string::npos) {
    EXPECT_GT(gpu.size(), unavailable + std::string_view("unavailable: ").size() + 10) << "no reason given: " << gpu;
  } else {
    EXPECT_NE(gpu.find("available"), std::string::npos) << gpu;
  }
#ifndef LABCOUNT_HAS_CUDA
  EXPECT_NE(gpu.find("unavailable"), std::string::npos) << gpu;
  EXPECT_NE(gpu.find("CUDA"), std::string::npos) << "the reason should say CUDA is not built in: " << gpu;
#endif
}

TEST(CliMeta, BackendGpuWithoutAUsableGpuExits4AndSaysWhy) {
  const run_result info = run_labcount({"info"});
  const std::string gpu = backend_line(info.out, "gpu");
  const std::size_t at = gpu.find("unavailable: ");
  if (at == std::string::npos) GTEST_SKIP() << "this machine has a usable GPU: " << gpu;
  const std::string reason = gpu.substr(at + std::string_view("unavailable: ").size());
  const run_result r = run_labcount({"count", "seed_crlf.csv", "--backend", "gpu"});
  EXPECT_EQ(r.exit_code, 4) << describe_run(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--backend gpu"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << "the message should say why: " << reason << "\n" << r.err;
  EXPECT_NE(r.err.find("hint"), std::string::npos) << r.err;
}

TEST(CliMeta, CountHelpMentionsEveryOption) {
  const run_result r = run_labcount({"count", "--help"});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  for (const char* option :
       {"--key", "--no-header", "--delimiter", "--threads", "--backend", "--device", "--on-bad-row", "--sort", "--top",
        "--format", "--output", "--chunk-size", "--quiet", "--verbose", "--help"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << " is not in:\n" << r.out;
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
}

TEST(CliMeta, TopLevelHelpListsTheCommands) {
  const run_result r = run_labcount({"--help"});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  for (const char* command : {"count", "info"}) EXPECT_NE(r.out.find(command), std::string::npos) << r.out;
}

// ---- Output targets, signals and inputs that change: nothing is lost ---------------------------

// A child labcount with more control than run_labcount: stdout to `out_fd` (a pipe, a file),
// SIGPIPE ignored or not, run as another user. Returns its pid; stderr goes to `err_path`.
struct spawn_options {
  int in_fd = -1;   // -1: /dev/null
  int out_fd = -1;  // -1: /dev/null
  std::string err_path;
  bool ignore_sigpipe = false;
  uid_t run_as = 0;  // 0: this user; else setuid (and setgid to the same number) first
  fs::path cwd = data_dir;
  std::string binary = labcount_binary;
};

pid_t spawn_labcount(const std::vector<std::string>& args, const spawn_options& o) {
  std::string binary = o.binary;
  std::vector<std::string> storage(args);
  std::vector<char*> argv{binary.data()};
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string cwd = o.cwd.string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int in = o.in_fd >= 0 ? o.in_fd : ::open("/dev/null", O_RDONLY);
    const int out = o.out_fd >= 0 ? o.out_fd : ::open("/dev/null", O_WRONLY);
    const int err = o.err_path.empty() ? ::open("/dev/null", O_WRONLY)
                                       : ::open(o.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(127);
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
    ::signal(SIGPIPE, o.ignore_sigpipe ? SIG_IGN : SIG_DFL);
    if (o.run_as != 0 && (::setgid(o.run_as) != 0 || ::setuid(o.run_as) != 0)) ::_exit(126);
    ::alarm(60);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

run_result wait_for(pid_t pid, const std::string& err_path = {}) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  run_result r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (!err_path.empty()) r.err = read_file(err_path);
  return r;
}

// A generated input whose output is far larger than a pipe's buffer.
fs::path many_keys_input(const temp_dir& tmp, const char* samples = "200k") {
  const fs::path path = tmp.path() / "many.csv";
  const run_result g =
      run_labcount({"generate", "--rows", "400k", "--samples", samples, "--seed", "7", "-o", path.string()});
  if (g.exit_code != 0) throw std::runtime_error("generate failed: " + g.err);
  return path;
}

TEST(CliOutputTargets, ACharacterDeviceStaysADevice) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod needs root (CI runs as root)";
  temp_dir tmp;
  const fs::path dev = tmp.path() / "null";
  ASSERT_EQ(::mknod(dev.c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0) << std::strerror(errno);
  for (const std::string& target : {dev.string(), std::string("/dev/null")}) {
    const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", target});
    EXPECT_EQ(r.exit_code, 0) << describe_run(r);
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << target << " is no longer a character device";
  }
  EXPECT_EQ(list_dir(tmp.path()), std::set<std::string>{"null"});
}

TEST(CliOutputTargets, ASymlinkStaysALinkAndItsTargetKeepsItsMode) {
  temp_dir tmp;
  const fs::path target = tmp.path() / "target.csv";
  const fs::path link = tmp.path() / "link.csv";
  write_file(target, "OLD");
  ASSERT_EQ(::chmod(target.c_str(), 0640), 0);
  fs::create_symlink("target.csv", link);  // relative, as people make them
  const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", link.string()});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_file(target), read_file(expected_dir / "seed.csv"));
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_FALSE(has_temp_leftover(tmp.path()));
}

TEST(CliOutputTargets, ADanglingSymlinkCreatesItsTarget) {
  temp_dir tmp;
  fs::create_symlink("new.csv", tmp.path() / "link.csv");
  const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", (tmp.path() / "link.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << describe_run(r);
  EXPECT_TRUE(fs::is_symlink(tmp.path() / "link.csv"));
  EXPECT_EQ(read_file(tmp.path() / "new.csv"), read_file(expected_dir / "seed.csv"));
}

TEST(CliOutputTargets, AnExistingFileKeepsItsMode) {
  for (mode_t mode : {mode_t{0640}, mode_t{0600}, mode_t{0664}}) {
    temp_dir tmp;
    const fs::path out = tmp.path() / "counts.csv";
    write_file(out, "OLD");
    ASSERT_EQ(::chmod(out.c_str(), mode), 0);
    const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << describe_run(r);
    struct stat st {};
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode) << std::oct << mode;
  }
}

TEST(CliOutputTargets, AFifoIsWrittenInPlaceForItsReader) {
  temp_dir tmp;
  const fs::path fifo = tmp.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = read_file(fifo); });
  const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", fifo.string()});
  reader.join();
  EXPECT_EQ(r.exit_code, 0) << describe_run(r);
  EXPECT_EQ(got, read_file(expected_dir / "seed.csv"));
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(list_dir(tmp.path()), std::set<std::string>{"fifo"});
}

TEST(CliOutputTargets, DevFullIsAWriteErrorNamingTheOutput) {
  const run_result r = run_labcount({"count", "seed_crlf.csv", "-o", "/dev/full"});
  EXPECT_EQ(r.exit_code, 3) << describe_run(r);
  EXPECT_NE(r.err.find("labcount: error: /dev/full: cannot write the output"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint:"), std::string::npos) << r.err;
}

TEST(CliOutputTargets, DevStdoutIsTheDescriptorTheShellGave) {
  temp_dir tmp;
  const std::string out_path = (tmp.path() / "captured").string();
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ASSERT_GE(out, 0);
  ASSERT_EQ(::write(out, "before\n", 7), 7);
  spawn_options o;
  o.out_fd = out;
  const run_result r = wait_for(spawn_labcount({"count", "seed_crlf.csv", "-o", "/dev/stdout"}, o));
  ::close(out);
  EXPECT_EQ(r.exit_code, 0);
  // Appended, as `>>` asked: not a new file renamed over it.
  EXPECT_EQ(read_file(out_path), "before\n" + read_file(expected_dir / "seed.csv"));
}

// `labcount count f.csv | head -1`: no message, whether SIGPIPE kills the run or is ignored.
TEST(CliOutputTargets, BrokenPipeOnStdoutEndsQuietly) {
  temp_dir tmp;
  const fs::path input = many_keys_input(tmp);
  for (const bool ignore : {false, true}) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);  // the child keeps only its own end
    spawn_options o;
    o.out_fd = pipe_fds[1];
    o.err_path = (tmp.path() / "stderr").string();
    o.ignore_sigpipe = ignore;
    const pid_t pid = spawn_labcount({"count", input.string()}, o);
    ::close(pipe_fds[1]);
    char first[64];
    EXPECT_GT(::read(pipe_fds[0], first, sizeof first), 0);
    ::close(pipe_fds[0]);  // the reader goes away, as head does
    const run_result r = wait_for(pid, o.err_path);
    EXPECT_EQ(r.err, "") << (ignore ? "SIGPIPE ignored" : "SIGPIPE default");
    if (ignore)
      EXPECT_EQ(r.exit_code, 141);
    else
      EXPECT_EQ(r.signal, SIGPIPE);
  }
}

// SIGTERM while the run waits for input: it ends with the signal, and the old output is intact.
TEST(CliSignals, TermMidRunLeavesTheOldOutputAndNoTemporaryFile) {
  temp_dir tmp;
  const fs::path out = tmp.path() / "counts.csv";
  write_file(out, "OLD");
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);  // the child keeps only its own end
  spawn_options o;
  o.in_fd = pipe_fds[0];
  const pid_t pid = spawn_labcount({"count", "-", "-o", out.string()}, o);
  ::close(pipe_fds[0]);
  const std::string rows = "TestTime,SampleID\n" + std::string("1,S1\n") + "2,S2\n";
  ASSERT_EQ(::write(pipe_fds[1], rows.data(), rows.size()), static_cast<ssize_t>(rows.size()));
  ::usleep(200 * 1000);  // it is reading, and waits for more (a slow pipe)
  ::kill(pid, SIGTERM);
  const run_result r = wait_for(pid);
  ::close(pipe_fds[1]);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(read_file(out), "OLD");
  EXPECT_FALSE(has_temp_leftover(tmp.path()));
}

TEST(CliInputs, RecursiveTwiceOverAFolderHoldingItsOutputGivesTheSameResult) {
  temp_dir tmp;
  const fs::path dir = tmp.path() / "batch";
  fs::create_directories(dir);
  fs::copy_file(data_dir / "seed_crlf.csv", dir / "a.csv");
  const std::string out = (dir / "counts.csv").string();
  const run_result first = run_labcount({"count", dir.string(), "-r", "-o", out});
  ASSERT_EQ(first.exit_code, 0) << describe_run(first);
  const std::string once = read_file(out);
  const run_result second = run_labcount({"count", dir.string(), "-r", "-o", out, "--verbose"});
  ASSERT_EQ(second.exit_code, 0) << describe_run(second);
  EXPECT_EQ(read_file(out), once);
  EXPECT_EQ(once, read_file(expected_dir / "seed.csv"));
  EXPECT_NE(second.err.find("left out " + out + ": it is the output"), std::string::npos) << second.err;
}

TEST(CliInputs, AnUnreadableFolderUnderRecursiveIsNeverSkippedSilently) {
  temp_dir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);  // the unprivileged child must reach it
  const fs::path dir = tmp.path() / "batch";
  fs::create_directories(dir / "locked");
  fs::copy_file(data_dir / "seed_crlf.csv", dir / "a.csv");
  fs::copy_file(data_dir / "seed_crlf.csv", dir / "locked" / "b.csv");
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir / "a.csv").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((dir / "locked").c_str(), 0), 0);
  spawn_options o;
  o.run_as = ::geteuid() == 0 ? 65534 : 0;  // root reads every folder: run as nobody
  if (o.run_as != 0) {
    // nobody may not reach the build folder (a checkout under /root): run a copy from the test's folder.
    o.binary = (tmp.path() / "labcount").string();
    fs::copy_file(labcount_binary, o.binary);
    ASSERT_EQ(::chmod(o.binary.c_str(), 0755), 0);
  }
  o.err_path = (tmp.path() / "stderr").string();
  o.cwd = tmp.path();
  const run_result error_run = wait_for(spawn_labcount({"count", dir.string(), "-r"}, o), o.err_path);
  EXPECT_EQ(error_run.exit_code, 3) << error_run.err;
  EXPECT_NE(error_run.err.find("locked: cannot read the folder"), std::string::npos) << error_run.err;
  const run_result skip_run =
      wait_for(spawn_labcount({"count", dir.string(), "-r", "--on-bad-file", "skip"}, o), o.err_path);
  EXPECT_EQ(skip_run.exit_code, 0) << skip_run.err;
  EXPECT_NE(skip_run.err.find("left out 1 of 2 inputs"), std::string::npos) << skip_run.err;
  EXPECT_NE(skip_run.err.find("locked: cannot read the folder"), std::string::npos) << skip_run.err;
  ::chmod((dir / "locked").c_str(), 0755);
}

TEST(CliInputs, EndlessOrLineFreeInputStopsWithinTheMemoryCap) {
  temp_dir tmp;
  const fs::path sparse = tmp.path() / "no_line_breaks.csv";
  { std::ofstream(sparse).flush(); }
  fs::resize_file(sparse, std::uintmax_t{1} << 30);  // 1 GiB of zeros, no line break
  const std::vector<std::vector<std::string>> runs = {
      {"count", "/dev/zero", "--memory", "64M"},
      {"count", "-", "--memory", "64M"},  // stdin is /dev/zero below
      {"count", sparse.string(), "--memory", "64M"},
      {"merge", "/dev/zero"},
  };
  for (const auto& args : runs) {
    const run_result r = run_labcount(args, args[1] == "-" ? fs::path("/dev/zero") : fs::path());
    EXPECT_EQ(r.exit_code, 1) << args[1] << "\n" << describe_run(r);
    EXPECT_NE(r.err.find("a record longer than "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("0 MiB"), std::string::npos) << r.err;
    EXPECT_LT(r.err.size(), 1000u) << "the message must not quote the record whole";
  }
  const run_result capped = run_labcount({"count", "/dev/zero", "--memory", "64M"});
  EXPECT_NE(capped.err.find("longer than 32 MiB"), std::string::npos) << capped.err;
}

TEST(CliInputs, ControlBytesInMessagesAreEscaped) {
  temp_dir tmp;
  const std::string header("Test\tTime,Sam\rple,Nul\0l\n1,S1,x\n", 29);
  write_file(tmp.path() / "controls.csv", header);
  const run_result r = run_labcount({"count", (tmp.path() / "controls.csv").string(), "--key", "Nope"});
  EXPECT_EQ(r.exit_code, 1) << describe_run(r);
  EXPECT_NE(r.err.find("Test\\tTime"), std::string::npos) << printable(r.err);
  EXPECT_NE(r.err.find("Sam\\rple"), std::string::npos) << printable(r.err);
  EXPECT_NE(r.err.find("Nul\\x00l"), std::string::npos) << printable(r.err);
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(r.err.find('\0'), std::string::npos);
  EXPECT_EQ(r.err.find('\t'), std::string::npos);
}

TEST(CliInputs, AHugeHeaderIsCutInTheMessage) {
  temp_dir tmp;
  write_file(tmp.path() / "wide.csv", std::string(10 << 20, 'h') + "\nx\n");
  const run_result r = run_labcount({"count", (tmp.path() / "wide.csv").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err.substr(0, 500);
  EXPECT_LT(r.err.size(), 3000u);
  EXPECT_NE(r.err.find("more bytes)"), std::string::npos) << r.err.substr(0, 500);
}

// Once a bad CRC was "checksum does not match" at one chunk size and "--key 2 is out of range" at
// another: the first problem in the data is the one reported, at any chunk size and thread count.
TEST(CliInputs, SameMessageAtAnyChunkSizeForACorruptGzip) {
  temp_dir tmp;
  std::string gz = read_file(data_dir / "gz" / "plain.csv.gz");
  gz[gz.size() - 6] = static_cast<char>(gz[gz.size() - 6] ^ 0x55);  // inside the CRC-32 trailer
  write_file(tmp.path() / "crc.csv.gz", gz);
  std::string first;
  for (const char* chunk : {"1", "7", "64", "4096", "4194304"}) {
    for (const char* threads : {"1", "2"}) {
      for (const char* key : {"SampleID", "9"}) {
        const run_result r = run_labcount(
            {"count", (tmp.path() / "crc.csv.gz").string(), "--chunk-size", chunk, "-j", threads, "--key", key});
        EXPECT_EQ(r.exit_code, 1) << describe_run(r);
        const std::string message = std::string(key) + ": " + r.err;
        if (std::string(key) == "SampleID") {
          EXPECT_NE(r.err.find("checksum does not match"), std::string::npos) << message;
        } else {
          EXPECT_NE(r.err.find("--key 9 is out of range"), std::string::npos) << message;
        }
      }
    }
  }
}

}  // namespace
}  // namespace labcount

namespace labcount {
namespace {

// --stats and --per past --memory spill their pairs to $TMPDIR and read them back by partition: the same bytes
// as in memory, --verbose says so, and nothing is left in $TMPDIR.
TEST(CliSpill, StatsAndPerWithinATinyMemoryGiveTheSameBytes) {
  temp_dir tmp;
  const std::string input = (tmp.path() / "many.csv").string();
  ASSERT_EQ(run_labcount({"generate", "--rows", "400k", "--samples", "60k", "--skew", "0", "-o", input}).exit_code, 0);
  const fs::path spill_dir = tmp.path() / "spill";
  fs::create_directory(spill_dir);
  ::setenv("TMPDIR", spill_dir.c_str(), 1);
  for (const std::vector<std::string>& mode : {std::vector<std::string>{"--stats"}, {"--per", "hour"}}) {
    std::vector<std::string> args = {"count", input, "-j", "2"};
    args.insert(args.end(), mode.begin(), mode.end());
    const run_result whole = run_labcount(args);
    args.insert(args.end(), {"--memory", "1M", "-v"});
    const run_result spilled = run_labcount(args);
    ASSERT_EQ(whole.exit_code, 0) << describe_run(whole);
    ASSERT_EQ(spilled.exit_code, 0) << describe_run(spilled);
    EXPECT_TRUE(spilled.out == whole.out) << mode[0];
    EXPECT_NE(spilled.err.find("spilled to disk"), std::string::npos) << spilled.err;
    EXPECT_TRUE(fs::is_empty(spill_dir));
  }
  ::unsetenv("TMPDIR");
}

}  // namespace
}  // namespace labcount
