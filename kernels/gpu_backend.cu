// The GPU backend (the picture is in gpu_backend.hpp).
//
// Per worker, nothing shared: a stream, two pinned staging buffers, a device batch (the codes plus the radix
// sort's second buffer), the run counts of the last batch, CUB temporary storage, and dense running totals.
// consume() calls for different workers touch disjoint state; the only shared value is the device id, set on
// every call because the calling thread may be new to CUDA.
//
// consume(worker, codes), piece by piece (a piece fills at most one staging buffer and never crosses a batch):
//   wait for the previous copy out of this staging buffer (its event)   // double buffering
//   copy the piece into the buffer, noting the largest code             // the span is only valid during the call
//   cudaMemcpyAsync into the device batch on the worker's stream        // returns at once: pinned memory
//   batch full -> flush: sort + reduce_by_key + add into totals, all queued on the stream (sort_reduce.cuh)
// finish(): flush every worker, make the first worker's stream wait for the others (events), sum the workers'
// totals there, copy the counts back once, and synchronize that stream: the only point where the host waits for
// the GPU apart from reusing a staging buffer (and once at setup, to surface allocation failures).
//
// Choices:
// * Dense running totals (totals[code] += count after each batch) rather than merging sparse (code, count) runs.
//   Codes are dense dictionary codes, so a dense array is as small as the sparse form and finish() returns it as
//   is. Merging sparse runs needs the run count on the host (merge_by_key takes host sizes, and
//   thrust::reduce_by_key synchronizes to return it), i.e. one stream sync per batch; the dense add reads the
//   count on the device instead. Cost: 8 bytes per code per worker, grown as codes appear.
// * Batch size: at most a quarter of the device's free memory at start, split across the workers, at 16 bytes
//   per row (codes, the sort's second buffer, a 64-bit count per run when every code differs);
//   LABCOUNT_GPU_BATCH_ROWS or gpu_backend_tuning overrides that cap. A worker's first batch holds 1M rows and
//   each full batch doubles the next one up to the cap, so a small input never allocates gigabytes and a large
//   one needs few batches. The sort of a full batch is queued, not waited for; the host waits for it only when
//   a staging buffer's next copy is queued behind it.
// * Radix sort looks only at bit_width(largest code in the batch) bits, tracked while staging.
// * Timings come from events read when they are known to be complete (after a staging wait, or at finish()), so
//   measuring adds no synchronization. They are summed over workers, whose streams overlap, so they can exceed
//   the wall time.
#include "gpu_backend.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cuda_resources.cuh"
#include "errors.hpp"
#include "sort_reduce.cuh"

namespace labcount {
namespace {

using kernels::detail::cuda_event;
using kernels::detail::cuda_stream;
using kernels::detail::device_buffer;
using kernels::detail::gpu_backend_hint;
using kernels::detail::pinned_buffer;
using kernels::detail::run_count_t;
using kernels::detail::temp_storage;
using clock_type = std::chrono::steady_clock;

// Share of the free device memory the batches may take: leaves room for the running totals, CUB's scratch,
// the CUDA context and other processes.
constexpr std::size_t free_memory_share = 4;
// Device bytes per batch row: the codes, the radix sort's second buffer, and one 64-bit run count per row in
// the worst case (every code different).
constexpr std::size_t bytes_per_batch_row = 2 * sizeof(std::uint32_t) + sizeof(std::uint64_t);
constexpr std::size_t min_batch_rows = std::size_t{1} << 16;
// A worker's first batch; later ones double up to the cap from free memory.
constexpr std::size_t first_batch_rows = std::size_t{1} << 20;
// 4 MiB copies already run at full PCIe bandwidth; bigger staging buffers only cost pinned memory (two per worker).
constexpr std::size_t max_staging_rows = std::size_t{1} << 20;
// Codes are 32-bit, so no total array needs more slots than this.
constexpr std::size_t max_totals = std::size_t{1} << 32;

// A failed call as text for a reason line (probe) rather than an exception; clears the thread's last error.
std::string cuda_error_text(cudaError_t status) {
  cudaGetLastError();
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

// 12080 -> "12.8"
std::string version_string(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string gib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / double(1ull << 30));
  return text;
}

std::chrono::nanoseconds elapsed(const cuda_event& start, const cuda_event& stop) {
  float ms = 0;
  CUDA_TRY(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(ms) * 1e6));
}

// Compiled for the same architectures as the backend's kernels: if the device cannot load this, it cannot run
// the backend either.
__global__ void probe_kernel() {}

// Why CUDA cannot be used at all here, or "" (and the number of devices).
std::string cuda_problem(int& num_devices) {
  num_devices = 0;
  int driver = 0;
  cudaDriverGetVersion(&driver);  // 0 when no driver is installed
  if (driver == 0) return "no NVIDIA driver found (the CUDA driver library libcuda.so could not be loaded)";
  const cudaError_t status = cudaGetDeviceCount(&num_devices);
  if (status == cudaSuccess && num_devices > 0) return {};
  num_devices = 0;
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  switch (status) {
    case cudaSuccess:
    case cudaErrorNoDevice:
      cudaGetLastError();
      return "no CUDA-capable GPU found (cudaErrorNoDevice)";
    case cudaErrorInsufficientDriver:
      cudaGetLastError();
      return "the NVIDIA driver supports CUDA " + version_string(driver) + " but this build uses the CUDA " +
             version_string(runtime) + " runtime (cudaErrorInsufficientDriver); update the NVIDIA driver";
    default:
      return "CUDA cannot start (" + cuda_error_text(status) + ")";
  }
}

std::string out_of_range(int device, int num_devices) {
  return "--device " + std::to_string(device) + " is out of range: this machine has " +
         std::to_string(num_devices) + " GPU(s), numbered 0 to " + std::to_string(num_devices - 1);
}

// Why device `device` (a valid index) cannot run the backend, or "". Leaves it the current device.
std::string device_problem(int device) {
  const std::string gpu = "GPU " + std::to_string(device);
  if (const cudaError_t status = cudaSetDevice(device); status != cudaSuccess)
    return "cannot use " + gpu + " (" + cuda_error_text(status) + ")";
  int pools = 0;
  if (const cudaError_t status = cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device);
      status != cudaSuccess)
    return "cannot query " + gpu + " (" + cuda_error_text(status) + ")";
  if (pools == 0)
    return gpu + " does not support stream-ordered allocation (cudaMallocAsync), which the GPU backend uses";
  cudaFuncAttributes attributes{};
  if (const cudaError_t status = cudaFuncGetAttributes(&attributes, probe_kernel); status != cudaSuccess) {
    const std::string why = cuda_error_text(status);
    cudaDeviceProp properties{};
    cudaGetDeviceProperties(&properties, device);
    cudaGetLastError();
    const std::string arch = std::to_string(properties.major) + std::to_string(properties.minor);
    return "this build has no GPU code for " + gpu + " (compute capability " + std::to_string(properties.major) +
           "." + std::to_string(properties.minor) + "; " + why + "); rebuild with -DCMAKE_CUDA_ARCHITECTURES=" +
           arch;
  }
  return {};
}

// "GPU 0: NVIDIA H100 80GB HBM3, compute capability 9.0, 132 SMs, 50 MiB L2, 79.1 GiB total, 78.6 GiB free"
std::string describe_device(int device) {
  std::string line = "GPU " + std::to_string(device) + ": ";
  cudaDeviceProp properties{};
  if (const cudaError_t status = cudaGetDeviceProperties(&properties, device); status != cudaSuccess)
    return line + "properties unavailable (" + cuda_error_text(status) + ")";
  line += std::string(properties.name) + ", compute capability " + std::to_string(properties.major) + "." +
          std::to_string(properties.minor) + ", " + std::to_string(properties.multiProcessorCount) + " SMs, " +
          std::to_string(properties.l2CacheSize >> 20) + " MiB L2, " + gib(properties.totalGlobalMem) + " total";
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  // Free memory needs the device's context; this creates it if nothing has yet.
  if (const cudaError_t status = cudaSetDevice(device); status != cudaSuccess)
    return line + ", free memory unknown (" + cuda_error_text(status) + ")";
  if (const cudaError_t status = cudaMemGetInfo(&free_bytes, &total_bytes); status != cudaSuccess)
    return line + ", free memory unknown (" + cuda_error_text(status) + ")";
  return line + ", " + gib(free_bytes) + " free";
}

std::size_t batch_rows_for(std::size_t free_bytes, unsigned num_workers) {
  const std::size_t rows = free_bytes / free_memory_share / num_workers / bytes_per_batch_row;
  return std::clamp(rows, min_batch_rows, kernels::max_batch_rows);
}

// The most temporary storage a batch of batch_rows needs: the sort over all 32 bits, or the reduction (one buffer
// serves both, one after the other on the worker's stream). Reserved up front; temp_storage::run grows it when
// a later, larger batch needs more. These calls only compute sizes; nothing runs.
std::size_t temp_bytes_for(std::size_t batch_rows) {
  const auto num_items = static_cast<std::uint32_t>(batch_rows);
  std::size_t sort_bytes = 0;
  cub::DoubleBuffer<std::uint32_t> keys(nullptr, nullptr);
  CUDA_TRY(cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes, keys, num_items, 0, 32));
  std::size_t reduce_bytes = 0;
  CUDA_TRY(cub::DeviceReduce::ReduceByKey(nullptr, reduce_bytes, static_cast<const std::uint32_t*>(nullptr),
                                          static_cast<std::uint32_t*>(nullptr),
                                          thrust::constant_iterator<std::uint64_t>(1),
                                          static_cast<std::uint64_t*>(nullptr), static_cast<run_count_t*>(nullptr),
                                          ::cuda::std::plus<std::uint64_t>{}, num_items));
  return std::max(sort_bytes, reduce_bytes);
}

// sum[code] += part[code]: folds one worker's totals into the result in finish().
struct add_totals {
  std::uint64_t* sum;
  const std::uint64_t* part;
  __device__ void operator()(std::size_t code) const { sum[code] += part[code]; }
};

struct batch_events {
  cuda_event start;
  cuda_event sorted;
  cuda_event reduced;
};

struct worker_state {
  worker_state(std::size_t batch_rows, std::size_t staging_rows)
      : d_codes(batch_rows, stream.get()), d_alternate(batch_rows, stream.get()), d_num_runs(1, stream.get()) {
    for (auto& buffer : h_staging) buffer = pinned_buffer<std::uint32_t>(staging_rows);
  }

  // Declared first so it is destroyed last: the device buffers below are freed on it.
  cuda_stream stream;

  // Double-buffered staging: copy_done[slot] fires when the device has read h_staging[slot].
  std::array<pinned_buffer<std::uint32_t>, 2> h_staging;
  std::array<cuda_event, 2> copy_start;
  std::array<cuda_event, 2> copy_done;
  std::array<bool, 2> copy_pending{};
  // Batches flushed before each slot's copy was queued: once that copy is done, so are they (same stream).
  std::array<std::uint64_t, 2> flushes_before_copy{};
  int next_slot = 0;

  // The batch being filled (its size is the batch's capacity), and the sort's second buffer (it also receives
  // the run codes).
  device_buffer<std::uint32_t> d_codes;
  device_buffer<std::uint32_t> d_alternate;
  device_buffer<std::uint64_t> d_run_counts;  // grown to min(batch rows, largest code + 1) as needed
  device_buffer<run_count_t> d_num_runs;
  device_buffer<std::uint64_t> d_totals;  // dense running totals: d_totals[code]
  temp_storage scratch;
  std::size_t batch_fill = 0;
  std::uint32_t batch_max_code = 0;
  std::uint64_t flushes = 0;

  std::deque<std::pair<std::uint64_t, batch_events>> batches_in_flight;  // (flush number, its events)
  std::vector<batch_events> spare_events;
  cuda_event done;  // recorded in finish(), when the worker's last batch is queued

  std::chrono::nanoseconds transfer{0};
  std::chrono::nanoseconds sort{0};
  std::chrono::nanoseconds reduce{0};
};

// Copies a piece of the caller's codes into a staging buffer and returns its largest code.
std::uint32_t stage(std::span<const std::uint32_t> codes, std::uint32_t* staged) {
  std::uint32_t max_code = 0;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    staged[i] = codes[i];
    max_code = std::max(max_code, codes[i]);
  }
  return max_code;
}

// Adds the times of the batches that are known to be complete: those flushed before `completed_flushes`.
void harvest_batches(worker_state& worker, std::uint64_t completed_flushes) {
  while (!worker.batches_in_flight.empty() && worker.batches_in_flight.front().first < completed_flushes) {
    batch_events& events = worker.batches_in_flight.front().second;
    worker.sort += elapsed(events.start, events.sorted);
    worker.reduce += elapsed(events.sorted, events.reduced);
    worker.spare_events.push_back(std::move(events));
    worker.batches_in_flight.pop_front();
  }
}

// Waits until the device has read staging buffer `slot` (so it can be overwritten) and books the copy's time.
void wait_for_staging(worker_state& worker, int slot) {
  if (!worker.copy_pending[slot]) return;
  CUDA_TRY(cudaEventSynchronize(worker.copy_done[slot].get()));
  worker.copy_pending[slot] = false;
  worker.transfer += elapsed(worker.copy_start[slot], worker.copy_done[slot]);
  harvest_batches(worker, worker.flushes_before_copy[slot]);
}

// Grows a worker's totals to hold `needed` codes, keeping the counts so far. Stream-ordered: the old buffer is
// freed after the work already queued on the stream has used it.
void grow_totals(worker_state& worker, std::size_t needed) {
  const std::size_t old_size = worker.d_totals.size();
  if (old_size >= needed) return;
  const cudaStream_t stream = worker.stream.get();
  const std::size_t new_size = std::max(needed, std::min(2 * old_size, max_totals));
  device_buffer<std::uint64_t> grown(new_size, stream);
  if (old_size > 0)
    CUDA_TRY(cudaMemcpyAsync(grown.data(), worker.d_totals.data(), old_size * sizeof(std::uint64_t),
                             cudaMemcpyDeviceToDevice, stream));
  CUDA_TRY(cudaMemsetAsync(grown.data() + old_size, 0, (new_size - old_size) * sizeof(std::uint64_t), stream));
  worker.d_totals = std::move(grown);
}

class gpu_backend final : public count_backend {
 public:
  gpu_backend(const backend_options& options, const gpu_backend_tuning& tuning, clock_type::time_point setup_start)
      : device_(options.device) {
    CUDA_TRY(cudaSetDevice(device_));
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
    const unsigned num_workers = std::max(1u, options.num_workers);
    batch_rows_ = tuning.batch_rows != 0 ? std::min(tuning.batch_rows, kernels::max_batch_rows)
                                         : batch_rows_for(free_bytes, num_workers);
    // Several staging pieces per batch even when a test forces tiny batches.
    staging_rows_ = std::clamp<std::size_t>(batch_rows_ / 4, 1, max_staging_rows);
    const std::size_t first_rows = std::min(batch_rows_, first_batch_rows);
    const std::size_t temp_bytes = temp_bytes_for(first_rows);
    workers_.reserve(num_workers);
    for (unsigned i = 0; i < num_workers; ++i) {
      auto worker = std::make_unique<worker_state>(first_rows, staging_rows_);
      worker->scratch.reserve(temp_bytes, worker->stream.get());
      workers_.push_back(std::move(worker));
    }
    // Allocations are stream-ordered: wait once here so a failure surfaces now and the setup time is real.
    for (const auto& worker : workers_) CUDA_TRY(cudaStreamSynchronize(worker->stream.get()));
    setup_ = clock_type::now() - setup_start;
  }

  gpu_backend(const gpu_backend&) = delete;
  gpu_backend& operator=(const gpu_backend&) = delete;

  ~gpu_backend() override {
    // finish() reads every worker's totals on the first worker's stream; if it stopped half way, that work may
    // still be queued while the buffers are freed on their own streams. Drain every stream first. Errors are
    // ignored: a destructor must not throw, and there is nothing left to report them to.
    cudaSetDevice(device_);
    for (const auto& worker : workers_) cudaStreamSynchronize(worker->stream.get());
    cudaGetLastError();
  }

  std::string_view name() const override { return "gpu"; }

  void consume(unsigned worker_id, std::span<const std::uint32_t> codes) override {
    LABCOUNT_EXPECTS(worker_id < workers_.size(), "worker id below backend_options::num_workers");
    if (codes.empty()) return;
    CUDA_TRY(cudaSetDevice(device_));
    worker_state& worker = *workers_[worker_id];
    while (!codes.empty()) {
      const std::size_t capacity = worker.d_codes.size();
      const std::size_t piece = std::min({codes.size(), staging_rows_, capacity - worker.batch_fill});
      stage_and_copy(worker, codes.first(piece));
      codes = codes.subspan(piece);
      if (worker.batch_fill == capacity) {
        flush(worker);
        grow_batch(worker);
      }
    }
  }

  std::vector<std::uint64_t> finish(std::size_t num_codes) override {
    CUDA_TRY(cudaSetDevice(device_));
    for (const auto& worker : workers_) flush(*worker);

    // The rest runs on the first worker's stream, after everything queued on the others.
    const cudaStream_t stream = workers_.front()->stream.get();
    for (std::size_t i = 1; i < workers_.size(); ++i) {
      worker_state& worker = *workers_[i];
      CUDA_TRY(cudaEventRecord(worker.done.get(), worker.stream.get()));
      CUDA_TRY(cudaStreamWaitEvent(stream, worker.done.get(), 0));
    }

    std::vector<std::uint64_t> counts(num_codes, 0);
    if (num_codes > 0) {
      cuda_event sum_start;
      cuda_event sum_done;
      cuda_event copied;
      device_buffer<std::uint64_t> d_counts(num_codes, stream);
      CUDA_TRY(cudaEventRecord(sum_start.get(), stream));
      CUDA_TRY(cudaMemsetAsync(d_counts.data(), 0, num_codes * sizeof(std::uint64_t), stream));
      for (const auto& worker : workers_) {
        // A worker that never saw a code >= num_codes has fewer totals; codes past num_codes are not counted
        // (as in the CPU backend).
        const std::size_t size = std::min(worker->d_totals.size(), num_codes);
        if (size > 0)
          CUDA_TRY(cub::DeviceFor::Bulk(size, add_totals{d_counts.data(), worker->d_totals.data()}, stream));
      }
      CUDA_TRY(cudaEventRecord(sum_done.get(), stream));
      CUDA_TRY(cudaMemcpyAsync(counts.data(), d_counts.data(), num_codes * sizeof(std::uint64_t),
                               cudaMemcpyDeviceToHost, stream));
      CUDA_TRY(cudaEventRecord(copied.get(), stream));
      // The host reads counts next.
      CUDA_TRY(cudaStreamSynchronize(stream));
      finish_reduce_ += elapsed(sum_start, sum_done);
      finish_transfer_ += elapsed(sum_done, copied);
    } else {
      CUDA_TRY(cudaStreamSynchronize(stream));
    }

    // That stream waited for every other stream, so every event recorded so far is complete.
    for (const auto& worker : workers_) {
      for (int slot = 0; slot < 2; ++slot) wait_for_staging(*worker, slot);
      harvest_batches(*worker, std::numeric_limits<std::uint64_t>::max());
    }
    return counts;
  }

  backend_timings timings() const override {
    backend_timings total;
    total.setup = setup_;
    total.transfer = finish_transfer_;
    total.reduce = finish_reduce_;
    for (const auto& worker : workers_) {
      total.transfer += worker->transfer;
      total.sort += worker->sort;
      total.reduce += worker->reduce;
    }
    return total;
  }

 private:
  void stage_and_copy(worker_state& worker, std::span<const std::uint32_t> piece) {
    const int slot = worker.next_slot;
    worker.next_slot ^= 1;
    wait_for_staging(worker, slot);
    std::uint32_t* staged = worker.h_staging[slot].data();
    worker.batch_max_code = std::max(worker.batch_max_code, stage(piece, staged));

    const cudaStream_t stream = worker.stream.get();
    CUDA_TRY(cudaEventRecord(worker.copy_start[slot].get(), stream));
    CUDA_TRY(cudaMemcpyAsync(worker.d_codes.data() + worker.batch_fill, staged, piece.size_bytes(),
                             cudaMemcpyHostToDevice, stream));
    CUDA_TRY(cudaEventRecord(worker.copy_done[slot].get(), stream));
    worker.copy_pending[slot] = true;
    worker.flushes_before_copy[slot] = worker.flushes;
    worker.batch_fill += piece.size();
  }

  // Queues sort + reduce_by_key + add-into-totals for the worker's batch; returns without waiting.
  void flush(worker_state& worker) {
    if (worker.batch_fill == 0) return;
    const cudaStream_t stream = worker.stream.get();
    const std::size_t num_rows = worker.batch_fill;
    const std::uint32_t max_code = worker.batch_max_code;

    const std::size_t max_runs = std::min(num_rows, std::size_t{max_code} + 1);
    if (worker.d_run_counts.size() < max_runs) {
      const std::size_t size = std::max(max_runs, std::min(2 * worker.d_run_counts.size(), batch_rows_));
      worker.d_run_counts = device_buffer<std::uint64_t>(size, stream);
    }
    grow_totals(worker, std::size_t{max_code} + 1);

    batch_events events = take_events(worker);
    CUDA_TRY(cudaEventRecord(events.start.get(), stream));
    kernels::detail::cub_exec exec{stream, &worker.scratch};
    kernels::detail::count_codes_into(exec, worker.d_codes.data(), worker.d_alternate.data(), num_rows, max_code,
                                      worker.d_run_counts.data(), worker.d_num_runs.data(),
                                      worker.d_totals.data(),
                                      [&] { CUDA_TRY(cudaEventRecord(events.sorted.get(), stream)); });
    CUDA_TRY(cudaEventRecord(events.reduced.get(), stream));
    worker.batches_in_flight.emplace_back(worker.flushes, std::move(events));

    ++worker.flushes;
    worker.batch_fill = 0;
    worker.batch_max_code = 0;
  }

  // Doubles the worker's batch up to batch_rows_. Stream-ordered: the old buffers are freed once the flush just
  // queued has finished with them.
  void grow_batch(worker_state& worker) const {
    const std::size_t capacity = worker.d_codes.size();
    if (capacity >= batch_rows_) return;
    const std::size_t grown = std::min(2 * capacity, batch_rows_);
    worker.d_codes = device_buffer<std::uint32_t>(grown, worker.stream.get());
    worker.d_alternate = device_buffer<std::uint32_t>(grown, worker.stream.get());
  }

  static batch_events take_events(worker_state& worker) {
    if (worker.spare_events.empty()) return batch_events{};
    batch_events events = std::move(worker.spare_events.back());
    worker.spare_events.pop_back();
    return events;
  }

  int device_;
  std::size_t batch_rows_ = 0;  // the cap on a worker's batch
  std::size_t staging_rows_ = 0;
  std::vector<std::unique_ptr<worker_state>> workers_;
  std::chrono::nanoseconds setup_{0};
  std::chrono::nanoseconds finish_transfer_{0};
  std::chrono::nanoseconds finish_reduce_{0};
};

}  // namespace

gpu_backend_tuning gpu_tuning_from_environment() {
  gpu_backend_tuning tuning;
  const char* value = std::getenv("LABCOUNT_GPU_BATCH_ROWS");
  if (value == nullptr || *value == '\0') return tuning;
  const char* end = value + std::strlen(value);
  std::size_t rows = 0;
  const auto [stop, status] = std::from_chars(value, end, rows);
  if (status != std::errc{} || stop != end || rows == 0)
    throw error(error_kind::usage,
                "LABCOUNT_GPU_BATCH_ROWS=" + std::string(value) + " is not a positive number of rows", "", 0,
                "unset LABCOUNT_GPU_BATCH_ROWS, or set it to a row count such as 1000000");
  tuning.batch_rows = rows;
  return tuning;
}

backend_status probe_gpu_backend(int device) {
  backend_status status;
  status.name = "gpu";
  int driver = 0;
  int runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  status.details.push_back("CUDA driver " + (driver == 0 ? std::string("not installed") : version_string(driver)) +
                           ", CUDA runtime " + version_string(runtime));
  int num_devices = 0;
  if (std::string problem = cuda_problem(num_devices); !problem.empty()) {
    status.reason = std::move(problem);
    return status;
  }

  int previous = 0;
  cudaGetDevice(&previous);
  for (int i = 0; i < num_devices; ++i) status.details.push_back(describe_device(i));
  if (device < 0 || device >= num_devices) {
    status.reason = out_of_range(device, num_devices);
  } else if (std::string problem = device_problem(device); !problem.empty()) {
    status.reason = std::move(problem);
  } else {
    status.usable = true;
    status.reason = status.details[1 + static_cast<std::size_t>(device)];
  }
  cudaSetDevice(previous);
  cudaGetLastError();
  return status;
}

std::unique_ptr<count_backend> make_gpu_backend(const backend_options& options) {
  return make_gpu_backend(options, gpu_tuning_from_environment());
}

std::unique_ptr<count_backend> make_gpu_backend(const backend_options& options, const gpu_backend_tuning& tuning) {
  const auto setup_start = clock_type::now();
  int num_devices = 0;
  std::string problem = cuda_problem(num_devices);
  if (problem.empty() && (options.device < 0 || options.device >= num_devices))
    problem = out_of_range(options.device, num_devices);
  if (problem.empty()) problem = device_problem(options.device);
  if (!problem.empty())
    throw error(error_kind::backend_unavailable, "GPU backend unavailable: " + problem, "", 0, gpu_backend_hint);
  return std::make_unique<gpu_backend>(options, tuning, setup_start);
}

}  // namespace labcount
