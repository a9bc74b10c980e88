#include "cmd_info.hpp"

#include <cstdio>

#include "backend_registry.hpp"
#include "count_args.hpp"
#include "mpi_job.hpp"
#include "util/thread_pool.hpp"

namespace labcount {

CLI::App* setup_info(CLI::App& parent) {
  auto device = std::make_shared<int>(0);
  CLI::App* cmd =
      parent.add_subcommand("info", "Show the version and which backends (CPU, GPU) can run here, and why not");
  add_device_flag(*cmd, *device, "Options");
  cmd->callback([device] {
    if (!reports_for_job()) return;  // under mpirun: rank 0 speaks for the job
    std::printf("labcount %s\n", LABCOUNT_VERSION);
#ifdef LABCOUNT_HAS_CUDA
    std::printf("build: C++20, with CUDA\n");
#else
    std::printf("build: C++20, without CUDA\n");
#endif
    std::printf("hardware threads: %u\n", thread_pool::default_threads());
    if (const communicator* job = mpi_job())
      std::printf("MPI: %s; this job: %d rank%s, %d on this node\n", job->library_version().c_str(), job->size(),
                  job->size() == 1 ? "" : "s", job->local_size());
    else
      std::printf("MPI: %s (not launched by mpirun/srun: one process)\n", mpi_build_summary().c_str());
    std::printf("backends:\n");
    backend_options options;
    options.device = *device;
    for (const auto& status : probe_backends(options, probe_detail::every_device)) {
      std::printf("  %-4s %s: %s\n", status.name.c_str(), status.usable ? "available" : "unavailable",
                  (status.usable ? status.summary : status.why_not).c_str());
      for (const auto& line : status.details) std::printf("         %s\n", line.c_str());
    }
  });
  return cmd;
}

}  // namespace labcount
