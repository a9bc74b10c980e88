#include "shell_docs.hpp"

#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "help_format.hpp"
#include "parse_values.hpp"

namespace labcount {
namespace {

std::vector<const CLI::App*> visible_commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty() && !sub->get_name().empty(); });
}

// Without -h/--help, which every command has (the man page says so once).
std::vector<const CLI::Option*> visible_options(const CLI::App& cmd, const std::string& group = {}) {
  return cmd.get_options([&](const CLI::Option* opt) {
    return opt->nonpositional() && !opt->get_group().empty() && (group.empty() || opt->get_group() == group) &&
           opt != cmd.get_help_ptr();
  });
}

bool takes_value(const CLI::Option* opt) { return opt->get_expected_max() != 0; }  // 0: a flag

std::vector<const CLI::Option*> positionals(const CLI::App& cmd) {
  return cmd.get_options([](const CLI::Option* opt) { return opt->get_positional(); });
}

// What a shell offers where a value goes: the words its placeholder lists (error|skip|warn), file names (a
// placeholder with FILE or DIR), or nothing (a value to type, such as a column name). Decided here once; each
// shell only spells it.
struct offer {
  enum class kind { nothing, words, files };
  kind what = kind::nothing;
  std::vector<std::string> words;
};

offer offer_for(const CLI::Option* opt) {
  if (auto words = option_choices(opt); !words.empty()) return {offer::kind::words, std::move(words)};
  const std::string& text = opt->get_option_text();
  if (text.find("FILE") != std::string::npos || text.find("DIR") != std::string::npos) return {offer::kind::files, {}};
  return {};
}

// A command's positional arguments: their words (completion bash|zsh|fish), else files (inputs); nothing when it
// takes none.
offer offer_for_positionals(const CLI::App& cmd) {
  const auto all = positionals(cmd);
  for (const CLI::Option* opt : all)
    if (auto words = option_choices(opt); !words.empty()) return {offer::kind::words, std::move(words)};
  return all.empty() ? offer{} : offer{offer::kind::files, {}};
}

// Every spelling of an option: "-k", "--key".
std::vector<std::string> spellings(const CLI::Option* opt) {
  std::vector<std::string> out;
  for (const auto& s : opt->get_snames()) out.push_back("-" + s);
  for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
  return out;
}

// The first sentence of a description, for the one-line summaries of zsh and fish.
std::string summary(const std::string& description) {
  std::string out = description.substr(0, description.find('\n'));
  for (const std::string_view stop : {"; ", ". ", " ("}) {
    const std::size_t at = out.find(stop);
    if (at != std::string::npos && at > 10) out.resize(at);
  }
  if (out.size() > 80) out = out.substr(0, 77) + "...";
  return out;
}

std::string join(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) out += (i == 0 ? "" : separator) + words[i];
  return out;
}

// ---- man ---------------------------------------------------------------------------------------------

// Text for roff: backslashes escaped, hyphens as \- (so they copy and search as ASCII), and a line that would
// start with a control character made safe.
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

// A description or footer: paragraphs flow; lines starting with a space (examples) are kept as written.
std::string roff_block(const std::string& text) {
  std::string out;
  bool preformatted = false;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t lf = text.find('\n', begin);
    if (lf == std::string::npos) lf = text.size();
    const std::string line = text.substr(begin, lf - begin);
    begin = lf + 1;
    const bool keep = !line.empty() && line[0] == ' ';
    if (keep && !preformatted) out += ".nf\n";
    if (!keep && preformatted) out += ".fi\n";
    preformatted = keep;
    if (line.empty())
      out += ".PP\n";
    else
      out += roff(line) + "\n";
    if (lf == text.size()) break;
  }
  if (preformatted) out += ".fi\n";
  return out;
}

std::string man_option(const CLI::Option* opt) {
  std::string head;
  for (const auto& s : spellings(opt)) head += (head.empty() ? "" : ", ") + std::string("\\fB") + roff(s) + "\\fR";
  if (takes_value(opt) && !opt->get_option_text().empty()) head += " \\fI" + roff(opt->get_option_text()) + "\\fR";
  return ".TP\n" + head + "\n" + roff(opt->get_description()) + "\n";
}

std::string man_command(const CLI::App& cmd, const std::string& program) {
  std::string out = ".SS \"" + program + " " + cmd.get_name() + "\"\n";
  out += roff_block(cmd.get_description());
  for (const CLI::Option* opt : positionals(cmd))
    out += ".TP\n\\fI" + roff(opt->get_option_text()) + "\\fR\n" + roff(opt->get_description()) + "\n";
  for (const std::string& group : cmd.get_groups()) {
    if (group.empty()) continue;
    const auto opts = visible_options(cmd, group);
    if (opts.empty()) continue;
    out += ".PP\n\\fB" + roff(group) + "\\fR\n";
    for (const CLI::Option* opt : opts) out += man_option(opt);
  }
  if (!cmd.get_footer().empty()) out += ".PP\n" + roff_block(cmd.get_footer());
  return out;
}

// ---- bash ----------------------------------------------------------------------------------------------

// COMPREPLY for an offer, or nothing to say.
std::string bash_reply(const offer& o) {
  switch (o.what) {
    case offer::kind::words: return "COMPREPLY=($(compgen -W \"" + join(o.words, " ") + "\" -- \"$cur\"))";
    case offer::kind::files: return "COMPREPLY=($(compgen -f -- \"$cur\"))";
    case offer::kind::nothing: return {};
  }
  return {};
}

std::string bash_script(const CLI::App& app) {
  const std::string program = app.get_name();
  const std::string function = "_" + program;
  std::vector<std::string> names;
  for (const CLI::App* cmd : visible_commands(app)) names.push_back(cmd->get_name());
  std::string out = "# bash completion for " + program + " (written by `" + program + " completion bash`)\n";
  out += function + "() {\n";
  out += "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" cmd=\"\" i\n";
  out += "  for ((i = 1; i < COMP_CWORD; i++)); do\n";
  out += "    case \"${COMP_WORDS[i]}\" in " + join(names, "|") + ") cmd=\"${COMP_WORDS[i]}\"; break ;; esac\n";
  out += "  done\n";
  out += "  if [[ -z $cmd ]]; then\n";
  out += "    COMPREPLY=($(compgen -W \"" + join(names, " ") + " --help --version\" -- \"$cur\"))\n";
  out += "    return\n";
  out += "  fi\n";
  out += "  case \"$cmd\" in\n";
  for (const CLI::App* cmd : visible_commands(app)) {
    out += "    " + cmd->get_name() + ")\n";
    out += "      case \"$prev\" in\n";
    std::vector<std::string> all;
    for (const CLI::Option* opt : visible_options(*cmd)) {
      const auto names_of = spellings(opt);
      all.insert(all.end(), names_of.begin(), names_of.end());
      if (!takes_value(opt)) continue;
      const std::string reply = bash_reply(offer_for(opt));
      out += "        " + join(names_of, "|") + ") " + (reply.empty() ? "" : reply + "; ") + "return ;;\n";
    }
    out += "      esac\n";
    out += "      if [[ $cur == -* ]]; then\n";
    out += "        COMPREPLY=($(compgen -W \"" + join(all, " ") + "\" -- \"$cur\"))\n";
    if (const offer args = offer_for_positionals(*cmd); args.what != offer::kind::nothing)
      out += "      else\n        " + bash_reply(args) + "\n";
    out += "      fi\n";
    out += "      ;;\n";
  }
  out += "  esac\n";
  out += "}\n";
  out += "complete -o filenames -o bashdefault -F " + function + " " + program + "\n";
  return out;
}

// ---- zsh -----------------------------------------------------------------------------------------------

// Text inside a single-quoted _arguments spec: ' closes the quotes, and [ ] : are the spec's own syntax.
std::string zsh_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else if (c == '[' || c == ']' || c == ':' || c == '\\')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

// The action of an _arguments spec for an offer.
std::string zsh_action(const offer& o) {
  switch (o.what) {
    case offer::kind::words: return "(" + join(o.words, " ") + ")";
    case offer::kind::files: return "_files";
    case offer::kind::nothing: return " ";
  }
  return " ";
}

std::string zsh_script(const CLI::App& app) {
  const std::string program = app.get_name();
  std::string out = "#compdef " + program + "\n# zsh completion for " + program + " (written by `" + program +
                    " completion zsh`)\n";
  out += "_" + program + "() {\n";
  out += "  local -a commands\n";
  out += "  commands=(\n";
  for (const CLI::App* cmd : visible_commands(app))
    out += "    '" + cmd->get_name() + ":" + zsh_text(summary(cmd->get_description())) + "'\n";
  out += "  )\n";
  out += "  if (( CURRENT == 2 )); then\n";
  out += "    _describe -t commands 'labcount command' commands\n";
  out += "    return\n";
  out += "  fi\n";
  out += "  local cmd=$words[2]\n";
  out += "  shift words\n";
  out += "  (( CURRENT-- ))\n";
  out += "  case $cmd in\n";
  for (const CLI::App* cmd : visible_commands(app)) {
    out += "    " + cmd->get_name() + ")\n";
    out += "      _arguments -s";
    for (const CLI::Option* opt : visible_options(*cmd)) {
      const auto names_of = spellings(opt);
      const std::string help = "[" + zsh_text(summary(opt->get_description())) + "]";
      const std::string value =
          takes_value(opt) ? ":" + zsh_text(opt->get_option_text()) + ":" + zsh_action(offer_for(opt)) : "";
      if (names_of.size() == 1) {
        out += " \\\n        '" + names_of[0] + help + value + "'";
      } else {
        out += " \\\n        '(" + join(names_of, " ") + ")'{" + join(names_of, ",") + "}'" + help + value + "'";
      }
    }
    const offer args = offer_for_positionals(*cmd);
    if (args.what == offer::kind::words)
      out += " \\\n        ':" + zsh_text(positionals(*cmd)[0]->get_name()) + ":" + zsh_action(args) + "'";
    else if (args.what == offer::kind::files)
      out += " \\\n        '*:input:" + zsh_action(args) + "'";
    out += "\n      ;;\n";
  }
  out += "  esac\n";
  out += "}\n";
  out += "_" + program + " \"$@\"\n";
  return out;
}

// ---- fish ----------------------------------------------------------------------------------------------

std::string fish_text(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// complete's flags for an offer: its words, file names, or a value that takes no file name. After an option,
// file names also need -r (the option requires its value).
std::string fish_flags(const offer& o, bool after_option) {
  switch (o.what) {
    case offer::kind::words: return " -x -a " + fish_text(join(o.words, " "));
    case offer::kind::files: return after_option ? " -r -F" : " -F";
    case offer::kind::nothing: return " -x";
  }
  return " -x";
}

std::string fish_script(const CLI::App& app) {
  const std::string program = app.get_name();
  std::string out = "# fish completion for " + program + " (written by `" + program + " completion fish`)\n";
  out += "complete -c " + program + " -f\n";
  for (const CLI::App* cmd : visible_commands(app))
    out += "complete -c " + program + " -n __fish_use_subcommand -a " + cmd->get_name() + " -d " +
           fish_text(summary(cmd->get_description())) + "\n";
  for (const CLI::App* cmd : visible_commands(app)) {
    const std::string when = " -n '__fish_seen_subcommand_from " + cmd->get_name() + "'";
    if (const offer args = offer_for_positionals(*cmd); args.what != offer::kind::nothing)
      out += "complete -c " + program + when + fish_flags(args, false) + "\n";
    for (const CLI::Option* opt : visible_options(*cmd)) {
      std::string line = "complete -c " + program + when;
      for (const auto& s : opt->get_snames()) line += " -s " + s;
      for (const auto& l : opt->get_lnames()) line += " -l " + l;
      if (takes_value(opt)) line += fish_flags(offer_for(opt), true);
      out += line + " -d " + fish_text(summary(opt->get_description())) + "\n";
    }
  }
  return out;
}

}  // namespace

std::string man_page(const CLI::App& app) {
  const std::string program = app.get_name();
  std::string out = ".\\\" Written by `" + program + " manpage` from the same definitions as --help; do not edit.\n";
  out += ".TH LABCOUNT 1 \"\" \"" + program + " " LABCOUNT_VERSION "\" \"User Commands\"\n";
  out += ".SH NAME\n" + program + " \\- " + roff(app.get_description().substr(app.get_description().find(':') + 2)) +
         "\n";
  out += ".SH SYNOPSIS\n";
  for (const CLI::App* cmd : visible_commands(app)) {
    out += ".B " + program + " " + cmd->get_name() + "\n[\\fIOPTIONS\\fR]";
    for (const CLI::Option* opt : positionals(*cmd))
      out += std::string(" ") + (opt->get_required() ? "" : "[") + "\\fI" + roff(opt->get_option_text()) + "\\fR" +
             (opt->get_required() ? "" : "]");
    out += "\n.br\n";
  }
  out += ".SH DESCRIPTION\n" + roff_block(app.get_footer());
  out += ".PP\nEvery command takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR; \\fB" + program +
         " \\-\\-version\\fR prints the version.\n";
  out += ".SH COMMANDS\n";
  for (const CLI::App* cmd : visible_commands(app)) out += man_command(*cmd, program);
  out += ".SH SEE ALSO\nThe README and docs/design.md of the source tree.\n";
  return out;
}

std::string completion_script(const CLI::App& app, shell_kind shell) {
  switch (shell) {
    case shell_kind::bash: return bash_script(app);
    case shell_kind::zsh: return zsh_script(app);
    case shell_kind::fish: return fish_script(app);
  }
  return {};
}

void setup_shell_docs(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand("completion", "Print the shell completion script for bash, zsh or fish");
  completion->footer(
      "Examples:\n"
      "  labcount completion bash > ~/.local/share/bash-completion/completions/labcount\n"
      "  labcount completion zsh > ~/.zfunc/_labcount        # with fpath+=~/.zfunc before compinit\n"
      "  labcount completion fish > ~/.config/fish/completions/labcount.fish\n"
      "\n`cmake --install` puts all three (and the man page) in place.");
  completion->add_option("shell", *shell, "The shell: bash, zsh or fish")->required()->option_text("bash|zsh|fish");
  completion->callback([shell, &app] {
    std::fputs(completion_script(app, parse_shell(*shell)).c_str(), stdout);
  });
  // Hidden (no group): the build writes the man page with it.
  CLI::App* manpage = app.add_subcommand("manpage", "Print the man page (roff)")->group("");
  manpage->callback([&app] { std::fputs(man_page(app).c_str(), stdout); });
}

}  // namespace labcount
