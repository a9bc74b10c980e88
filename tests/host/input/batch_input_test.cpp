#include <sys/stat.h>
// Large-batch inputs: gzip (by content), directories, per-file counts, --on-bad-file skip, record caps.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "input/decompress.hpp"
#include "input/input_list.hpp"
#include "input/utf16.hpp"
#include "input/zip_archive.hpp"
#include "pipeline/count_pipeline.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

using counts_map = std::map<std::string, std::uint64_t>;
const std::string data_dir = std::string(LABCOUNT_TEST_DATA_DIR) + "/gz/";

count_result run(const std::vector<std::string>& inputs, count_request request = {}, unsigned threads = 2) {
  request.inputs = inputs;
  thread_pool pool(threads);
  backend_options options;
  options.num_workers = threads;
  return run_count(request, *make_cpu_backend(options), pool);
}

counts_map totals(const count_result& r) {
  counts_map out;
  for (std::uint32_t code = 0; code < r.dictionary.size(); ++code)
    if (r.counts[code] != 0) out[std::string(r.dictionary.key(code))] = r.counts[code];
  return out;
}

TEST(GzipInput, SameCountsAsThePlainFileAtAnyChunkSize) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{0}}) {
    count_request request;
    request.chunk_bytes = chunk;
    EXPECT_EQ(totals(run({data_dir + "plain.csv.gz"}, request)), totals(run({data_dir + "plain.csv"}, request)));
  }
  EXPECT_EQ(totals(run({data_dir + "plain.csv"})), (counts_map{{"S00802", 2}, {"S9,6030", 1}}));
}

TEST(GzipInput, RecognisedByContentNotName) {
  testing::temp_dir dir;
  const auto renamed = dir.write("export.dat", testing::read_file(data_dir + "plain.csv.gz"));
  EXPECT_EQ(totals(run({renamed})), (counts_map{{"S00802", 2}, {"S9,6030", 1}}));
}

TEST(GzipInput, ConcatenatedMembersAreOneStream) {
  EXPECT_EQ(totals(run({data_dir + "two_members.csv.gz"})), (counts_map{{"S1", 2}, {"S2", 1}, {"multi\nline", 1}}));
}

TEST(GzipInput, TruncatedAtAnyLengthIsAnError) {
  const std::string whole = testing::read_file(data_dir + "plain.csv.gz");
  testing::temp_dir dir;
  for (std::size_t length = 2; length < whole.size(); ++length) {
    const auto path = dir.write("cut.csv.gz", whole.substr(0, length));
    try {
      run({path});
      ADD_FAILURE() << "no error for a gzip file cut to " << length << " of " << whole.size() << " bytes";
    } catch (const error& e) {
      EXPECT_EQ(e.file(), path);
      EXPECT_FALSE(e.hint().empty());
    }
  }
}

TEST(GzipInput, CorruptDataAndTrailingJunkAreErrors) {
  std::string bytes = testing::read_file(data_dir + "plain.csv.gz");
  testing::temp_dir dir;
  EXPECT_THROW(run({dir.write("junk.csv.gz", bytes + "junk")}), error);
  bytes[bytes.size() - 6] ^= 0x55;  // inside the CRC-32 trailer
  EXPECT_THROW(run({dir.write("crc.csv.gz", bytes)}), error);
}

// zstd, bzip2 and xz: the fixtures in tests/data/compressed (tests/data/gz/plain.csv compressed, and its two
// halves compressed apart and concatenated), cut-off copies in compressed_bad, and a 1.4 MB file compressed
// here with the format's own tool when it is installed (a stream longer than the decoder's 1 MiB input buffer,
// read at chunk sizes that split its output anywhere).
class CompressedInput : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string dir_ = std::string(LABCOUNT_TEST_DATA_DIR) + "/compressed/";
  std::string ext() const { return GetParam(); }
  compression format() const {
    return ext() == "zst" ? compression::zstd : ext() == "bz2" ? compression::bzip2 : compression::xz;
  }
  const char* tool() const { return ext() == "zst" ? "zstd" : ext() == "bz2" ? "bzip2" : "xz"; }
  void SetUp() override {
    if (!compression_supported(format())) GTEST_SKIP() << "this build reads no " << ext();
  }
};

TEST_P(CompressedInput, SameCountsAsThePlainFileAtAnyChunkSize) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{0}}) {
    count_request request;
    request.chunk_bytes = chunk;
    EXPECT_EQ(totals(run({dir_ + "plain.csv." + ext()}, request)), totals(run({data_dir + "plain.csv"}, request)))
        << "chunk " << chunk;
    EXPECT_EQ(totals(run({dir_ + "two_streams.csv." + ext()}, request)), totals(run({data_dir + "plain.csv"}, request)))
        << "concatenated streams, chunk " << chunk;
  }
}

TEST_P(CompressedInput, RecognisedByContentNotName) {
  testing::temp_dir dir;
  const auto renamed = dir.write("export.dat", testing::read_file(dir_ + "plain.csv." + ext()));
  EXPECT_EQ(totals(run({renamed})), (counts_map{{"S00802", 2}, {"S9,6030", 1}}));
}

TEST_P(CompressedInput, TruncatedAtAnyLengthIsAnError) {
  const std::string whole = testing::read_file(dir_ + "plain.csv." + ext());
  testing::temp_dir dir;
  for (std::size_t length = 6; length < whole.size(); ++length) {
    const auto path = dir.write("cut.csv", whole.substr(0, length));
    try {
      run({path});
      ADD_FAILURE() << "no error for a " << ext() << " file cut to " << length << " of " << whole.size() << " bytes";
    } catch (const error& e) {
      EXPECT_EQ(e.file(), path);
      EXPECT_EQ(e.kind(), error_kind::bad_value) << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
  }
  const std::string bad = std::string(LABCOUNT_TEST_DATA_DIR) + "/compressed_bad/truncated.csv." + ext();
  EXPECT_THROW(run({bad}), error);
}

TEST_P(CompressedInput, CorruptDataAndTrailingJunkAreErrors) {
  std::string bytes = testing::read_file(dir_ + "plain.csv." + ext());
  testing::temp_dir dir;
  EXPECT_THROW(run({dir.write("junk.csv", bytes + "junk that is no stream")}), error);
  bytes[bytes.size() / 2] ^= 0x55;
  EXPECT_THROW(run({dir.write("flipped.csv", bytes)}), error);
}

TEST_P(CompressedInput, ALargeStreamAtAnyChunkSize) {
  testing::temp_dir dir;
  std::string text = "TestTime,SampleID\r\n";
  std::uint64_t state = 7;
  for (int i = 0; i < 60'000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    text += "8/" + std::to_string(1 + (state >> 60)) + "/2004 1:15,\"S" + std::to_string((state >> 33) % 5000) +
            (i % 97 == 0 ? "\nsecond line" : "") + "\"\r\n";
  }
  const auto plain = dir.write("big.csv", text);
  const auto packed = (dir.path() / ("big.csv." + ext())).string();
  const std::string command = std::string(tool()) + " -c " + plain + " > " + packed + " 2>/dev/null";
  if (std::system(("command -v " + std::string(tool()) + " > /dev/null").c_str()) != 0 ||
      std::system(command.c_str()) != 0)
    GTEST_SKIP() << "no " << tool() << " command here to compress the test file";
  const counts_map expected = totals(run({plain}));
  for (std::size_t chunk : {std::size_t{4093}, std::size_t{65'536}, std::size_t{0}}) {
    count_request request;
    request.chunk_bytes = chunk;
    EXPECT_EQ(totals(run({packed}, request, 2)), expected) << "chunk " << chunk;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, CompressedInput, ::testing::Values("zst", "bz2", "xz"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(CompressedInput, MagicNumbers) {
  const auto of = [](std::string_view bytes) {
    return compression_of(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  };
  EXPECT_EQ(of("\x1f\x8b\x08"), compression::gzip);
  EXPECT_EQ(of("\x28\xb5\x2f\xfd\x00"), compression::zstd);
  EXPECT_EQ(of("BZh9\x31\x41"), compression::bzip2);
  EXPECT_EQ(of(std::string_view("\xfd"
                                "7zXZ\x00",
                                6)),
            compression::xz);
  EXPECT_EQ(of("BZh0"), compression::none);  // block size 0 does not exist
  EXPECT_EQ(of("SampleID,TestTime"), compression::none);
  EXPECT_EQ(of("\x28\xb5"), compression::none);  // too short to tell
}

// UTF-16 (either byte order, with a BOM) counts exactly as the same text in UTF-8, at any chunk size: the
// transcoder carries a character that does not fit one read into the next.
TEST(Utf16Input, SameCountsAsUtf8AtAnyChunkSize) {
  const std::u32string keys[] = {U"S1", U"\u00e9t\u00e9", U"\U0001F9EA\u4e2d", U"\"q,\u00fc\""};
  std::string utf8 = "TestTime,SampleID\r\n";
  std::u32string text32 = U"TestTime,SampleID\r\n";
  for (int i = 0; i < 3000; ++i) {
    text32 += U"8/10/2004 1:15," + keys[(i * 7) % 4] + U"\r\n";
  }
  const auto to_utf8 = [](char32_t c, std::string& out) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6)), out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12)), out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18)), out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F)), out += static_cast<char>(0x80 | (c & 0x3F));
    }
  };
  utf8.clear();
  for (char32_t c : text32) to_utf8(c, utf8);
  for (const bool big : {false, true}) {
    std::string utf16 = big ? "\xFE\xFF" : "\xFF\xFE";
    const auto unit = [&](std::uint32_t u) {
      const char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xFF);
      utf16 += big ? hi : lo;
      utf16 += big ? lo : hi;
    };
    for (char32_t c : text32) {
      if (c < 0x10000) {
        unit(c);
      } else {
        unit(0xD800 + ((c - 0x10000) >> 10));
        unit(0xDC00 + ((c - 0x10000) & 0x3FF));
      }
    }
    testing::temp_dir dir;
    const auto plain = dir.write("utf8.csv", utf8);
    const auto wide = dir.write("utf16.csv", utf16);
    const counts_map expected = totals(run({plain}));
    ASSERT_EQ(expected.size(), 4u);
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{0}}) {
      count_request request;
      request.chunk_bytes = chunk;
      EXPECT_EQ(totals(run({wide}, request)), expected) << (big ? "big" : "little") << " endian, chunk " << chunk;
    }
    // Cut to an odd length: an error naming the file.
    const auto cut = dir.write("cut.csv", utf16.substr(0, utf16.size() - 1));
    EXPECT_THROW(run({cut}), error);
  }
}

// Old Mac line breaks: records ending in lone CRs count as the same text with CRLF, mapped file or
// streamed (gzip), at any chunk size, past the 64 KiB window that decides it; a CR inside quotes stays
// part of the key. A file with any LF in that window keeps today's reading (a lone CR is data).
TEST(LoneCrInput, SameCountsAsCrlfAtAnyChunkSize) {
  std::string cr = "TestTime,SampleID\r";
  std::string crlf = "TestTime,SampleID\r\n";
  const std::string keys[] = {"S1", "\"S\r2\"", "S3", "\"a,b\""};
  for (int i = 0; i < 20'000; ++i) {
    cr += "8/10/2004 1:15," + keys[(i * 7) % 4] + "\r";
    crlf += "8/10/2004 1:15," + keys[(i * 7) % 4] + "\r\n";
  }
  ASSERT_GT(cr.size(), line_end_window);
  testing::temp_dir dir;
  const auto reference = dir.write("crlf.csv", crlf);
  const auto mapped = dir.write("cr.csv", cr);
  const counts_map expected = totals(run({reference}));
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(expected.count("S\r2"), 1u);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{4093}, std::size_t{0}}) {
    count_request request;
    request.chunk_bytes = chunk;
    EXPECT_EQ(totals(run({mapped}, request)), expected) << "chunk " << chunk;
  }
  const auto packed = dir.path() / "cr.csv.gz";
  if (std::system(("gzip -c '" + mapped + "' > '" + packed.string() + "'").c_str()) == 0) {
    EXPECT_EQ(totals(run({packed.string()})), expected);
  }

  EXPECT_TRUE(ends_records_in_lone_cr("a\rb\r", 4));
  EXPECT_FALSE(ends_records_in_lone_cr("a\rb\n", 4));      // an LF: not an old Mac file
  EXPECT_FALSE(ends_records_in_lone_cr("\"a\rb\"", 5));    // the only CR is inside quotes
  EXPECT_FALSE(ends_records_in_lone_cr("one record", 10));  // no line break at all
  // A lone CR inside a CRLF file is still data, as before (the LF decides).
  const auto mixed = dir.write("mixed.csv", "TestTime,SampleID\r\n8/10/2004 1:15,S\r1\r\n");
  EXPECT_EQ(totals(run({mixed})), (counts_map{{"S\r1", 1}}));
}

TEST(ZipInput, AnArchiveExpandsToItsTableMembersInArchiveOrder) {
  const std::string zip = std::string(LABCOUNT_TEST_DATA_DIR) + "/zip/two_members.zip";
  if (!zip_supported()) GTEST_SKIP() << "built without libzip";
  const expanded_inputs got = expand_inputs({zip, zip}, expand_options{});
  ASSERT_EQ(got.paths.size(), 2u);  // __MACOSX/, folders and readme.md left out; the archive counted once
  EXPECT_EQ(display_name(got.paths[0]), zip + "/a.csv");
  EXPECT_EQ(display_name(got.paths[1]), zip + "/more/b.csv");
  EXPECT_EQ(got.warnings.size(), 1u);
  count_request request;
  request.per_file = true;
  const count_result r = run(got.paths, request);
  EXPECT_EQ(totals(r), (counts_map{{"S00802", 3}, {"S1", 1}, {"S9,6030", 1}}));
  ASSERT_EQ(r.per_file.size(), 2u);
  EXPECT_EQ(r.per_file[1].file, zip + "/more/b.csv");
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}}) {
    request.chunk_bytes = chunk;
    EXPECT_EQ(totals(run(got.paths, request)), totals(r)) << "chunk " << chunk;
  }
}

TEST(ZipInput, SpreadsheetsAndArchivesWithoutTablesAreErrorsThatSayWhatToDo) {
  if (!zip_supported()) GTEST_SKIP() << "built without libzip";
  const std::string dir = std::string(LABCOUNT_TEST_DATA_DIR) + "/zip/";
  for (const char* name : {"workbook.xlsx", "no_tables.zip"}) {
    try {
      expand_inputs({dir + name}, expand_options{});
      ADD_FAILURE() << name;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::bad_value) << e.what();
      EXPECT_EQ(e.file(), dir + name);
      EXPECT_FALSE(e.hint().empty());
    }
  }
  expand_options skip;
  skip.skip_unreadable = true;
  const expanded_inputs got = expand_inputs({dir + "no_tables.zip", dir + "stored.zip"}, skip);
  EXPECT_EQ(got.paths.size(), 1u);
  EXPECT_EQ(got.skipped.size(), 1u);
}

std::vector<std::string> expand(const std::vector<std::string>& inputs, bool recursive) {
  expand_options options;
  options.recursive = recursive;
  return expand_inputs(inputs, options).paths;
}

TEST(InputList, DirectoriesNeedRecursive) {
  testing::temp_dir dir;
  dir.write("a.csv", "SampleID\nx\n");
  try {
    expand({dir.path().string()}, false);
    FAIL();
  } catch (const error& e) {
    EXPECT_NE(e.hint().find("--recursive"), std::string::npos);
  }
}

TEST(InputList, RecursivePicksCsvAndCsvGzInPathOrder) {
  testing::temp_dir dir;
  std::filesystem::create_directories(dir.path() / "b" / "c");
  const auto root = dir.path().string();
  dir.write("b/c/z.csv", "");
  dir.write("b/y.CSV.GZ", "");
  dir.write("b/x.csv.zst", "");
  dir.write("b/w.csv.bz2", "");
  dir.write("b/v.csv.xz", "");
  dir.write("a.csv", "");
  dir.write("notes.txt", "");
  dir.write("a.csv.bak", "");
  EXPECT_EQ(expand({root}, true),
            (std::vector<std::string>{root + "/a.csv", root + "/b/c/z.csv", root + "/b/v.csv.xz", root + "/b/w.csv.bz2",
                                      root + "/b/x.csv.zst", root + "/b/y.CSV.GZ"}));
  EXPECT_EQ(expand({"-", root + "/a.csv"}, false), (std::vector<std::string>{"-", root + "/a.csv"}));
  std::filesystem::create_directories(dir.path() / "empty");
  EXPECT_THROW(expand({root + "/empty"}, true), error);
}

TEST(InputList, TheOutputAndTemporaryOutputsAreNeverInputs) {
  testing::temp_dir dir;
  const auto root = dir.path().string();
  dir.write("a.csv", "SampleID\nx\n");
  const std::string output = dir.write("counts.csv", "SampleID,count\nx,1\n");
  dir.write("counts.csv.labcount-tmp-AbC123.csv", "left over by a killed run");
  struct stat st {};
  ASSERT_EQ(::stat(output.c_str(), &st), 0);
  expand_options options;
  options.recursive = true;
  options.has_output = true;
  options.output_device = st.st_dev;
  options.output_inode = st.st_ino;
  options.output_name = output;
  const expanded_inputs found = expand_inputs({root}, options);
  EXPECT_EQ(found.paths, (std::vector<std::string>{root + "/a.csv"}));
  ASSERT_EQ(found.notes.size(), 2u);
  // Named directly, the output is refused: counting would replace it.
  try {
    expand_inputs({output}, options);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::usage);
    EXPECT_NE(std::string(e.what()).find("also an input"), std::string::npos) << e.what();
  }
  // Through a symlink too: the check is by device and inode.
  std::filesystem::create_symlink(output, dir.path() / "link.csv");
  EXPECT_THROW(expand_inputs({root + "/link.csv"}, options), error);
}

TEST(InputList, AFileNamedTwiceIsCountedOnceWithAWarning) {
  testing::temp_dir dir;
  const auto root = dir.path().string();
  const std::string a = dir.write("a.csv", "SampleID\nx\n");
  std::filesystem::create_symlink(a, dir.path() / "same.csv");
  expand_options options;
  options.recursive = true;
  const expanded_inputs found = expand_inputs({a, root + "/same.csv", root}, options);
  EXPECT_EQ(found.paths, (std::vector<std::string>{a}));
  EXPECT_EQ(found.warnings.size(), 3u);  // the link, then a.csv and the link again under the directory
}

TEST(Batch, PerFileCountsAndTotals) {
  testing::temp_dir dir;
  const auto a = dir.write("a.csv", "SampleID\nx\ny\nx\n");
  const auto b = dir.write("b.csv", "SampleID\ny\n");
  count_request request;
  request.per_file = true;
  const auto r = run({a, b}, request);
  EXPECT_EQ(totals(r), (counts_map{{"x", 2}, {"y", 2}}));
  ASSERT_EQ(r.per_file.size(), 2u);
  EXPECT_EQ(r.per_file[0].file, a);
  EXPECT_EQ(r.per_file[0].counts.size(), 2u);
  EXPECT_EQ(r.per_file[1].file, b);
  ASSERT_EQ(r.per_file[1].counts.size(), 1u);
  EXPECT_EQ(r.dictionary.key(r.per_file[1].counts[0].first), "y");
}

// A file that fails after many good rows must contribute nothing: not its early rows either.
TEST(Batch, SkippedFileIsLeftOutWhole) {
  testing::temp_dir dir;
  std::string late_error = "SampleID,v\n";
  for (int i = 0; i < 100000; ++i) late_error += "bad_file_key,1\n";
  late_error += "oops\n";
  const auto good = dir.write("good.csv", "SampleID,v\nx,1\n");
  const auto bad = dir.write("bad.csv", late_error);
  const auto missing = (dir.path() / "missing.csv").string();
  count_request request;
  request.chunk_bytes = 4096;
  EXPECT_THROW(run({good, bad}, request), error);
  request.on_bad_file = bad_file_policy::skip;
  request.per_file = true;
  const auto r = run({good, bad, missing, good}, request);
  EXPECT_EQ(totals(r), (counts_map{{"x", 2}}));
  EXPECT_EQ(r.rows, 2u);
  ASSERT_EQ(r.skipped_files.size(), 2u);
  EXPECT_EQ(r.skipped_files[0].file, bad);
  EXPECT_NE(r.skipped_files[0].reason.find(":100002:"), std::string::npos) << r.skipped_files[0].reason;
  EXPECT_EQ(r.skipped_files[1].file, missing);
  EXPECT_EQ(r.per_file.size(), 2u);
}

TEST(Batch, RecordLongerThanTheCapIsAnError) {
  testing::temp_dir dir;
  const auto path = dir.write("long.csv", "SampleID\n\"" + std::string(1 << 20, 'x') + "\"\nshort\n");
  count_request request;
  request.chunk_bytes = 1024;
  request.max_record_bytes = 64 << 10;
  EXPECT_THROW(run({path}, request), error);
  request.max_record_bytes = 4 << 20;
  EXPECT_EQ(totals(run({path}, request)).size(), 2u);
}

}  // namespace
}  // namespace labcount
