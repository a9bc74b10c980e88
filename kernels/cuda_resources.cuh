// RAII owners for the CUDA resources of the GPU backend, CUDA_TRY, and the CUB temporary-storage helper.
// Only .cu files include this header.
//
// Every owner is move-only and releases in its destructor without throwing (a destructor may run while an
// error is already propagating, so release errors are ignored there).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>

#include "util/errors.hpp"

namespace labcount::kernels::detail {

inline constexpr const char* gpu_backend_hint =
    "run `labcount info` to see this machine's GPUs, or choose the CPU with --backend cpu";

// What to try when the device's memory runs out.
inline constexpr const char* out_of_memory_hint =
    "use fewer host threads (--threads N: each has its own device batch), smaller device batches "
    "(LABCOUNT_GPU_BATCH_ROWS=1000000), or the CPU (--backend cpu)";

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // Clear the thread's last error so a later call (CUB checks cudaPeekAtLastError after launches) does not
  // report this failure again.
  cudaGetLastError();
  std::string_view where(file);
  if (const auto slash = where.find_last_of('/'); slash != std::string_view::npos) where.remove_prefix(slash + 1);
  throw error(error_kind::device_failure,
              std::string("GPU backend: ") + call + " failed with " + cudaGetErrorName(status) + " (" +
                  cudaGetErrorString(status) + ") at " + std::string(where) + ":" + std::to_string(line),
              "", 0, gpu_backend_hint);
}

}  // namespace labcount::kernels::detail

// Checks a CUDA runtime call; on failure throws labcount::error(backend_unavailable) naming the call, the CUDA
// error and file:line.
#define CUDA_TRY(call)                                                                                 \
  do {                                                                                                 \
    const cudaError_t labcount_cuda_status_ = (call);                                                  \
    if (labcount_cuda_status_ != cudaSuccess)                                                          \
      ::labcount::kernels::detail::throw_cuda_error(labcount_cuda_status_, #call, __FILE__, __LINE__); \
  } while (0)

namespace labcount::kernels::detail {

// Each owner below holds a std::unique_ptr whose deleter knows how to release its CUDA resource (and, for
// memory, its size): moves and release-once come from unique_ptr, not from hand-written move members.

// Releases what cudaMallocAsync allocated, ordered on the allocating stream: the memory is reused only after
// the work already queued there has finished with it, and freeing never waits for the device.
struct free_on_stream {
  cudaStream_t stream = nullptr;
  std::size_t size = 0;  // elements
  void operator()(void* data) const noexcept { cudaFreeAsync(data, stream); }
};

struct free_pinned {
  std::size_t size = 0;  // elements
  void operator()(void* data) const noexcept { cudaFreeHost(data); }
};

// An allocation that failed: out of memory names the bytes it wanted and the way out; other errors as CUDA_TRY.
[[noreturn]] inline void throw_allocation_error(cudaError_t status, const char* what, std::size_t bytes,
                                                const char* file, int line) {
  if (status != cudaErrorMemoryAllocation) throw_cuda_error(status, what, file, line);
  cudaGetLastError();
  throw error(error_kind::device_failure,
              std::string("GPU backend: out of memory: ") + what + " of " + std::to_string(bytes >> 20) + " MiB (" +
                  std::to_string(bytes) + " bytes) failed (cudaErrorMemoryAllocation)",
              "", 0, out_of_memory_hint);
}

// size elements of T, released by Free; empty (null, size 0) by default and after a move.
template <typename T, typename Free>
class cuda_array {
 public:
  T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return data_ ? data_.get_deleter().size : 0; }

 protected:
  cuda_array() = default;
  cuda_array(void* data, Free free) noexcept : data_(static_cast<T*>(data), free) {}

 private:
  std::unique_ptr<T, Free> data_;
};

// Uninitialized, stream-ordered device memory (cudaMallocAsync / cudaFreeAsync on the owning stream): no
// zero-fill kernel.
template <typename T>
class device_buffer : public cuda_array<T, free_on_stream> {
 public:
  device_buffer() = default;
  device_buffer(std::size_t size, cudaStream_t stream)
      : cuda_array<T, free_on_stream>(allocate(size, stream), {stream, size}) {}

 private:
  static void* allocate(std::size_t size, cudaStream_t stream) {
    void* data = nullptr;
    if (size == 0) return data;
    if (const cudaError_t status = cudaMallocAsync(&data, size * sizeof(T), stream); status != cudaSuccess)
      throw_allocation_error(status, "device allocation (cudaMallocAsync)", size * sizeof(T), __FILE__, __LINE__);
    return data;
  }
};

// Page-locked host memory: the only kind a cudaMemcpyAsync can copy from without blocking the host.
template <typename T>
class pinned_buffer : public cuda_array<T, free_pinned> {
 public:
  pinned_buffer() = default;
  explicit pinned_buffer(std::size_t size) : cuda_array<T, free_pinned>(allocate(size), {size}) {}

 private:
  static void* allocate(std::size_t size) {
    void* data = nullptr;
    if (size == 0) return data;
    if (const cudaError_t status = cudaMallocHost(&data, size * sizeof(T)); status != cudaSuccess)
      throw_allocation_error(status, "pinned host allocation (cudaMallocHost)", size * sizeof(T), __FILE__, __LINE__);
    return data;
  }
};

struct destroy_stream {
  void operator()(cudaStream_t stream) const noexcept { cudaStreamDestroy(stream); }
};
struct destroy_event {
  void operator()(cudaEvent_t event) const noexcept { cudaEventDestroy(event); }
};

// An owning stream. Non-blocking, so it never serializes with the legacy default stream of other code.
class cuda_stream {
 public:
  cuda_stream() {
    cudaStream_t stream = nullptr;
    CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    stream_.reset(stream);
  }
  cudaStream_t get() const noexcept { return stream_.get(); }

 private:
  std::unique_ptr<std::remove_pointer_t<cudaStream_t>, destroy_stream> stream_;
};

// An owning event with timing enabled: the backend both waits on its events and reads times between them.
class cuda_event {
 public:
  cuda_event() {
    cudaEvent_t event = nullptr;
    CUDA_TRY(cudaEventCreate(&event));
    event_.reset(event);
  }
  cudaEvent_t get() const noexcept { return event_.get(); }

 private:
  std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, destroy_event> event_;
};

// CUB's device-wide algorithms take their scratch memory from the caller in two phases: called with a null
// pointer they only report how many bytes they need, then they run. run() does both against one buffer that only
// grows; reserve() it for the largest call up front and the hot path never allocates.
class temp_storage {
 public:
  // `call(void* temp, std::size_t& bytes)` forwards to a CUB algorithm and returns its cudaError_t. A failure
  // names `name` and the caller's file:line.
  template <typename CubCall>
  void run(const char* name, CubCall&& call, cudaStream_t stream,
           std::source_location caller = std::source_location::current()) {
    std::size_t bytes = 0;
    check(call(nullptr, bytes), name, caller);
    reserve(bytes, stream);
    bytes = buffer_.size();
    check(call(static_cast<void*>(buffer_.data()), bytes), name, caller);
  }

  void reserve(std::size_t bytes, cudaStream_t stream) {
    // Never empty: CUB reads a null temporary pointer as "report the size".
    bytes = bytes == 0 ? 1 : bytes;
    if (bytes > buffer_.size()) buffer_ = device_buffer<std::byte>(bytes, stream);
  }

 private:
  static void check(cudaError_t status, const char* name, const std::source_location& caller) {
    if (status != cudaSuccess) throw_cuda_error(status, name, caller.file_name(), static_cast<int>(caller.line()));
  }

  device_buffer<std::byte> buffer_;
};

}  // namespace labcount::kernels::detail
