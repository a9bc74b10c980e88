// Which backends this build and this machine have, and which one a run uses. The registry is one table:
// each backend has a name, a probe (can it run here, and why not) and a factory. `labcount info` lists
// the table; --backend NAME looks a name up; --backend auto decides by mode and input size from the
// auto_rules table, and falls back to the CPU when the GPU fails.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"
#include "pipeline/count_pipeline.hpp"
#include "util/thread_pool.hpp"

namespace labcount {

struct backend_entry {
  std::string_view name;                                           // "cpu", "gpu": the --backend word
  backend_status (*probe)(const backend_options&, probe_detail);   // cheap enough for `labcount info`
  std::unique_ptr<count_backend> (*make)(const backend_options&);  // throws error(backend_unavailable)
};

// Every backend, the CPU first. A build without CUDA still lists the GPU (its probe says why it cannot run).
std::span<const backend_entry> registered_backends();
// The entry named `name` in `entries`, or null.
const backend_entry* find_backend(std::string_view name,
                                  std::span<const backend_entry> entries = registered_backends());

std::vector<backend_status> probe_backends(const backend_options& options, probe_detail detail);

// --backend: auto or one of the names.
enum class backend_choice { automatic, cpu, gpu };

// When --backend auto takes the GPU: per mode, the smallest input (in bytes) worth it, and why. The only place
// these thresholds live. They are estimates until measured on a GPU machine (bench/RESULTS.md, section 6).
struct auto_rule {
  value_mode mode;
  std::uint64_t gpu_min_bytes;  // never_gpu: the CPU always
  const char* basis;
};
inline constexpr std::uint64_t never_gpu = std::numeric_limits<std::uint64_t>::max();
inline constexpr auto_rule auto_rules[] = {
    {value_mode::counts, never_gpu,
     "a plain count is bound by host parsing; the GPU adds staging copies and start-up and cannot beat the CPU "
     "histogram (an estimate, not yet measured on a GPU)"},
    {value_mode::stats, std::uint64_t{256} << 20,
     "--stats: the CPU's distinct-pair set is cache-miss bound, a device radix sort is not; from 256 MiB the sort "
     "should pay for GPU start-up (an estimate, not yet measured on a GPU)"},
    {value_mode::groups, std::uint64_t{256} << 20,
     "--per: as --stats, distinct (key, bucket) pairs; from 256 MiB (an estimate, not yet measured on a GPU)"},
};
const auto_rule& auto_rule_for(value_mode mode);

struct selected_backend {
  const backend_entry* entry = nullptr;
  std::string reason;                       // why this one, for --verbose
  const backend_entry* fallback = nullptr;  // --backend auto on the GPU: the CPU, when the GPU fails
  std::string_view name() const { return entry->name; }
  std::unique_ptr<count_backend> make(const backend_options& options) const { return entry->make(options); }
};

// `input_bytes` is the total size of the inputs, 0 when unknown (pipes). Nothing touches CUDA unless the
// choice can be the GPU (--backend gpu, or auto with a mode and size for which auto_rules says GPU); then
// only options.device is probed. Throws error(backend_unavailable) when --backend gpu cannot run, saying why.
selected_backend select_backend(backend_choice choice, std::uint64_t input_bytes, const backend_options& options,
                                std::span<const backend_entry> entries = registered_backends());

// Makes the selected backend and runs the count. With a fallback (--backend auto on the GPU), a GPU failure
// at setup or while counting (error kinds backend_unavailable, device_failure) is reported through `warn`
// ("GPU failed (...); counting on the CPU instead") and the run starts again on the fallback, reading the
// inputs again; standard input cannot be read twice, so a failure after the count began stops the run with
// a hint (a failure at setup falls back: nothing was read yet).
// `on_restart` runs before the second attempt (e.g. to reset a progress display).
count_result run_selected(const selected_backend& selected, const count_request& request,
                          const backend_options& options, thread_pool& pool,
                          const std::function<void(const std::string&)>& warn,
                          const std::function<void()>& on_restart = {});

}  // namespace labcount
