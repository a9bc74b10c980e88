// Expands the inputs of a run: files stay as given; a directory is an error without --recursive, and with
// it becomes every *.csv file (plain or .csv.gz/.zst/.bz2/.xz) below it, in byte order of their paths (so runs are repeatable).
//
// Nothing is left out silently: a folder that cannot be read is an error (or, with skip_unreadable, a
// listed skipped input); the run's own output and its temporary files are never inputs (a file named
// directly is refused, one found under a directory is left out with a note); a file named twice (the
// same device and inode, through links too) is counted once, with a warning.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace labcount {

struct skipped_file {
  std::string file = {};
  std::string reason;     // the error's full message
  std::size_t input = 0;  // left out of a count: the input's index in the request
};

struct expand_options {
  bool recursive = false;
  bool skip_unreadable = false;  // --on-bad-file skip: an unreadable folder is listed, not fatal
  bool has_output = false;       // the output (-o) exists: it is never an input
  dev_t output_device = 0;
  ino_t output_inode = 0;
  std::string output_name = {};  // as given with -o, for messages
};

struct expanded_inputs {
  std::vector<std::string> paths;
  std::vector<skipped_file> skipped;  // folders left out (skip_unreadable)
  std::vector<std::string> notes;     // what was left out on purpose, for --verbose
  std::vector<std::string> warnings;  // files named more than once
};

// Throws error(io) for a directory without --recursive, an unreadable folder (unless skip_unreadable),
// a directory holding no CSV file; error(usage) for the output named as an input.
expanded_inputs expand_inputs(const std::vector<std::string>& inputs, const expand_options& options);

// Whether a file name is one --recursive picks up.
bool is_csv_name(const std::string& name) noexcept;

}  // namespace labcount
