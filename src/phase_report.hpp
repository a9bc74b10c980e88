// Where the time of one count run went, for `count --timing` and `bench`.
//
//   run_count: [make backend][read + parse + encode (+ consume)][finish] -> order + format + write
//   phases:     setup         parse                              finish     output
//   GPU only:   transfer, sort, reduce are device-timeline times of the batches; they overlap parse and
//               finish (the device works while the host parses), so they are not added to the total.
#pragma once

#include <string>

#include "pipeline/count_pipeline.hpp"

namespace labcount {

struct phase_seconds {
  double setup = 0;     // backend construction (GPU: context, streams, buffers); 0 when the backend has none
  double parse = 0;     // read + parse + encode + backend consume, without setup
  double transfer = 0;  // host<->device copies (GPU)
  double sort = 0;      // device sort (GPU)
  double reduce = 0;    // device reduce_by_key and merges (GPU)
  double finish = 0;    // backend finish(): CPU merges its per-worker tables; GPU drains, merges, copies back
  double output = 0;    // order + format + write of the result
  double total() const noexcept { return setup + parse + finish + output; }
};

// The phases of `result`, with `setup_seconds` for the backend's start-up when the caller measured it (< 0: take
// the backend's own setup timing).
phase_seconds phases_of(const count_result& result, double output_seconds, double setup_seconds = -1);

// A small table for stderr, one line per phase:
//   labcount: timing: cpu, 886413 rows, 19.6 MB
//     setup                 -
//     read+parse+encode     0.031 s   0.63 GB/s  (includes backend consume)
//     ...
//     total                 0.035 s
std::string format_phases(const count_result& result, double output_seconds);

}  // namespace labcount
