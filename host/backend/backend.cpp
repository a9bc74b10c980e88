#include "backend/backend.hpp"

#include <algorithm>

#include "util/errors.hpp"

namespace labcount {

count_backend::count_backend(const backend_options& options) noexcept
    : mode_(options.mode), num_workers_(std::max(1u, options.num_workers)) {}

void count_backend::consume(unsigned worker, row_batch batch) {
  LABCOUNT_EXPECTS(worker < num_workers_, "worker id below backend_options::num_workers");
  LABCOUNT_EXPECTS(batch.values.size() == (mode_ == value_mode::counts ? 0 : batch.codes.size()),
                   "counts take codes alone; stats and groups one value per code");
  LABCOUNT_EXPECTS(!finished_, "consume() after finish() needs reset() first");
  if (!batch.codes.empty()) do_consume(worker, batch);
}

reduction count_backend::finish(std::size_t num_codes) {
  LABCOUNT_EXPECTS(!finished_, "finish() once per reset()");
  finished_ = true;
  reduction out;
  switch (mode_) {
    case value_mode::counts: out.counts = finish_counts(num_codes); break;
    case value_mode::stats: out.stats = finish_stats(num_codes); break;
    case value_mode::groups: out.groups = finish_groups(); break;
  }
  return out;
}

void count_backend::reset() {
  do_reset();
  finished_ = false;
}

}  // namespace labcount
