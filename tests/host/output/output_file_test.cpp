#include "output/output_file.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <gtest/gtest.h>

#include "support/temp_file.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "input/decompress.hpp"
#include "util/errors.hpp"
#include "util/input_fd.hpp"
#include "util/signal_cleanup.hpp"

namespace labcount {
namespace {

namespace fs = std::filesystem;

using labcount::testing::temp_dir;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::set<std::string> list_dir(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

// Sets the umask for one scope.
class scoped_umask {
 public:
  explicit scoped_umask(mode_t mask) : old_(::umask(mask)) {}
  ~scoped_umask() { ::umask(old_); }
  scoped_umask(const scoped_umask&) = delete;
  scoped_umask& operator=(const scoped_umask&) = delete;

 private:
  mode_t old_;
};

TEST(OutputFile, CommitCreatesTheFile) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  {
    output_file out(path.string());
    EXPECT_FALSE(out.is_stdout());
    EXPECT_EQ(out.path(), path.string());
    out.write("SampleID,count\n");
    out.write("");
    out.write("S1,4\n");
    out.commit();
  }
  EXPECT_EQ(read_file(path), "SampleID,count\nS1,4\n");
  EXPECT_EQ(list_dir(dir.path()), std::set<std::string>{"counts.csv"});
}

TEST(OutputFile, CommitReplacesAnExistingFileAtomically) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  write_file(path, "OLD");
  output_file out(path.string());
  out.write("NEW\n");
  // Until commit, readers still see the old file whole: the bytes go to a temporary next to it.
  EXPECT_EQ(read_file(path), "OLD");
  EXPECT_EQ(list_dir(dir.path()).size(), 2u);
  out.commit();
  EXPECT_EQ(read_file(path), "NEW\n");
  EXPECT_EQ(list_dir(dir.path()), std::set<std::string>{"counts.csv"});
  out.commit();  // a second commit is a no-op
  EXPECT_EQ(read_file(path), "NEW\n");
}

TEST(OutputFile, NoCommitLeavesTheOldFileAndNoTempFile) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  write_file(path, "OLD");
  {
    output_file out(path.string());
    out.write(std::string(1 << 20, 'x'));  // more than the stdio buffer: some bytes reach the temp file
    const auto names = list_dir(dir.path());
    ASSERT_EQ(names.size(), 2u);
    for (const auto& name : names) {
      if (name != "counts.csv") {
        EXPECT_EQ(name.rfind("counts.csv.labcount-tmp-", 0), 0u) << name;
      }
    }
  }
  EXPECT_EQ(read_file(path), "OLD");
  EXPECT_EQ(list_dir(dir.path()), std::set<std::string>{"counts.csv"});
}

TEST(OutputFile, NoCommitWithoutAnOldFileLeavesNothing) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  { output_file out(path.string()); }
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(OutputFile, ExceptionBeforeCommitLeavesTheOldFile) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  write_file(path, "OLD");
  try {
    output_file out(path.string());
    out.write("partial");
    throw std::runtime_error("bad row");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(path), "OLD");
  EXPECT_EQ(list_dir(dir.path()), std::set<std::string>{"counts.csv"});
}

TEST(OutputFile, PathIsADirectoryIsAnIoError) {
  temp_dir dir;
  try {
    output_file out(dir.path().string());
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::io);
    EXPECT_EQ(e.file(), dir.path().string());
    EXPECT_NE(e.hint(), "");
  }
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(OutputFile, MissingDirectoryIsAnIoErrorNamingThePath) {
  temp_dir dir;
  const std::string path = (dir.path() / "no" / "such" / "dir" / "counts.csv").string();
  try {
    output_file out(path);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::io);
    EXPECT_EQ(exit_code_for(e.kind()), exit_io_error);
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(e.hint(), "");
  }
}

TEST(OutputFile, PermissionsAfterCommitFollowTheUmask) {
  for (mode_t mask : {mode_t{022}, mode_t{027}, mode_t{077}, mode_t{0}}) {
    temp_dir dir;
    const fs::path path = dir.path() / "counts.csv";
    {
      scoped_umask umask_for_test(mask);
      output_file out(path.string());
      out.write("x\n");
      out.commit();
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask) << "umask " << std::oct << mask;
  }
}

TEST(OutputFile, TwoOpenFilesKeepTheirOwnBytes) {
  temp_dir dir;
  const fs::path a_path = dir.path() / "a.csv";
  const fs::path b_path = dir.path() / "b.csv";
  std::string a_bytes;
  std::string b_bytes;
  {
    output_file a(a_path.string());
    output_file b(b_path.string());
    for (int i = 0; i < 1000; ++i) {
      const std::string a_row = std::to_string(i) + "a\n";
      const std::string b_row = std::to_string(i) + "b\n";
      a.write(a_row);
      b.write(b_row);
      a_bytes += a_row;
      b_bytes += b_row;
    }
    a.commit();
    b.commit();
  }
  EXPECT_TRUE(read_file(a_path) == a_bytes) << "a.csv starts with: " << read_file(a_path).substr(0, 12);
  EXPECT_TRUE(read_file(b_path) == b_bytes) << "b.csv starts with: " << read_file(b_path).substr(0, 12);
}

// A signal while the temporary file exists removes it and ends the process with that signal.
TEST(OutputFile, ASignalRemovesTheTemporaryFileAndKeepsTheOldOutput) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    temp_dir dir;
    const fs::path path = dir.path() / "counts.csv";
    write_file(path, "OLD");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::signal(sig, SIG_DFL);
      install_signal_cleanup();
      output_file out(path.string());
      out.write(std::string(1 << 20, 'x'));  // the temporary file exists now
      ::raise(sig);
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
    EXPECT_EQ(read_file(path), "OLD");
    EXPECT_EQ(list_dir(dir.path()), std::set<std::string>{"counts.csv"});
  }
}

TEST(OutputFile, NothingIsCreatedBeforeTheFirstWrite) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  output_file out(path.string());
  EXPECT_TRUE(list_dir(dir.path()).empty()) << "a SIGKILL now must leave nothing behind";
  out.write("x\n");
  EXPECT_EQ(list_dir(dir.path()).size(), 1u);
  out.commit();
  EXPECT_EQ(read_file(path), "x\n");
}

TEST(OutputFile, AnEmptyResultStillReplacesTheOldFile) {
  temp_dir dir;
  const fs::path path = dir.path() / "counts.csv";
  write_file(path, "OLD");
  output_file out(path.string());
  out.commit();
  EXPECT_EQ(read_file(path), "");
}

TEST(OutputFile, AReadOnlyFolderFailsBeforeAnyWork) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write in any folder";
  temp_dir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  EXPECT_THROW(output_file((dir.path() / "counts.csv").string()), error);
  ::chmod(dir.path().c_str(), 0755);
}

TEST(OutputFile, DashIsStandardOutput) {
  output_file out("-");
  EXPECT_TRUE(out.is_stdout());
  out.commit();  // flushes stdout; nothing to rename
}

// What a reader of a compressed input (the decompressor count and merge use) gets back from a file.
std::string decompressed(const fs::path& path, compression expected) {
  const std::string bytes = read_file(path);
  EXPECT_EQ(compression_of(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()), expected) << path;
  const input_fd fd(path.string());
  auto reader = make_decompressor(expected, make_fd_reader(fd.get(), path.string(), "", nullptr), path.string());
  std::string out;
  char block[4096];
  while (const std::size_t got = reader->read(block, sizeof block)) out.append(block, got);
  return out;
}

// A .gz or .zst name is written compressed: written in pieces of every size, across the compressors'
// buffers, it reads back byte exact; an empty output is still a valid (empty) stream.
TEST(OutputFile, GzipAndZstdNamesAreWrittenCompressed) {
  temp_dir dir;
  std::string expected;
  for (int i = 0; i < 200'000; ++i) expected += "S" + std::to_string(i * 7919 % 100'003) + "," + std::to_string(i % 97) + "\n";
  for (const auto& [name, kind] : {std::pair{"t.csv.gz", compression::gzip}, std::pair{"T.CSV.ZST", compression::zstd}}) {
    if (!compression_supported(kind)) GTEST_SKIP() << "built without " << compression_name(kind);
    {
      output_file out((dir.path() / name).string());
      for (std::size_t at = 0, piece = 1; at < expected.size(); at += piece, piece = piece * 3 % 70'001 + 1)
        out.write(std::string_view(expected).substr(at, piece));
      out.commit();
    }
    EXPECT_EQ(decompressed(dir.path() / name, kind), expected) << name;
    const fs::path empty = dir.path() / (std::string("empty-") + name);
    {
      output_file out(empty.string());
      out.commit();
    }
    EXPECT_EQ(decompressed(empty, kind), "") << name;
  }
}

TEST(OutputFile, PlainKeepsTheBytesWhateverTheName) {
  temp_dir dir;
  const fs::path path = dir.path() / "state.lcp.gz";
  output_file out(path.string(), output_file::by_name::plain);
  out.write("LCPS raw");
  out.commit();
  EXPECT_EQ(read_file(path), "LCPS raw");
}

}  // namespace
}  // namespace labcount
