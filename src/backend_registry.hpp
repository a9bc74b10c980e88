// Which backends this build and this machine have, and which one a run uses. The registry is one table:
// each backend has a name, a probe (can it run here, and why not) and a factory. `labcount info` lists
// the table; --backend NAME looks a name up; --backend auto picks among them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"

namespace labcount {

struct backend_entry {
  std::string_view name;                                           // "cpu", "gpu": the --backend word
  backend_status (*probe)(const backend_options&);                 // cheap enough for `labcount info`
  std::unique_ptr<count_backend> (*make)(const backend_options&);  // throws error(backend_unavailable)
};

// Every backend, the CPU first. A build without CUDA still lists the GPU (its probe says why it cannot run).
std::span<const backend_entry> registered_backends();
// The entry named `name`, or null.
const backend_entry* find_backend(std::string_view name);

// --backend: auto or one of the names.
enum class backend_choice { automatic, cpu, gpu };

// Inputs smaller than this run on the CPU under --backend auto: GPU start-up costs more than it saves.
inline constexpr std::uint64_t auto_gpu_min_bytes = std::uint64_t{256} << 20;

std::vector<backend_status> probe_backends(const backend_options& options);

struct selected_backend {
  const backend_entry* entry = nullptr;
  std::string reason;  // why this one, for --verbose
  std::string_view name() const { return entry->name; }
  std::unique_ptr<count_backend> make(const backend_options& options) const { return entry->make(options); }
};

// `input_bytes` is the total size of the inputs, 0 when unknown (pipes).
// Throws error(backend_unavailable) when --backend gpu cannot run, saying why.
selected_backend select_backend(backend_choice choice, std::uint64_t input_bytes, const backend_options& options);

}  // namespace labcount
