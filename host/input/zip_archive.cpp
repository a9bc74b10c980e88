#include "input/zip_archive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/bytes.hpp"
#include "util/errors.hpp"

#ifdef LABCOUNT_HAS_LIBZIP
#include <zip.h>
#endif

namespace labcount {
namespace {

bool is_table_member(const std::string& name) {
  if (name.empty() || name.back() == '/') return false;  // a folder
  if (name.rfind("__MACOSX/", 0) == 0) return false;     // Finder's resource forks
  const std::string base = name.substr(name.find_last_of('/') + 1);
  if (base.rfind("._", 0) == 0) return false;  // AppleDouble files
  return bytes::ends_with_ignoring_case(name, ".csv") || bytes::ends_with_ignoring_case(name, ".tsv") ||
         bytes::ends_with_ignoring_case(name, ".txt");
}

#ifndef LABCOUNT_HAS_LIBZIP
[[noreturn]] void no_libzip(const std::string& path) {
  throw error(error_kind::not_built_in, "the input is a ZIP archive, but this labcount was built without ZIP support",
              path, 0, "install libzip-dev and rebuild, or extract it first: unzip " + path);
}
#else
// An open archive; zip_fdopen takes the descriptor it is given (a duplicate of the caller's).
class archive {
 public:
  archive(int fd, const std::string& name) : name_(name) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
      throw error(error_kind::io, std::string("cannot read the ZIP archive: ") + std::strerror(errno), name);
    int code = 0;
    zip_ = zip_fdopen(copy, ZIP_RDONLY, &code);
    if (zip_ == nullptr) {
      ::close(copy);
      zip_error_t e;
      zip_error_init_with_code(&e, code);
      const std::string why = zip_error_strerror(&e);
      zip_error_fini(&e);
      throw error(error_kind::bad_value, "not a readable ZIP archive (" + why + ")", name, 0,
                  "check it with `unzip -t " + name + "`; copy or download it again");
    }
  }
  ~archive() { zip_discard(zip_); }
  archive(const archive&) = delete;
  archive& operator=(const archive&) = delete;

  zip_t* get() const noexcept { return zip_; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    const zip_int64_t n = zip_get_num_entries(zip_, 0);
    for (zip_int64_t i = 0; i < n; ++i)
      if (const char* entry = zip_get_name(zip_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS))
        out.emplace_back(entry);
    return out;
  }

 private:
  std::string name_;
  zip_t* zip_ = nullptr;
};

class zip_member_reader final : public byte_reader {
 public:
  zip_member_reader(int fd, const std::string& member, std::string name, std::atomic<std::uint64_t>* progress)
      : archive_(fd, name), name_(std::move(name)), progress_(progress) {
    const zip_int64_t index = zip_name_locate(archive_.get(), member.c_str(), ZIP_FL_ENC_GUESS);
    if (index < 0) throw error(error_kind::io, "no such member in the ZIP archive", name_);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_.get(), static_cast<zip_uint64_t>(index), 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) &&
        (st.valid & ZIP_STAT_COMP_SIZE) && st.size > 0)
      ratio_ = static_cast<double>(st.comp_size) / static_cast<double>(st.size);
    file_ = zip_fopen_index(archive_.get(), static_cast<zip_uint64_t>(index), 0);
    if (file_ == nullptr) {
      zip_error_t* e = zip_get_error(archive_.get());
      const bool encrypted = zip_error_code_zip(e) == ZIP_ER_NOPASSWD || zip_error_code_zip(e) == ZIP_ER_WRONGPASSWD;
      throw error(error_kind::bad_value,
                  encrypted ? "the ZIP member is encrypted"
                            : std::string("cannot read the ZIP member (") + zip_error_strerror(e) + ")",
                  name_, 0, "extract it with unzip first and count the extracted file");
    }
  }
  ~zip_member_reader() override { zip_fclose(file_); }
  zip_member_reader(const zip_member_reader&) = delete;
  zip_member_reader& operator=(const zip_member_reader&) = delete;

  std::size_t read(char* out, std::size_t n) override {
    const zip_int64_t got = zip_fread(file_, out, static_cast<zip_uint64_t>(std::min<std::size_t>(n, 1u << 30)));
    if (got < 0)
      throw error(error_kind::bad_value,
                  std::string("the ZIP member is damaged (") + zip_error_strerror(zip_file_get_error(file_)) + ")",
                  name_, 0, "check it with `unzip -t`; copy or download the archive again");
    if (progress_ != nullptr)
      progress_->fetch_add(static_cast<std::uint64_t>(static_cast<double>(got) * ratio_), std::memory_order_relaxed);
    return static_cast<std::size_t>(got);
  }

 private:
  archive archive_;
  std::string name_;
  std::atomic<std::uint64_t>* progress_;
  zip_file_t* file_ = nullptr;
  double ratio_ = 1;
};
#endif

}  // namespace

std::string zip_member_input(const std::string& archive, const std::string& member) { return archive + '\0' + member; }

bool split_zip_member_input(const std::string& input, std::string& archive, std::string& member) {
  const std::size_t nul = input.find('\0');
  if (nul == std::string::npos) return false;
  archive = input.substr(0, nul);
  member = input.substr(nul + 1);
  return true;
}

bool zip_supported() noexcept {
#ifdef LABCOUNT_HAS_LIBZIP
  return true;
#else
  return false;
#endif
}

std::vector<std::string> zip_csv_members(const std::string& path) {
#ifdef LABCOUNT_HAS_LIBZIP
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw error(error_kind::io, std::string("cannot open the input: ") + std::strerror(errno), path);
  std::vector<std::string> names;
  try {
    names = archive(fd, path).names();
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  const auto has = [&](const char* name) { return std::find(names.begin(), names.end(), name) != names.end(); };
  if (has("xl/workbook.xml"))
    throw error(error_kind::bad_value, "this is an Excel workbook (.xlsx), not a CSV file", path, 0,
                "open it in Excel and save it as CSV (File > Save As > CSV UTF-8), then count the .csv");
  if (has("content.xml") && has("mimetype"))
    throw error(error_kind::bad_value, "this is an OpenDocument spreadsheet (.ods), not a CSV file", path, 0,
                "open it in LibreOffice and save it as CSV (File > Save As > Text CSV), then count the .csv");
  std::vector<std::string> members;
  for (const auto& name : names)
    if (is_table_member(name)) members.push_back(zip_member_input(path, name));
  if (members.empty()) {
    std::string listing;
    for (std::size_t i = 0; i < names.size() && i < 5; ++i) listing += (i == 0 ? "" : ", ") + names[i];
    if (names.size() > 5) listing += ", ...";
    throw error(
        error_kind::bad_value,
        "the ZIP archive holds no .csv, .tsv or .txt file" + (names.empty() ? "" : " (it holds " + listing + ")"), path,
        0, "extract the table you want and count it");
  }
  return members;
#else
  no_libzip(path);
#endif
}

std::unique_ptr<byte_reader> open_zip_member(int archive_fd, const std::string& member, std::string name,
                                             std::atomic<std::uint64_t>* progress) {
#ifdef LABCOUNT_HAS_LIBZIP
  return std::make_unique<zip_member_reader>(archive_fd, member, std::move(name), progress);
#else
  (void)archive_fd, (void)member, (void)progress;
  no_libzip(name);
#endif
}

}  // namespace labcount
