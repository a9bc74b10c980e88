// Typed errors a person can act on: what is wrong, where (file and line), and how to fix it.
// Thrown anywhere below main; caught once in main and mapped to an exit code.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace labcount {

enum class error_kind {
  usage,                // invalid option value or combination
  io,                   // missing, unreadable or unwritable file; a write that failed
  broken_pipe,          // the reader of standard output went away (`| head`): main ends quietly
  missing_key_column,   // --key names a column the header lacks
  column_out_of_range,  // --key N with N > number of columns
  too_few_fields,       // a row with fewer fields than the header
  too_many_fields,      // a row with more fields than the header
  unterminated_quote,   // a quoted field that never closes
  stray_quote,          // a quote inside an unquoted field, or text after a closing quote
  bad_value,            // a field that does not parse (timestamps), corrupt compressed data
  record_too_long,      // a record longer than the --memory cap allows
  too_many_keys,        // more distinct keys than 32-bit codes hold
  too_many_bad_rows,    // --max-bad-rows passed
  no_rows_counted,      // --on-bad-row skip|warn or --on-bad-file skip left nothing to count
  not_built_in,         // the input needs a feature this build lacks (gzip without ISA-L)
  backend_unavailable,  // --backend gpu without a usable GPU
  device_failure,       // a CUDA call failed after the GPU backend started
  internal,             // a bug: a broken invariant
};

// What an error means to the caller: one category per exit code.
enum class error_category { data, usage, io, unavailable, device, internal, broken_pipe };
error_category category_of(error_kind kind) noexcept;

// Exit codes, documented in the README (one exhaustive switch maps kinds to them: errors.cpp).
inline constexpr int exit_ok = 0;
inline constexpr int exit_data_error = 1;     // the input data is bad
inline constexpr int exit_usage_error = 2;    // the command line is bad
inline constexpr int exit_io_error = 3;       // a file could not be read or written
inline constexpr int exit_backend_error = 4;  // the requested backend or feature is not available here
inline constexpr int exit_device_error = 5;   // the GPU failed while counting
inline constexpr int exit_internal_error = 70;
inline constexpr int exit_broken_pipe = 141;  // 128 + SIGPIPE, what a shell shows after `| head`

class error : public std::runtime_error {
 public:
  // line == 0 means "no line" (the error is about the file as a whole, or about no file).
  error(error_kind kind, std::string what, std::string file = {}, std::uint64_t line = 0, std::string hint = {});

  error_kind kind() const noexcept { return kind_; }
  const std::string& file() const noexcept { return file_; }
  std::uint64_t line() const noexcept { return line_; }
  const std::string& hint() const noexcept { return hint_; }
  // The plain description, without location or hint (what() has all three).
  const std::string& description() const noexcept { return description_; }

 private:
  error_kind kind_;
  std::string description_;
  std::string file_;
  std::uint64_t line_;
  std::string hint_;
};

int exit_code_for(error_kind kind) noexcept;

// Human-readable name of an input: "-" is shown as "<stdin>".
std::string display_name(const std::string& path);

// Text for a message: control bytes escaped (\r, \t, \x00: a CR would overwrite the terminal line, a
// NUL cut the message short), UTF-8 and other bytes kept, and cut after `limit` bytes with a note of
// how much was left out.
std::string printable(std::string_view text, std::size_t limit = 200);

// A count for a message, with thousands separators: "886,413".
std::string format_count(std::uint64_t n);

// A byte count for a message, in binary units: "512 B", "64 KiB", "1 MiB", "1.5 GiB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace labcount

// A precondition with a pure condition; violations are programming errors, not user errors.
#define LABCOUNT_EXPECTS(cond, msg)                                                                                  \
  do {                                                                                                               \
    if (!(cond))                                                                                                     \
      throw ::labcount::error(::labcount::error_kind::internal, std::string("internal: ") + (msg) + " (" #cond ")"); \
  } while (0)
