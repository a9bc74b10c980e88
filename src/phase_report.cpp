#include "phase_report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace labcount {
namespace {

double seconds(std::chrono::nanoseconds ns) { return std::chrono::duration<double>(ns).count(); }

void add_line(std::string& out, const char* label, double value, const char* note = "") {
  char buf[160];
  if (value > 0)
    std::snprintf(buf, sizeof buf, "  %-20s %9.4f s", label, value);
  else
    std::snprintf(buf, sizeof buf, "  %-20s %9s  ", label, "-");
  out += buf;
  out += std::string("  ") + note;
  while (out.back() == ' ') out.pop_back();
  out += '\n';
}

}  // namespace

phase_seconds phases_of(const count_result& result, double output_seconds, double setup_seconds) {
  const backend_timings& t = result.backend_time;
  phase_seconds p;
  p.setup = setup_seconds >= 0 ? setup_seconds : seconds(t.setup);
  // run_count's parse time starts before the backend is made; keep the start-up out of it.
  p.parse = std::max(0.0, seconds(result.parse_time) - p.setup);
  p.transfer = seconds(t.transfer);
  p.sort = seconds(t.sort);
  p.reduce = seconds(t.reduce);
  p.finish = seconds(result.finish_time);
  p.output = output_seconds;
  return p;
}

std::string format_phases(const count_result& result, double output_seconds) {
  const phase_seconds p = phases_of(result, output_seconds);
  char buf[200];
  std::snprintf(buf, sizeof buf, "labcount: timing: %s backend, %llu rows, %.1f MB\n", result.backend_name.c_str(),
                static_cast<unsigned long long>(result.rows), static_cast<double>(result.bytes) / 1e6);
  std::string out = buf;
  add_line(out, "setup", p.setup, "backend start-up (GPU: context, streams, buffers)");
  std::snprintf(buf, sizeof buf, "%.2f GB/s, %.1f M rows/s; includes handing codes to the backend",
                p.parse > 0 ? static_cast<double>(result.bytes) / p.parse / 1e9 : 0.0,
                p.parse > 0 ? static_cast<double>(result.rows) / p.parse / 1e6 : 0.0);
  add_line(out, "read+parse+encode", p.parse, buf);
  const bool device = p.transfer + p.sort + p.reduce > 0;
  const char* overlap = device ? "device time, overlaps the phases above" : "";
  add_line(out, "transfer", p.transfer, overlap);
  add_line(out, "sort", p.sort, overlap);
  add_line(out, "reduce", p.reduce, overlap);
  add_line(out, "finish", p.finish, device ? "wait for the device, merge, copy back" : "merge the workers' tables (counts: sum; --stats, --per: sort and reduce)");
  add_line(out, "output", p.output, "order + format + write");
  add_line(out, "total", p.total(), "setup + read+parse+encode + finish + output");
  return out;
}

}  // namespace labcount
