#include "util/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "util/errors.hpp"

namespace labcount {
namespace {

using namespace std::chrono_literals;

// Passes only once `expected` threads are inside at the same time; gives up after `timeout` so a pool
// that runs workers one after another fails the test instead of hanging it.
class timed_barrier {
 public:
  explicit timed_barrier(unsigned expected) : expected_(expected) {}

  bool arrive_and_wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (++arrived_ == expected_) all_in_.notify_all();
    return all_in_.wait_for(lock, timeout, [this] { return arrived_ >= expected_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_in_;
  unsigned arrived_ = 0;
  unsigned expected_;
};

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(thread_pool(0), error); }

TEST(ThreadPool, DefaultThreadsIsAtLeastOne) { EXPECT_GE(thread_pool::default_threads(), 1u); }

TEST(ThreadPool, SizeIsTheThreadCount) {
  for (unsigned n : {1u, 2u, 7u}) {
    thread_pool pool(n);
    EXPECT_EQ(pool.size(), n);
  }
}

TEST(ThreadPool, RunWorkersCallsEachWorkerIdExactlyOnce) {
  for (unsigned n : {1u, 2u, 3u, 8u, 33u}) {
    thread_pool pool(n);
    std::vector<std::atomic<int>> calls(n);
    for (int round = 0; round < 3; ++round) {
      pool.run_workers([&](unsigned worker) {
        ASSERT_LT(worker, n);
        calls[worker].fetch_add(1);
      });
    }
    for (unsigned w = 0; w < n; ++w) EXPECT_EQ(calls[w].load(), 3) << "pool of " << n << ", worker " << w;
  }
}

TEST(ThreadPool, RunWorkersRunsAllWorkersAtOnceOnDistinctThreads) {
  constexpr unsigned n = 6;  // more than this machine's cores: the workers must still all be in at once
  thread_pool pool(n);
  timed_barrier barrier(n);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::atomic<unsigned> passed{0};
  pool.run_workers([&](unsigned) {
    {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
    }
    if (barrier.arrive_and_wait(10s)) ++passed;
  });
  EXPECT_EQ(passed.load(), n) << "the workers did not all run at the same time";
  EXPECT_EQ(threads.size(), n);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u) << "workers run on the pool's threads";
}

TEST(ThreadPool, RunWorkersWaitsForAllWorkers) {
  thread_pool pool(4);
  std::atomic<int> finished{0};
  pool.run_workers([&](unsigned worker) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * worker));
    ++finished;
  });
  EXPECT_EQ(finished.load(), 4);
}

TEST(ThreadPool, RunWorkersRethrowsTheLowestWorkersExceptionAfterAllFinish) {
  thread_pool pool(4);
  std::atomic<int> finished{0};
  try {
    pool.run_workers([&](unsigned worker) {
      // Worker 3 throws first, worker 1 last: the one re-thrown is still worker 1's.
      std::this_thread::sleep_for(std::chrono::milliseconds(worker == 1 ? 50 : 0));
      ++finished;
      if (worker == 1 || worker == 3) throw std::runtime_error("worker " + std::to_string(worker));
    });
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "worker 1");
  }
  EXPECT_EQ(finished.load(), 4) << "all workers finish before the exception is re-thrown";
}

TEST(ThreadPool, RunWorkersKeepsTheExceptionType) {
  thread_pool pool(2);
  try {
    pool.run_workers([](unsigned worker) {
      if (worker == 0) throw error(error_kind::too_few_fields, "bad row", "f.csv", 4, "fix it");
    });
    FAIL() << "expected an exception";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::too_few_fields);
    EXPECT_EQ(e.line(), 4u);
  }
}

TEST(ThreadPool, UsableAfterAnException) {
  thread_pool pool(3);
  EXPECT_THROW(pool.run_workers([](unsigned) { throw std::logic_error("x"); }), std::logic_error);
  std::atomic<int> calls{0};
  pool.run_workers([&](unsigned) { ++calls; });
  EXPECT_EQ(calls.load(), 3);
}

TEST(ThreadPool, SubmitFutureCarriesCompletionAndException) {
  thread_pool pool(2);
  std::atomic<bool> ran{false};
  auto ok = pool.submit([&] { ran = true; });
  auto failed = pool.submit([] { throw std::invalid_argument("nope"); });
  ok.get();
  EXPECT_TRUE(ran.load());
  EXPECT_THROW(failed.get(), std::invalid_argument);
}

TEST(ThreadPool, PoolOfOneRunsTasksInOrder) {
  thread_pool pool(1);
  std::vector<int> order;  // one thread: no lock needed, and FIFO order
  std::vector<std::future<void>> done;
  for (int i = 0; i < 100; ++i) done.push_back(pool.submit([&order, i] { order.push_back(i); }));
  for (auto& f : done) f.get();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  std::atomic<int> calls{0};
  pool.run_workers([&](unsigned worker) {
    EXPECT_EQ(worker, 0u);
    ++calls;
  });
  EXPECT_EQ(calls.load(), 1);
}

TEST(ThreadPool, ManyTasks) {
  thread_pool pool(4);
  constexpr int num_tasks = 20'000;
  std::atomic<long long> sum{0};
  std::vector<std::future<void>> done;
  done.reserve(num_tasks);
  for (int i = 0; i < num_tasks; ++i) done.push_back(pool.submit([&sum, i] { sum += i; }));
  for (auto& f : done) f.get();
  EXPECT_EQ(sum.load(), static_cast<long long>(num_tasks) * (num_tasks - 1) / 2);
}

TEST(ThreadPool, DestructorRunsQueuedTasks) {
  std::atomic<int> calls{0};
  {
    thread_pool pool(2);
    for (int i = 0; i < 1000; ++i) pool.submit([&] { ++calls; });
  }
  EXPECT_EQ(calls.load(), 1000);
}

}  // namespace
}  // namespace labcount
