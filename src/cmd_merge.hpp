// `labcount merge`: sum CSV outputs of `labcount count` (parts of one batch counted apart) into one.
#pragma once

#include <CLI/CLI.hpp>

namespace labcount {

// Adds the `merge` subcommand to parent and returns it. Its callback reads the inputs, sums them and
// writes the result; it throws labcount::error for main to report.
CLI::App* setup_merge(CLI::App& parent);

}  // namespace labcount
