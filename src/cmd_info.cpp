#include "cmd_info.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "backend_registry.hpp"
#include "count_args.hpp"
#include "input/decompress.hpp"
#include "input/zip_archive.hpp"
#include "mpi_job.hpp"
#include "output/result_writer.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

struct info_options {
  int device = 0;
  bool json = false;
  message_flags messages;
};

// The input formats this build reads besides plain CSV/TSV/UTF-16 (each library is optional at build time).
std::vector<std::pair<std::string, bool>> input_formats() {
  std::vector<std::pair<std::string, bool>> formats;
  for (compression c : {compression::gzip, compression::zstd, compression::bzip2, compression::xz})
    formats.emplace_back(std::string(compression_name(c)), compression_supported(c));
  formats.emplace_back("zip", zip_supported());
  return formats;
}

#ifdef LABCOUNT_HAS_CUDA
constexpr bool built_with_cuda = true;
#else
constexpr bool built_with_cuda = false;
#endif

void print_text(const std::vector<backend_status>& backends) {
  std::printf("labcount %s\n", LABCOUNT_VERSION);
  std::printf("build: C++20, %s CUDA\n", built_with_cuda ? "with" : "without");
  std::printf("hardware threads: %u\n", thread_pool::default_threads());
  if (const communicator* job = mpi_job())
    std::printf("MPI: %s; this job: %d rank%s, %d on this node\n", job->library_version().c_str(), job->size(),
                job->size() == 1 ? "" : "s", job->local_size());
  else
    std::printf("MPI: %s (not launched by mpirun/srun: one process)\n", mpi_build_summary().c_str());
  std::string readable;
  std::string missing;
  for (const auto& [name, supported] : input_formats()) (supported ? readable : missing) += " " + name;
  std::printf("compressed inputs:%s%s\n", readable.empty() ? " none" : readable.c_str(),
              missing.empty() ? "" : ("; not built in:" + missing).c_str());
  std::printf("backends:\n");
  for (const auto& status : backends) {
    std::printf("  %-4s %s: %s\n", status.name.c_str(), status.usable ? "available" : "unavailable",
                (status.usable ? status.summary : status.why_not).c_str());
    for (const auto& line : status.details) std::printf("         %s\n", line.c_str());
  }
}

// The same facts as one JSON object, for scripts and cluster inventories:
//   {"version":"0.1.0","cuda":true,"hardware_threads":16,"mpi":{...},"compressed_inputs":{"gzip":true,...},
//    "backends":[{"name":"cpu","available":true,"summary":"...","why_not":"","details":[]},...]}
void print_json(const std::vector<backend_status>& backends) {
  auto boolean = [](bool b) { return b ? "true" : "false"; };
  std::string out = "{\"version\":" + json_quoted(LABCOUNT_VERSION) + ",\"cuda\":" + boolean(built_with_cuda) +
                    ",\"hardware_threads\":" + std::to_string(thread_pool::default_threads()) + ",\"mpi\":{";
  if (const communicator* job = mpi_job())
    out += "\"launched\":true,\"library\":" + json_quoted(job->library_version()) +
           ",\"ranks\":" + std::to_string(job->size()) + ",\"ranks_on_node\":" + std::to_string(job->local_size());
  else
    out += "\"launched\":false,\"summary\":" + json_quoted(mpi_build_summary());
  out += "},\"compressed_inputs\":{";
  bool first = true;
  for (const auto& [name, supported] : input_formats()) {
    out += (first ? "" : ",") + json_quoted(name) + ":" + boolean(supported);
    first = false;
  }
  out += "},\"backends\":[";
  for (std::size_t i = 0; i < backends.size(); ++i) {
    const backend_status& s = backends[i];
    out += (i == 0 ? "{" : ",{") + std::string("\"name\":") + json_quoted(s.name) + ",\"available\":" +
           boolean(s.usable) + ",\"summary\":" + json_quoted(s.summary) + ",\"why_not\":" + json_quoted(s.why_not) +
           ",\"details\":[";
    for (std::size_t d = 0; d < s.details.size(); ++d) out += (d == 0 ? "" : ",") + json_quoted(s.details[d]);
    out += "]}";
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
}

}  // namespace

CLI::App* setup_info(CLI::App& parent) {
  auto opt = std::make_shared<info_options>();
  CLI::App* cmd =
      parent.add_subcommand("info", "Show the version and which backends (CPU, GPU) can run here, and why not");
  add_device_flag(*cmd, opt->device, "Options");
  cmd->add_flag("--json", opt->json, "The same as one JSON object (for scripts and cluster inventories)")
      ->group("Options");
  add_message_flags(*cmd, opt->messages, "Options", "Accepted for uniformity: info prints only what it is asked",
                    "Accepted for uniformity: info already prints every detail it has");
  cmd->callback([opt] {
    check_message_flags(opt->messages);
    if (!reports_for_job()) return;  // under mpirun: rank 0 speaks for the job
    backend_options options;
    options.device = opt->device;
    const std::vector<backend_status> backends = probe_backends(options, probe_detail::every_device);
    if (opt->json)
      print_json(backends);
    else
      print_text(backends);
  });
  return cmd;
}

}  // namespace labcount
