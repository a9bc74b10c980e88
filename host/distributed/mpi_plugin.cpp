// liblabcount_mpi.so: the communicator on MPI (communicator.hpp). The only file that includes mpi.h; the
// labcount binary loads it with dlopen when an MPI launcher started the process, so that the binary does
// not need libmpi to start, and a plain run does not pay for loading it.
#include <mpi.h>

#include <time.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "distributed/communicator.hpp"

namespace labcount {
namespace {

std::string library_version_string() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string v(version, static_cast<std::size_t>(std::max(length, 0)));
  if (const auto nl = v.find('\n'); nl != std::string::npos) v.resize(nl);  // the first line: name and version
  while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.pop_back();
  return v;
}

class mpi_communicator final : public communicator {
 public:
  mpi_communicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
    MPI_Comm_dup(MPI_COMM_WORLD, &progress_);
    // Pieces of at most INT_MAX / size bytes per rank, so that a round's counts and displacements all fit an
    // int; LABCOUNT_MPI_PIECE_BYTES makes them smaller (the tests send many pieces with it).
    piece_ = static_cast<std::size_t>(INT_MAX) / static_cast<std::size_t>(size_);
    if (const char* p = std::getenv("LABCOUNT_MPI_PIECE_BYTES"); p != nullptr && std::atoll(p) > 0)
      piece_ = std::min(piece_, static_cast<std::size_t>(std::atoll(p)));
  }
  ~mpi_communicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Comm_free(&progress_);
    MPI_Finalize();
  }

  int rank() const noexcept override { return rank_; }
  int size() const noexcept override { return size_; }
  int local_rank() const noexcept override { return local_rank_; }
  int local_size() const noexcept override { return local_size_; }
  std::string library_version() const override { return library_version_string(); }

  void exclusive_sum(std::span<std::uint64_t> values) override {
    std::vector<std::uint64_t> in(values.begin(), values.end());
    MPI_Exscan(in.data(), values.data(), count(values.size()), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank_ == 0) std::fill(values.begin(), values.end(), 0);  // MPI leaves rank 0's result undefined
  }
  void all_sum(std::span<std::uint64_t> values) override {
    MPI_Allreduce(MPI_IN_PLACE, values.data(), count(values.size()), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  }
  void all_max(std::span<std::uint64_t> values) override {
    MPI_Allreduce(MPI_IN_PLACE, values.data(), count(values.size()), MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  }

  std::vector<std::string> all_to_all(std::vector<std::string> send) override {
    const auto n = static_cast<std::size_t>(size_);
    std::vector<std::uint64_t> send_sizes(n), recv_sizes(n);
    for (std::size_t r = 0; r < n; ++r) send_sizes[r] = send[r].size();
    MPI_Alltoall(send_sizes.data(), 1, MPI_UINT64_T, recv_sizes.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
    std::vector<std::string> recv(n);
    std::uint64_t rounds = 0;
    for (std::size_t r = 0; r < n; ++r)
      rounds = std::max({rounds, (send_sizes[r] + piece_ - 1) / piece_, (recv_sizes[r] + piece_ - 1) / piece_});
    // Everything this rank will need, before anyone moves a byte: a rank that cannot allocate its part says so
    // in the same reduction as the rounds, and every rank then throws, rather than the others waiting for it.
    std::vector<char> out, in;
    std::uint64_t out_of_memory = 0;
    try {
      std::uint64_t out_max = 0, in_max = 0;  // the first round is the largest
      for (std::size_t r = 0; r < n; ++r) {
        recv[r].resize(recv_sizes[r]);
        out_max += std::min<std::uint64_t>(piece_, send_sizes[r]);
        in_max += std::min<std::uint64_t>(piece_, recv_sizes[r]);
      }
      out.reserve(out_max);
      in.reserve(in_max);
    } catch (const std::bad_alloc&) {
      out_of_memory = 1;
    }
    std::uint64_t agreed[2] = {rounds, out_of_memory};
    MPI_Allreduce(MPI_IN_PLACE, agreed, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    if (agreed[1] != 0) throw std::bad_alloc();
    rounds = agreed[0];
    // Round k moves bytes [k * piece, (k + 1) * piece) of every message, through contiguous staging buffers.
    std::vector<int> send_counts(n), send_displs(n), recv_counts(n), recv_displs(n);
    for (std::uint64_t k = 0; k < rounds; ++k) {
      const std::uint64_t from = k * piece_;
      int send_total = 0, recv_total = 0;
      for (std::size_t r = 0; r < n; ++r) {
        send_counts[r] = static_cast<int>(send_sizes[r] > from ? std::min<std::uint64_t>(piece_, send_sizes[r] - from) : 0);
        recv_counts[r] = static_cast<int>(recv_sizes[r] > from ? std::min<std::uint64_t>(piece_, recv_sizes[r] - from) : 0);
        send_displs[r] = send_total;
        recv_displs[r] = recv_total;
        send_total += send_counts[r];
        recv_total += recv_counts[r];
      }
      out.resize(static_cast<std::size_t>(send_total));
      in.resize(static_cast<std::size_t>(recv_total));
      for (std::size_t r = 0; r < n; ++r)
        if (send_counts[r] != 0) std::memcpy(out.data() + send_displs[r], send[r].data() + from, send_counts[r]);
      MPI_Alltoallv(out.data(), send_counts.data(), send_displs.data(), MPI_BYTE, in.data(), recv_counts.data(),
                    recv_displs.data(), MPI_BYTE, MPI_COMM_WORLD);
      for (std::size_t r = 0; r < n; ++r)
        if (recv_counts[r] != 0) std::memcpy(recv[r].data() + from, in.data() + recv_displs[r], recv_counts[r]);
    }
    return recv;
  }

  std::string broadcast(std::string bytes, int root) override {
    std::uint64_t size = bytes.size();
    MPI_Bcast(&size, 1, MPI_UINT64_T, root, MPI_COMM_WORLD);
    bytes.resize(size);
    for (std::uint64_t from = 0; from < size; from += piece_)
      MPI_Bcast(bytes.data() + from, static_cast<int>(std::min<std::uint64_t>(piece_, size - from)), MPI_BYTE, root,
                MPI_COMM_WORLD);
    return bytes;
  }

  void barrier_sleeping() override {
    MPI_Request request;
    MPI_Ibarrier(MPI_COMM_WORLD, &request);
    int done = 0;
    for (MPI_Test(&request, &done, MPI_STATUS_IGNORE); done == 0; MPI_Test(&request, &done, MPI_STATUS_IGNORE)) {
      const timespec millisecond{0, 1'000'000};
      ::nanosleep(&millisecond, nullptr);
    }
  }

  void send_progress(std::span<const std::uint64_t> values) override {
    MPI_Send(values.data(), count(values.size()), MPI_UINT64_T, 0, progress_tag, progress_);
  }
  bool receive_progress(int& from, std::span<std::uint64_t> values) override {
    int arrived = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, progress_tag, progress_, &arrived, &status);
    if (arrived == 0) return false;
    int n = 0;
    MPI_Get_count(&status, MPI_UINT64_T, &n);
    std::vector<std::uint64_t> got(static_cast<std::size_t>(std::max(n, 0)));
    MPI_Recv(got.data(), n, MPI_UINT64_T, status.MPI_SOURCE, progress_tag, progress_, MPI_STATUS_IGNORE);
    std::fill(values.begin(), values.end(), 0);
    std::copy_n(got.begin(), std::min(got.size(), values.size()), values.begin());
    from = status.MPI_SOURCE;
    return true;
  }

 private:
  static constexpr int progress_tag = 1;
  static int count(std::size_t n) { return static_cast<int>(n); }  // a handful of counters, never near INT_MAX

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::size_t piece_ = 1;
  MPI_Comm progress_ = MPI_COMM_NULL;  // the progress messages' own channel
};

}  // namespace
}  // namespace labcount

// The plugin's entry points, looked up by name (communicator.cpp).
extern "C" {

// MPI_Init_thread (MPI_THREAD_SERIALIZED: one thread at a time makes MPI calls, and it may be a progress
// thread rather than main) and the communicator, or null with `why` filled in. labcount's own errors never
// reach MPI (they are agreed on and reported by rank 0); a failing MPI call is the job's failure, and the
// default handler (MPI_ERRORS_ARE_FATAL) ends the job rather than letting it hang.
__attribute__((visibility("default"))) labcount::communicator* labcount_mpi_open(int* argc, char*** argv, char* why,
                                                                                  std::size_t why_size) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    std::snprintf(why, why_size, "MPI_Init_thread failed");
    return nullptr;
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    std::snprintf(why, why_size, "the MPI library gives thread level %d, below MPI_THREAD_SERIALIZED", provided);
    MPI_Finalize();
    return nullptr;
  }
  return new labcount::mpi_communicator();
}

__attribute__((visibility("default"))) void labcount_mpi_version(char* out, std::size_t out_size) {
  std::snprintf(out, out_size, "%s", labcount::library_version_string().c_str());
}

}  // extern "C"
