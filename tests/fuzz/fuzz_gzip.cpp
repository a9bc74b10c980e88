// fuzz_gzip: gzip input through run_count. A CSV from the fuzzer is compressed (ISA-L, as labcount already
// links), maybe split into two members, maybe damaged, and counted. Damaged data may fail with any
// labcount::error, never crash or hang; undamaged data must count exactly as the plain file does.
//
//   byte 0: bits 0-1 damage (none, flip a byte, cut short, raw bytes after the gzip magic), bit 2 two members,
//           bit 3 two threads, bits 4-5 chunk size (1 7 64 4096), bit 6 no header, bit 7 --on-bad-row skip
//   byte 1: where (a fraction of the compressed size, or of the CSV for the member split); byte 2: the xor
//   rest:   the CSV (raw mode: the bytes after \x1f\x8b)
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <isa-l/igzip_lib.h>

#include "fuzz_support.hpp"
#include "util/errors.hpp"

namespace {

using namespace labcount;

// One gzip member holding `text`.
std::string gzip_member(std::string_view text) {
  isal_zstream stream;
  isal_deflate_init(&stream);
  stream.gzip_flag = IGZIP_GZIP;
  stream.end_of_stream = 1;
  stream.flush = NO_FLUSH;
  stream.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<std::uint32_t>(text.size());
  std::string out(text.size() + text.size() / 2 + 1024, '\0');
  std::size_t used = 0;
  while (stream.internal_state.state != ZSTATE_END) {
    if (used == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<std::uint8_t*>(out.data() + used);
    stream.avail_out = static_cast<std::uint32_t>(out.size() - used);
    if (isal_deflate(&stream) != COMP_OK) __builtin_trap();
    used = out.size() - stream.avail_out;
  }
  out.resize(used);
  return out;
}

struct outcome {
  std::optional<count_result> result;
  std::optional<error_kind> kind;
  std::uint64_t line = 0;
};

outcome count(const count_request& request, unsigned threads) {
  outcome out;
  try {
    out.result = fuzz::run_cpu(request, threads);
  } catch (const error& e) {
    out.kind = e.kind();
    out.line = e.line();
  }
  return out;
}

constexpr std::size_t chunk_sizes[] = {1, 7, 64, 4096};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const fuzz::scratch_file plain_file(".csv");
  static const fuzz::scratch_file gzip_file(".csv.gz");
  const std::uint8_t options = data[0];
  const unsigned damage = options & 3;
  const bool two_members = (options & 4) != 0;
  const unsigned threads = (options & 8) != 0 ? 2 : 1;
  const std::uint8_t where = data[1];
  const auto xor_with = static_cast<char>(data[2] == 0 ? 1 : data[2]);
  const std::string_view text(reinterpret_cast<const char*>(data + 3), size - 3);

  count_request request;
  request.key = "1";
  request.has_header = (options & 64) == 0;
  request.on_bad_row = (options & 128) != 0 ? bad_row_policy::skip : bad_row_policy::error;
  request.chunk_bytes = chunk_sizes[options >> 4 & 3];

  std::string bytes;
  if (damage == 3) {
    bytes = "\x1f\x8b";
    bytes += text;
  } else if (two_members) {
    const std::size_t split = text.size() * where / 255;
    bytes = gzip_member(text.substr(0, split)) + gzip_member(text.substr(split));
  } else {
    bytes = gzip_member(text);
  }
  const std::size_t at = bytes.size() * where / 256;  // < bytes.size()
  if (damage == 1) bytes[at] = static_cast<char>(bytes[at] ^ xor_with);
  if (damage == 2) bytes.resize(at);

  request.inputs = {gzip_file.write(bytes)};
  const outcome gzipped = count(request, threads);
  if (damage != 0) return 0;  // any labcount::error is fine; a crash, a sanitizer report or a hang is not

  request.inputs = {plain_file.write(text)};
  const outcome plain = count(request, threads);
  LABCOUNT_FUZZ_CHECK(gzipped.kind == plain.kind, "gzip: %s, plain: %s", gzipped.kind ? "error" : "ok",
                      plain.kind ? "error" : "ok");
  if (plain.kind) {
    LABCOUNT_FUZZ_CHECK(gzipped.line == plain.line, "error on line %llu (gzip), %llu (plain)",
                        static_cast<unsigned long long>(gzipped.line), static_cast<unsigned long long>(plain.line));
    return 0;
  }
  LABCOUNT_FUZZ_CHECK(gzipped.result->rows == plain.result->rows && gzipped.result->bad_rows == plain.result->bad_rows,
                      "rows %llu/%llu (gzip), %llu/%llu (plain)", static_cast<unsigned long long>(gzipped.result->rows),
                      static_cast<unsigned long long>(gzipped.result->bad_rows),
                      static_cast<unsigned long long>(plain.result->rows),
                      static_cast<unsigned long long>(plain.result->bad_rows));
  LABCOUNT_FUZZ_CHECK(fuzz::counts_by_key(*gzipped.result) == fuzz::counts_by_key(*plain.result),
                      "counts differ between gzip and plain");
  return 0;
}
