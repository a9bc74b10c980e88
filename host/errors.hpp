// Typed errors a person can act on: what is wrong, where (file and line), and how to fix it.
// Thrown anywhere below main; caught once in main and mapped to an exit code.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace labcount {

enum class error_kind {
  usage,                 // invalid option value or combination
  io,                    // missing, unreadable or unwritable file
  missing_key_column,    // --key names a column the header lacks
  column_out_of_range,   // --key N with N > number of columns
  too_few_fields,        // a row with fewer fields than the header
  too_many_fields,       // a row with more fields than the header
  unterminated_quote,    // a quoted field that never closes
  stray_quote,           // a quote inside an unquoted field, or text after a closing quote
  bad_value,             // a field that does not parse (timestamps)
  backend_unavailable,   // --backend gpu without a usable GPU
  internal,
};

// Exit codes, documented in the README.
inline constexpr int exit_ok = 0;
inline constexpr int exit_data_error = 1;     // the input data is bad
inline constexpr int exit_usage_error = 2;    // the command line is bad
inline constexpr int exit_io_error = 3;       // a file could not be read or written
inline constexpr int exit_backend_error = 4;  // the requested backend cannot run here
inline constexpr int exit_internal_error = 70;

class error : public std::runtime_error {
 public:
  // line == 0 means "no line" (the error is about the file as a whole, or about no file).
  error(error_kind kind, std::string what, std::string file = {}, std::uint64_t line = 0,
        std::string hint = {});

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

}  // namespace labcount

// A precondition with a pure condition; violations are programming errors, not user errors.
#define LABCOUNT_EXPECTS(cond, msg)                                                       \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw ::labcount::error(::labcount::error_kind::internal,                           \
                              std::string("internal: ") + (msg) + " (" #cond ")");         \
  } while (0)
