// An output destination that never leaves a partial or clobbered file behind.
//
// For a path, bytes go to a temporary file next to it ("<path>.labcount-tmp-XXXXXX") that commit()
// fsyncs and renames over the path; if commit() is never reached (an error, an exception), the
// destructor removes the temporary and the old file is untouched. "-" writes to standard output.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace labcount {

class output_file {
 public:
  explicit output_file(std::string path);  // throws error(io) naming the path and the fix
  ~output_file();
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  void write(std::string_view bytes);  // buffered; throws error(io) on failure (disk full...)
  void commit();                       // flush, fsync, rename into place; throws error(io)

  const std::string& path() const noexcept { return path_; }
  bool is_stdout() const noexcept { return path_ == "-"; }

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;  // stdio buffer of this file (never shared between instances)
  bool committed_ = false;
};

}  // namespace labcount
