#include "mpi_job.hpp"

#include <memory>
#include <string>

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

bool reports_for_job() noexcept { return job() == nullptr || job()->rank() == 0; }

void expect_single_process(const char* command) {
  if (job() == nullptr || job()->size() == 1) return;
  throw error(error_kind::usage,
              std::string("`labcount ") + command + "` runs as one process, not as " + std::to_string(job()->size()) +
                  " MPI ranks",
              "", 0, std::string("run it without mpirun/srun; only `labcount count` spreads over MPI ranks"));
}

}  // namespace labcount
