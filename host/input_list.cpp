#include "input_list.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "errors.hpp"

namespace labcount {
namespace fs = std::filesystem;

namespace {

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  // `suffix` is lower case; fold the name's letters.
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                    [](char lower, char c) { return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) == lower; });
}

}  // namespace

bool is_csv_name(const std::string& name) noexcept { return ends_with_ci(name, ".csv") || ends_with_ci(name, ".csv.gz"); }

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, bool recursive) {
  std::vector<std::string> out;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (input == "-" || !fs::is_directory(input, ec)) {
      out.push_back(input);  // files (and missing paths: opening them gives the precise error)
      continue;
    }
    if (!recursive)
      throw error(error_kind::io, "the input is a directory", input, 0,
                  "add --recursive to count every *.csv and *.csv.gz file below it");
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(input, fs::directory_options::skip_permission_denied, ec);
    if (ec) throw error(error_kind::io, "cannot read the directory: " + ec.message(), input);
    for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
      if (ec) throw error(error_kind::io, "cannot read the directory: " + ec.message(), input);
      std::error_code type_ec;
      if (it->is_regular_file(type_ec) && is_csv_name(it->path().filename().string())) found.push_back(it->path().string());
    }
    if (found.empty())
      throw error(error_kind::io, "no *.csv or *.csv.gz files below the directory", input, 0,
                  "check the path; files must end in .csv or .csv.gz to be picked up");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace labcount
