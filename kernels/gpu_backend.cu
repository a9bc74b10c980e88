// The GPU backend (the picture is in gpu_backend.hpp). Its design (per-worker state, what consume() and
// finish() queue, batch sizing, the value modes, where the host waits and why) is described once, in
// docs/design.md, "The GPU backend"; the comments below say why at each step.
#include "kernels/gpu_backend.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda_resources.cuh"
#include "kernels/gpu_memory.hpp"
#include "kernels/sort_reduce.cuh"
#include "util/errors.hpp"

namespace labcount {
namespace {

using kernels::composite_layout;
using kernels::detail::code_value;
using kernels::detail::cuda_event;
using kernels::detail::cuda_stream;
using kernels::detail::device_buffer;
using kernels::detail::gpu_backend_hint;
using kernels::detail::pinned_buffer;
using kernels::detail::run_count_t;
using kernels::detail::temp_storage;
using clock_type = std::chrono::steady_clock;

// The batch sizes and what the totals and pair sets may take come from one budget (kernels/gpu_memory.hpp);
// these check that its per-row costs are this file's buffers.
static_assert(kernels::count_bytes_per_row == 2 * sizeof(std::uint32_t) + sizeof(std::uint64_t));
static_assert(kernels::value_bytes_per_row == sizeof(std::uint32_t) + sizeof(std::int64_t) +
                                                  2 * sizeof(std::uint64_t) + sizeof(code_value) +
                                                  sizeof(std::uint64_t) + sizeof(std::uint32_t) +
                                                  sizeof(std::int64_t) + sizeof(code_value));
static_assert(kernels::bytes_per_pair == sizeof(code_value) + sizeof(std::uint64_t));
static_assert(kernels::finish_bytes_per_pair >=
              5 * kernels::bytes_per_pair + 2 * (sizeof(std::uint32_t) + sizeof(kernels::detail::stats_part)));
// A worker's first batch; later ones double up to the cap from free memory.
constexpr std::size_t first_batch_rows = std::size_t{1} << 20;
// consume() receives at most pipeline_batch_rows rows at a time from a parse worker: staging buffers of that size
// (two per worker) take every batch in one copy, and a larger one would only pin memory.
constexpr std::size_t max_staging_rows = pipeline_batch_rows;
// Value modes: pair sets are indexed with 32 bits on the device.
constexpr std::size_t max_pairs = std::numeric_limits<run_count_t>::max();

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

// A timing for --timing; a failed query is not worth a run's result: it counts as zero.
std::chrono::nanoseconds elapsed(const cuda_event& start, const cuda_event& stop) {
  float ms = 0;
  if (cudaEventElapsedTime(&ms, start.get(), stop.get()) != cudaSuccess) {
    cudaGetLastError();
    return std::chrono::nanoseconds{0};
  }
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
    case cudaErrorNoDevice: cudaGetLastError(); return "no CUDA-capable GPU found (cudaErrorNoDevice)";
    case cudaErrorInsufficientDriver:
      cudaGetLastError();
      return "the NVIDIA driver supports CUDA " + version_string(driver) + " but this build uses the CUDA " +
             version_string(runtime) + " runtime (cudaErrorInsufficientDriver); update the NVIDIA driver" +
             (runtime / 1000 == 13 ? " to R580 or newer (what CUDA 13 needs)" : "");
    default: return "CUDA cannot start (" + cuda_error_text(status) + ")";
  }
}

std::string out_of_range(int device, int num_devices) {
  return "--device " + std::to_string(device) + " is out of range: this machine has " + std::to_string(num_devices) +
         " GPU(s), numbered 0 to " + std::to_string(num_devices - 1);
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
    if (status != cudaErrorNoKernelImageForDevice)
      return "cannot load the GPU backend's code on " + gpu + " (" + why + ")";
    cudaDeviceProp properties{};
    cudaGetDeviceProperties(&properties, device);
    cudaGetLastError();
    const std::string arch = std::to_string(properties.major) + std::to_string(properties.minor);
    return "this build has no GPU code for " + gpu + " (compute capability " + std::to_string(properties.major) + "." +
           std::to_string(properties.minor) + "; " + why + "); rebuild with -DCMAKE_CUDA_ARCHITECTURES=" + arch;
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

// The most temporary storage a batch of batch_rows needs: the sort over every bit of Key, or the reduction (one
// buffer serves both, one after the other on the worker's stream). Key is the 32-bit code in counts mode and the
// 64-bit composite key in stats and groups (the two-key fallback and the merges grow the buffer when they need
// more). Reserved up front; temp_storage::run grows it when a later, larger batch needs more. These calls only
// compute sizes; nothing runs.
template <typename Key>
std::size_t temp_bytes_for(std::size_t batch_rows) {
  const auto num_items = static_cast<std::uint32_t>(batch_rows);
  std::size_t sort_bytes = 0;
  cub::DoubleBuffer<Key> keys(nullptr, nullptr);
  CUDA_TRY(cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes, keys, num_items, 0, static_cast<int>(8 * sizeof(Key))));
  std::size_t reduce_bytes = 0;
  CUDA_TRY(cub::DeviceReduce::ReduceByKey(nullptr, reduce_bytes, static_cast<const Key*>(nullptr),
                                          static_cast<Key*>(nullptr), thrust::constant_iterator<std::uint64_t>(1),
                                          static_cast<std::uint64_t*>(nullptr), static_cast<run_count_t*>(nullptr),
                                          ::cuda::std::plus<std::uint64_t>{}, num_items));
  return std::max(sort_bytes, reduce_bytes);
}

struct batch_events {
  cuda_event start;
  cuda_event sorted;
  cuda_event reduced;
};

// A pair set on the device: pairs sorted by (code, value), each once, with their rows. Sizes live with the owner.
struct pair_buffers {
  device_buffer<code_value> pairs;
  device_buffer<std::uint64_t> counts;

  std::size_t capacity() const noexcept { return pairs.size(); }
  // Makes room for `needed` pairs; the contents are not kept (only outputs are grown).
  void reserve(std::size_t needed, std::size_t cap, cudaStream_t stream) {
    if (capacity() >= needed) return;
    const std::size_t size = std::max(needed, std::min(2 * capacity(), cap));
    pairs = device_buffer<code_value>(size, stream);
    counts = device_buffer<std::uint64_t>(size, stream);
  }
};

struct worker_state {
  worker_state(std::size_t batch_rows, std::size_t staging_rows, value_mode mode)
      : d_codes(batch_rows, stream.get()), d_num_runs(2, stream.get()) {
    for (auto& buffer : h_staging) buffer = pinned_buffer<std::uint32_t>(staging_rows);
    if (mode == value_mode::counts) {
      d_alternate = device_buffer<std::uint32_t>(batch_rows, stream.get());
      return;
    }
    for (auto& buffer : h_value_staging) buffer = pinned_buffer<std::int64_t>(staging_rows);
    h_num_pairs = pinned_buffer<run_count_t>(2);
    allocate_value_batch(batch_rows);
  }

  // The device side of a value-mode batch of `rows` rows (d_codes apart). Stream-ordered, so the old buffers are
  // freed after the work already queued on them.
  void allocate_value_batch(std::size_t rows) {
    d_values = device_buffer<std::int64_t>(rows, stream.get());
    d_keys = device_buffer<std::uint64_t>(rows, stream.get());
    d_keys_alt = device_buffer<std::uint64_t>(rows, stream.get());
    batch.pairs = device_buffer<code_value>(rows, stream.get());
    batch.counts = device_buffer<std::uint64_t>(rows, stream.get());
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
  // counts: [0] the runs of the last batch. Value modes: [0] the pairs of the last batch, [1] of the last merge.
  device_buffer<run_count_t> d_num_runs;
  temp_storage scratch;
  std::size_t batch_fill = 0;
  std::uint32_t batch_max_code = 0;
  std::uint64_t flushes = 0;

  // Value modes (stats, groups): staged values next to the codes; the batch's values, its composite keys and the
  // sort's second buffer; the batch's distinct pairs; and the worker's running pair set (running_size pairs),
  // with the output of a merge's reduction (spare, which becomes the running set; the merge's own output is
  // allocated for the merge and freed after it).
  std::array<pinned_buffer<std::int64_t>, 2> h_value_staging;
  device_buffer<std::int64_t> d_values;
  device_buffer<std::uint64_t> d_keys;
  device_buffer<std::uint64_t> d_keys_alt;
  pair_buffers batch;
  pair_buffers running;
  pair_buffers spare;
  std::size_t running_size = 0;
  std::size_t charged_pairs = 0;           // what this worker's running set counts for in the budget (>= its size)
  bool merge_pending = false;              // running_size is the count a queued merge will copy to h_num_pairs[1]
  pinned_buffer<run_count_t> h_num_pairs;  // d_num_runs copied back: [0] the last batch's, [1] the last merge's
  std::int64_t batch_min_value = std::numeric_limits<std::int64_t>::max();
  std::int64_t batch_max_value = std::numeric_limits<std::int64_t>::min();

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

// Copies a piece of the caller's values into a staging buffer and widens [min_value, max_value] to cover them.
void stage_values(std::span<const std::int64_t> values, std::int64_t* staged, std::int64_t& min_value,
                  std::int64_t& max_value) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    staged[i] = values[i];
    min_value = std::min(min_value, values[i]);
    max_value = std::max(max_value, values[i]);
  }
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

class gpu_backend final : public count_backend {
 public:
  gpu_backend(const backend_options& options, const gpu_backend_tuning& tuning, clock_type::time_point setup_start)
      : count_backend(options), device_(options.device) {
    CUDA_TRY(cudaSetDevice(device_));
    // Memory freed back to the device's pool stays there for the next batch instead of going back to the driver
    // at every synchronization (the default threshold, 0).
    cudaMemPool_t pool = nullptr;
    CUDA_TRY(cudaDeviceGetDefaultMemPool(&pool, device_));
    std::uint64_t keep_everything = std::numeric_limits<std::uint64_t>::max();
    CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything));
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
    const unsigned num_workers = this->num_workers();
    // One budget for everything the run holds on the device (kernels/gpu_memory.hpp): planned once without
    // CUB's scratch to size the batches, then again with the scratch those batches need.
    const auto temp_bytes_of = [&](std::size_t rows) {
      return mode() == value_mode::counts ? temp_bytes_for<std::uint32_t>(rows) : temp_bytes_for<std::uint64_t>(rows);
    };
    const kernels::gpu_memory_plan rough =
        kernels::plan_gpu_memory(free_bytes, num_workers, mode(), 0, kernels::max_batch_rows, tuning.batch_rows);
    plan_ = kernels::plan_gpu_memory(free_bytes, num_workers, mode(), temp_bytes_of(rough.batch_rows),
                                     kernels::max_batch_rows, tuning.batch_rows);
    if (!plan_.why_not.empty())
      throw error(error_kind::backend_unavailable, "GPU " + std::to_string(device_) + " has too little free memory: " +
                                                       plan_.why_not,
                  "", 0, "use fewer --threads, a smaller LABCOUNT_GPU_BATCH_ROWS, or --backend cpu");
    if (tuning.max_pairs != 0) plan_.max_pairs = std::min(plan_.max_pairs, tuning.max_pairs);
    batch_rows_ = plan_.batch_rows;
    // Several staging pieces per batch even when a test forces tiny batches.
    staging_rows_ = std::clamp<std::size_t>(batch_rows_ / 4, 1, max_staging_rows);
    const std::size_t first_rows = std::min(batch_rows_, first_batch_rows);
    const std::size_t temp_bytes = temp_bytes_of(first_rows);
    workers_.reserve(num_workers);
    for (unsigned i = 0; i < num_workers; ++i) {
      auto worker = std::make_unique<worker_state>(first_rows, staging_rows_, mode());
      worker->scratch.reserve(temp_bytes, worker->stream.get());
      workers_.push_back(std::move(worker));
    }
    // Allocations are stream-ordered: wait once here so a failure surfaces now and the setup time is real.
    for (const auto& worker : workers_) CUDA_TRY(cudaStreamSynchronize(worker->stream.get()));
    setup_ = clock_type::now() - setup_start;
  }

  ~gpu_backend() override {
    // finish() reads every worker's totals on the first worker's stream; if it stopped half way, that work may
    // still be queued while the buffers are freed on their own streams. Drain every stream first. Errors are
    // ignored: a destructor must not throw, and there is nothing left to report them to.
    cudaSetDevice(device_);
    for (const auto& worker : workers_) cudaStreamSynchronize(worker->stream.get());
    cudaGetLastError();
  }

  std::string_view name() const override { return "gpu"; }

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
  // A pair set somewhere on the device: a worker's running set, or the merge of several in finish_*().
  struct pair_run {
    const code_value* pairs = nullptr;
    const std::uint64_t* counts = nullptr;
    std::size_t size = 0;
  };

  void do_consume(unsigned worker_id, row_batch batch) override {
    CUDA_TRY(cudaSetDevice(device_));
    consume_rows(*workers_[worker_id], batch.codes, batch.values);
  }

  // Drains every stream (a failed input may have left work queued), books the batches' times, then forgets
  // the rows: empty batches and pair sets, zeroed totals. Streams, staging and device buffers stay.
  void do_reset() override {
    CUDA_TRY(cudaSetDevice(device_));
    for (const auto& worker : workers_) CUDA_TRY(cudaStreamSynchronize(worker->stream.get()));
    harvest_all();
    for (const auto& worker : workers_) {
      worker_state& w = *worker;
      w.batch_fill = 0;
      w.batch_max_code = 0;
      w.batch_min_value = std::numeric_limits<std::int64_t>::max();
      w.batch_max_value = std::numeric_limits<std::int64_t>::min();
      w.running_size = 0;
      w.charged_pairs = 0;
      w.merge_pending = false;
    }
    pairs_held_ = 0;
    // Every stream is drained: the shared totals are zeroed on the first, and the next batch's stream waits for
    // nothing (the host waits here).
    if (d_totals_.size() > 0) {
      const cudaStream_t stream = workers_.front()->stream.get();
      CUDA_TRY(cudaMemsetAsync(d_totals_.data(), 0, d_totals_.size() * sizeof(std::uint64_t), stream));
      CUDA_TRY(cudaStreamSynchronize(stream));
    }
  }

  std::vector<std::uint64_t> finish_counts(std::size_t num_codes) override {
    CUDA_TRY(cudaSetDevice(device_));
    for (const auto& worker : workers_) flush(*worker);

    // The rest runs on the first worker's stream, after everything queued on the others.
    const cudaStream_t stream = workers_.front()->stream.get();
    for (std::size_t i = 1; i < workers_.size(); ++i) {
      worker_state& worker = *workers_[i];
      CUDA_TRY(cudaEventRecord(worker.done.get(), worker.stream.get()));
      CUDA_TRY(cudaStreamWaitEvent(stream, worker.done.get(), 0));
    }

    // Every worker added its runs into the one shared totals array (atomically): one copy back. Codes at or past
    // num_codes are not reported (as in the CPU backend), and codes no batch reached are 0.
    std::vector<std::uint64_t> counts(num_codes, 0);
    const std::size_t size = std::min(d_totals_.size(), num_codes);
    if (size > 0) {
      cuda_event copy_start;
      cuda_event copied;
      CUDA_TRY(cudaEventRecord(copy_start.get(), stream));
      CUDA_TRY(cudaMemcpyAsync(counts.data(), d_totals_.data(), size * sizeof(std::uint64_t), cudaMemcpyDeviceToHost,
                               stream));
      CUDA_TRY(cudaEventRecord(copied.get(), stream));
      // The host reads counts next.
      CUDA_TRY(cudaStreamSynchronize(stream));
      finish_transfer_ += elapsed(copy_start, copied);
    } else {
      CUDA_TRY(cudaStreamSynchronize(stream));
    }

    harvest_all();
    return counts;
  }

  std::vector<key_stats> finish_stats(std::size_t num_codes) override {
    CUDA_TRY(cudaSetDevice(device_));
    worker_state& first = *workers_.front();
    const cudaStream_t stream = first.stream.get();
    cuda_event start;
    cuda_event reduced;
    cuda_event copied;
    pair_buffers all;  // owns the pairs when they come from several workers
    const pair_run pairs = gather_pairs(all, start);

    std::vector<key_stats> stats(num_codes);
    if (pairs.size > 0 && num_codes > 0) {
      // per-code reduction of the sorted pairs, scattered into zeroed dense stats (all-zero bytes are key_stats{})
      device_buffer<std::uint32_t> d_codes_scratch(pairs.size, stream);
      device_buffer<kernels::detail::stats_part> d_parts_scratch(pairs.size, stream);
      device_buffer<std::uint32_t> d_codes(pairs.size, stream);
      device_buffer<kernels::detail::stats_part> d_parts(pairs.size, stream);
      device_buffer<key_stats> d_stats(num_codes, stream);
      run_count_t* d_num_codes = first.d_num_runs.data();
      kernels::detail::cub_exec exec{stream, &first.scratch};
      kernels::detail::stats_of_pairs(exec, pairs.pairs, pairs.counts, pairs.size, d_codes_scratch.data(),
                                      d_parts_scratch.data(), d_codes.data(), d_parts.data(), d_num_codes);
      CUDA_TRY(cudaMemsetAsync(d_stats.data(), 0, num_codes * sizeof(key_stats), stream));
      kernels::detail::for_each_index(
          exec, pairs.size,
          kernels::detail::scatter_stats{d_codes.data(), d_parts.data(), d_num_codes, num_codes, d_stats.data()});
      CUDA_TRY(cudaEventRecord(reduced.get(), stream));
      CUDA_TRY(
          cudaMemcpyAsync(stats.data(), d_stats.data(), num_codes * sizeof(key_stats), cudaMemcpyDeviceToHost, stream));
    } else {
      CUDA_TRY(cudaEventRecord(reduced.get(), stream));
    }
    CUDA_TRY(cudaEventRecord(copied.get(), stream));
    // The host reads stats next.
    CUDA_TRY(cudaStreamSynchronize(stream));
    finish_reduce_ += elapsed(start, reduced);
    finish_transfer_ += elapsed(reduced, copied);
    harvest_all();
    return stats;
  }

  std::vector<group_count> finish_groups() override {
    CUDA_TRY(cudaSetDevice(device_));
    const cudaStream_t stream = workers_.front()->stream.get();
    cuda_event start;
    cuda_event reduced;
    cuda_event copied;
    pair_buffers all;
    const pair_run pairs = gather_pairs(all, start);

    CUDA_TRY(cudaEventRecord(reduced.get(), stream));
    std::vector<code_value> h_pairs(pairs.size);
    std::vector<std::uint64_t> h_counts(pairs.size);
    if (pairs.size > 0) {
      CUDA_TRY(cudaMemcpyAsync(h_pairs.data(), pairs.pairs, pairs.size * sizeof(code_value), cudaMemcpyDeviceToHost,
                               stream));
      CUDA_TRY(cudaMemcpyAsync(h_counts.data(), pairs.counts, pairs.size * sizeof(std::uint64_t),
                               cudaMemcpyDeviceToHost, stream));
    }
    CUDA_TRY(cudaEventRecord(copied.get(), stream));
    // The host reads the pairs next.
    CUDA_TRY(cudaStreamSynchronize(stream));
    finish_reduce_ += elapsed(start, reduced);
    finish_transfer_ += elapsed(reduced, copied);
    harvest_all();

    std::vector<group_count> groups(pairs.size);
    for (std::size_t i = 0; i < pairs.size; ++i)
      groups[i] = group_count{h_pairs[i].code, h_pairs[i].value, h_counts[i]};
    return groups;
  }

  // values: empty in counts mode, else one per code.
  void consume_rows(worker_state& worker, std::span<const std::uint32_t> codes, std::span<const std::int64_t> values) {
    const bool with_values = mode() != value_mode::counts;
    while (!codes.empty()) {
      const std::size_t capacity = worker.d_codes.size();
      const std::size_t piece = std::min({codes.size(), staging_rows_, capacity - worker.batch_fill});
      stage_and_copy(worker, codes.first(piece), with_values ? values.first(piece) : values);
      codes = codes.subspan(piece);
      if (with_values) values = values.subspan(piece);
      if (worker.batch_fill == capacity) {
        flush(worker);
        grow_batch(worker);
      }
    }
  }

  // values: empty in counts mode, else one per code.
  void stage_and_copy(worker_state& worker, std::span<const std::uint32_t> piece,
                      std::span<const std::int64_t> values) {
    const int slot = worker.next_slot;
    worker.next_slot ^= 1;
    wait_for_staging(worker, slot);
    std::uint32_t* staged = worker.h_staging[slot].data();
    worker.batch_max_code = std::max(worker.batch_max_code, stage(piece, staged));
    if (!values.empty())
      stage_values(values, worker.h_value_staging[slot].data(), worker.batch_min_value, worker.batch_max_value);

    const cudaStream_t stream = worker.stream.get();
    CUDA_TRY(cudaEventRecord(worker.copy_start[slot].get(), stream));
    CUDA_TRY(cudaMemcpyAsync(worker.d_codes.data() + worker.batch_fill, staged, piece.size_bytes(),
                             cudaMemcpyHostToDevice, stream));
    if (!values.empty())
      CUDA_TRY(cudaMemcpyAsync(worker.d_values.data() + worker.batch_fill, worker.h_value_staging[slot].data(),
                               values.size_bytes(), cudaMemcpyHostToDevice, stream));
    CUDA_TRY(cudaEventRecord(worker.copy_done[slot].get(), stream));
    worker.copy_pending[slot] = true;
    worker.flushes_before_copy[slot] = worker.flushes;
    worker.batch_fill += piece.size();
  }

  // Queues sort + reduce_by_key + add-into-totals for the worker's batch; returns without waiting.
  void flush(worker_state& worker) {
    if (mode() != value_mode::counts) return flush_pairs(worker);
    if (worker.batch_fill == 0) return;
    const cudaStream_t stream = worker.stream.get();
    const std::size_t num_rows = worker.batch_fill;
    const std::uint32_t max_code = worker.batch_max_code;

    const std::size_t max_runs = std::min(num_rows, std::size_t{max_code} + 1);
    if (worker.d_run_counts.size() < max_runs) {
      const std::size_t size = std::max(max_runs, std::min(2 * worker.d_run_counts.size(), batch_rows_));
      worker.d_run_counts = device_buffer<std::uint64_t>(size, stream);
    }
    grow_totals(std::size_t{max_code} + 1);

    batch_events events = take_events(worker);
    CUDA_TRY(cudaEventRecord(events.start.get(), stream));
    kernels::detail::cub_exec exec{stream, &worker.scratch};
    {
      // Held while the batch's additions are queued: the totals are not moved under them (grow_totals).
      std::shared_lock totals_in_use(totals_mutex_);
      kernels::detail::count_codes_into(exec, worker.d_codes.data(), worker.d_alternate.data(), num_rows, max_code,
                                        worker.d_run_counts.data(), worker.d_num_runs.data(), d_totals_.data(),
                                        [&] { CUDA_TRY(cudaEventRecord(events.sorted.get(), stream)); });
    }
    CUDA_TRY(cudaEventRecord(events.reduced.get(), stream));
    worker.batches_in_flight.emplace_back(worker.flushes, std::move(events));

    ++worker.flushes;
    worker.batch_fill = 0;
    worker.batch_max_code = 0;
  }

  // Value modes: reduces the worker's batch to its distinct pairs and merges them into the worker's running set.
  // Waits once: the merge needs the batch's number of pairs on the host (see the file comment).
  void flush_pairs(worker_state& worker) {
    if (worker.batch_fill == 0) return;
    const cudaStream_t stream = worker.stream.get();
    const std::size_t num_rows = worker.batch_fill;
    const std::uint32_t max_code = worker.batch_max_code;
    const composite_layout layout =
        kernels::composite_layout_for(max_code, worker.batch_min_value, worker.batch_max_value);
    run_count_t* d_batch_pairs = worker.d_num_runs.data();

    batch_events events = take_events(worker);
    CUDA_TRY(cudaEventRecord(events.start.get(), stream));
    kernels::detail::cub_exec exec{stream, &worker.scratch};
    const auto on_sorted = [&] { CUDA_TRY(cudaEventRecord(events.sorted.get(), stream)); };
    if (layout.fits) {
      kernels::detail::reduce_pairs_composite(exec, worker.d_codes.data(), worker.d_values.data(), worker.d_keys.data(),
                                              worker.d_keys_alt.data(), num_rows, layout, worker.batch_min_value,
                                              worker.batch.pairs.data(), worker.batch.counts.data(), d_batch_pairs,
                                              on_sorted);
    } else {
      // Rare (a time range wider than 64 bits minus the code's): this batch's extra buffers come from the
      // stream-ordered pool and go back to it once the reduction has run.
      device_buffer<std::uint32_t> d_codes_alt(num_rows, stream);
      device_buffer<std::int64_t> d_values_alt(num_rows, stream);
      device_buffer<code_value> d_pairs_scratch(num_rows, stream);
      kernels::detail::reduce_pairs_two_keys(exec, worker.d_codes.data(), d_codes_alt.data(), worker.d_values.data(),
                                             d_values_alt.data(), d_pairs_scratch.data(), num_rows, max_code,
                                             worker.batch.pairs.data(), worker.batch.counts.data(), d_batch_pairs,
                                             on_sorted);
    }
    // DeviceMerge takes host sizes: wait for this batch's number of pairs (and the previous merge's, queued
    // before it). The only wait per batch in value modes.
    CUDA_TRY(
        cudaMemcpyAsync(worker.h_num_pairs.data(), d_batch_pairs, sizeof(run_count_t), cudaMemcpyDeviceToHost, stream));
    CUDA_TRY(cudaStreamSynchronize(stream));
    read_merged_size(worker);
    merge_into_running(worker, worker.h_num_pairs.data()[0]);
    CUDA_TRY(cudaEventRecord(events.reduced.get(), stream));
    worker.batches_in_flight.emplace_back(worker.flushes, std::move(events));

    ++worker.flushes;
    worker.batch_fill = 0;
    worker.batch_max_code = 0;
    worker.batch_min_value = std::numeric_limits<std::int64_t>::max();
    worker.batch_max_value = std::numeric_limits<std::int64_t>::min();
  }

  // After a wait that covers the last merge: its size is in h_num_pairs[1].
  void read_merged_size(worker_state& worker) {
    if (!worker.merge_pending) return;
    worker.running_size = worker.h_num_pairs.data()[1];
    worker.merge_pending = false;
    charge_pairs(worker, worker.running_size);  // the merge's bound becomes its size: pairs seen twice are one
  }

  // Queues running = merge_by_key + reduce_by_key(running, the batch's num_pairs pairs). The new running size is
  // copied to h_num_pairs[1] and read at the next wait (merge_pending).
  void merge_into_running(worker_state& worker, std::size_t num_pairs) {
    if (num_pairs == 0) return;
    const cudaStream_t stream = worker.stream.get();
    if (worker.running_size == 0) {
      // The first pairs: copied, as the batch buffers are refilled by the next batch.
      charge_pairs(worker, num_pairs);
      worker.running.reserve(num_pairs, max_pairs, stream);
      CUDA_TRY(cudaMemcpyAsync(worker.running.pairs.data(), worker.batch.pairs.data(), num_pairs * sizeof(code_value),
                               cudaMemcpyDeviceToDevice, stream));
      CUDA_TRY(cudaMemcpyAsync(worker.running.counts.data(), worker.batch.counts.data(),
                               num_pairs * sizeof(std::uint64_t), cudaMemcpyDeviceToDevice, stream));
      worker.running_size = num_pairs;
      return;
    }
    const std::size_t total = checked_pair_total(worker.running_size, num_pairs);
    charge_pairs(worker, total);
    // The merge's own output lives for the merge: freed (stream-ordered) once the reduction below has read it.
    pair_buffers merged;
    merged.reserve(total, total, stream);
    worker.spare.reserve(total, max_pairs, stream);
    run_count_t* d_merged_pairs = worker.d_num_runs.data() + 1;
    kernels::detail::cub_exec exec{stream, &worker.scratch};
    kernels::detail::merge_pair_sets(exec, worker.running.pairs.data(), worker.running.counts.data(),
                                     worker.running_size, worker.batch.pairs.data(), worker.batch.counts.data(),
                                     num_pairs, merged.pairs.data(), merged.counts.data(), worker.spare.pairs.data(),
                                     worker.spare.counts.data(), d_merged_pairs);
    CUDA_TRY(cudaMemcpyAsync(worker.h_num_pairs.data() + 1, d_merged_pairs, sizeof(run_count_t), cudaMemcpyDeviceToHost,
                             stream));
    std::swap(worker.running, worker.spare);
    worker.merge_pending = true;
  }

  // Pair counts on the device are 32-bit (as CUB's reductions index them); more distinct pairs than that would
  // not fit in a GPU's memory at 72 bytes each anyway.
  static std::size_t checked_pair_total(std::size_t a, std::size_t b) {
    const std::size_t total = a + b;
    if (total > max_pairs)
      throw error(error_kind::device_failure,
                  "GPU backend: more than " + std::to_string(max_pairs) + " distinct (key, value) pairs", "", 0,
                  "choose the CPU with --backend cpu");
    return total;
  }

  // Flushes every worker and brings their running pair sets together on the first worker's stream: merged
  // (merge_by_key, in a tree) and reduced once when there are several. `start` is recorded on that stream once
  // it has waited for the others. `all` owns the result when it is not a worker's own set.
  // Waits: once per worker for its last merge's size, and once more after the final reduction when several
  // workers have pairs.
  pair_run gather_pairs(pair_buffers& all, cuda_event& start) {
    for (const auto& worker : workers_) flush(*worker);
    for (const auto& worker : workers_) {
      if (!worker->merge_pending) continue;
      CUDA_TRY(cudaStreamSynchronize(worker->stream.get()));
      read_merged_size(*worker);
    }

    worker_state& first = *workers_.front();
    const cudaStream_t stream = first.stream.get();
    for (std::size_t i = 1; i < workers_.size(); ++i) {
      worker_state& worker = *workers_[i];
      CUDA_TRY(cudaEventRecord(worker.done.get(), worker.stream.get()));
      CUDA_TRY(cudaStreamWaitEvent(stream, worker.done.get(), 0));
    }
    CUDA_TRY(cudaEventRecord(start.get(), stream));

    // A run and, once it is a merge, the buffers that hold it (a worker's own set stays with the worker).
    struct owned_run {
      pair_run run;
      pair_buffers buffers;
    };
    std::vector<owned_run> runs;
    std::size_t total = 0;
    for (const auto& worker : workers_) {
      if (worker->running_size == 0) continue;
      runs.push_back(
          owned_run{pair_run{worker->running.pairs.data(), worker->running.counts.data(), worker->running_size}, {}});
      total = checked_pair_total(total, worker->running_size);
    }
    if (total > plan_.max_pairs)
      kernels::throw_over_budget(plan_, "the " + std::to_string(total) + " distinct (key, value) pairs at the end",
                                 total * kernels::finish_bytes_per_pair);
    if (runs.size() <= 1) return runs.empty() ? pair_run{} : runs.front().run;

    // Merge pairwise, round by round, without reducing: the sizes add up, so the host knows them all.
    kernels::detail::cub_exec exec{stream, &first.scratch};
    while (runs.size() > 1) {
      std::vector<owned_run> next;
      for (std::size_t i = 0; i + 1 < runs.size(); i += 2) {
        const pair_run& a = runs[i].run;
        const pair_run& b = runs[i + 1].run;
        owned_run out;
        out.buffers.reserve(a.size + b.size, a.size + b.size, stream);
        kernels::detail::merge_pairs(exec, a.pairs, a.counts, a.size, b.pairs, b.counts, b.size,
                                     out.buffers.pairs.data(), out.buffers.counts.data());
        out.run = pair_run{out.buffers.pairs.data(), out.buffers.counts.data(), a.size + b.size};
        next.push_back(std::move(out));
      }
      if (runs.size() % 2 == 1) next.push_back(std::move(runs.back()));
      // The inputs' buffers are freed here, stream-ordered: after the merges just queued have read them.
      runs = std::move(next);
    }
    // one pair seen by several workers sits in neighbouring slots: add them up
    all.reserve(total, total, stream);
    run_count_t* d_num_pairs = first.d_num_runs.data();
    kernels::detail::reduce_pair_runs(exec, runs.front().run.pairs, runs.front().run.counts, total, all.pairs.data(),
                                      all.counts.data(), d_num_pairs);
    CUDA_TRY(
        cudaMemcpyAsync(first.h_num_pairs.data(), d_num_pairs, sizeof(run_count_t), cudaMemcpyDeviceToHost, stream));
    // The next steps need the number of pairs on the host.
    CUDA_TRY(cudaStreamSynchronize(stream));
    return pair_run{all.pairs.data(), all.counts.data(), first.h_num_pairs.data()[0]};
  }

  // After the first worker's stream waited for every other stream and the host waited for it: every event
  // recorded so far is complete; book the times of every batch.
  void harvest_all() {
    for (const auto& worker : workers_) {
      for (int slot = 0; slot < 2; ++slot) wait_for_staging(*worker, slot);
      harvest_batches(*worker, std::numeric_limits<std::uint64_t>::max());
    }
  }

  // Doubles the worker's batch up to batch_rows_. Stream-ordered: the old buffers are freed once the flush just
  // queued has finished with them.
  void grow_batch(worker_state& worker) const {
    const std::size_t capacity = worker.d_codes.size();
    if (capacity >= batch_rows_) return;
    const std::size_t grown = std::min(2 * capacity, batch_rows_);
    worker.d_codes = device_buffer<std::uint32_t>(grown, worker.stream.get());
    if (mode() == value_mode::counts) {
      worker.d_alternate = device_buffer<std::uint32_t>(grown, worker.stream.get());
    } else {
      worker.allocate_value_batch(grown);
    }
  }

  static batch_events take_events(worker_state& worker) {
    if (worker.spare_events.empty()) return batch_events{};
    batch_events events = std::move(worker.spare_events.back());
    worker.spare_events.pop_back();
    return events;
  }

  // The dense totals of every worker (counts mode): totals[code], added to atomically by every worker's batches.
  // Grows under an exclusive lock after every stream has drained; batches queue their additions under a shared one.
  void grow_totals(std::size_t needed) {
    {
      std::shared_lock lock(totals_mutex_);
      if (d_totals_.size() >= needed) return;
    }
    std::unique_lock lock(totals_mutex_);
    const std::size_t old_size = d_totals_.size();
    if (old_size >= needed) return;  // another worker grew it meanwhile
    const std::size_t new_size = std::min(std::max(needed, 2 * old_size), std::max(needed, plan_.max_codes));
    if (new_size > plan_.max_codes)
      kernels::throw_over_budget(plan_, "the totals of " + std::to_string(needed) + " keys",
                                 needed * sizeof(std::uint64_t));
    // Every addition into the old array was queued under the shared lock, before this one was taken: once every
    // stream has drained, nothing reads or writes it.
    for (const auto& worker : workers_) CUDA_TRY(cudaStreamSynchronize(worker->stream.get()));
    const cudaStream_t stream = workers_.front()->stream.get();
    device_buffer<std::uint64_t> grown(new_size, stream);
    if (old_size > 0)
      CUDA_TRY(cudaMemcpyAsync(grown.data(), d_totals_.data(), old_size * sizeof(std::uint64_t),
                               cudaMemcpyDeviceToDevice, stream));
    CUDA_TRY(cudaMemsetAsync(grown.data() + old_size, 0, (new_size - old_size) * sizeof(std::uint64_t), stream));
    // Other streams use it next: the host waits for the copy and the zeroing here.
    CUDA_TRY(cudaStreamSynchronize(stream));
    d_totals_ = std::move(grown);
  }

  // A worker's running pair set will hold at most `pairs` pairs: every worker's sets together must stay within
  // what finish() can hold (the plan's max_pairs). Called from the worker's own thread.
  void charge_pairs(worker_state& worker, std::size_t pairs) {
    const std::size_t held = pairs_held_.fetch_add(pairs - worker.charged_pairs) + (pairs - worker.charged_pairs);
    worker.charged_pairs = pairs;
    if (held > plan_.max_pairs)
      kernels::throw_over_budget(plan_, "about " + std::to_string(held) + " distinct (key, value) pairs",
                                 held * kernels::finish_bytes_per_pair);
  }

  int device_;
  kernels::gpu_memory_plan plan_;
  device_buffer<std::uint64_t> d_totals_;  // counts: shared by every worker
  std::shared_mutex totals_mutex_;
  std::atomic<std::size_t> pairs_held_{0};  // value modes: every worker's running set (an upper bound)
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

// --device, or for an MPI rank without it, the GPU of its place on the node (mpirun -np 4 on 4 GPUs: one each).
int chosen_device(const backend_options& options, int num_devices) {
  return options.node_rank >= 0 && num_devices > 0 ? options.node_rank % num_devices : options.device;
}

backend_status probe_gpu_backend(const backend_options& options, probe_detail detail) {
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
    status.why_not = std::move(problem);
    return status;
  }
  const int device = chosen_device(options, num_devices);

  int previous = 0;
  cudaGetDevice(&previous);
  const bool in_range = device >= 0 && device < num_devices;
  // Describing a device opens a context on it: a run looks at its own device only.
  for (int i = 0; i < num_devices; ++i)
    if (detail == probe_detail::every_device || i == device) status.details.push_back(describe_device(i));
  if (!in_range) {
    status.why_not = out_of_range(device, num_devices);
  } else if (std::string problem = device_problem(device); !problem.empty()) {
    status.why_not = std::move(problem);
  } else {
    status.usable = true;
    status.summary = describe_device(device);
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
  backend_options chosen = options;
  chosen.device = chosen_device(options, num_devices);
  if (problem.empty() && (chosen.device < 0 || chosen.device >= num_devices))
    problem = out_of_range(chosen.device, num_devices);
  if (problem.empty()) problem = device_problem(chosen.device);
  if (!problem.empty())
    throw error(error_kind::backend_unavailable, "GPU backend unavailable: " + problem, "", 0, gpu_backend_hint);
  return std::make_unique<gpu_backend>(chosen, tuning, setup_start);
}

}  // namespace labcount
