#include "util/thread_pool.hpp"

#include "util/errors.hpp"

namespace labcount {

thread_pool::thread_pool(unsigned num_threads) {
  LABCOUNT_EXPECTS(num_threads >= 1, "a thread pool needs at least one thread");
  threads_.reserve(num_threads);
  try {
    for (unsigned i = 0; i < num_threads; ++i) threads_.emplace_back([this] { loop(); });
  } catch (...) {  // a thread that cannot start (a limit on threads): no thread left running, then the error
    stop();
    throw;
  }
}

thread_pool::~thread_pool() { stop(); }

void thread_pool::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

std::future<void> thread_pool::submit(std::function<void()> task) {
  std::packaged_task<void()> packaged(std::move(task));
  auto future = packaged.get_future();
  {
    std::lock_guard lock(mutex_);
    tasks_.push(std::move(packaged));
  }
  ready_.notify_one();
  return future;
}

void thread_pool::run_workers(const std::function<void(unsigned)>& fn) {
  std::vector<std::future<void>> done;
  done.reserve(size());
  for (unsigned worker = 0; worker < size(); ++worker) done.push_back(submit([&fn, worker] { fn(worker); }));
  std::exception_ptr first;
  for (auto& f : done) {
    try {
      f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

unsigned thread_pool::default_threads() noexcept {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void thread_pool::loop() {
  for (;;) {
    std::packaged_task<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop();
    }
    task();
  }
}

}  // namespace labcount
