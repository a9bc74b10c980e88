// Words and numbers on the command line -> the values the library takes. Only src/ knows option names;
// every parser throws error(usage) naming the option, with a hint that lists what it accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "backend_registry.hpp"
#include "output/result_writer.hpp"
#include "pipeline/bad_rows.hpp"
#include "pipeline/count_pipeline.hpp"
#include "shell_docs.hpp"
#include "time/timestamp.hpp"

namespace labcount {

char parse_delimiter(const std::string& text);                 // --delimiter: one character, or "\t" / "tab"
bad_row_policy parse_bad_row_policy(std::string_view text);    // --on-bad-row error|skip|warn
bad_file_policy parse_bad_file_policy(std::string_view text);  // --on-bad-file error|skip
output_format parse_output_format(std::string_view text);      // --format csv|tsv|json
sort_order parse_sort_order(std::string_view text);            // --sort key|count|count-asc|natural
time_bucket parse_time_bucket(std::string_view text);          // --per hour|day|week|month
backend_choice parse_backend_choice(std::string_view text);    // --backend auto|cpu|gpu
shell_kind parse_shell(std::string_view text);                  // completion bash|zsh|fish

// A row count: "886413", "10k", "1.5M", "1G", "2T" (decimal suffixes: these are rows, not bytes).
std::uint64_t parse_count(const std::string& option, const std::string& text);

// The default of --memory: the cap on input buffers; a single record may use half of it.
inline constexpr const char* default_memory = "1G";

// A size in bytes: "512M", "1G", "1.5G", "65536" (binary suffixes K, M, G, T); at least 1 MiB.
std::uint64_t parse_memory(const std::string& text);

}  // namespace labcount
