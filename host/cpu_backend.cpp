// The CPU backend: one private histogram per worker (no sharing, no atomics), summed in finish().
// Codes are dense, so a histogram is the direct form of sort_by_key + reduce_by_key on the CPU.
#include <algorithm>
#include <thread>

#include "backend.hpp"

namespace labcount {
namespace {

class cpu_backend final : public count_backend {
 public:
  explicit cpu_backend(const backend_options& options) : per_worker_(std::max(1u, options.num_workers)) {}

  std::string_view name() const override { return "cpu"; }

  void consume(unsigned worker, std::span<const std::uint32_t> codes) override {
    auto& counts = per_worker_.at(worker);
    for (std::uint32_t code : codes) {
      if (code >= counts.size()) counts.resize(std::max<std::size_t>(code + 1, counts.size() * 2), 0);
      ++counts[code];
    }
  }

  std::vector<std::uint64_t> finish(std::size_t num_codes) override {
    std::vector<std::uint64_t> total(num_codes, 0);
    for (const auto& counts : per_worker_) {
      const std::size_t n = std::min(counts.size(), num_codes);
      for (std::size_t code = 0; code < n; ++code) total[code] += counts[code];
    }
    return total;
  }

 private:
  std::vector<std::vector<std::uint64_t>> per_worker_;
};

}  // namespace

std::unique_ptr<count_backend> make_cpu_backend(const backend_options& options) {
  return std::make_unique<cpu_backend>(options);
}

backend_status probe_cpu_backend() {
  backend_status status;
  status.name = "cpu";
  status.usable = true;
  status.reason = "thread pool, " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
                  " hardware threads";
  return status;
}

}  // namespace labcount
