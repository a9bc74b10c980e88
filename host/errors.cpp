#include "errors.hpp"

namespace labcount {
namespace {

std::string format_message(const std::string& what, const std::string& file, std::uint64_t line,
                           const std::string& hint) {
  std::string msg;
  if (!file.empty()) {
    msg.append(file);
    if (line != 0) msg.append(":").append(std::to_string(line));
    msg.append(": ");
  }
  msg.append(what);
  if (!hint.empty()) msg.append("\n  hint: ").append(hint);
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

int exit_code_for(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::usage: return exit_usage_error;
    case error_kind::io: return exit_io_error;
    case error_kind::backend_unavailable: return exit_backend_error;
    case error_kind::internal: return exit_internal_error;
    default: return exit_data_error;
  }
}

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace labcount
