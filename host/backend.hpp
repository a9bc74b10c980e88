// The seam between the host (read, parse, dictionary-encode) and the reducers (CPU thread pool, GPU).
//
//   host workers:  "S2,S1,S1,S3" --encode--> codes [1 0 0 2] --consume()--> backend
//   backend:       reduce codes to counts --finish()--> counts[code] = [2 1 1]
//
// A backend sees only dense 32-bit codes (and, later, values); it never sees CSV bytes or key strings.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace labcount {

// What `labcount info` prints about one backend, and why it can or cannot run here.
struct backend_status {
  std::string name;                  // "cpu", "gpu"
  bool usable = false;
  std::string reason;                // why it is not usable; a one-line summary when it is
  std::vector<std::string> details;  // extra lines (one per GPU, versions...)
};

struct backend_options {
  unsigned num_workers = 1;  // host threads calling consume() concurrently, with ids 0..num_workers-1
  int device = 0;            // --device N (GPU backends)
};

// Wall time spent in a backend's own phases, for --verbose/--timing. Zero where a phase does not apply.
struct backend_timings {
  std::chrono::nanoseconds transfer{0};   // host->device and device->host copies
  std::chrono::nanoseconds sort{0};
  std::chrono::nanoseconds reduce{0};
  std::chrono::nanoseconds setup{0};      // context creation, allocations
};

class count_backend {
 public:
  virtual ~count_backend() = default;
  virtual std::string_view name() const = 0;
  // Called concurrently by the host workers, each with its own `worker` id; never twice at once with the
  // same id. `codes` are global dictionary codes and stay valid only during the call.
  virtual void consume(unsigned worker, std::span<const std::uint32_t> codes) = 0;
  // Once, after every consume() returned: counts[code] for every code < num_codes.
  virtual std::vector<std::uint64_t> finish(std::size_t num_codes) = 0;
  virtual backend_timings timings() const { return {}; }
};

std::unique_ptr<count_backend> make_cpu_backend(const backend_options& options);
backend_status probe_cpu_backend();

}  // namespace labcount
