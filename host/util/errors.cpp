#include "util/errors.hpp"

#include <algorithm>
#include <cstdio>

namespace labcount {
namespace {

std::string format_message(const std::string& what, const std::string& file, std::uint64_t line,
                           const std::string& hint) {
  // Every part is escaped; the parts that quote input (a header, a value) are cut where they are built,
  // so these limits only stop a runaway message.
  std::string msg;
  if (!file.empty()) {
    msg.append(printable(file, 1000));
    if (line != 0) msg.append(":").append(std::to_string(line));
    msg.append(": ");
  }
  msg.append(printable(what, 2000));
  if (!hint.empty()) msg.append("\n  hint: ").append(printable(hint, 2000));
  return msg;
}

}  // namespace

error::error(error_kind kind, std::string what, std::string file, std::uint64_t line, std::string hint)
    : std::runtime_error(format_message(what, file, line, hint)),
      kind_(kind),
      description_(std::move(what)),
      file_(std::move(file)),
      line_(line),
      hint_(std::move(hint)) {}

error_category category_of(error_kind kind) noexcept {
  switch (kind) {  // no default: a new kind must be given its category here
    case error_kind::usage: return error_category::usage;
    case error_kind::io: return error_category::io;
    case error_kind::broken_pipe: return error_category::broken_pipe;
    case error_kind::missing_key_column:
    case error_kind::column_out_of_range:
    case error_kind::too_few_fields:
    case error_kind::too_many_fields:
    case error_kind::unterminated_quote:
    case error_kind::stray_quote:
    case error_kind::bad_value:
    case error_kind::record_too_long:
    case error_kind::too_many_keys:
    case error_kind::too_many_bad_rows:
    case error_kind::no_rows_counted: return error_category::data;
    case error_kind::not_built_in:
    case error_kind::backend_unavailable: return error_category::unavailable;
    case error_kind::device_failure: return error_category::device;
    case error_kind::internal: return error_category::internal;
  }
  return error_category::internal;
}

int exit_code_for(error_kind kind) noexcept {
  switch (category_of(kind)) {  // no default, as above
    case error_category::data: return exit_data_error;
    case error_category::usage: return exit_usage_error;
    case error_category::io: return exit_io_error;
    case error_category::unavailable: return exit_backend_error;
    case error_category::device: return exit_device_error;
    case error_category::internal: return exit_internal_error;
    case error_category::broken_pipe: return exit_broken_pipe;
  }
  return exit_internal_error;
}

std::string display_name(const std::string& path) {
  if (path == "-") return "<stdin>";
  std::string shown = path;
  std::replace(shown.begin(), shown.end(), '\0', '/');  // a ZIP member (input/zip_archive.hpp): archive/member
  return shown;
}

std::string format_count(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  double value = static_cast<double>(bytes);
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0 || value == static_cast<double>(static_cast<std::uint64_t>(value)))
    std::snprintf(text, sizeof text, "%llu %s", static_cast<unsigned long long>(value), units[unit]);
  else
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

std::string printable(std::string_view text, std::size_t limit) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown = std::min(text.size(), limit);
  out.reserve(shown + 16);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > limit) out += "... (" + std::to_string(text.size() - limit) + " more bytes)";
  return out;
}

}  // namespace labcount
