// `labcount bench`: times the full count (read, parse, encode, reduce, order, format) on every available backend
// with the same inputs and options, checks that all backends give the same output bytes, and prints a table (or
// --json) with median and min wall time, rows/s, GB/s, the phases and the speed-up over the CPU backend.
//
//   labcount bench samplesTests.csv                   # every available backend, 1 warm-up + 5 timed runs each
//   labcount bench --generate 100M --samples 100k     # on generated data, in a temporary file removed afterwards
#pragma once

#include <CLI/CLI.hpp>

namespace labcount {

// Adds `labcount bench` to the parent app; its callback runs the benchmark. Throws labcount::error: usage (bad
// options), backend_unavailable (--backends names one that cannot run here), bad_value (backends disagree, exit 1).
CLI::App* setup_bench(CLI::App& parent);

}  // namespace labcount
