#pragma once

#include <CLI/CLI.hpp>

namespace labcount {
// Adds `labcount info`: version, build, and the backends this machine has (and why not).
CLI::App* setup_info(CLI::App& parent);
}  // namespace labcount
