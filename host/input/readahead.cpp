#include "input/readahead.hpp"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

// (The thread checks for the reader's end between reads of the inner stream: a read in progress is finished.)

namespace labcount {
namespace {

class readahead_reader final : public byte_reader {
 public:
  readahead_reader(std::unique_ptr<byte_reader> inner, std::size_t buffer_bytes, std::size_t buffers)
      : inner_(std::move(inner)), buffer_bytes_(buffer_bytes) {
    for (std::size_t i = 0; i < buffers; ++i) free_.emplace_back();
    thread_ = std::thread([this] { fill(); });
  }

  ~readahead_reader() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  std::size_t read(char* out, std::size_t n) override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !ready_.empty() || done_; });
    if (ready_.empty()) {  // every byte before the end (or the error) was handed out
      if (error_) std::rethrow_exception(error_);
      return 0;
    }
    std::vector<char>& front = ready_.front();
    const std::size_t take = std::min(n, front.size() - taken_);
    std::memcpy(out, front.data() + taken_, take);
    taken_ += take;
    if (taken_ == front.size()) {
      free_.push_back(std::move(front));
      ready_.pop_front();
      taken_ = 0;
      changed_.notify_all();
    }
    return take;
  }

 private:
  // The thread: fills free buffers from the inner stream until it ends, fails or the reader goes.
  void fill() {
    for (;;) {
      std::vector<char> buffer;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return !free_.empty() || stopping_; });
        if (stopping_) return;
        buffer = std::move(free_.front());
        free_.pop_front();
      }
      std::size_t have = 0;
      bool ended = false;
      std::exception_ptr failed;
      try {
        buffer.resize(buffer_bytes_);
        while (have < buffer.size()) {
          const std::size_t got = inner_->read(buffer.data() + have, buffer.size() - have);
          if (got == 0) {
            ended = true;
            break;
          }
          have += got;
          // A slow stream (a pipe) fills a buffer in many reads: the reader may be gone meanwhile.
          std::lock_guard lock(mutex_);
          if (stopping_) return;
        }
        buffer.resize(have);
      } catch (...) {
        failed = std::current_exception();
        ended = true;
        if (buffer.size() > have) buffer.resize(have);  // shrinking: no allocation
      }
      std::lock_guard lock(mutex_);
      try {
        if (have != 0) ready_.push_back(std::move(buffer));
      } catch (...) {
        failed = std::current_exception();
        ended = true;
      }
      if (ended) {
        error_ = failed;
        done_ = true;
      }
      changed_.notify_all();
      if (ended) return;
    }
  }

  std::unique_ptr<byte_reader> inner_;
  std::size_t buffer_bytes_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<char>> free_;
  std::deque<std::vector<char>> ready_;
  std::size_t taken_ = 0;  // bytes of ready_.front() handed out
  bool done_ = false;      // the inner stream ended or failed: nothing more comes into ready_
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: started once everything above is in place
};

}  // namespace

std::unique_ptr<byte_reader> make_readahead(std::unique_ptr<byte_reader> inner, std::size_t buffer_bytes,
                                            std::size_t buffers) {
  return std::make_unique<readahead_reader>(std::move(inner), buffer_bytes, buffers);
}

}  // namespace labcount
