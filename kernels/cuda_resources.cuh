// RAII owners for the CUDA resources of the GPU backend, CUDA_TRY, and the CUB temporary-storage helper.
// Only .cu files include this header.
//
// Every owner is move-only and releases in its destructor without throwing (a destructor may run while an
// error is already propagating, so release errors are ignored there).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "util/errors.hpp"

namespace labcount::kernels::detail {

inline constexpr const char* gpu_backend_hint =
    "run `labcount info` to see this machine's GPUs, or choose the CPU with --backend cpu";

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

// Uninitialized, stream-ordered device memory (cudaMallocAsync / cudaFreeAsync on the owning stream): no
// zero-fill kernel, and freeing never waits for the device.
template <typename T>
class device_buffer {
 public:
  device_buffer() = default;
  device_buffer(std::size_t size, cudaStream_t stream) : stream_(stream) {
    if (size == 0) return;
    void* data = nullptr;
    CUDA_TRY(cudaMallocAsync(&data, size * sizeof(T), stream));
    data_ = static_cast<T*>(data);
    size_ = size;
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), stream_(other.stream_) {}
  device_buffer& operator=(device_buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      stream_ = other.stream_;
    }
    return *this;
  }
  ~device_buffer() { release(); }

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  // Stream-ordered: the memory is reused only after the work already queued on stream_ has finished with it.
  void release() noexcept {
    if (data_ != nullptr) cudaFreeAsync(data_, stream_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
};

// Page-locked host memory: the only kind a cudaMemcpyAsync can copy from without blocking the host.
template <typename T>
class pinned_buffer {
 public:
  pinned_buffer() = default;
  explicit pinned_buffer(std::size_t size) {
    if (size == 0) return;
    void* data = nullptr;
    CUDA_TRY(cudaMallocHost(&data, size * sizeof(T)));
    data_ = static_cast<T*>(data);
    size_ = size;
  }
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;
  pinned_buffer(pinned_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  pinned_buffer& operator=(pinned_buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~pinned_buffer() { release(); }

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) cudaFreeHost(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// An owning stream. Non-blocking, so it never serializes with the legacy default stream of other code.
class cuda_stream {
 public:
  cuda_stream() { CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  cuda_stream(const cuda_stream&) = delete;
  cuda_stream& operator=(const cuda_stream&) = delete;
  cuda_stream(cuda_stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  cuda_stream& operator=(cuda_stream&& other) noexcept {
    if (this != &other) {
      release();
      stream_ = std::exchange(other.stream_, nullptr);
    }
    return *this;
  }
  ~cuda_stream() { release(); }

  cudaStream_t get() const noexcept { return stream_; }

 private:
  void release() noexcept {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    stream_ = nullptr;
  }

  cudaStream_t stream_ = nullptr;
};

// An owning event with timing enabled: the backend both waits on its events and reads times between them.
class cuda_event {
 public:
  cuda_event() { CUDA_TRY(cudaEventCreate(&event_)); }
  cuda_event(const cuda_event&) = delete;
  cuda_event& operator=(const cuda_event&) = delete;
  cuda_event(cuda_event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
  cuda_event& operator=(cuda_event&& other) noexcept {
    if (this != &other) {
      release();
      event_ = std::exchange(other.event_, nullptr);
    }
    return *this;
  }
  ~cuda_event() { release(); }

  cudaEvent_t get() const noexcept { return event_; }

 private:
  void release() noexcept {
    if (event_ != nullptr) cudaEventDestroy(event_);
    event_ = nullptr;
  }

  cudaEvent_t event_ = nullptr;
};

// CUB's device-wide algorithms take their scratch memory from the caller in two phases: called with a null
// pointer they only report how many bytes they need, then they run. run() does both against one buffer that only
// grows; reserve() it for the largest call up front and the hot path never allocates.
class temp_storage {
 public:
  // `call(void* temp, std::size_t& bytes)` forwards to a CUB algorithm and returns its cudaError_t.
  template <typename CubCall>
  void run(const char* name, CubCall&& call, cudaStream_t stream) {
    std::size_t bytes = 0;
    check(call(nullptr, bytes), name);
    reserve(bytes, stream);
    bytes = buffer_.size();
    check(call(static_cast<void*>(buffer_.data()), bytes), name);
  }

  void reserve(std::size_t bytes, cudaStream_t stream) {
    // Never empty: CUB reads a null temporary pointer as "report the size".
    bytes = bytes == 0 ? 1 : bytes;
    if (bytes > buffer_.size()) buffer_ = device_buffer<std::byte>(bytes, stream);
  }

 private:
  static void check(cudaError_t status, const char* name) {
    if (status != cudaSuccess) throw_cuda_error(status, name, __FILE__, __LINE__);
  }

  device_buffer<std::byte> buffer_;
};

}  // namespace labcount::kernels::detail
