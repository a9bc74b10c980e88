#pragma once

#include <CLI/CLI.hpp>

namespace labcount {
// Adds `labcount count` to the parent app; its callback runs the count.
CLI::App* setup_count(CLI::App& parent);

}  // namespace labcount
