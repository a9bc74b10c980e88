// Shared by the libFuzzer targets: one temporary file per process for inputs (run_count and merge_counts
// read paths), thread pools made once, and a check that stops the fuzzer with a message.
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "pipeline/count_pipeline.hpp"

namespace labcount::fuzz {

// A mismatch is a finding: print what differs, then crash so libFuzzer keeps the input.
#define LABCOUNT_FUZZ_CHECK(cond, ...)                        \
  do {                                                        \
    if (!(cond)) {                                            \
      std::fprintf(stderr, "fuzz check failed: %s: ", #cond); \
      std::fprintf(stderr, __VA_ARGS__);                      \
      std::fprintf(stderr, "\n");                             \
      __builtin_trap();                                       \
    }                                                         \
  } while (0)

// A file in $TMPDIR (or /tmp) that lives as long as the process; write() replaces its bytes. libFuzzer may end
// the process without destructors, so scripts/fuzz.sh points TMPDIR at a folder it removes.
class scratch_file {
 public:
  explicit scratch_file(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/labcount-fuzz-XXXXXX" + suffix;
    const int fd = ::mkstemps(path_.data(), static_cast<int>(std::string_view(suffix).size()));
    if (fd < 0) std::abort();
    ::close(fd);
  }
  ~scratch_file() { ::unlink(path_.c_str()); }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;

  const std::string& write(std::string_view bytes) const {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) std::abort();
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
    if (std::fclose(f) != 0) std::abort();
    return path_;
  }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// A pool of 1, 2 or 3 workers, made once per process (threads are slow to start).
inline thread_pool& pool_of(unsigned threads) {
  static thread_pool pools[3] = {thread_pool(1), thread_pool(2), thread_pool(3)};
  return pools[threads - 1];
}

// key bytes -> count, over the codes with a count above 0.
inline std::map<std::string, std::uint64_t> counts_by_key(const count_result& result) {
  std::map<std::string, std::uint64_t> out;
  for (std::uint32_t code = 0; code < result.dictionary.size(); ++code)
    if (result.counts[code] != 0) out[std::string(result.dictionary.key(code))] = result.counts[code];
  return out;
}

inline count_result run_cpu(const count_request& request, unsigned threads) {
  backend_options options;
  options.num_workers = threads;
  return run_count(request, *make_cpu_backend(options), pool_of(threads));
}

}  // namespace labcount::fuzz
