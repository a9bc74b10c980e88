// The man page and the shell completions, written from the same CLI11 definitions as --help, so that
// no flag is described twice. The build runs `labcount manpage` and `labcount completion SHELL` to make the
// files `cmake --install` puts in place.
//
//   labcount completion bash > /etc/bash_completion.d/labcount     (zsh: _labcount in $fpath; fish: labcount.fish)
//
// What completes: command names, every option of the command being typed, the words of an option whose
// placeholder lists them (--sort key|count|..., --on-bad-row error|skip|warn), and file names for inputs and
// for options whose placeholder says FILE.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace labcount {

enum class shell_kind { bash, zsh, fish };

// A roff man(7) page for `app` and its subcommands.
std::string man_page(const CLI::App& app);
std::string completion_script(const CLI::App& app, shell_kind shell);

// `labcount completion bash|zsh|fish` and the hidden `labcount manpage`.
void setup_shell_docs(CLI::App& app);

}  // namespace labcount
