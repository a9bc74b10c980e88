#include "help_format.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace labcount {
namespace {

constexpr std::size_t left_column = 30;  // option names and placeholders; descriptions start here

// Splits on `sep`, keeping empty pieces ("a||b" is three).
std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t at = text.find(sep, begin);
    out.push_back(text.substr(begin, at == std::string::npos ? std::string::npos : at - begin));
    if (at == std::string::npos) return out;
    begin = at + 1;
  }
}

}  // namespace

std::size_t help_width() {
  std::size_t width = 100;
  winsize ws{};
  if (::isatty(STDOUT_FILENO) == 1 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    width = ws.ws_col;
  } else if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    char* end = nullptr;
    const unsigned long value = std::strtoul(columns, &end, 10);
    if (end != columns && *end == '\0' && value > 0) width = value;
  }
  return std::clamp<std::size_t>(width, 60, 200);
}

std::string wrap_text(const std::string& text, std::size_t width, std::size_t indent) {
  const std::string pad(indent, ' ');
  const std::size_t room = width > indent + 20 ? width - indent : 20;
  std::string out;
  bool first_line = true;
  const auto start_line = [&] {
    if (!first_line) out += "\n" + pad;
    first_line = false;
  };
  for (const std::string& line : split(text, '\n')) {
    if (line.empty() || line[0] == ' ') {  // preformatted: kept as it is
      start_line();
      out += line;
      continue;
    }
    start_line();
    std::size_t used = 0;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (used != 0 && used + 1 + word.size() > room) {
        out += "\n" + pad;
        used = 0;
      }
      if (used != 0) {
        out += ' ';
        ++used;
      }
      out += word;
      used += word.size();
    }
  }
  return out;
}

help_formatter::help_formatter(std::size_t width) : width_(width) { column_width(left_column); }

std::string help_formatter::two_columns(const std::string& left, const std::string& right) const {
  std::string out = left;
  if (right.empty()) return out + "\n";
  if (left.size() + 2 > left_column)
    out += "\n" + std::string(left_column, ' ');
  else
    out += std::string(left_column - left.size(), ' ');
  return out + wrap_text(right, width_, left_column) + "\n";
}

std::string help_formatter::make_option_opts(const CLI::Option* opt) const {
  if (opt->get_expected_max() == 0) return {};  // a flag
  if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
  return opt->get_expected_max() > 1 ? " VALUE..." : " VALUE";
}

std::string help_formatter::make_option(const CLI::Option* opt, bool is_positional) const {
  std::string name = make_option_name(opt, is_positional);
  // "-j,--threads" reads better as "-j, --threads"; a long-only option lines up with the long names.
  if (!is_positional) {
    if (const std::size_t comma = name.find(','); comma != std::string::npos)
      name.insert(comma + 1, " ");
    else if (name.rfind("--", 0) == 0)
      name.insert(0, "    ");
  }
  const std::string left = "  " + name + (is_positional ? "" : make_option_opts(opt));
  return two_columns(left, make_option_desc(opt));
}

std::string help_formatter::make_group(std::string group, bool is_positional,
                                       std::vector<const CLI::Option*> opts) const {
  std::string out = "\n" + group + ":\n";
  for (const CLI::Option* opt : opts) out += make_option(opt, is_positional);
  return out;
}

std::string help_formatter::make_description(const CLI::App* app) const {
  const std::string& desc = app->get_description();
  return desc.empty() ? std::string() : wrap_text(desc, width_) + "\n";
}

std::string help_formatter::make_subcommand(const CLI::App* sub) const {
  return two_columns("  " + sub->get_name(), sub->get_description());
}

std::string help_formatter::make_footer(const CLI::App* app) const {
  const std::string& footer = app->get_footer();
  return footer.empty() ? std::string() : "\n" + wrap_text(footer, width_) + "\n";
}

std::string help_formatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  std::string out = make_description(app);
  out += make_usage(app, std::move(name));
  out += make_positionals(app);
  for (const std::string& group : app->get_groups()) {
    const std::vector<const CLI::Option*> opts = app->get_options(
        [&group](const CLI::Option* opt) { return opt->get_group() == group && opt->nonpositional(); });
    if (!group.empty() && !opts.empty()) out += make_group(group, false, opts);
  }
  out += make_subcommands(app, mode);
  out += make_footer(app);
  return out;
}

std::vector<std::string> option_choices(const CLI::Option* opt) {
  const std::string& text = opt->get_option_text();
  if (text.find('|') == std::string::npos || text.find_first_of(" .[]") != std::string::npos) return {};
  return split(text, '|');
}

}  // namespace labcount
