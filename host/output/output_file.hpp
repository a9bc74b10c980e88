// An output destination that never leaves a partial or clobbered file behind, and never replaces
// something that is not a file.
//
//   -o target                       how it is written
//   "-"                             standard output
//   new path, or a regular file     a temporary file beside it ("<path>.labcount-tmp-XXXXXX"), created
//                                   at the first write with the final mode (an existing file's mode,
//                                   owner and group are kept), then fsync and rename over the path
//   a symlink                       followed: its final target is replaced as above, the link stays
//   /dev/stdout, /dev/fd/N,         the descriptor itself (dup), so `>>`, pipes and `>(gzip > x.gz)`
//   /proc/self/fd/N                 work as the shell set them up
//   a device, FIFO or socket        opened and written directly: no temporary file, never unlinked
//
// The constructor checks everything that can be checked before the work (a directory, a missing or
// read-only folder) and creates nothing, so a run killed while counting, even by SIGKILL, leaves no
// temporary file. Until commit() the old output is untouched; a signal or an exception removes the
// temporary file (see signal_cleanup.hpp). Write errors (disk full, /dev/full, EIO) are error(io)
// naming the output; a broken pipe is error(broken_pipe), which main ends quietly.
//
// A path ending in .gz or .zst is written compressed (output_compress.hpp), unless the caller asks for
// the bytes as they are (a --partial state, which merge reads uncompressed).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "output/output_compress.hpp"
#include "util/signal_cleanup.hpp"

namespace labcount {

class output_file {
 public:
  enum class by_name { compress, plain };
  // throws error(io) naming the path and the fix
  explicit output_file(std::string path, by_name mode = by_name::compress);
  ~output_file();
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  void write(std::string_view bytes);  // buffered; throws error(io) on failure (disk full...)
  void commit();                       // flush, fsync, rename into place; throws error(io)

  const std::string& path() const noexcept { return path_; }
  bool is_stdout() const noexcept { return path_ == "-"; }
  // The file a temporary file will replace: the path itself, or a symlink's final target. Empty when
  // the output is written in place (standard output, a descriptor, a device, a FIFO).
  const std::string& replaced_path() const noexcept { return target_; }
  // For "is the output one of the inputs?": the device and inode the output names, when it exists.
  bool names_existing_file(dev_t& device, ino_t& inode) const noexcept;

 private:
  void open_temporary();  // at the first write: the temporary file, with the final mode
  void write_raw(std::string_view bytes);
  [[noreturn]] void fail_write(int err);

  std::string path_;    // as given
  std::string target_;  // the path to rename over; empty when written in place
  std::string temp_path_;
  bool target_exists_ = false;
  mode_t target_mode_ = 0;
  uid_t target_uid_ = 0;
  gid_t target_gid_ = 0;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  bool has_identity_ = false;
  int direct_fd_ = -1;  // in-place outputs other than stdout
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;  // stdio buffer of this file (never shared between instances)
  std::unique_ptr<output_compressor> compressor_;  // for a .gz or .zst path
  cleanup_slot cleanup_;
  bool committed_ = false;
};

}  // namespace labcount
