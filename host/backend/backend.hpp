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
  std::string name;  // "cpu", "gpu"
  bool usable = false;
  std::string reason;                // why it is not usable; a one-line summary when it is
  std::vector<std::string> details;  // extra lines (one per GPU, versions...)
};

// What a backend reduces.
//   counts: consume(codes)                  -> finish(n)         counts[code]
//   stats : consume_values(codes, seconds)  -> finish_stats(n)   per code: count, first, last, active days, repeats
//   groups: consume_values(codes, bucket)   -> finish_groups()   (code, bucket, count), sorted by code then bucket
enum class value_mode { counts, stats, groups };

struct backend_options {
  unsigned num_workers = 1;  // host threads calling consume() concurrently, with ids 0..num_workers-1
  int device = 0;            // --device N (GPU backends)
  value_mode mode = value_mode::counts;
};

// Seconds since 1970-01-01T00:00:00, as written in the file (no time zone).
using timestamp = std::int64_t;
inline constexpr timestamp seconds_per_day = 86400;
// The calendar day of a timestamp (floor division: days before 1970 are negative).
constexpr std::int64_t day_of(timestamp t) noexcept {
  return t / seconds_per_day - (t % seconds_per_day < 0 ? 1 : 0);  // no negation: safe down to INT64_MIN
}

// --stats for one key. Worked example, rows of one key at times [t1 t1 t2 t3], t1 and t2 on one day:
//   count 4, first t1, last t3, active_days 2, repeats 1 (the second t1 equals an earlier row).
struct key_stats {
  std::uint64_t count = 0;
  timestamp first = 0;
  timestamp last = 0;
  std::uint64_t active_days = 0;  // distinct day_of(time)
  std::uint64_t repeats = 0;      // rows whose (key, time) equals an earlier row's = count - distinct times
  friend bool operator==(const key_stats&, const key_stats&) = default;
};

// --per: rows per (key, bucket). The bucket is a number the host derived from the time (an hour, day,
// week or month index); the backend only groups by it.
struct group_count {
  std::uint32_t code = 0;
  std::int64_t bucket = 0;
  std::uint64_t count = 0;
  friend bool operator==(const group_count&, const group_count&) = default;
};

// Wall time spent in a backend's own phases, for --verbose/--timing. Zero where a phase does not apply.
struct backend_timings {
  std::chrono::nanoseconds transfer{0};  // host->device and device->host copies
  std::chrono::nanoseconds sort{0};
  std::chrono::nanoseconds reduce{0};
  std::chrono::nanoseconds setup{0};  // context creation, allocations
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

  // value_mode::stats and ::groups: one value per code (seconds for stats, a bucket for groups). Same
  // threading rules as consume().
  virtual void consume_values(unsigned worker, std::span<const std::uint32_t> codes,
                              std::span<const std::int64_t> values) = 0;
  // value_mode::stats, once at the end: stats[code] for every code < num_codes (count 0: not seen).
  virtual std::vector<key_stats> finish_stats(std::size_t num_codes) = 0;
  // value_mode::groups, once at the end: every (code, bucket) seen, sorted by code then bucket.
  virtual std::vector<group_count> finish_groups() = 0;
  virtual backend_timings timings() const { return {}; }
};

std::unique_ptr<count_backend> make_cpu_backend(const backend_options& options);
backend_status probe_cpu_backend();

}  // namespace labcount
