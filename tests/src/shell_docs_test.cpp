// --help, the man page, the shell completions and the install: all written from the one set of flag
// definitions (src/help_format.hpp, src/shell_docs.hpp), so these tests check that what a user reads and
// what the shell offers is what the parser takes.
//
//   every command's --help fits 100 columns when piped, and $COLUMNS when set
//   every word an option lists (--sort key|count|...) is one its parser accepts, and no parser type noise
//   the man page renders without groff warnings and names every option; bash/zsh/fish accept the scripts
//   `cmake --install` puts the binary, the plugin, the man page and the completions where they belong
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cmd_bench.hpp"
#include "cmd_count.hpp"
#include "cmd_generate.hpp"
#include "cmd_info.hpp"
#include "cmd_merge.hpp"
#include "help_format.hpp"
#include "parse_values.hpp"
#include "shell_docs.hpp"
#include "support/temp_file.hpp"

namespace labcount {
namespace {

namespace fs = std::filesystem;

struct command_output {
  int status = -1;
  std::string out;
};

// Runs a shell command line; stdout captured, stderr folded into it.
command_output shell(const std::string& command) {
  command_output result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool have(const std::string& program) { return shell("command -v " + program + " >/dev/null").status == 0; }

std::string labcount_binary() { return LABCOUNT_BINARY; }

// The app as main() builds it, to walk its definitions.
std::unique_ptr<CLI::App> make_app() {
  auto app = std::make_unique<CLI::App>("labcount: count CSV rows per key", "labcount");
  app->formatter(std::make_shared<help_formatter>(100));
  setup_count(*app);
  setup_generate(*app);
  setup_info(*app);
  setup_merge(*app);
  setup_bench(*app);
  setup_shell_docs(*app);
  return app;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const std::vector<std::string> commands = {"", "count", "merge", "generate", "info", "bench", "completion"};

TEST(Help, FitsOneHundredColumnsWhenPiped) {
  for (const auto& command : commands) {
    const auto help = shell("env -u COLUMNS " + labcount_binary() + " " + command + " --help");
    ASSERT_EQ(help.status, 0) << command;
    for (const auto& line : lines(help.out)) EXPECT_LE(line.size(), 100u) << command << ": " << line;
  }
}

TEST(Help, WrapsToColumnsWhenSet) {
  for (const auto& command : commands) {
    const auto help = shell("COLUMNS=72 " + labcount_binary() + " " + command + " --help");
    ASSERT_EQ(help.status, 0) << command;
    bool some_line_near_the_edge = false;
    for (const auto& line : lines(help.out)) {
      // Examples are written as they are typed (never broken); every other line wraps.
      if (line.find("  labcount ") == 0 || line.find("  cat ") == 0 || line.find("  mpirun ") == 0) continue;
      EXPECT_LE(line.size(), 72u) << command << ": " << line;
      some_line_near_the_edge |= line.size() > 60;
    }
    if (command == "count") {
      EXPECT_TRUE(some_line_near_the_edge) << "the text fills the width it has";
    }
  }
}

TEST(Help, ShowsPlaceholdersNotParserTypes) {
  for (const auto& command : commands) {
    const auto help = shell(labcount_binary() + " " + command + " --help");
    for (const std::string noise : {"TEXT", "UINT", "INT:", "FLOAT", "VALUE", " in [", "N>=0", "=auto", "=error"})
      EXPECT_EQ(help.out.find(noise), std::string::npos) << command << " --help shows '" << noise << "'";
  }
  const auto count = shell(labcount_binary() + " count --help").out;
  for (const std::string listed :
       {"--on-bad-row error|skip|warn", "--on-bad-file error|skip", "--sort key|count|count-asc|natural",
        "--format csv|tsv|json|ndjson", "--backend auto|cpu|gpu", "--per hour|day|week|month", "-j, --threads N",
        "-k, --key COL[,COL...]", "-o, --output FILE"})
    EXPECT_NE(count.find(listed), std::string::npos) << "count --help lacks '" << listed << "'";
  // Grouped, in the order a run goes.
  const std::size_t input = count.find("\nInput:"), key = count.find("\nKey and time:"),
                    output = count.find("\nOutput:"), execution = count.find("\nExecution:");
  ASSERT_NE(input, std::string::npos);
  EXPECT_LT(input, key);
  EXPECT_LT(key, output);
  EXPECT_LT(output, execution);
}

// Every word an option's placeholder lists is one its parser accepts, in any case, and the parser accepts no
// word the help does not list.
TEST(Help, ListedWordsAreWhatTheParsersTake) {
  const std::map<std::string, std::function<void(const std::string&)>> parsers = {
      {"on-bad-row", [](const std::string& w) { parse_bad_row_policy(w); }},
      {"on-bad-file", [](const std::string& w) { parse_bad_file_policy(w); }},
      {"sort", [](const std::string& w) { parse_sort_order(w); }},
      {"format", [](const std::string& w) { parse_output_format(w); }},
      {"backend", [](const std::string& w) { parse_backend_choice(w); }},
      {"per", [](const std::string& w) { parse_time_bucket(w); }},
      {"shell", [](const std::string& w) { parse_shell(w); }},
  };
  const auto app = make_app();
  std::size_t checked = 0;
  for (const CLI::App* cmd : app->get_subcommands({})) {
    for (const CLI::Option* opt : cmd->get_options()) {
      const std::vector<std::string> choices = option_choices(opt);
      if (choices.empty()) continue;
      const std::string name = opt->get_lnames().empty() ? opt->get_name() : opt->get_lnames()[0];
      const auto parser = parsers.find(name);
      ASSERT_NE(parser, parsers.end()) << "no parser known for --" << name;
      for (const auto& word : choices) {
        EXPECT_NO_THROW(parser->second(word)) << "--" << name << " " << word;
        std::string upper = word;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        EXPECT_NO_THROW(parser->second(upper)) << "--" << name << " " << upper;
      }
      EXPECT_THROW(parser->second("nonsense"), std::exception) << "--" << name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 7u);
}

// Every option of every command is in the README (the brief: "every option is in the README").
TEST(Help, EveryOptionIsInTheReadme) {
  std::ifstream in(fs::path(LABCOUNT_SOURCE_DIR) / "README.md");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto app = make_app();
  for (const CLI::App* cmd : app->get_subcommands({})) {
    if (cmd->get_group().empty()) continue;  // hidden
    EXPECT_NE(readme.find("labcount " + cmd->get_name()), std::string::npos) << cmd->get_name();
    for (const CLI::Option* opt : cmd->get_options()) {
      if (opt->get_positional() || opt == cmd->get_help_ptr()) continue;
      for (const auto& l : opt->get_lnames())
        EXPECT_NE(readme.find("--" + l), std::string::npos) << "README lacks " << cmd->get_name() << " --" << l;
    }
  }
}

TEST(ManPage, RendersWithoutWarningsAndNamesEveryOption) {
  const std::string page = shell(labcount_binary() + " manpage").out;
  const auto app = make_app();
  for (const CLI::App* cmd : app->get_subcommands({})) {
    if (cmd->get_group().empty()) continue;
    EXPECT_NE(page.find(".SS \"labcount " + cmd->get_name() + "\""), std::string::npos) << cmd->get_name();
    for (const CLI::Option* opt : cmd->get_options())
      for (const auto& l : opt->get_lnames())
        if (opt != cmd->get_help_ptr()) {
          std::string escaped = "\\-\\-";
          for (char c : l) escaped += c == '-' ? std::string("\\-") : std::string(1, c);
          EXPECT_NE(page.find("\\fB" + escaped + "\\fR"), std::string::npos) << "man page lacks --" << l;
        }
  }
  if (!have("groff")) GTEST_SKIP() << "no groff here to render the page";
  labcount::testing::temp_dir dir;
  const fs::path file = dir.path() / "labcount.1";
  std::ofstream(file) << page;
  const auto rendered = shell("groff -man -Tutf8 -ww -z " + file.string());
  EXPECT_EQ(rendered.status, 0);
  EXPECT_EQ(rendered.out, "") << "groff warnings";
}

TEST(Completion, BashOffersCommandsOptionsWordsAndFiles) {
  if (!have("bash")) GTEST_SKIP() << "no bash";
  labcount::testing::temp_dir dir;
  const fs::path script = dir.path() / "labcount.bash";
  ASSERT_EQ(shell(labcount_binary() + " completion bash > " + script.string()).status, 0);
  ASSERT_EQ(shell("bash -n " + script.string()).status, 0);
  std::ofstream(dir.path() / "samples.csv") << "x\n";
  // COMP_WORDS as bash fills them when TAB is pressed at the end of the line.
  const auto complete = [&](const std::string& words) {
    return shell("cd " + dir.path().string() + " && bash -c 'source " + script.string() + "; COMP_WORDS=(" + words +
                 "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _labcount; printf \"%s \" \"${COMPREPLY[@]}\"'")
        .out;
  };
  EXPECT_EQ(complete("labcount co"), "count completion ");
  EXPECT_EQ(complete("labcount count --on-bad-row w"), "warn ");
  EXPECT_EQ(complete("labcount count --sort c"), "count count-asc ");
  EXPECT_EQ(complete("labcount merge --form"), "--format ");
  EXPECT_EQ(complete("labcount count sam"), "samples.csv ");
  EXPECT_EQ(complete("labcount count -o sam"), "samples.csv ");
  EXPECT_EQ(complete("labcount count --key S"), " ");  // a column name: nothing to guess (printf of no words)
  EXPECT_EQ(complete("labcount completion z"), "zsh ");
}

TEST(Completion, ZshAndFishAcceptTheirScripts) {
  for (const std::string shell_name : {"zsh", "fish"}) {
    if (!have(shell_name)) {
      std::printf("no %s here: its script is not checked\n", shell_name.c_str());
      continue;
    }
    labcount::testing::temp_dir dir;
    const fs::path script = dir.path() / ("labcount." + shell_name);
    ASSERT_EQ(shell(labcount_binary() + " completion " + shell_name + " > " + script.string()).status, 0);
    const auto check = shell(shell_name + " -n " + script.string());
    EXPECT_EQ(check.status, 0) << shell_name << ": " << check.out;
  }
  if (have("fish")) {
    // fish loads the script and lists the words of --sort.
    labcount::testing::temp_dir dir;
    const fs::path script = dir.path() / "labcount.fish";
    ASSERT_EQ(shell(labcount_binary() + " completion fish > " + script.string()).status, 0);
    const auto listed =
        shell("fish -c 'source " + script.string() + "; complete -C \"labcount count --sort \"'").out;
    EXPECT_NE(listed.find("count-asc"), std::string::npos) << listed;
  }
}

// The progress line on a terminal (script(1) gives the run one): rows counted while reading, then what the run
// does after the last byte; under TERM=dumb no escape sequence at all. (A run of a few seconds: the line only
// shows once a run has taken half a second.)
TEST(Progress, SaysWhatItDoesAfterTheLastByteAndHonoursDumbTerminals) {
  if (!have("script")) GTEST_SKIP() << "no script(1) here to run labcount on a terminal";
  labcount::testing::temp_dir dir;
  const std::string input = (dir.path() / "keys.csv").string();
  ASSERT_EQ(shell(labcount_binary() + " generate --rows 3M --samples 1M --skew 0 -o " + input).status, 0);
  const auto on_terminal = [&](const std::string& term, const std::string& args) {
    const std::string typescript = (dir.path() / "typescript").string();
    shell("TERM=" + term + " script -qec '" + labcount_binary() + " count " + input + " -j 1 -o " +
          (dir.path() / "out.csv").string() + " " + args + "' " + typescript);
    std::ifstream in(typescript, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string line = on_terminal("xterm", "--stats");
  EXPECT_NE(line.find(" rows"), std::string::npos) << line;
  EXPECT_NE(line.find("finishing: "), std::string::npos) << line;
  EXPECT_NE(line.find("\033[K"), std::string::npos) << line;
  const std::string dumb = on_terminal("dumb", "--stats");
  EXPECT_NE(dumb.find(" rows"), std::string::npos) << dumb;
  EXPECT_EQ(dumb.find('\033'), std::string::npos) << "escape sequences under TERM=dumb";
}

TEST(Install, PutsEverythingWhereUsersLook) {
  if (!have("cmake")) GTEST_SKIP() << "no cmake";
  labcount::testing::temp_dir prefix;
  const auto installed =
      shell("cmake --install " + std::string(LABCOUNT_BUILD_DIR) + " --prefix " + prefix.path().string());
  ASSERT_EQ(installed.status, 0) << installed.out;
  const fs::path p = prefix.path();
  for (const fs::path& file : {p / "bin/labcount", p / "share/man/man1/labcount.1",
                              p / "share/bash-completion/completions/labcount", p / "share/zsh/site-functions/_labcount",
                              p / "share/fish/vendor_completions.d/labcount.fish"})
    EXPECT_TRUE(fs::is_regular_file(file)) << file;
  if (fs::exists(fs::path(labcount_binary()).parent_path() / "liblabcount_mpi.so")) {
    EXPECT_TRUE(fs::is_regular_file(p / "lib/labcount/liblabcount_mpi.so"));
  }
  const auto version = shell((p / "bin/labcount").string() + " --version");
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("labcount ", 0), 0u) << version.out;
  // The installed page is the one the binary writes.
  std::ifstream page(p / "share/man/man1/labcount.1");
  std::stringstream text;
  text << page.rdbuf();
  EXPECT_EQ(text.str(), shell(labcount_binary() + " manpage").out);
}

}  // namespace
}  // namespace labcount
