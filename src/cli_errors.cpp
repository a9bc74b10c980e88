#include "cli_errors.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "util/errors.hpp"
#include "util/suggest.hpp"

namespace labcount {
namespace {

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// The command being parsed when the error came (the last one CLI11 entered), or the top level.
const CLI::App& active_command(const CLI::App& app) {
  const auto parsed = app.get_subcommands();
  return parsed.empty() ? app : *parsed.back();
}

std::string command_label(const CLI::App& command) {
  return command.get_parent() == nullptr ? "labcount" : "labcount " + command.get_name();
}

// "--key" -> the option of `command` it names, or nullptr.
const CLI::Option* find_option(const CLI::App& command, const std::string& flag) {
  for (const CLI::Option* opt : command.get_options()) {
    for (const auto& l : opt->get_lnames())
      if (flag == "--" + l) return opt;
    for (const auto& s : opt->get_snames())
      if (flag == "-" + s) return opt;
  }
  return nullptr;
}

std::string describe_option(const CLI::Option* opt) {
  return opt == nullptr ? std::string() : opt->get_name(false, true) + ": " + opt->get_description();
}

void print(const std::string& what, const std::string& hint) {
  const error e(error_kind::usage, what, "", 0, hint);
  std::fprintf(stderr, "labcount: error: %s\n", e.what());
}

// The words after "expected: " in CLI11's ExtrasError message.
std::vector<std::string> extra_words(const std::string& message) {
  std::vector<std::string> words;
  const auto colon = message.find(": ");
  if (colon == std::string::npos) return words;
  std::string rest = message.substr(colon + 2);
  std::size_t start = 0;
  while (start < rest.size()) {
    const std::size_t space = rest.find(' ', start);
    const std::size_t end = space == std::string::npos ? rest.size() : space;
    if (end > start) words.push_back(rest.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

int report_extras(const CLI::App& command, const CLI::ParseError& e) {
  const auto words = extra_words(e.what());
  // CLI11 lists the extras in reverse order: the last word is the first one typed.
  const std::string word = words.empty() ? std::string() : words.back();
  const std::string where = command_label(command);
  if (word.size() > 1 && word[0] == '-') {
    const std::string flag = word.substr(0, word.find('='));
    std::vector<std::string> flags;
    for (const CLI::Option* opt : command.get_options()) {
      for (const auto& l : opt->get_lnames()) flags.push_back("--" + l);
      for (const auto& s : opt->get_snames()) flags.push_back("-" + s);
    }
    const std::string near = closest_name(flag, flags);
    print("unknown option " + flag + " for `" + where + "`",
          near.empty() ? "see `" + where + " --help` for its options" : "did you mean " + near + "?");
  } else if (command.get_parent() == nullptr || command_names(command).size() > 0) {
    const std::string near = closest_name(word, command_names(command));
    print("unknown command '" + word + "'",
          near.empty() ? "see `labcount --help` for the commands" : "did you mean `labcount " + near + "`?");
  } else {
    print("unexpected argument '" + word + "' for `" + where + "`",
          "`" + where + "` takes no such argument; see `" + where + " --help`");
  }
  return exit_usage_error;
}

// "--key: 1 required TEXT missing" -> "--key"
std::string option_in(const std::string& message) {
  const auto colon = message.find(':');
  return colon == std::string::npos ? std::string() : message.substr(0, colon);
}

}  // namespace

void check_command_word(const CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2)
    throw error(error_kind::usage, "no command given", "", 0,
                "e.g. labcount count samplesTests.csv; see `labcount --help` for the commands");
  const std::string word = argv[1];
  if (!word.empty() && word[0] == '-') {
    const std::vector<std::string> flags{"--help", "--help-all", "--version", "-h", "-V"};
    for (const auto& f : flags)
      if (word == f) return;
    const std::string near = closest_name(word.substr(0, word.find('=')), flags);
    throw error(error_kind::usage, "unknown option " + word + " (before the command)", "", 0,
                near.empty() ? "options follow the command, e.g. labcount count f.csv --key SampleID"
                             : "did you mean " + near + "?");
  }
  const auto names = command_names(app);
  for (const auto& n : names)
    if (n == word) return;
  if (word == "version") throw error(error_kind::usage, "unknown command 'version'", "", 0, "did you mean --version?");
  if (word == "help") throw error(error_kind::usage, "unknown command 'help'", "", 0, "did you mean --help?");
  const std::string near = closest_name(word, names);
  throw error(error_kind::usage, "unknown command '" + word + "'", "", 0,
              near.empty() ? "the commands are count, merge, generate, info and bench; see `labcount --help`"
                           : "did you mean `labcount " + near + "`?");
}

int report_parse_error(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App& command = active_command(app);
  const std::string where = command_label(command);
  // By type: CLI11 sets get_name() to the command's name for some errors.
  const std::string message = e.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) return report_extras(command, e);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    const std::string flag = option_in(message);
    const CLI::Option* opt = find_option(command, flag);
    print((flag.empty() ? message : flag + " needs a value") + " (`" + where + "`)",
          opt != nullptr ? describe_option(opt) : "see `" + where + " --help`");
    return exit_usage_error;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    if (message.find("inputs") != std::string::npos)
      print("no input given to `" + where + "`",
            "give CSV files or folders, e.g. " + where + " samplesTests.csv, or - for standard input");
    else
      print(message, "see `" + where + " --help`");
    return exit_usage_error;
  }
  if (dynamic_cast<const CLI::ValidationError*>(&e) != nullptr ||
      dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    const std::string flag = option_in(message);
    const CLI::Option* opt = find_option(command, flag);
    print("invalid value: " + message, opt != nullptr ? describe_option(opt) : "see `" + where + " --help`");
    return exit_usage_error;
  }
  print(message, "see `" + where + " --help`");
  return exit_usage_error;
}

}  // namespace labcount
