#include "backend_registry.hpp"

#include "util/errors.hpp"
#ifdef LABCOUNT_HAS_CUDA
#include "kernels/gpu_backend.hpp"
#endif

namespace labcount {
namespace {

backend_status probe_gpu(int device) {
#ifdef LABCOUNT_HAS_CUDA
  return probe_gpu_backend(device);
#else
  (void)device;
  backend_status status;
  status.name = "gpu";
  status.usable = false;
  status.reason = "this labcount was built without CUDA (rebuild with nvcc installed, or -DLABCOUNT_ENABLE_CUDA=ON)";
  return status;
#endif
}

std::unique_ptr<count_backend> make_gpu(const backend_options& options) {
#ifdef LABCOUNT_HAS_CUDA
  return make_gpu_backend(options);
#else
  (void)options;
  return nullptr;
#endif
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

std::vector<backend_status> probe_backends(int device) { return {probe_cpu_backend(), probe_gpu(device)}; }

selected_backend select_backend(backend_choice choice, std::uint64_t input_bytes, const backend_options& options) {
  selected_backend selected;
  auto use_cpu = [&](std::string reason) {
    selected.name = "cpu";
    selected.reason = std::move(reason);
    selected.make = [options] { return make_cpu_backend(options); };
  };
  auto use_gpu = [&](std::string reason) {
    selected.name = "gpu";
    selected.reason = std::move(reason);
    selected.make = [options] { return make_gpu(options); };
  };
  if (choice == backend_choice::cpu) {
    use_cpu("--backend cpu");
    return selected;
  }
  const backend_status gpu = probe_gpu(options.device);
  if (choice == backend_choice::gpu) {
    if (!gpu.usable)
      throw error(error_kind::backend_unavailable, "--backend gpu: no usable GPU: " + gpu.reason, "", 0,
                  "run `labcount info` for details, or use --backend cpu (or auto)");
    use_gpu("--backend gpu");
  } else if (!gpu.usable) {
    use_cpu("auto: no usable GPU (" + gpu.reason + ")");
  } else if (input_bytes < auto_gpu_min_bytes) {
    use_cpu("auto: input " + (input_bytes == 0 ? std::string("size unknown") : mib(input_bytes)) + " is below " +
            mib(auto_gpu_min_bytes) + ", where GPU start-up costs more than it saves");
  } else {
    use_gpu("auto: GPU usable and input is " + mib(input_bytes));
  }
  return selected;
}

}  // namespace labcount
