// Sequential byte streams for inputs that cannot be memory-mapped: pipes, standard input, and compressed
// files (decompress.hpp wraps one byte_reader in another).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace labcount {

class byte_reader {
 public:
  virtual ~byte_reader() = default;
  // Reads up to n bytes into out; returns 0 only at the end of the stream. Throws error naming the input.
  virtual std::size_t read(char* out, std::size_t n) = 0;
};

// Reads a file descriptor (not owned), first returning `prefix` (bytes already read to sniff the format).
// Adds every byte read from the descriptor to *progress when it is not null.
std::unique_ptr<byte_reader> make_fd_reader(int fd, std::string name, std::string prefix,
                                            std::atomic<std::uint64_t>* progress);

inline bool is_gzip_magic(const unsigned char* bytes, std::size_t size) noexcept {
  return size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

}  // namespace labcount
