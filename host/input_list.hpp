// Expands the inputs of a run: files stay as given; a directory is an error without --recursive, and with
// it becomes every *.csv and *.csv.gz file below it, in byte order of their paths (so runs are repeatable).
#pragma once

#include <string>
#include <vector>

namespace labcount {

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, bool recursive);

// Whether a file name is one --recursive picks up.
bool is_csv_name(const std::string& name) noexcept;

}  // namespace labcount
