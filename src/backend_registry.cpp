#include "backend_registry.hpp"

#include <algorithm>

#include "util/errors.hpp"
#ifdef LABCOUNT_HAS_CUDA
#include "kernels/gpu_backend.hpp"
#endif

namespace labcount {
namespace {

#ifndef LABCOUNT_HAS_CUDA
constexpr const char* no_cuda =
    "this labcount was built without CUDA (rebuild with nvcc installed, or -DLABCOUNT_ENABLE_CUDA=ON)";

backend_status probe_gpu_backend(const backend_options&, probe_detail) {
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

// "gpu" -> "GPU", for messages.
std::string shown(std::string_view name) {
  std::string out(name);
  for (auto& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

const backend_entry& required(std::string_view name, std::span<const backend_entry> entries) {
  const backend_entry* entry = find_backend(name, entries);
  LABCOUNT_EXPECTS(entry != nullptr, "every registry has a cpu and a gpu entry");
  return *entry;
}

}  // namespace

std::span<const backend_entry> registered_backends() { return backends; }

const backend_entry* find_backend(std::string_view name, std::span<const backend_entry> entries) {
  for (const auto& entry : entries)
    if (entry.name == name) return &entry;
  return nullptr;
}

std::vector<backend_status> probe_backends(const backend_options& options, probe_detail detail) {
  std::vector<backend_status> statuses;
  for (const auto& entry : backends) statuses.push_back(entry.probe(options, detail));
  return statuses;
}

const auto_rule& auto_rule_for(value_mode mode) {
  const auto* rule =
      std::find_if(std::begin(auto_rules), std::end(auto_rules), [&](const auto_rule& r) { return r.mode == mode; });
  LABCOUNT_EXPECTS(rule != std::end(auto_rules), "an auto rule for every mode");
  return *rule;
}

selected_backend select_backend(backend_choice choice, std::uint64_t input_bytes, const backend_options& options,
                                std::span<const backend_entry> entries) {
  const backend_entry& cpu = required("cpu", entries);
  const backend_entry& gpu = required("gpu", entries);
  if (choice == backend_choice::cpu) return {&cpu, "--backend cpu"};
  if (choice == backend_choice::gpu) {
    const backend_status status = gpu.probe(options, probe_detail::chosen_device);
    if (!status.usable)
      throw error(error_kind::backend_unavailable, "--backend gpu: no usable GPU: " + status.why_not, "", 0,
                  "run `labcount info` for details, or use --backend cpu (or auto)");
    return {&gpu, "--backend gpu"};
  }
  // auto: the mode and size first; CUDA only when the GPU could be chosen.
  const auto_rule& rule = auto_rule_for(options.mode);
  if (rule.gpu_min_bytes == never_gpu) return {&cpu, std::string("auto: ") + rule.basis};
  if (input_bytes < rule.gpu_min_bytes)
    return {&cpu, "auto: input " + (input_bytes == 0 ? std::string("size unknown") : mib(input_bytes)) + " is below " +
                      mib(rule.gpu_min_bytes) + "; " + rule.basis};
  const backend_status status = gpu.probe(options, probe_detail::chosen_device);
  if (!status.usable) return {&cpu, "auto: no usable GPU (" + status.why_not + ")"};
  return {&gpu, "auto: GPU usable and input is " + mib(input_bytes) + "; " + rule.basis, &cpu};
}

count_result run_selected(const selected_backend& selected, const count_request& request,
                          const backend_options& options, thread_pool& pool,
                          const std::function<void(const std::string&)>& warn,
                          const std::function<void()>& on_restart) {
  bool started = false;  // inputs have been read: standard input cannot be counted again
  try {
    const std::unique_ptr<count_backend> backend = selected.make(options);
    started = true;
    return run_count(request, *backend, pool);
  } catch (const error& e) {
    if (selected.fallback == nullptr ||
        (e.kind() != error_kind::backend_unavailable && e.kind() != error_kind::device_failure))
      throw;
    const std::string why = printable(e.what());
    if (started && std::find(request.inputs.begin(), request.inputs.end(), "-") != request.inputs.end())
      throw error(
          e.kind(),
          shown(selected.name()) + " failed while counting standard input, which cannot be read again (" + why + ")",
          "", 0, "run again with --backend " + std::string(selected.fallback->name));
    warn(shown(selected.name()) + " failed (" + why + "); counting on the " + shown(selected.fallback->name) +
         " instead");
  }
  if (on_restart) on_restart();
  const std::unique_ptr<count_backend> backend = selected.fallback->make(options);
  return run_count(request, *backend, pool);
}

}  // namespace labcount
