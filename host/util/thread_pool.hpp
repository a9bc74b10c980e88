// A fixed-size pool of worker threads. labcount's parallel work is "N workers pull chunks until the input
// is exhausted", so the pool's main entry point is run_workers(): call fn(worker_id) once on each of the
// pool's threads and wait for all of them, re-throwing the first exception.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace labcount {

class thread_pool {
 public:
  explicit thread_pool(unsigned num_threads);  // num_threads >= 1
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  unsigned size() const noexcept { return static_cast<unsigned>(threads_.size()); }

  // Queues a task; the future carries its exception, if any.
  std::future<void> submit(std::function<void()> task);

  // Runs fn(0) .. fn(size()-1), one per thread, and waits for all. If any throw, the exception of the
  // lowest worker id is re-thrown after all have finished.
  void run_workers(const std::function<void(unsigned worker)>& fn);

  static unsigned default_threads() noexcept;  // the number of hardware threads, at least 1

 private:
  void loop();
  void stop() noexcept;  // wakes and joins the threads started

  std::vector<std::thread> threads_;
  std::queue<std::packaged_task<void()>> tasks_;
  std::mutex mutex_;
  std::condition_variable ready_;
  bool stopping_ = false;
};

}  // namespace labcount
