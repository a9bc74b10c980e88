#include "input/input_list.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "input/zip_archive.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace fs = std::filesystem;

namespace {

bool is_temporary_output(const std::string& name) { return name.find(".labcount-tmp-") != std::string::npos; }

// Every CSV file below `root`, by a walk of our own: a folder that cannot be read is reported, never
// passed over (std::filesystem's skip_permission_denied would drop it without a word).
void walk(const std::string& root, const expand_options& options, std::vector<std::string>& found,
          expanded_inputs& out) {
  std::vector<fs::path> folders{root};
  while (!folders.empty()) {
    const fs::path folder = std::move(folders.back());
    folders.pop_back();
    std::error_code ec;
    fs::directory_iterator it(folder, ec);
    for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      const auto status = it->symlink_status(type_ec);
      if (fs::is_directory(status)) {  // a link to a folder is not followed (no loops)
        folders.push_back(it->path());
        continue;
      }
      const std::string name = it->path().filename().string();
      if (!is_csv_name(name) || !it->is_regular_file(type_ec)) continue;
      if (is_temporary_output(name)) {
        out.notes.push_back("left out " + it->path().string() + ": a temporary output file of labcount");
        continue;
      }
      found.push_back(it->path().string());
    }
    if (ec) {
      error e(error_kind::io, "cannot read the folder: " + ec.message(), folder.string(), 0,
              "check its permissions, or leave unreadable inputs out with --on-bad-file skip");
      if (!options.skip_unreadable) throw e;
      out.skipped.push_back({folder.string(), e.what()});
    }
  }
}

bool is_zip_file(const std::string& path) {
  unsigned char magic[4] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // opening it later gives the precise error
  const ssize_t got = ::pread(fd, magic, sizeof magic, 0);
  ::close(fd);
  return got == 4 && is_zip_magic(magic, 4);
}

}  // namespace

bool is_csv_name(const std::string& name) noexcept {
  for (const char* suffix : {".csv", ".csv.gz", ".csv.zst", ".csv.bz2", ".csv.xz"})
    if (bytes::ends_with_ignoring_case(name, suffix)) return true;
  return false;
}

expanded_inputs expand_inputs(const std::vector<std::string>& inputs, const expand_options& options) {
  expanded_inputs out;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::pair<std::pair<dev_t, ino_t>, std::string>> names;
  auto is_output = [&](const struct stat& st) {
    return options.has_output && st.st_dev == options.output_device && st.st_ino == options.output_inode;
  };
  // Adds a file unless it was added before; `listed`: found under a directory, not named.
  auto add = [&](const std::string& path, bool listed) {
    struct stat st {};
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      out.paths.push_back(path);  // stdin, pipes, missing paths: opening them gives the precise error
      return;
    }
    if (is_zip_file(path)) {
      // An archive named as an input: its CSV members, each an input of its own.
      const auto id = std::make_pair(st.st_dev, st.st_ino);
      if (!seen.insert(id).second) {
        out.warnings.push_back(path + " is given twice: counted once");
        return;
      }
      try {
        for (auto& member : zip_csv_members(path)) out.paths.push_back(std::move(member));
      } catch (const error& e) {
        if (!options.skip_unreadable || e.kind() == error_kind::not_built_in) throw;
        out.skipped.push_back({path, e.what()});
      }
      return;
    }
    if (is_output(st)) {
      if (listed) {
        out.notes.push_back("left out " + path + ": it is the output (-o " + options.output_name + ")");
        return;
      }
      throw error(error_kind::usage, "the output is also an input: -o " + options.output_name + " is " + path, path, 0,
                  "writing the counts would replace this input; choose another -o path");
    }
    const auto id = std::make_pair(st.st_dev, st.st_ino);
    if (!seen.insert(id).second) {
      const auto earlier = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == id; });
      out.warnings.push_back(path + " is the same file as " + earlier->second + ", given before: counted once");
      return;
    }
    names.emplace_back(id, path);
    out.paths.push_back(path);
  };
  for (const auto& input : inputs) {
    std::error_code ec;
    if (input == "-" || !fs::is_directory(input, ec)) {
      add(input, false);
      continue;
    }
    if (!options.recursive)
      throw error(error_kind::io, "the input is a directory", input, 0,
                  "add --recursive to count every *.csv file below it (also .csv.gz, .csv.zst, .csv.bz2, .csv.xz)");
    std::vector<std::string> found;
    const std::size_t skipped_before = out.skipped.size();
    walk(input, options, found, out);
    std::sort(found.begin(), found.end());
    const std::size_t paths_before = out.paths.size();
    for (const auto& path : found) add(path, true);
    if (found.empty() && out.skipped.size() == skipped_before && out.paths.size() == paths_before)
      throw error(error_kind::io, "no *.csv files below the directory", input, 0,
                  "check the path; files must end in .csv (or .csv.gz, .csv.zst, .csv.bz2, .csv.xz) to be picked up");
  }
  if (out.paths.empty() && out.skipped.empty())
    throw error(error_kind::io,
                "nothing to count: the only CSV files found are the output (-o " + options.output_name +
                    ") and its temporary files",
                "", 0, "put the output outside the folder you count, or name another -o path");
  return out;
}

}  // namespace labcount
