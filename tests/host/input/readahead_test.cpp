// The read-ahead stream (input/readahead.hpp): the same bytes in the same order at any read size, an inner
// error only after the bytes before it, and no hang when it is dropped half way.
#include "input/readahead.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace labcount {
namespace {

// `text`, `step` bytes at most per read, then (when `fails`) an exception instead of the end.
class script_reader final : public byte_reader {
 public:
  script_reader(std::string text, std::size_t step, bool fails) : text_(std::move(text)), step_(step), fails_(fails) {}
  std::size_t read(char* out, std::size_t n) override {
    if (at_ == text_.size()) {
      if (fails_) throw std::runtime_error("corrupt after " + std::to_string(at_) + " bytes");
      return 0;
    }
    const std::size_t take = std::min({n, step_, text_.size() - at_});
    text_.copy(out, take, at_);
    at_ += take;
    return take;
  }

 private:
  std::string text_;
  std::size_t step_;
  bool fails_;
  std::size_t at_ = 0;
};

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i * 7 % 26);
  return s;
}

TEST(Readahead, SameBytesAtAnyReadSizeThenTheEnd) {
  const std::string text = pattern(100'003);
  for (std::size_t inner_step : {1u, 7u, 4096u, 1'000'000u})
    for (std::size_t read_size : {1u, 13u, 65536u}) {
      auto reader = make_readahead(std::make_unique<script_reader>(text, inner_step, false), 1000, 3);
      std::string got;
      std::string buffer(read_size, '\0');
      for (std::size_t n; (n = reader->read(buffer.data(), read_size)) != 0;) got.append(buffer, 0, n);
      EXPECT_EQ(got, text) << inner_step << " " << read_size;
      EXPECT_EQ(reader->read(buffer.data(), read_size), 0u);  // and again
    }
}

TEST(Readahead, AnErrorComesAfterTheBytesBeforeIt) {
  const std::string text = pattern(10'000);
  auto reader = make_readahead(std::make_unique<script_reader>(text, 333, true), 1024, 2);
  std::string got;
  char buffer[500];
  try {
    for (std::size_t n; (n = reader->read(buffer, sizeof buffer)) != 0;) got.append(buffer, n);
    FAIL() << "the error was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(got, text);
    EXPECT_STREQ(e.what(), "corrupt after 10000 bytes");
  }
}

TEST(Readahead, DroppedHalfWayWithoutHanging) {
  for (int i = 0; i < 20; ++i) {
    auto reader = make_readahead(std::make_unique<script_reader>(pattern(1'000'000), 100, false), 4096, 4);
    char buffer[10];
    reader->read(buffer, sizeof buffer);
  }
  // Never read at all.
  auto idle = make_readahead(std::make_unique<script_reader>(pattern(1'000'000), 100, false), 4096, 4);
}

}  // namespace
}  // namespace labcount
