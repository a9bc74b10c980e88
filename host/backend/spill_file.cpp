#include "backend/spill_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/errors.hpp"

namespace labcount {
namespace {

std::string default_directory() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

[[noreturn]] void spill_error(const std::string& directory, const std::string& what, int code) {
  throw error(error_kind::io,
              "cannot spill --stats/--per data to disk in " + directory + ": " + what + " (" + std::strerror(code) + ")",
              "", 0,
              code == ENOSPC ? "give it a disk with room (TMPDIR=/path), or more memory with --memory"
                             : "set TMPDIR to a writable folder, or give more memory with --memory");
}

// Moves all `left` bytes between `data` and the file at offset `at` with pread or pwrite, which may move fewer
// per call; `what` names the failure. A call that moves nothing (a full disk, a file cut short) fails with
// `stalled`.
template <typename Data, typename Call>
void transfer_all(Call call, int fd, Data* data, std::size_t left, std::uint64_t at, const std::string& directory,
                  const char* what, int stalled) {
  while (left > 0) {
    const ssize_t n = call(fd, data, left, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) spill_error(directory, what, n < 0 ? errno : stalled);
    data += n;
    left -= static_cast<std::size_t>(n);
    at += static_cast<std::uint64_t>(n);
  }
}

}  // namespace

spill_file::spill_file(std::string directory)
    : directory_(directory.empty() ? default_directory() : std::move(directory)), segments_(partitions) {
#if defined(O_TMPFILE)
  fd_ = ::open(directory_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
  if (fd_ < 0) {  // a file system without O_TMPFILE: create, then unlink at once
    std::string path = directory_ + "/labcount-spill-XXXXXX";
    fd_ = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd_ < 0) spill_error(directory_, "cannot create a file there", errno);
    ::unlink(path.c_str());
  }
}

spill_file::~spill_file() {
  if (fd_ >= 0) ::close(fd_);
}

void spill_file::write_run(std::vector<group_count>& records) {
  if (records.empty()) return;
  // A counting sort by partition, then one write for the run.
  std::array<std::uint64_t, partitions> begin{};
  for (const group_count& r : records) ++begin[partition_of(r.code)];
  std::uint64_t offset = 0;
  for (unsigned p = 0; p < partitions; ++p) {
    const std::uint64_t n = begin[p];
    begin[p] = offset;
    if (n != 0) segments_[p].push_back({size_ + offset * sizeof(group_count), n});
    offset += n;
  }
  std::vector<group_count> ordered(records.size());
  for (const group_count& r : records) ordered[begin[partition_of(r.code)]++] = r;
  const std::size_t bytes = ordered.size() * sizeof(group_count);
  transfer_all(::pwrite, fd_, reinterpret_cast<const char*>(ordered.data()), bytes, size_, directory_,
               "writing failed", ENOSPC);
  size_ += bytes;
  ++runs_;
  records.clear();
}

void spill_file::read_partition(unsigned p, std::vector<group_count>& out) const {
  for (const segment& s : segments_[p]) {
    const std::size_t first = out.size();
    out.resize(first + s.records);
    transfer_all(::pread, fd_, reinterpret_cast<char*>(out.data() + first), s.records * sizeof(group_count),
                 s.offset, directory_, "reading back failed", EIO);
  }
}

}  // namespace labcount
