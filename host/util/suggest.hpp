// "Did you mean": the closest of some names to a word a person typed (an option, a command, a column).
//
//   closest_name("kye", {"key", "time", "sort"})  ->  "key"   (one edit away)
//   closest_name("xyz", {"key", "time"})          ->  ""      (nothing close enough)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace labcount {

// Levenshtein distance (insert, delete, substitute; an adjacent swap counts as one edit).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, or "" when none is within max(1, length / 3) edits (ties: the
// first). A candidate that starts with the word (a prefix) also counts as close.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace labcount
