#include "backend_registry.hpp"

#include "util/errors.hpp"
#ifdef LABCOUNT_HAS_CUDA
#include "kernels/gpu_backend.hpp"
#endif

namespace labcount {
namespace {

#ifndef LABCOUNT_HAS_CUDA
constexpr const char* no_cuda =
    "this labcount was built without CUDA (rebuild with nvcc installed, or -DLABCOUNT_ENABLE_CUDA=ON)";

backend_status probe_gpu_backend(const backend_options&) {
  backend_status status;
  status.name = "gpu";
  status.why_not = no_cuda;
  return status;
}

std::unique_ptr<count_backend> make_gpu_backend(const backend_options&) {
  throw error(error_kind::backend_unavailable, std::string("GPU backend unavailable: ") + no_cuda, "", 0,
              "use --backend cpu (or auto)");
}
#endif

// The GPU's factory as a plain function pointer (make_gpu_backend is overloaded).
std::unique_ptr<count_backend> make_gpu(const backend_options& options) { return make_gpu_backend(options); }

constexpr backend_entry backends[] = {
    {"cpu", probe_cpu_backend, make_cpu_backend},
    {"gpu", probe_gpu_backend, make_gpu},
};

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

std::span<const backend_entry> registered_backends() { return backends; }

const backend_entry* find_backend(std::string_view name) {
  for (const auto& entry : backends)
    if (entry.name == name) return &entry;
  return nullptr;
}

std::vector<backend_status> probe_backends(const backend_options& options) {
  std::vector<backend_status> statuses;
  for (const auto& entry : backends) statuses.push_back(entry.probe(options));
  return statuses;
}

selected_backend select_backend(backend_choice choice, std::uint64_t input_bytes, const backend_options& options) {
  const backend_entry* cpu = find_backend("cpu");
  const backend_entry* gpu = find_backend("gpu");
  if (choice == backend_choice::cpu) return {cpu, "--backend cpu"};
  const backend_status status = gpu->probe(options);
  if (choice == backend_choice::gpu) {
    if (!status.usable)
      throw error(error_kind::backend_unavailable, "--backend gpu: no usable GPU: " + status.why_not, "", 0,
                  "run `labcount info` for details, or use --backend cpu (or auto)");
    return {gpu, "--backend gpu"};
  }
  if (!status.usable) return {cpu, "auto: no usable GPU (" + status.why_not + ")"};
  if (input_bytes < auto_gpu_min_bytes)
    return {cpu, "auto: input " + (input_bytes == 0 ? std::string("size unknown") : mib(input_bytes)) + " is below " +
                     mib(auto_gpu_min_bytes) + ", where GPU start-up costs more than it saves"};
  return {gpu, "auto: GPU usable and input is " + mib(input_bytes)};
}

}  // namespace labcount
