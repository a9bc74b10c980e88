// ZIP archives as inputs (libzip): `labcount count samplesTests.zip` counts the CSV members inside, each an
// input of its own (--per-file names it "samplesTests.zip/samplesTests.csv"). A spreadsheet (an .xlsx or .ods
// workbook is a ZIP too) is refused with what to do instead.
//
//   zip_csv_members("batch.zip")  -> {"batch.zip\0a.csv", "batch.zip\0b.tsv"}   (archive order)
//   input_source("batch.zip\0a.csv") streams the member (the NUL cannot occur in a real path)
//   display_name("batch.zip\0a.csv") == "batch.zip/a.csv"
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "input/byte_reader.hpp"

namespace labcount {

inline bool is_zip_magic(const unsigned char* b, std::size_t size) noexcept {
  return size >= 4 && b[0] == 'P' && b[1] == 'K' &&
         ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6));  // a local file header, or an empty archive
}

// The input path of one member: archive + '\0' + member name.
std::string zip_member_input(const std::string& archive, const std::string& member);
// Splits such a path; false for an ordinary path.
bool split_zip_member_input(const std::string& input, std::string& archive, std::string& member);

// Whether this build reads ZIP archives.
bool zip_supported() noexcept;

// The member inputs of the archive at `path`: every *.csv, *.tsv and *.txt file in archive order (folders and
// macOS __MACOSX/ metadata left out). Throws error(bad_value) naming the archive for an Excel or OpenDocument
// workbook (save it as CSV), an archive without such a member (listing what it holds), or one libzip cannot
// read; error(not_built_in) without libzip.
std::vector<std::string> zip_csv_members(const std::string& path);

// Streams member `member` of the archive open on `archive_fd` (not owned). Adds to *progress the compressed
// bytes read, in proportion. Errors (a bad CRC, a damaged entry, encryption) name `name`.
std::unique_ptr<byte_reader> open_zip_member(int archive_fd, const std::string& member, std::string name,
                                             std::atomic<std::uint64_t>* progress);

}  // namespace labcount
