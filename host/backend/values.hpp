// What the backends reduce rows to, per mode: plain C++ shared by the host, the CPU backend and the
// GPU kernels (timestamp and day_of are in time/calendar.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "time/calendar.hpp"

namespace labcount {

// What a backend reduces; fixed when the backend is made.
//   counts: codes                         -> counts[code]
//   stats : codes + seconds (timestamps)  -> per code: count, first, last, active days, repeats
//   groups: codes + buckets (hour, day..) -> (code, bucket, count), sorted by code then bucket
enum class value_mode { counts, stats, groups };

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

// What finish() returns: the member of the backend's mode is filled, the others are empty.
struct reduction {
  std::vector<std::uint64_t> counts;  // counts: counts[code] for every code < num_codes
  std::vector<key_stats> stats;       // stats: stats[code] for every code < num_codes (count 0: not seen)
  std::vector<group_count> groups;    // groups: every (code, bucket) seen, sorted by code then bucket
};

}  // namespace labcount
