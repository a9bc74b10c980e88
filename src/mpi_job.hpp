// The MPI job this process is a rank of, when an MPI launcher (mpirun, srun) started it: opened once in
// main, before the command line is parsed, and closed (MPI_Finalize) when main returns.
#pragma once

#include "distributed/communicator.hpp"

namespace labcount {

// Opens the job when launched_by_mpi(); throws error(not_built_in) when launched without an MPI plugin.
void open_mpi_job(int& argc, char**& argv);
void close_mpi_job() noexcept;

// The job, or null for a plain run.
communicator* mpi_job() noexcept;

// Whether this process prints errors and results: a plain run, or rank 0 of the job (the others exit with
// the same code, silently).
bool reports_for_job() noexcept;

// Throws error(usage) when `command` runs under an MPI job of more than one rank: only `count` (and `info`)
// are made for it; the rest would run N times over.
void expect_single_process(const char* command);

}  // namespace labcount
