// The processes of one MPI job, as labcount uses them: a few collective operations on bytes and counters.
//
//   mpirun -np 4 labcount count ...   ->  open_launched_communicator() -> rank 0..3 of 4
//   labcount count ...                ->  nullptr: no MPI library is even loaded
//
// The MPI calls live in a plugin, liblabcount_mpi.so (mpi_plugin.cpp), that is loaded only when the
// environment shows an MPI launcher (mpirun, mpiexec, srun): a plain run pays nothing for MPI, and a
// build machine without MPI still builds labcount. Everything above this interface (splitting the work,
// exchanging partial states: distributed_count.hpp) is plain C++ and is tested in one process too.
//
// Every operation is collective (every rank calls it, in the same order, or the job hangs), but the two
// progress messages, which are point to point on a channel of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace labcount {

class communicator {
 public:
  virtual ~communicator() = default;

  virtual int rank() const noexcept = 0;
  virtual int size() const noexcept = 0;
  // The ranks on this node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)): this one's place among them.
  virtual int local_rank() const noexcept = 0;
  virtual int local_size() const noexcept = 0;
  virtual std::string library_version() const = 0;  // "Open MPI v4.1.4, ..."

  // values[i] becomes the sum of values[i] over the ranks below this one (0 on rank 0): MPI_Exscan.
  virtual void exclusive_sum(std::span<std::uint64_t> values) = 0;
  // values[i] becomes the sum (or the largest) over all ranks: MPI_Allreduce.
  virtual void all_sum(std::span<std::uint64_t> values) = 0;
  virtual void all_max(std::span<std::uint64_t> values) = 0;
  // send[r] goes to rank r; returns what each rank sent this one (MPI_Alltoall of sizes, then MPI_Alltoallv
  // of the bytes, in pieces that keep every count and displacement below INT_MAX). A rank that cannot allocate
  // what it receives says so before any byte moves, and then every rank throws std::bad_alloc (no rank waits).
  virtual std::vector<std::string> all_to_all(std::vector<std::string> send) = 0;
  // Rank `root`'s bytes, on every rank.
  virtual std::string broadcast(std::string bytes, int root) = 0;
  // A barrier whose waiting ranks sleep (MPI_Ibarrier, tested every millisecond) instead of spinning in the
  // library's progress loop, so that ranks done with their work leave their cores to one still working.
  virtual void barrier_sleeping() = 0;

  // Progress counters between two collectives, on a channel (communicator) of their own, so they never meet
  // the collectives' messages: a rank other than 0 sends rank 0 a few counters; rank 0 takes one message that
  // has arrived (false: none yet), never waiting. One thread of a rank at a time calls into the communicator.
  virtual void send_progress(std::span<const std::uint64_t> values) = 0;
  virtual bool receive_progress(int& from, std::span<std::uint64_t> values) = 0;
};

// Every rank's `bytes` on rank `root` (in rank order; empty elsewhere), through all_to_all.
std::vector<std::string> gather(communicator& comm, std::string bytes, int root = 0);

// Whether this process was started by an MPI launcher: Open MPI's mpirun (OMPI_COMM_WORLD_SIZE), a PMIx
// server (PMIX_RANK: Open MPI 5, srun --mpi=pmix), or PMI/PMI-2 (PMI_RANK + PMI_SIZE: MPICH's hydra,
// srun --mpi=pmi2). LABCOUNT_MPI=0 says no whatever the environment, for a run inside an MPI job that must
// stay one process.
bool launched_by_mpi();

// MPI_Init_thread through the plugin when launched_by_mpi(), else nullptr. The plugin is LABCOUNT_MPI_PLUGIN when
// set, else liblabcount_mpi.so beside the executable or in ../lib/labcount. Throws error(not_built_in) when
// launched but this build has no MPI plugin (or it cannot be loaded), naming the fix. The communicator
// calls MPI_Finalize when it is destroyed.
std::unique_ptr<communicator> open_launched_communicator(int& argc, char**& argv);

// What `labcount info` says about MPI: whether the plugin is built, its MPI library version when loaded.
std::string mpi_build_summary();

}  // namespace labcount
