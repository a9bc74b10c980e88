// The seam between the host (read, parse, dictionary-encode) and the reducers (CPU thread pool, GPU).
//
//   host workers:  "S2,S1,S1,S3" --encode--> codes [1 0 0 2] --consume(worker, batch)--> backend
//   backend:       reduce codes (and values) --finish(n)--> the mode's reduction, counts [2 1 1]
//   next input:    reset(): every row forgotten, every resource kept (one GPU setup per run)
//
// A backend sees only dense 32-bit codes and, in the value modes, one 64-bit value per code; it never sees
// CSV bytes or key strings. Its mode and number of workers are fixed when it is made, and this class checks
// every call against them once and picks the mode's finish, so that a backend implements only the reduction.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/values.hpp"

namespace labcount {

// What `labcount info` prints about one backend, and whether it can run here.
struct backend_status {
  std::string name;  // "cpu", "gpu"
  bool usable = false;
  std::string summary;               // usable: one line on what runs ("thread pool, 16 hardware threads")
  std::string why_not;               // not usable: why, and what to do about it
  std::vector<std::string> details;  // extra lines (one per GPU, versions...)
};

// How much a probe looks at: a run probes only the device it would use (no CUDA context on the others);
// `labcount info` and `labcount bench` describe every device.
enum class probe_detail { chosen_device, every_device };

struct backend_options {
  unsigned num_workers = 1;  // host threads calling consume() concurrently, with ids 0..num_workers-1
  int device = 0;            // --device N (GPU backends)
  int node_rank = -1;        // an MPI rank without --device: its place on its node; it takes GPU node_rank % GPUs
  value_mode mode = value_mode::counts;
  // groups: the values are times (microseconds), not bucket numbers: --stats run as (key, time) groups for a
  // partial state or an MPI job (prepare_partial_request). The CPU packs them as whole seconds.
  bool group_times = false;
  // Value modes: the bytes every worker's (code, value) tables together may hold; past it a worker writes its
  // table to a spill file ($TMPDIR, or spill_directory) and starts a new one, and finish() works through the
  // spilled pairs one partition at a time (backend/spill_file.hpp). 0: no limit. (The CPU backend.)
  std::size_t memory_budget = 0;
  std::string spill_directory;
  std::atomic<std::uint64_t>* spilled_bytes = nullptr;  // not null: bytes spilled so far, for a progress display
};

// Rows on their way to a backend: global dictionary codes and, in the value modes, one value per code
// (a time for stats: microseconds since 1970; a bucket for groups, or a time with backend_options::group_times). Valid only during the call that takes it.
// The pipeline's parse workers hand over at most pipeline_batch_rows rows at a time (the GPU sizes its
// pinned staging to it); a backend must accept any size.
inline constexpr std::size_t pipeline_batch_rows = std::size_t{1} << 16;
struct row_batch {
  std::span<const std::uint32_t> codes = {};
  std::span<const std::int64_t> values = {};  // counts: empty
};

// Wall time spent in a backend's own phases since it was made, for --verbose/--timing. Zero where a phase
// does not apply.
struct backend_timings {
  std::chrono::nanoseconds transfer{0};  // host->device and device->host copies
  std::chrono::nanoseconds sort{0};
  std::chrono::nanoseconds reduce{0};
  std::chrono::nanoseconds setup{0};  // context creation, allocations
  std::uint64_t spilled_bytes = 0;    // value modes past backend_options::memory_budget: written to disk
};

class count_backend {
 public:
  virtual ~count_backend() = default;
  count_backend(const count_backend&) = delete;
  count_backend& operator=(const count_backend&) = delete;

  virtual std::string_view name() const = 0;
  value_mode mode() const noexcept { return mode_; }
  unsigned num_workers() const noexcept { return num_workers_; }

  // Called concurrently by the host workers, each with its own `worker` id below num_workers(); never twice
  // at once with the same id.
  void consume(unsigned worker, row_batch batch);
  // Once all consume() calls returned: the reduction of every row since the backend was made or last reset.
  // Codes >= num_codes are not reported. Then only reset() (or destruction) may follow.
  reduction finish(std::size_t num_codes);
  // Forgets every row (after finish(), or to drop an input that failed half way), keeping what was set up
  // and allocated, so one backend serves every input of a run. Not concurrent with consume().
  void reset();

  virtual backend_timings timings() const { return {}; }

 protected:
  explicit count_backend(const backend_options& options) noexcept;

 private:
  // The reduction for mode(); batch.values has one value per code in the value modes, codes is not empty.
  virtual void do_consume(unsigned worker, row_batch batch) = 0;
  // finish() calls the one of mode() (see `reduction` for what each returns).
  virtual std::vector<std::uint64_t> finish_counts(std::size_t num_codes) = 0;
  virtual std::vector<key_stats> finish_stats(std::size_t num_codes) = 0;
  virtual std::vector<group_count> finish_groups() = 0;
  virtual void do_reset() = 0;

  value_mode mode_;
  unsigned num_workers_;
  bool finished_ = false;
};

std::unique_ptr<count_backend> make_cpu_backend(const backend_options& options);
backend_status probe_cpu_backend(const backend_options& options, probe_detail detail);

}  // namespace labcount
