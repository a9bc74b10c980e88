#include "input/input_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "input/zip_archive.hpp"
#include "input/readahead.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

bool is_blank_line(const char* begin, const char* end) { return begin == end || (end - begin == 1 && *begin == '\r'); }

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

// A mapped file that shrinks while it is read (log rotation, another process truncating it) raises
// SIGBUS on the pages past its new end. The handler finds the mapping the fault is in, puts zero pages
// over the rest of it (so the scan runs on and stops at the next check) and marks it truncated; the
// owner turns that into an I/O error naming the file. A fault anywhere else is a real crash: the
// default action runs.
struct mapped_range {
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
  std::atomic<bool> truncated{false};
};
constexpr int max_mapped_ranges = 64;
mapped_range mapped_ranges[max_mapped_ranges];

extern "C" void on_sigbus(int sig, siginfo_t* info, void*) {
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (auto& r : mapped_ranges) {
    const std::uintptr_t begin = r.begin.load(std::memory_order_acquire);
    const std::uintptr_t end = r.end.load(std::memory_order_acquire);
    if (begin == 0 || addr < begin || addr >= end) continue;
    const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const std::uintptr_t from = addr / page * page;
    if (::mmap(reinterpret_cast<void*>(from), end - from, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
        MAP_FAILED)
      break;
    r.truncated.store(true, std::memory_order_release);
    return;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

int register_mapping(const char* map, std::size_t size) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, nullptr);
  });
  for (int i = 0; i < max_mapped_ranges; ++i) {
    std::uintptr_t expected = 0;
    if (mapped_ranges[i].begin.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(map))) {
      mapped_ranges[i].truncated.store(false);
      mapped_ranges[i].end.store(reinterpret_cast<std::uintptr_t>(map) + size, std::memory_order_release);
      return i;
    }
  }
  return -1;  // every slot taken: the caller reads the file instead of mapping it
}

void unregister_mapping(int slot) {
  mapped_ranges[slot].end.store(0, std::memory_order_release);
  mapped_ranges[slot].begin.store(0, std::memory_order_release);
}

}  // namespace

input_source::input_source(std::string path, std::size_t chunk_bytes, std::atomic<std::uint64_t>* progress,
                           std::size_t max_record_bytes)
    : path_(std::move(path)),
      chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)),
      progress_(progress),
      max_record_bytes_(std::max(max_record_bytes, chunk_bytes_)) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_open_error(path_, errno);
  if (S_ISDIR(st.st_mode))
    throw error(error_kind::io, "the input is a directory, not a file", path_, 0,
                "pass the CSV files inside it, e.g. " + path_ + "/*.csv");
  if (std::string archive, member; split_zip_member_input(path_, archive, member)) {
    // A member of a ZIP archive (input_fd opened the archive: the path ends at the NUL): streamed.
    pending_ = std::make_shared<std::vector<char>>();
    reader_ = make_text_reader(open_zip_member(fd_, member, name(), progress_), name(), &lone_cr_);
    return;
  }
  const bool regular = S_ISREG(st.st_mode) && path_ != "-";
  std::string sniffed;  // the first bytes, to recognise compression by content
  if (regular && st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) <= small_file_bytes) {
    // A small file (a folder of thousands): one read into memory, where a mapping would cost a mmap, a madvise,
    // a munmap and the SIGBUS table's lock. It is then handled as a mapped one.
    size_ = static_cast<std::uint64_t>(st.st_size);
    owned_.resize(size_);
    std::size_t have = 0;
    while (have < size_) {
      const ssize_t got = ::pread(fd_, owned_.data() + have, size_ - have, static_cast<off_t>(have));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_open_error(path_, errno);
      if (got == 0) break;  // it shrank meanwhile: what is there
      have += static_cast<std::size_t>(got);
    }
    owned_.resize(have);
    const auto* head = reinterpret_cast<const unsigned char*>(owned_.data());
    const std::size_t head_size = std::min<std::size_t>(have, compression_magic_bytes);
    compression_ = compression_of(head, head_size);
    utf16_ = utf16_order_of(head, head_size);
    if (!compressed() && utf16_ == utf16_order::none && have > 0 && !ends_records_in_lone_cr(owned_.data(), have)) {
      map_ = owned_.data();
      map_size_ = have;
      end_ = have;
      return;
    }
    owned_ = {};  // compressed, UTF-16 or lone CRs: read through the readers below
  }
  if (regular) {
    size_ = static_cast<std::uint64_t>(st.st_size);
    unsigned char magic[compression_magic_bytes] = {};
    const ssize_t got = ::pread(fd_, magic, sizeof magic, 0);
    if (got > 0) compression_ = compression_of(magic, static_cast<std::size_t>(got));
    if (got > 0) utf16_ = utf16_order_of(magic, static_cast<std::size_t>(got));
  } else {
    char head[compression_magic_bytes];
    std::size_t have = 0;
    while (have < sizeof head) {
      const ssize_t got = ::read(fd_, head + have, sizeof head - have);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_open_error(path_, errno);
      if (got == 0) break;
      have += static_cast<std::size_t>(got);
    }
    sniffed.assign(head, have);
    if (progress_ != nullptr) progress_->fetch_add(have, std::memory_order_relaxed);
    compression_ = compression_of(reinterpret_cast<const unsigned char*>(sniffed.data()), sniffed.size());
  }
  if (regular && !compressed() && utf16_ == utf16_order::none) {
    if (size_ > 0) {
      void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (map != MAP_FAILED) {
        map_slot_ = register_mapping(static_cast<const char*>(map), size_);
        if (map_slot_ < 0) {
          ::munmap(map, size_);
        } else {
          map_ = static_cast<const char*>(map);
          map_size_ = size_;
          end_ = size_;
          ::madvise(map, map_size_, MADV_SEQUENTIAL);
          if (ends_records_in_lone_cr(map_, map_size_)) {  // old Mac line breaks: read through the text reader
            ::munmap(map, map_size_);
            unregister_mapping(map_slot_);
            map_ = nullptr;
            map_size_ = 0;
            end_ = 0;
          }
        }
      }
    }
  }
  if (map_ == nullptr) {
    pending_ = std::make_shared<std::vector<char>>();
    reader_ = make_fd_reader(fd_, name(), std::move(sniffed), progress_);
    reader_ = make_decompressor(compression_, std::move(reader_), name());
    // Inflating on a thread of its own, ahead of the parse workers (which take turns at the chunk cutter).
    if (compressed()) reader_ = make_readahead(std::move(reader_), std::size_t{4} << 20, 3);
    // UTF-16 with a BOM -> UTF-8, after decompression; lone CR line ends -> LF
    reader_ = make_text_reader(std::move(reader_), name(), &lone_cr_);
    if (regular && size_ == 0) eof_ = true;                  // empty file
  }
}

input_source::~input_source() {
  if (map_ != nullptr && owned_.empty()) {
    ::munmap(const_cast<char*>(map_), map_size_);
    unregister_mapping(map_slot_);
  }
}

std::string input_source::name() const { return display_name(path_); }

void input_source::restrict_to(std::uint64_t begin, std::uint64_t end, std::uint64_t first_line,
                               std::optional<std::uint64_t> cut) {
  std::lock_guard lock(mutex_);
  LABCOUNT_EXPECTS(map_ != nullptr && !started_, "a byte range of a mapped input, before its first chunk");
  LABCOUNT_EXPECTS(pos_ <= begin && begin <= end && end <= map_size_, "a range after the header, within the file");
  pos_ = static_cast<std::size_t>(begin);
  end_ = static_cast<std::size_t>(end);
  line_ = first_line;
  if (cut) cut_ = static_cast<std::size_t>(std::min(*cut, end));
}

std::optional<std::uint64_t> input_source::range_end() const {
  std::lock_guard lock(mutex_);
  if (cut_) return std::nullopt;
  return end_;
}

void input_source::check_intact() const {
  if (map_ != nullptr && owned_.empty() && mapped_ranges[map_slot_].truncated.load(std::memory_order_acquire))
    throw error(error_kind::io, "the input shrank while it was read (truncated or rotated by another program?)", name(),
                0, "count a copy that no other program is writing, or rerun when it is done");
}

bool input_source::fill(std::size_t want) {
  auto& buf = *pending_;
  while (!eof_ && buf.size() - pending_pos_ < want) {
    const std::size_t old = buf.size();
    const std::size_t grow = std::max(want - (old - pending_pos_), chunk_bytes_);
    buf.resize(old + grow);
    const std::size_t got = reader_->read(buf.data() + old, grow);
    buf.resize(old + got);
    if (got == 0) eof_ = true;
  }
  return buf.size() - pending_pos_ >= want;
}

namespace {

// `sep=X` (Excel's delimiter hint), with or without a CR: X, else 0.
char delimiter_hint(const char* b, const char* e) {
  if (e > b && e[-1] == '\r') --e;
  return e - b == 5 && std::memcmp(b, "sep=", 4) == 0 && b[4] != '"' ? b[4] : '\0';
}

// The one of , ; TAB | that [b, e) holds most often outside quotes; ',' on a tie or when it holds none.
char detect_delimiter(const char* b, const char* e) {
  constexpr char candidates[] = {',', ';', '\t', '|'};
  std::size_t counts[4] = {};
  bool quoted = false;
  for (const char* p = b; p < e; ++p) {
    if (*p == '"') quoted = !quoted;
    if (quoted) continue;
    for (int i = 0; i < 4; ++i) counts[i] += *p == candidates[i];
  }
  int best = 0;
  for (int i = 1; i < 4; ++i)
    if (counts[i] > counts[best]) best = i;
  return candidates[best];
}

}  // namespace

bool input_source::read_first_record(char& delimiter, bool consume, std::vector<std::string>& fields,
                                     std::uint64_t& line, std::string* raw) {
  std::lock_guard lock(mutex_);
  LABCOUNT_EXPECTS(!started_, "read_first_record() must come before next_chunk()");
  fields.clear();

  // A view of the unread bytes; streamed inputs read more until a whole record is in view.
  auto view = [&](const char*& b, const char*& e) {
    if (map_ != nullptr) {
      b = map_ + pos_;
      e = map_ + end_;
    } else {
      b = pending_->data() + pending_pos_;
      e = pending_->data() + pending_->size();
    }
  };
  auto advance = [&](std::size_t n) {
    if (map_ != nullptr)
      pos_ += n;
    else
      pending_pos_ += n;
  };

  const char* b;
  const char* e;
  if (map_ == nullptr) fill(3);
  view(b, e);
  if (e - b >= 3 && std::memcmp(b, "\xEF\xBB\xBF", 3) == 0) advance(3);

  // The first record is capped like any other: /dev/zero or a file without line breaks ends in an
  // error within --memory, not in a buffer that grows until the machine runs out.
  auto find_end = [&](const char* from, const char* to) {
    if (static_cast<std::size_t>(to - from) > max_record_bytes_) {
      const char* lf = find_record_end(from, from + max_record_bytes_);
      if (lf == from + max_record_bytes_) record_too_long(line_);
      return lf;
    }
    return find_record_end(from, to);
  };
  bool saw_hint = false;
  for (;;) {
    view(b, e);
    if (map_ == nullptr && b == e && !eof_) {
      fill(chunk_bytes_);
      view(b, e);
    }
    if (b < e && (skip_lines_ > 0 || (comment_ != '\0' && *b == comment_))) {
      // A preamble line ends at its LF whatever quotes it holds.
      const char* lf;
      while ((lf = static_cast<const char*>(std::memchr(b, '\n', static_cast<std::size_t>(e - b)))) == nullptr &&
             map_ == nullptr && !eof_) {
        if (static_cast<std::size_t>(e - b) > max_record_bytes_) record_too_long(line_);
        fill(static_cast<std::size_t>(e - b) * 2 + chunk_bytes_);
        view(b, e);
      }
      advance(lf != nullptr ? static_cast<std::size_t>(lf - b) + 1 : static_cast<std::size_t>(e - b));
      ++line_;
      if (skip_lines_ > 0) --skip_lines_;
      continue;
    }
    const char* record_end = find_end(b, e);
    while (map_ == nullptr && record_end == e && !eof_) {
      const std::size_t have = static_cast<std::size_t>(e - b);
      fill(std::min(have * 2 + chunk_bytes_, max_record_bytes_ + 1));
      view(b, e);
      record_end = find_end(b, e);
    }
    if (b == e) return false;  // nothing but BOM and blank lines
    if (is_blank_line(b, record_end)) {
      advance(static_cast<std::size_t>(record_end - b) + (record_end < e ? 1 : 0));
      ++line_;
      continue;
    }
    if (const char hint = delimiter_hint(b, record_end); hint != '\0' && !saw_hint) {
      saw_hint = true;
      if (delimiter == '\0') delimiter = hint;
      advance(static_cast<std::size_t>(record_end - b) + (record_end < e ? 1 : 0));
      ++line_;
      continue;
    }
    if (delimiter == '\0') delimiter = detect_delimiter(b, record_end);
    parsed_record record;
    parse_record(b, record_end, delimiter, record);
    if (record.problem != row_problem::none) {
      std::uint64_t at_line = line_ + count_quotes_and_lines(b, record.problem_at).lines;
      throw error(
          record.problem == row_problem::unterminated_quote ? error_kind::unterminated_quote : error_kind::stray_quote,
          std::string(describe(record.problem)) + " in the " + (consume ? "header" : "first row"), name(), at_line,
          record.problem == row_problem::unterminated_quote
              ? "close the quote (a quote inside a quoted field is written as \"\")"
              : "quote the whole field and double the quotes inside it: \"say \"\"hi\"\"\"");
    }
    for (auto f : record.fields) fields.emplace_back(f);
    if (raw != nullptr) raw->assign(b, record_end > b && record_end[-1] == '\r' ? record_end - 1 : record_end);
    line = line_;
    if (consume) {
      line_ += count_quotes_and_lines(b, record_end).lines + (record_end < e ? 1 : 0);
      advance(static_cast<std::size_t>(record_end - b) + (record_end < e ? 1 : 0));
    }
    return true;
  }
}

std::string_view input_source::peek(std::size_t max_bytes, bool* whole) {
  std::lock_guard lock(mutex_);
  LABCOUNT_EXPECTS(!started_, "peek before the first chunk");
  if (map_ != nullptr) {
    const std::size_t rest = end_ - std::min(pos_, end_);
    if (whole != nullptr) *whole = rest <= max_bytes;
    return {map_ + pos_, std::min(max_bytes, rest)};
  }
  const bool more = fill(max_bytes + 1);  // one byte past: is there more than max_bytes?
  const auto& buf = *pending_;
  if (whole != nullptr) *whole = !more;
  return {buf.data() + pending_pos_, std::min(max_bytes, buf.size() - pending_pos_)};
}

void input_source::resolve_cut() {
  // The range ends at the first record that starts at or after the cut. pos_ starts a record, so the quote
  // parity at the cut is that of the quotes in [pos_, cut) (the parity rule).
  const std::size_t cut = *cut_;
  cut_.reset();
  if (cut <= pos_) {
    end_ = pos_;
    return;
  }
  bool in_quotes = (count_quotes(map_ + pos_, map_ + cut) & 1) != 0;
  if (map_[cut - 1] == '\n' && !in_quotes) {
    end_ = cut;
    return;
  }
  for (std::size_t q = cut; q < end_; ++q) {
    if (map_[q] == '"') {
      in_quotes = !in_quotes;
    } else if (map_[q] == '\n' && !in_quotes) {
      end_ = q + 1;
      return;
    }
  }
  // No record starts after the cut: the range runs to its end.
}

std::optional<chunk> input_source::next_chunk() {
  std::lock_guard lock(mutex_);
  started_ = true;
  chunk c;
  if (map_ != nullptr) {
    // A pending cut is resolved once a window reaches it, before any chunk passes it.
    if (cut_ && *cut_ <= pos_ + chunk_bytes_) resolve_cut();
    if (pos_ >= end_) return std::nullopt;
    const char* begin = map_ + pos_;
    const char* file_end = map_ + end_;
    std::size_t window = chunk_bytes_;
    const char* cut = nullptr;
    for (;;) {
      if (cut_ && *cut_ <= pos_ + window) {  // a record longer than the window widened it up to the cut
        resolve_cut();
        file_end = map_ + end_;
      }
      const char* window_end = begin + std::min<std::size_t>(window, static_cast<std::size_t>(file_end - begin));
      if (window_end == file_end) {
        cut = file_end;
        c.at_eof = true;
        break;
      }
      if (const char* lf = find_last_record_end(begin, window_end, count_quotes(begin, window_end))) {
        cut = lf + 1;
        break;
      }
      window *= 2;  // a record longer than the window: widen it
      if (window > max_record_bytes_) record_too_long(0);
    }
    c.begin = begin;
    c.end = cut;
    pos_ = static_cast<std::size_t>(cut - map_);
    if (progress_ != nullptr) progress_->fetch_add(static_cast<std::uint64_t>(cut - begin), std::memory_order_relaxed);
    c.index = next_index_++;
    return c;
  }

  std::size_t window = chunk_bytes_;
  for (;;) {
    fill(window);
    auto& buf = *pending_;
    const char* begin = buf.data() + pending_pos_;
    const char* end = buf.data() + buf.size();
    if (begin == end) return std::nullopt;
    const char* cut = nullptr;
    if (eof_ && static_cast<std::size_t>(end - begin) <= window) {
      cut = end;
      c.at_eof = true;
    } else {
      const char* window_end = begin + std::min<std::size_t>(window, static_cast<std::size_t>(end - begin));
      if (const char* lf = find_last_record_end(begin, window_end, count_quotes(begin, window_end))) {
        cut = lf + 1;
      } else {
        window *= 2;
        if (window > max_record_bytes_) record_too_long(0);
        continue;
      }
    }
    // The chunk keeps this buffer alive; the unread tail moves to another one, reused from a finished
    // chunk when there is one (a fresh 4 MiB buffer per chunk costs a page fault per 4 KiB).
    std::shared_ptr<std::vector<char>> next;
    if (!spare_.empty()) {
      next = std::move(spare_.back());
      spare_.pop_back();
      next->assign(cut, end);
    } else {
      next = std::make_shared<std::vector<char>>(cut, end);
      next->reserve(chunk_bytes_ + next->size());
    }
    c.begin = begin;
    c.end = cut;
    c.storage = std::move(pending_);
    pending_ = std::move(next);
    pending_pos_ = 0;
    c.index = next_index_++;
    return c;
  }
}

void input_source::record_too_long(std::uint64_t line) const {
  throw error(error_kind::record_too_long,
              "a record longer than " + format_bytes(max_record_bytes_) +
                  " starts here (no line breaks, or a quote that never closes?)",
              name(), line,
              "check the file's line breaks and quoting; if such long records are real, raise --memory (a "
              "record may use half of it)");
}

void input_source::release(const chunk& c) noexcept {
  if (map_ == nullptr) {
    if (c.storage == nullptr) return;
    std::lock_guard lock(mutex_);
    // A few spares cover the chunks in flight; more would only hold memory.
    if (spare_.size() < 4) {
      try {
        spare_.push_back(c.storage);
      } catch (const std::bad_alloc&) {
      }
    }
    return;
  }
  if (!owned_.empty()) return;  // a small file read into memory: freed with the source
  // Drop only the pages wholly inside the chunk; a page shared with a neighbour stays.
  const std::size_t page = page_size();
  auto first = (reinterpret_cast<std::uintptr_t>(c.begin) + page - 1) / page * page;
  auto last = reinterpret_cast<std::uintptr_t>(c.end) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace labcount
