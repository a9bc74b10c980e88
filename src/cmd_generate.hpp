// `labcount generate`: write deterministic demo data shaped like the real samplesTests.csv.
#pragma once

#include <CLI/CLI.hpp>

namespace labcount {

// Adds the `generate` subcommand to parent and returns it. Its callback writes the file and
// throws labcount::error (usage or io) for main to report.
CLI::App* setup_generate(CLI::App& parent);

}  // namespace labcount
