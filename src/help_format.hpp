// How `--help` reads: wrapped to the terminal (at most 100 columns when stdout is not one), each option's
// placeholder as written in its declaration (`--on-bad-row error|skip|warn`, `-j, --threads N`: no parser
// types such as `UINT:UINT in [1 - 1024]`), groups in the order they were declared.
//
// An option's placeholder (CLI11's option_text) is also what the man page and the shell completions read
// (src/shell_docs.hpp): `a|b|c` lists the allowed words, a placeholder with FILE or DIR completes paths.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace labcount {

// The help's width: stdout's terminal width when it is a terminal; else $COLUMNS when set; else 100.
// Clamped to [60, 200].
std::size_t help_width();

// Wraps `text` to `width` columns: words are kept whole (a longer word overflows its line), existing line
// breaks are kept, lines starting with a space (examples, tables) are never joined or broken. Every line but
// the first is indented by `indent` spaces (the first is assumed to sit at that column already).
std::string wrap_text(const std::string& text, std::size_t width, std::size_t indent = 0);

class help_formatter : public CLI::Formatter {
 public:
  explicit help_formatter(std::size_t width);

  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
  std::string make_option(const CLI::Option* opt, bool is_positional) const override;
  std::string make_option_opts(const CLI::Option* opt) const override;
  std::string make_group(std::string group, bool is_positional, std::vector<const CLI::Option*> opts) const override;
  std::string make_description(const CLI::App* app) const override;
  std::string make_subcommand(const CLI::App* sub) const override;
  std::string make_footer(const CLI::App* app) const override;

 private:
  std::string two_columns(const std::string& left, const std::string& right) const;
  std::size_t width_;
};

// The words an option accepts, when its placeholder lists them (`error|skip|warn`); empty otherwise.
std::vector<std::string> option_choices(const CLI::Option* opt);

}  // namespace labcount
