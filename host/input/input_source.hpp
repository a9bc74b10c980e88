// One input (a file or standard input) cut into record-aligned chunks for the parse workers.
//
//   file bytes:  [BOM][header\n][rows ... \n][rows ... \n] ... [last row, maybe without \n]
//   chunks:                     ^ chunk 0    ^ chunk 1         ^ chunk k (at_eof)
//
// Each chunk starts at a record start and ends right after a record's LF (or at the end of the input),
// so workers parse chunks independently. The cut is found by counting quotes in a window and walking back
// to the last LF with an even quote count before it (see csv_scanner.hpp): where a chunk is cut depends
// only on the bytes, never on the number of threads. Regular files are memory-mapped and each finished
// chunk's pages are dropped from the process (bounded resident memory); pipes are read in buffers; gzip
// data (recognised by its magic bytes, not its name) is decompressed as a stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csv/csv_scanner.hpp"
#include "input/byte_reader.hpp"
#include "input/decompress.hpp"
#include "input/utf16.hpp"
#include "util/input_fd.hpp"

namespace labcount {

struct chunk {
  const char* begin = nullptr;
  const char* end = nullptr;
  std::uint64_t index = 0;                     // 0, 1, 2 ... in input order
  bool at_eof = false;                         // the input's last chunk: its last record may lack an LF
  std::shared_ptr<std::vector<char>> storage;  // owns the bytes of a streamed input's chunk
};

class input_source {
 public:
  static constexpr std::size_t default_chunk_bytes = std::size_t{4} << 20;
  // A regular file up to this size is read into memory in one call rather than mapped (then handled as mapped).
  static constexpr std::size_t small_file_bytes = std::size_t{64} << 10;

  // Opens `path` ("-" = standard input). Throws error(io) naming the file and the fix when it is missing,
  // unreadable or a directory. Bytes read from the file (compressed bytes for gzip) are added to
  // *progress when it is not null. A record longer than `max_record_bytes` is an error (--memory).
  input_source(std::string path, std::size_t chunk_bytes = default_chunk_bytes,
               std::atomic<std::uint64_t>* progress = nullptr, std::size_t max_record_bytes = std::size_t{1} << 40);
  ~input_source();
  input_source(const input_source&) = delete;
  input_source& operator=(const input_source&) = delete;

  const std::string& path() const noexcept { return path_; }
  std::string name() const;                                    // for messages: "<stdin>" for "-"
  std::uint64_t size_bytes() const noexcept { return size_; }  // 0 when unknown (pipes)
  bool compressed() const noexcept { return compression_ != compression::none; }
  // Its records end in lone CRs (old Mac line breaks), read as LFs (utf16.hpp: ends_records_in_lone_cr).
  bool lone_cr_line_ends() const noexcept { return lone_cr_; }
  compression compression_format() const noexcept { return compression_; }

  // Throws error(io) naming the file when it shrank while it was mapped (see input_source.cpp); call
  // after reading, and before reporting any other error about its bytes (they were zeros).
  void check_intact() const;

  // Chunks handed out so far: when next_chunk() throws error(record_too_long), the record starts at
  // the first byte of chunk number chunks_cut().
  // error(record_too_long) naming `line`; next_chunk() throws it with line 0: its caller knows the line
  // (chunks_cut()).
  [[noreturn]] void record_too_long(std::uint64_t line) const;
  std::uint64_t chunks_cut() noexcept {
    std::lock_guard lock(mutex_);
    return next_index_;
  }

  // Skips a UTF-8 BOM, blank lines and an Excel delimiter hint (a first line "sep=;"), then reads the first
  // record into `fields` (unescaped). `delimiter` 0 means detect: the hint's, else the one of , ; TAB |
  // that the record holds most often outside quotes (',' on a tie or when it holds none); it is set to the
  // delimiter used. With `consume`, chunks start after the record (a header); otherwise at it. Returns false
  // when the input holds no record. Call once, before next_chunk(). Throws error for an unparseable first
  // record.
  // Before the first record: skip `lines` lines first, and every line that starts with `comment` (not 0), as
  // written, quotes and all (a LIMS or instrument preamble). Call before read_first_record.
  void skip_leading(std::size_t lines, char comment) noexcept {
    skip_lines_ = lines;
    comment_ = comment;
  }
  // `raw`, when given, receives the record's bytes as written (without its line ending).
  bool read_first_record(char& delimiter, bool consume, std::vector<std::string>& fields, std::uint64_t& line,
                         std::string* raw = nullptr);

  // After read_first_record and before the first chunk: up to `max_bytes` of the data that follows (fewer at
  // the end of the input; a record may be cut), to look at its first rows (time_parser::for_input); *whole
  // says whether that is the rest of the input. Valid until the first chunk is taken. Reads ahead on a
  // stream; takes nothing away from the chunks.
  std::string_view peek(std::size_t max_bytes, bool* whole = nullptr);

  // Thread-safe. The next chunk, or nothing at the end of the input.
  std::optional<chunk> next_chunk();
  // A worker is done with the chunk: drop its pages from memory.
  void release(const chunk& c) noexcept;

  // The line number of the first byte after the header (or of the first record, without a header).
  // Chunks do not know their own line: workers count the LFs of each chunk as they scan it, and line
  // numbers are resolved only for the rows that are reported (see count_pipeline.cpp).
  std::uint64_t first_data_line() const noexcept { return line_; }

  // A memory-mapped input (a regular, uncompressed, UTF-8 file), whose bytes can be cut into ranges.
  bool mapped() const noexcept { return map_ != nullptr; }
  // Mapped: the whole file, and the offset of the first byte after the header (or of the first record).
  std::string_view bytes() const noexcept { return {map_, map_size_}; }
  std::uint64_t data_offset() const noexcept { return pos_; }
  // Mapped, after read_first_record and before the first chunk: chunks cover only [begin, end), which must
  // start and end at record boundaries (an MPI rank's share of the file); `first_line` is begin's line.
  // With `cut`, the range ends instead at the first record that starts at or after `cut` (or at `end`): the
  // chunk cutter finds it when its window reaches `cut`, from the quotes it counts anyway (an MPI rank that
  // has not counted the quotes before its range's end).
  void restrict_to(std::uint64_t begin, std::uint64_t end, std::uint64_t first_line,
                   std::optional<std::uint64_t> cut = std::nullopt);
  // Where the chunks ended: the end of the range once the last chunk is handed out; nothing while a `cut` is
  // still ahead of them.
  std::optional<std::uint64_t> range_end() const;

 private:
  bool fill(std::size_t want);  // streamed: read until pending_ holds `want` bytes or EOF; false at EOF
  void resolve_cut();           // mapped, mutex_ held: end_ from cut_, which it clears

  std::string path_;
  std::size_t chunk_bytes_;
  std::atomic<std::uint64_t>* progress_;
  std::size_t max_record_bytes_;
  compression compression_ = compression::none;
  utf16_order utf16_ = utf16_order::none;  // a regular file that starts with a UTF-16 BOM is streamed, not mapped
  bool lone_cr_ = false;                   // so is one whose records end in lone CRs
  input_fd input_{path_};                  // after path_: it opens it
  int fd_ = input_.get();
  // Streamed inputs. After input_, so that it goes first: a read-ahead thread (compressed input) reads the fd
  // until it is joined, which must happen before the fd is closed.
  std::unique_ptr<byte_reader> reader_;
  std::uint64_t size_ = 0;

  // Mapped inputs: the whole file, and the offset of the next chunk. A small file's bytes are in owned_ instead
  // (map_ points there; nothing to unmap, no SIGBUS slot).
  std::vector<char> owned_;
  const char* map_ = nullptr;
  int map_slot_ = -1;  // its entry in the SIGBUS handler's table
  std::size_t map_size_ = 0;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;  // chunks end here: map_size_, or the end of a range (restrict_to)
  std::optional<std::size_t> cut_;  // restrict_to's `cut`, until the chunks reach it and end_ is known

  // Streamed inputs: bytes read but not yet handed out.
  std::shared_ptr<std::vector<char>> pending_;
  std::vector<std::shared_ptr<std::vector<char>>> spare_;  // buffers of released chunks, for reuse
  std::size_t pending_pos_ = 0;
  bool eof_ = false;
  std::size_t skip_lines_ = 0;  // skip_leading
  char comment_ = '\0';

  mutable std::mutex mutex_;
  std::uint64_t next_index_ = 0;
  std::uint64_t line_ = 1;  // line number of the first data byte
  bool started_ = false;
};

}  // namespace labcount
