// Which backends this build and this machine have, and which one a run uses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"

namespace labcount {

enum class backend_choice { automatic, cpu, gpu };

// Inputs smaller than this run on the CPU under --backend auto: GPU start-up costs more than it saves.
inline constexpr std::uint64_t auto_gpu_min_bytes = std::uint64_t{256} << 20;

std::vector<backend_status> probe_backends(int device);

struct selected_backend {
  std::string name;                                      // "cpu" or "gpu"
  std::string reason;                                    // why this one, for --verbose
  std::function<std::unique_ptr<count_backend>()> make;  // a fresh instance (one per input)
};

// `input_bytes` is the total size of the inputs, 0 when unknown (pipes).
// Throws error(backend_unavailable) when --backend gpu cannot run, saying why.
selected_backend select_backend(backend_choice choice, std::uint64_t input_bytes, const backend_options& options);

}  // namespace labcount
