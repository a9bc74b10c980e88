// What a backend's value modes hold beyond their memory budget: (code, value, rows) records on disk, written
// in runs, each run cut into partitions by code, and read back one partition at a time, so that finishing
// needs the memory of one partition, not of every pair (the out-of-core aggregation of DuckDB and Polars).
//
//   run 1: [p0: (S1,t1,1) (S9,t4,2)] [p1: (S2,t1,1)] ...      partition_of(code): every record of a key in one
//   run 2: [p0: (S1,t1,1)] [p1: (S2,t7,1)] ...                 partition, so a key's stats come from it alone
//   read_partition(0) -> (S1,t1,1) (S9,t4,2) (S1,t1,1)
//
// The file is anonymous (O_TMPFILE, or created and unlinked at once) in $TMPDIR: nothing is left behind,
// however the process ends, even by SIGKILL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/values.hpp"

namespace labcount {

class spill_file {
 public:
  static constexpr unsigned partitions = 64;

  // Opens the file in `directory` ($TMPDIR, else /tmp, when empty). Throws error(io) naming the directory and
  // the fix when it cannot.
  explicit spill_file(std::string directory = {});
  ~spill_file();
  spill_file(const spill_file&) = delete;
  spill_file& operator=(const spill_file&) = delete;

  // The partition of a code: a multiplicative hash of it, so that dense codes spread evenly.
  static unsigned partition_of(std::uint32_t code) noexcept {
    return static_cast<unsigned>((code * 0x9E3779B1u) >> 26);  // 64 partitions: the top 6 bits
  }

  // Writes `records` as one run (reordering them by partition). Throws error(io) on a write error (a full
  // disk), with the way out.
  void write_run(std::vector<group_count>& records);
  // Appends every run's records of partition `p` to `out`.
  void read_partition(unsigned p, std::vector<group_count>& out) const;

  std::uint64_t bytes() const noexcept { return size_; }
  std::uint64_t runs() const noexcept { return runs_; }
  const std::string& directory() const noexcept { return directory_; }

 private:
  struct segment {
    std::uint64_t offset;
    std::uint64_t records;
  };
  std::string directory_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t runs_ = 0;
  std::vector<std::vector<segment>> segments_;  // per partition
};

static_assert(spill_file::partitions == 64, "partition_of takes the top 6 bits");

}  // namespace labcount
