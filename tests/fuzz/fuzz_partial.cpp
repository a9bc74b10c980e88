// fuzz_partial: the bytes are the body of a partial state (after the magic number); the target frames them
// with the magic and a correct FNV-1a checksum, so the decoder past the checksum is what gets fuzzed.
// read_partial must throw labcount::error or succeed; a state it reads must merge with itself (or fail with a
// labcount::error for a count past 2^64 - 1) and turn into a table without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "output/count_output.hpp"
#include "tools/partial_state.hpp"
#include "util/errors.hpp"

namespace {

// FNV-1a 64, as the state's trailer has it (written here again, independently of the code under test).
std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t h = 14695981039346656037ULL;  // the FNV-1a 64 offset basis
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace labcount;
  static const fuzz::scratch_file state_file(".lcp");
  static const fuzz::scratch_file table_file(".csv");
  std::string bytes("\x89LCP\r\n\x1a\n", 8);
  bytes.append(reinterpret_cast<const char*>(data), size);
  const std::uint64_t sum = fnv1a(bytes);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(sum >> (8 * i)));
  const std::string& path = state_file.write(bytes);
  try {
    partial_state state = read_partial(path);
    merge_partial(state, path, read_partial(path), path);
    count_request request;
    const count_result result = result_of(std::move(state), request);
    output_file out(table_file.path());
    write_count_result(out, result, request, output_options{});
    out.commit();
  } catch (const error&) {
  }
  return 0;
}
