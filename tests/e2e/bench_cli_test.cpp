// End-to-end tests of `labcount bench`: run the built binary and check its exit code, table, JSON and errors.
//
//   bench seed_crlf.csv --repeat 2         ->  exit 0, a "cpu" row, "output identical"
//   bench seed_crlf.csv --json             ->  one JSON object; its checksum is that of `count`'s output
//   bench --backends gpu (no GPU here)     ->  exit 4, the probe's reason
//
// Also format_phases(), the phase table that `count --timing` prints.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "backend_registry.hpp"
#include "phase_report.hpp"
#include "support/temp_file.hpp"

namespace labcount {
namespace {

namespace fs = std::filesystem;

const fs::path data_dir = LABCOUNT_TEST_DATA_DIR;

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `labcount args...` in the data directory; TMPDIR points at `tmpdir` when given. --no-progress keeps stderr
// plain even when the tests run on a terminal.
run_result run_labcount(const std::vector<std::string>& args, const fs::path& tmpdir = {}) {
  testing::temp_dir capture;
  const fs::path out = capture.path() / "stdout";
  const fs::path err = capture.path() / "stderr";
  std::string command = "cd " + shell_quote(data_dir.string()) + " && ";
  if (!tmpdir.empty()) command += "TMPDIR=" + shell_quote(tmpdir.string()) + " ";
  command += shell_quote(LABCOUNT_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " </dev/null >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(command.c_str());
  run_result r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = testing::read_file(out.string());
  r.err = testing::read_file(err.string());
  return r;
}

// A strict JSON syntax check (RFC 8259 values), enough to know that a JSON reader will accept the output.
class json_checker {
 public:
  explicit json_checker(std::string_view text) : s_(text) {}
  bool valid() {
    skip_space();
    if (!value()) return false;
    skip_space();
    return pos_ == s_.size();
  }

 private:
  bool value() {
    skip_space();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return string();
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return number();
    return literal("true") || literal("false") || literal("null");
  }
  bool object() {
    ++pos_;
    skip_space();
    if (peek('}')) return ++pos_, true;
    for (;;) {
      skip_space();
      if (!string()) return false;
      skip_space();
      if (!peek(':')) return false;
      ++pos_;
      if (!value()) return false;
      skip_space();
      if (peek('}')) return ++pos_, true;
      if (!peek(',')) return false;
      ++pos_;
    }
  }
  bool array() {
    ++pos_;
    skip_space();
    if (peek(']')) return ++pos_, true;
    for (;;) {
      if (!value()) return false;
      skip_space();
      if (peek(']')) return ++pos_, true;
      if (!peek(',')) return false;
      ++pos_;
    }
  }
  bool string() {
    if (!peek('"')) return false;
    for (++pos_; pos_ < s_.size(); ++pos_) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') return ++pos_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++pos_ >= s_.size()) return false;
        const char e = s_[pos_];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i)
            if (++pos_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_]))) return false;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = pos_;
    if (peek('-')) ++pos_;
    if (!digits()) return false;
    if (peek('.')) {
      ++pos_;
      if (!digits()) return false;
    }
    if (peek('e') || peek('E')) {
      ++pos_;
      if (peek('+') || peek('-')) ++pos_;
      if (!digits()) return false;
    }
    return pos_ > start;
  }
  bool digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    return pos_ > start;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string fnv1a64_hex(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool gpu_usable_here() {
  for (const auto& s : probe_backends(backend_options{}, probe_detail::chosen_device))
    if (s.name == "gpu") return s.usable;
  return false;
}

TEST(BenchCli, SmallFilePrintsACpuRow) {
  const auto r = run_labcount({"bench", "seed_crlf.csv", "--warmup", "0", "--repeat", "2", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\ncpu "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("30 rows, 7 distinct keys"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output identical"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("machine: "), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(BenchCli, JsonParsesAndHasTheExpectedKeys) {
  const auto r = run_labcount({"bench", "seed_crlf.csv", "--repeat", "2", "--json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json_checker(r.out).valid()) << r.out;
  for (const char* key : {"\"machine\"",         "\"cpu\"",           "\"hardware_threads\"",
                          "\"options\"",         "\"input\"",         "\"results\"",
                          "\"wall_seconds\"",    "\"median\"",        "\"min\"",
                          "\"rows_per_second\"", "\"gb_per_second\"", "\"phases_median_seconds\"",
                          "\"parse\"",           "\"transfer\"",      "\"sort\"",
                          "\"reduce\"",          "\"output\"",        "\"startup_first_seconds\"",
                          "\"speedup_vs_cpu\"",  "\"checksum\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " missing in\n" << r.out;
  EXPECT_NE(r.out.find("\"backend\": \"cpu\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"identical\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rows\": 30,"), std::string::npos) << r.out;
}

// The checksum is of the bytes `count` writes with the same options: bench times what count does.
TEST(BenchCli, ChecksumIsThatOfCountOutput) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, {"--sort", "count", "--format", "json"}, {"--stats"}, {"--per", "day"}}) {
    std::vector<std::string> count_args{"count", "seed_crlf.csv"};
    std::vector<std::string> bench_args{"bench", "seed_crlf.csv", "--warmup",     "0", "--repeat",
                                        "1",     "--json",        "--no-progress"};
    count_args.insert(count_args.end(), extra.begin(), extra.end());
    bench_args.insert(bench_args.end(), extra.begin(), extra.end());
    const auto count = run_labcount(count_args);
    ASSERT_EQ(count.exit_code, 0) << count.err;
    const auto bench = run_labcount(bench_args);
    ASSERT_EQ(bench.exit_code, 0) << bench.err;
    EXPECT_NE(bench.out.find("\"checksum\": \"fnv1a64:" + fnv1a64_hex(count.out) + "\""), std::string::npos)
        << "count output:\n"
        << count.out << "\nbench:\n"
        << bench.out;
    EXPECT_NE(bench.out.find("\"output_bytes\": " + std::to_string(count.out.size()) + ","), std::string::npos)
        << bench.out;
  }
}

TEST(BenchCli, GpuWithoutGpuExits4WithTheReason) {
  if (gpu_usable_here()) GTEST_SKIP() << "a GPU is usable here";
  std::string reason;
  for (const auto& s : probe_backends(backend_options{}, probe_detail::chosen_device))
    if (s.name == "gpu") reason = s.why_not;
  const auto r = run_labcount({"bench", "seed_crlf.csv", "--backends", "gpu", "--no-progress"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("--backends gpu"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint:"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(BenchCli, UsageErrorsExit2) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"bench", "seed_crlf.csv", "--repeat", "0"},
           {"bench", "seed_crlf.csv", "--warmup", "-1"},
           {"bench"},
           {"bench", "-"},
           {"bench", "seed_crlf.csv", "--generate", "10"},
           {"bench", "--generate", "10x"},
           {"bench", "--generate", "10", "--samples", "0"},
           {"bench", "seed_crlf.csv", "--backends", "cpu,tpu"},
           {"bench", "seed_crlf.csv", "--backends", ","},
           {"bench", "seed_crlf.csv", "--delimiter", "ab"},
       }) {
    const auto r = run_labcount(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << line;
  }
}

TEST(BenchCli, MissingInputExits3) {
  const auto r = run_labcount({"bench", "no_such_file.csv", "--no-progress"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no_such_file.csv"), std::string::npos) << r.err;
}

TEST(BenchCli, GenerateSmallSizesAndCleansUp) {
  testing::temp_dir tmp;
  const auto r = run_labcount(
      {"bench", "--generate", "2k", "--samples", "50", "--warmup", "0", "--repeat", "1", "--json", "--no-progress"},
      tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json_checker(r.out).valid()) << r.out;
  EXPECT_NE(r.out.find("\"generated\": {\"rows\": 2000, \"samples\": 50,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"input\": {\"bytes\": "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rows\": 2000, \"distinct_keys\": "), std::string::npos) << r.out;
  // The generated file and the output sinks are gone.
  EXPECT_TRUE(fs::is_empty(tmp.path()));

  const auto table = run_labcount({"bench", "--generate", "1", "--repeat", "1", "--no-progress"}, tmp.path());
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("1 rows, 1 distinct keys"), std::string::npos) << table.out;
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(BenchCli, CountOptionsReachTheRuns) {
  const auto r = run_labcount(
      {"bench", "tab.csv", "--delimiter", "tab", "--threads", "1", "--repeat", "1", "--json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"threads\": 1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"delimiter\": \"\\t\""), std::string::npos) << r.out;
  const auto bad = run_labcount({"bench", "few_fields.csv", "--repeat", "1", "--no-progress"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("few_fields.csv:4:"), std::string::npos) << bad.err;
}

TEST(PhaseReport, ListsEveryPhaseAndTheTotal) {
  count_result result;
  result.backend_name = "gpu";
  result.rows = 1000;
  result.bytes = 20000;
  result.parse_time = std::chrono::milliseconds(30);
  result.finish_time = std::chrono::milliseconds(5);
  result.backend_time.setup = std::chrono::milliseconds(10);
  result.backend_time.transfer = std::chrono::milliseconds(3);
  result.backend_time.sort = std::chrono::milliseconds(2);
  result.backend_time.reduce = std::chrono::milliseconds(1);
  const phase_seconds p = phases_of(result, 0.004);
  EXPECT_DOUBLE_EQ(p.setup, 0.010);
  EXPECT_DOUBLE_EQ(p.parse, 0.020);  // parse_time includes making the backend
  EXPECT_DOUBLE_EQ(p.total(), 0.039);
  const std::string text = format_phases(result, 0.004);
  for (const char* label : {"gpu backend, 1000 rows", "setup", "read+parse+encode", "transfer", "sort", "reduce",
                            "finish", "output", "total"})
    EXPECT_NE(text.find(label), std::string::npos) << label << " missing in\n" << text;
  EXPECT_NE(text.find("0.0390 s"), std::string::npos) << text;

  count_result cpu;
  cpu.backend_name = "cpu";
  cpu.parse_time = std::chrono::milliseconds(7);
  EXPECT_DOUBLE_EQ(phases_of(cpu, 0, 0.001).parse, 0.006);
  EXPECT_NE(format_phases(cpu, 0).find("merge the workers' tables"), std::string::npos);
}

}  // namespace
}  // namespace labcount
