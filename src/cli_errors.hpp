// The command-line parser's errors in labcount's own format: what is wrong, then a hint.
//
//   labcount count f.csv --kye 2   ->  labcount: error: unknown option --kye for `labcount count`
//                                        hint: did you mean --key?
//   labcount cont f.csv            ->  labcount: error: unknown command 'cont'
//                                        hint: did you mean `labcount count`?
#pragma once

#include <CLI/CLI.hpp>

namespace labcount {

// Before parsing: the first argument must be a command, --help or --version. Throws error(usage) with
// a "did you mean" (`labcount version` -> --version).
void check_command_word(const CLI::App& app, int argc, const char* const* argv);

// Prints a CLI11 parse error reworded, and returns the exit code (0 for --help and --version, which
// CLI11 reports as errors too, after printing them).
int report_parse_error(const CLI::App& app, const CLI::ParseError& e);

}  // namespace labcount
