#pragma once

#include <CLI/CLI.hpp>

namespace labcount {
// Adds `labcount count` to the parent app; its callback runs the count.
CLI::App* setup_count(CLI::App& parent);
// Parses a --delimiter value: one character, or "\t" / "tab". Throws error(usage).
char parse_delimiter(const std::string& text);
}  // namespace labcount
