#include "mpi_job.hpp"

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "util/errors.hpp"

namespace labcount {
namespace {

std::unique_ptr<communicator>& job() {
  static std::unique_ptr<communicator> the_job;
  return the_job;
}

}  // namespace

void open_mpi_job(int& argc, char**& argv) { job() = open_launched_communicator(argc, argv); }

void close_mpi_job() noexcept { job().reset(); }

communicator* mpi_job() noexcept { return job().get(); }

bool reports_for_job() noexcept {
  if (job() != nullptr) return job()->rank() == 0;
  // Launched, but MPI could not start (a build without the plugin): the launcher's rank, so that its error
  // is printed once, not once per rank.
  if (!launched_by_mpi()) return true;
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* rank = std::getenv(name); rank != nullptr && *rank != '\0') return std::string_view(rank) == "0";
  return true;
}

void expect_single_process(const char* command) {
  if (job() == nullptr || job()->size() == 1) return;
  throw error(error_kind::usage,
              std::string("`labcount ") + command + "` runs as one process, not as " + std::to_string(job()->size()) +
                  " MPI ranks",
              "", 0, std::string("run it without mpirun/srun; only `labcount count` spreads over MPI ranks"));
}

}  // namespace labcount
