#include "distributed/distributed_count.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "input/input_source.hpp"
#include "input/zip_archive.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"
#include "util/varint.hpp"

namespace labcount {

std::vector<std::vector<work_item>> deal_inputs(std::span<const input_size> inputs, int ranks) {
  LABCOUNT_EXPECTS(ranks >= 1, "at least one rank");
  const auto n = static_cast<std::size_t>(ranks);
  std::vector<std::vector<work_item>> out(n);
  std::vector<std::uint64_t> load(n, 0);
  std::vector<std::size_t> whole;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].split || ranks == 1) {
      whole.push_back(i);
      continue;
    }
    for (std::size_t r = 0; r < n; ++r) {
      out[r].push_back({i, static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(n)});
      load[r] += inputs[i].bytes / n;
    }
  }
  std::stable_sort(whole.begin(), whole.end(),
                   [&](std::size_t a, std::size_t b) { return inputs[a].bytes > inputs[b].bytes; });
  for (const std::size_t i : whole) {
    const auto r = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[r].push_back({i});
    load[r] += std::max<std::uint64_t>(inputs[i].bytes, 1);  // empty files still spread
  }
  for (auto& items : out)
    std::sort(items.begin(), items.end(), [](const work_item& a, const work_item& b) { return a.input < b.input; });
  return out;
}

std::uint64_t record_start_at_or_after(std::string_view file, std::uint64_t data_begin, std::uint64_t pos,
                                       std::uint64_t quotes_before) noexcept {
  if (pos <= data_begin) return data_begin;
  if (pos >= file.size()) return file.size();
  bool in_quotes = (quotes_before & 1) != 0;
  if (file[pos - 1] == '\n' && !in_quotes) return pos;
  for (std::uint64_t q = pos; q < file.size(); ++q) {
    if (file[q] == '"')
      in_quotes = !in_quotes;
    else if (file[q] == '\n' && !in_quotes)
      return q + 1;
  }
  return file.size();
}

namespace {

// How many of the quotes in the `window` bytes from `start` are where no well-formed CSV puts one, reading
// `start` as a record's first byte: an opening quote not at a field's start, or a closing one not followed
// by a delimiter, a line end or a second quote. (Any of , ; TAB | counts as a delimiter: a guess needs none.)
std::uint64_t misplaced_quotes(std::string_view file, std::uint64_t start, std::uint64_t window) noexcept {
  const auto delimiter_or_end = [](char c) {
    return c == ',' || c == ';' || c == '\t' || c == '|' || c == '\r' || c == '\n';
  };
  const std::uint64_t stop = std::min<std::uint64_t>(file.size(), start + window);
  std::uint64_t misplaced = 0;
  bool in_quotes = false;
  char before = '\n';
  for (std::uint64_t q = start; q < stop; before = file[q++]) {
    if (file[q] != '"') continue;
    if (!in_quotes)
      misplaced += !(delimiter_or_end(before) || before == '"');
    else
      misplaced += !(q + 1 == file.size() || file[q + 1] == '"' || delimiter_or_end(file[q + 1]));
    in_quotes = !in_quotes;
  }
  return misplaced;
}

}  // namespace

std::uint64_t guess_record_start(std::string_view file, std::uint64_t data_begin, std::uint64_t pos) noexcept {
  if (pos <= data_begin) return data_begin;
  if (pos >= file.size()) return file.size();
  constexpr std::uint64_t reach = std::uint64_t{1} << 20;    // how far a guess looks for its record start
  constexpr std::uint64_t window = std::uint64_t{16} << 10;  // and then at the quotes after it
  std::uint64_t best = file.size(), fewest = std::numeric_limits<std::uint64_t>::max();
  for (const std::uint64_t parity : {0, 1}) {  // outside quotes first: it wins ties
    const std::uint64_t limit = std::min<std::uint64_t>(file.size(), pos + reach);
    const std::uint64_t start = record_start_at_or_after(file.substr(0, limit), data_begin, pos, parity);
    if (start >= limit) continue;  // no record start near: most likely the wrong side of a quote
    const std::uint64_t misplaced = misplaced_quotes(file, start, window);
    if (misplaced < fewest) {
      fewest = misplaced;
      best = start;
    }
  }
  // Neither side starts a record near `pos` (a record longer than the reach): outside quotes, however far.
  return fewest != std::numeric_limits<std::uint64_t>::max() ? best
                                                             : record_start_at_or_after(file, data_begin, pos, 0);
}

std::uint64_t split_min_bytes() {
  if (const char* v = std::getenv("LABCOUNT_MPI_SPLIT_BYTES"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (end != v && *end == '\0') return std::max<unsigned long long>(n, 1);
  }
  return std::uint64_t{16} << 20;
}

namespace {

// Where something happened, in input order: (input, part of it, line).
using position = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>;
constexpr std::uint64_t nowhere = std::numeric_limits<std::uint64_t>::max();

struct rank_error {
  position at{nowhere, nowhere, 0};
  error_kind kind = error_kind::internal;
  std::string description, file, hint;
  std::uint64_t line = 0;
  bool in_range = false;  // found in a part's range, whose lines a guessed cut counts from its start
  error make() const { return error(kind, description, file, line, hint); }
};

struct placed_row {
  position at;
  bad_row row;
};

struct placed_skip {
  std::uint64_t input;
  skipped_file skip;
};

struct placed_message {
  position at;  // (input, part, 0)
  std::string text;
};

struct placed_tally {
  std::uint64_t part;
  input_tally tally;  // tally.input: the job's input index
};

// A rank's part of a split input: where it started, and once counted whole, where it ended and its LFs.
struct placed_range {
  std::uint64_t input = 0, part = 0, begin = 0;
  bool ended = false;
  std::uint64_t end = 0, lines = 0;
};

struct rank_report {
  std::optional<rank_error> failed;
  std::uint64_t rows = 0, bad_rows = 0, bytes = 0;
  std::int64_t parse_ns = 0, finish_ns = 0;
  std::string backend_name;
  backend_timings backend_time;
  bool counted = false;                 // it had inputs and counted them without an error
  std::uint64_t named_input = nowhere;  // the first input that named the columns (one with a record)
  std::vector<std::string> key_names;
  std::string time_name;
  std::vector<placed_row> samples;
  std::vector<placed_message> warnings, notes;
  std::vector<placed_skip> skipped;
  std::vector<placed_tally> tallies;
  std::vector<placed_range> ranges;
};

varint_decoder message_decoder(std::string_view bytes) {
  return varint_decoder(bytes, "", "message between MPI ranks", "a labcount bug: please report it");
}

void put_names(varint_encoder& e, const std::vector<std::string>& names) {
  e.varint(names.size());
  for (const auto& name : names) e.text(name);
}

std::vector<std::string> get_names(varint_decoder& d) {
  std::vector<std::string> names(d.below(max_key_parts + 1, "key columns"));
  for (auto& name : names) name = d.text();
  return names;
}

void put_error(varint_encoder& e, const rank_error& x) {
  e.varint(std::get<0>(x.at));
  e.varint(std::get<1>(x.at));
  e.varint(std::get<2>(x.at));
  e.varint(static_cast<std::uint64_t>(x.kind));
  e.text(x.description);
  e.text(x.file);
  e.varint(x.line);
  e.text(x.hint);
  e.varint(x.in_range ? 1 : 0);
}

rank_error get_error(varint_decoder& d) {
  rank_error x;
  std::get<0>(x.at) = d.varint();
  std::get<1>(x.at) = d.varint();
  std::get<2>(x.at) = d.varint();
  x.kind = static_cast<error_kind>(d.below(static_cast<std::uint64_t>(error_kind::internal) + 1, "an error kind"));
  x.description = d.text();
  x.file = d.text();
  x.line = d.varint();
  x.hint = d.text();
  x.in_range = d.varint() == 1;
  return x;
}

std::string encode_report(const rank_report& r) {
  varint_encoder e;
  e.varint(r.failed ? 1 : 0);
  if (r.failed) put_error(e, *r.failed);
  for (const std::uint64_t v : {r.rows, r.bad_rows, r.bytes}) e.varint(v);
  for (const std::int64_t v : {r.parse_ns, r.finish_ns, static_cast<std::int64_t>(r.backend_time.transfer.count()),
                               static_cast<std::int64_t>(r.backend_time.sort.count()),
                               static_cast<std::int64_t>(r.backend_time.reduce.count()),
                               static_cast<std::int64_t>(r.backend_time.setup.count())})
    e.zigzag(v);
  e.text(r.backend_name);
  e.varint(r.counted ? 1 : 0);
  e.varint(r.named_input);
  put_names(e, r.key_names);
  e.text(r.time_name);
  e.varint(r.samples.size());
  for (const auto& s : r.samples) {
    e.varint(std::get<0>(s.at));
    e.varint(std::get<1>(s.at));
    e.text(s.row.file);
    e.varint(s.row.line);
    e.varint(static_cast<std::uint64_t>(s.row.problem));
    e.varint(s.row.fields);
    e.varint(s.row.expected);
    e.text(s.row.value);
    e.text(s.row.expected_format);
    e.varint(static_cast<unsigned char>(s.row.first_byte));
    e.varint(s.row.swallowed_lines);
    e.varint(s.row.swallowed_bytes);
  }
  for (const auto* list : {&r.warnings, &r.notes}) {
    e.varint(list->size());
    for (const auto& m : *list) {
      e.varint(std::get<0>(m.at));
      e.varint(std::get<1>(m.at));
      e.text(m.text);
    }
  }
  e.varint(r.skipped.size());
  for (const auto& s : r.skipped) {
    e.varint(s.input);
    e.text(s.skip.file);
    e.text(s.skip.reason);
  }
  e.varint(r.tallies.size());
  for (const auto& t : r.tallies) {
    e.varint(t.tally.input);
    e.varint(t.part);
    e.text(t.tally.file);
    e.varint(t.tally.empty ? 1 : 0);
    e.varint(t.tally.bad_rows);
    e.varint(t.tally.header_rows);
    e.varint(t.tally.slash_dates);
    e.varint(t.tally.order_from_dates ? 1 : 0);
  }
  e.varint(r.ranges.size());
  for (const auto& x : r.ranges)
    for (const std::uint64_t v : {x.input, x.part, x.begin, std::uint64_t{x.ended}, x.end, x.lines}) e.varint(v);
  return std::move(e.bytes());
}

rank_report decode_report(std::string_view bytes) {
  varint_decoder d = message_decoder(bytes);
  rank_report r;
  if (d.varint() == 1) r.failed = get_error(d);
  r.rows = d.varint();
  r.bad_rows = d.varint();
  r.bytes = d.varint();
  r.parse_ns = d.zigzag();
  r.finish_ns = d.zigzag();
  r.backend_time.transfer = std::chrono::nanoseconds(d.zigzag());
  r.backend_time.sort = std::chrono::nanoseconds(d.zigzag());
  r.backend_time.reduce = std::chrono::nanoseconds(d.zigzag());
  r.backend_time.setup = std::chrono::nanoseconds(d.zigzag());
  r.backend_name = d.text();
  r.counted = d.varint() == 1;
  r.named_input = d.varint();
  r.key_names = get_names(d);
  r.time_name = d.text();
  for (std::uint64_t n = d.varint(); n > 0; --n) {
    placed_row s;
    std::get<0>(s.at) = d.varint();
    std::get<1>(s.at) = d.varint();
    s.row.file = d.text();
    s.row.line = d.varint();
    std::get<2>(s.at) = s.row.line;
    s.row.problem =
        static_cast<row_problem>(d.below(static_cast<std::uint64_t>(row_problem::bad_timestamp) + 1, "a problem"));
    s.row.fields = static_cast<std::uint32_t>(d.varint());
    s.row.expected = static_cast<std::uint32_t>(d.varint());
    s.row.value = d.text();
    s.row.expected_format = d.text();
    s.row.first_byte = static_cast<char>(d.below(256, "a byte"));
    s.row.swallowed_lines = d.varint();
    s.row.swallowed_bytes = d.varint();
    r.samples.push_back(std::move(s));
  }
  for (auto* list : {&r.warnings, &r.notes})
    for (std::uint64_t n = d.varint(); n > 0; --n) {
      placed_message m;
      std::get<0>(m.at) = d.varint();
      std::get<1>(m.at) = d.varint();
      m.text = d.text();
      list->push_back(std::move(m));
    }
  for (std::uint64_t n = d.varint(); n > 0; --n) {
    placed_skip s;
    s.input = d.varint();
    s.skip.file = d.text();
    s.skip.reason = d.text();
    r.skipped.push_back(std::move(s));
  }
  for (std::uint64_t n = d.varint(); n > 0; --n) {
    placed_tally t;
    t.tally.input = d.varint();
    t.part = d.varint();
    t.tally.file = d.text();
    t.tally.empty = d.varint() == 1;
    t.tally.bad_rows = d.varint();
    t.tally.header_rows = d.varint();
    t.tally.slash_dates = static_cast<std::uint8_t>(d.below(3, "a date order"));
    t.tally.order_from_dates = d.varint() == 1;
    r.tallies.push_back(std::move(t));
  }
  for (std::uint64_t n = d.varint(); n > 0; --n) {
    placed_range x;
    x.input = d.varint();
    x.part = d.varint();
    x.begin = d.varint();
    x.ended = d.varint() == 1;
    x.end = d.varint();
    x.lines = d.varint();
    r.ranges.push_back(x);
  }
  if (!d.done()) d.corrupt("bytes after the end");
  return r;
}

// What rank 0 decided, for every rank: the error to stop with, or the column names to go on with; or, when a
// rank's guessed cut did not hold, to count again with exact cuts.
struct decision {
  bool redo = false;
  std::optional<rank_error> stop;
  std::vector<std::string> key_names;
  std::string time_name;
};

std::string encode_decision(const decision& x) {
  varint_encoder e;
  e.varint(x.redo ? 1 : 0);
  e.varint(x.stop ? 1 : 0);
  if (x.stop) put_error(e, *x.stop);
  put_names(e, x.key_names);
  e.text(x.time_name);
  return std::move(e.bytes());
}

decision decode_decision(std::string_view bytes) {
  varint_decoder d = message_decoder(bytes);
  decision x;
  x.redo = d.varint() == 1;
  if (d.varint() == 1) x.stop = get_error(d);
  x.key_names = get_names(d);
  x.time_name = d.text();
  return x;
}

// Facts about each input that every rank computes alike: its size and whether it is cut into ranges; for a
// cut one, where its data starts and the line there.
struct split_input {
  std::size_t input = 0;
  std::uint64_t size = 0;  // the file's size when it was planned: every rank cuts the same bytes
  std::uint64_t data_begin = 0;
  std::uint64_t first_line = 0;
};

std::vector<input_size> size_inputs(const count_request& request, int ranks, std::vector<split_input>& splits) {
  const std::uint64_t min_bytes = split_min_bytes();
  std::vector<input_size> sizes(request.inputs.size());
  for (std::size_t i = 0; i < request.inputs.size(); ++i) {
    const std::string& path = request.inputs[i];
    struct stat st {};
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    sizes[i].bytes = static_cast<std::uint64_t>(st.st_size);
    std::string archive, member;
    // A file whose range cannot be left out alone stays whole: --on-bad-file skip leaves out whole inputs.
    if (ranks == 1 || sizes[i].bytes < min_bytes || request.on_bad_file != bad_file_policy::error ||
        split_zip_member_input(path, archive, member))
      continue;
    try {
      input_source source(path, input_source::default_chunk_bytes, nullptr, request.max_record_bytes);
      source.skip_leading(request.skip_lines, request.comment);
      char delimiter = request.delimiter;
      std::vector<std::string> header;
      std::uint64_t line = 0;
      if (!source.mapped() || !source.read_first_record(delimiter, request.has_header, header, line)) continue;
      source.check_intact();
      sizes[i].split = true;
      splits.push_back({i, source.bytes().size(), source.data_offset(), source.first_data_line()});
    } catch (const error&) {
      // Whole: the rank that counts it meets the error again and reports it as one process would.
    }
  }
  return sizes;
}

// The bytes of a split input as planned (its first split.size bytes), mapped for as long as `source` lives.
std::string_view planned_bytes(const count_request& request, const split_input& split,
                               std::unique_ptr<input_source>& source) {
  const std::string& path = request.inputs[split.input];
  source = std::make_unique<input_source>(path, input_source::default_chunk_bytes, nullptr, request.max_record_bytes);
  if (!source->mapped() || source->bytes().size() < split.size)
    throw error(error_kind::io, "the input changed while the MPI job was starting (it shrank, or cannot be mapped)",
                display_name(path), 0, "count a copy that no other program is writing");
  return source->bytes().substr(0, split.size);
}

// A digest of what a rank planned: the ranks must agree on it, or their byte ranges would not fit together.
std::uint64_t plan_digest(const std::vector<input_size>& sizes, const std::vector<split_input>& splits) {
  varint_encoder e;
  for (const auto& s : sizes) {
    e.varint(s.bytes);
    e.varint(s.split ? 1 : 0);
  }
  for (const auto& s : splits)
    for (const std::uint64_t v : {std::uint64_t{s.input}, s.size, s.data_begin, s.first_line}) e.varint(v);
  return bytes::fnv1a64(e.bytes());
}

// How a rank finds where its part of a split input starts (LABCOUNT_MPI_CUT; the tests and benchmarks pick).
enum class cut_method {
  guess,    // guess_record_start, then rank 0 checks every guess; a wrong one: the job counts again, exactly
  exact,    // count the quotes and LFs of every raw range first: the parity at each cut is known
  outside,  // like guess, but always reading the raw cut as outside quotes (the tests: wrong guesses)
};

cut_method cut_method_from_env() {
  const char* v = std::getenv("LABCOUNT_MPI_CUT");
  if (v != nullptr && std::string_view(v) == "exact") return cut_method::exact;
  if (v != nullptr && std::string_view(v) == "outside") return cut_method::outside;
  return cut_method::guess;
}

using part_key = std::pair<std::uint64_t, std::uint64_t>;  // (input, part)

// Guessed cuts: whether they hold, and then what to add to each part's lines (counted from 1 at its start).
// They hold when every part of every split input up to `upto` (the place of the first error; every part
// without one) starts where the part before it ended. Part 0 starts at the data, so by induction every part
// checked then starts at a record boundary, as exact cuts would have it, and its lines follow from the LFs
// of the parts before it.
std::optional<std::map<part_key, std::uint64_t>> line_offsets(const std::vector<rank_report>& all,
                                                              const std::vector<split_input>& splits,
                                                              std::uint64_t ranks, const position* upto) {
  std::map<part_key, const placed_range*> parts;
  for (const auto& r : all)
    for (const auto& x : r.ranges) parts[{x.input, x.part}] = &x;
  std::map<part_key, std::uint64_t> offsets;
  for (const split_input& split : splits) {
    std::uint64_t line = split.first_line;  // where part k starts
    for (std::uint64_t k = 0; k < ranks; ++k) {
      if (upto != nullptr && part_key(split.input, k) > part_key(std::get<0>(*upto), std::get<1>(*upto))) break;
      const auto it = parts.find({split.input, k});
      if (it == parts.end()) return std::nullopt;  // a rank failed before it planned the part
      if (k > 0) {
        const auto before = parts.find({split.input, k - 1});
        if (!before->second->ended || before->second->end != it->second->begin) return std::nullopt;
        offsets[{split.input, k}] = line - 1;
      }
      if (it->second->ended) line += it->second->lines;
    }
  }
  return offsets;
}

// Rebases the lines of a report's parts (counted from 1 at each part's start) onto the input's.
void rebase_lines(rank_report& r, const std::map<part_key, std::uint64_t>& offsets) {
  const auto shift = [&](position& at, std::uint64_t& line) {
    const auto it = offsets.find({std::get<0>(at), std::get<1>(at)});
    if (it == offsets.end() || line == 0) return;  // a whole input or part 0; or no line (record too long)
    line += it->second;
    std::get<2>(at) = line;
  };
  if (r.failed && r.failed->in_range) shift(r.failed->at, r.failed->line);  // not a header's line
  for (auto& s : r.samples) shift(s.at, s.row.line);
}

// The job's progress line, drawn by rank 0 (src/progress.hpp) from the sums of every rank's counters. While the
// ranks count, each rank's thread sends rank 0 its counters every 200 ms, and rank 0's thread adds up the last
// ones it has from each. A rank's last message says it is done; rank 0's thread ends once every rank has said
// so. Either thread ends before its rank's next collective call (finish(), or the destructor: the threads of
// a rank never call into MPI together, MPI_THREAD_SERIALIZED).
class job_progress {
 public:
  // shown: rank 0's progress line's counters. items: this rank's work (a split input is done when its part 0 is).
  job_progress(communicator& comm, const run_progress& shown, std::span<const work_item> items)
      : comm_(comm), shown_(shown), items_(items.begin(), items.end()), last_(static_cast<std::size_t>(comm.size())) {
    try {
      thread_ = std::thread([this] { comm_.rank() == 0 ? receive() : send(); });
    } catch (const std::system_error&) {
      // No thread (a limit on threads): no line while counting, and finish() makes the rank's last exchange,
      // so that rank 0 still hears every rank say it is done, and no rank waits for one that never speaks.
    }
  }
  ~job_progress() { finish(); }
  job_progress(const job_progress&) = delete;
  job_progress& operator=(const job_progress&) = delete;

  // The counters this rank's count adds to.
  run_progress local() noexcept { return {&bytes_, &files_, &rows_, &compressed_, &phase_, &phase_items_, &spilled_}; }

  // Waits for the thread (on rank 0: for every rank's last message); without one, does its last exchange.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
      thread_.join();
    else
      comm_.rank() == 0 ? receive() : send();
  }

 private:
  enum : std::size_t { bytes, rows, files, spilled, compressed, done, fields };
  using counters = std::array<std::uint64_t, fields>;

  counters mine(bool last) const {
    counters c{};
    c[bytes] = bytes_.load(std::memory_order_relaxed);
    c[rows] = rows_.load(std::memory_order_relaxed);
    const std::uint64_t finished = files_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < items_.size() && i < finished; ++i) c[files] += items_[i].part == 0 ? 1 : 0;
    c[spilled] = spilled_.load(std::memory_order_relaxed);
    c[compressed] = compressed_.load(std::memory_order_relaxed) ? 1 : 0;
    c[done] = last ? 1 : 0;
    return c;
  }

  // Waits up to `period` for finish(); true once it was called.
  bool wait(std::chrono::milliseconds period) {
    std::unique_lock lock(mutex_);
    return wake_.wait_for(lock, period, [this] { return stopping_; });
  }

  void send() {
    while (!wait(std::chrono::milliseconds(200))) comm_.send_progress(mine(false));
    comm_.send_progress(mine(true));
  }

  void receive() {
    std::size_t done_ranks = 1;  // rank 0's own
    bool stopping = false;
    while (true) {
      counters got{};
      int from = 0;
      bool arrived = false;
      while (comm_.receive_progress(from, got)) {
        arrived = true;
        if (from > 0 && static_cast<std::size_t>(from) < last_.size()) {
          if (got[done] != 0 && last_[static_cast<std::size_t>(from)][done] == 0) ++done_ranks;
          last_[static_cast<std::size_t>(from)] = got;
        }
      }
      last_[0] = mine(false);
      counters sum{};
      for (const auto& c : last_)
        for (std::size_t f = 0; f < fields; ++f) sum[f] += c[f];
      shown_.bytes->store(sum[bytes], std::memory_order_relaxed);
      shown_.rows->store(sum[rows], std::memory_order_relaxed);
      shown_.files->store(sum[files], std::memory_order_relaxed);
      if (shown_.spilled != nullptr) shown_.spilled->store(sum[spilled], std::memory_order_relaxed);
      if (sum[compressed] != 0) shown_.compressed->store(true, std::memory_order_relaxed);
      if (stopping && done_ranks == last_.size()) return;
      if (arrived) continue;
      if (stopping)  // every rank's last message is near: a short sleep, not a spin (wait() returns at once now)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      else
        stopping = wait(std::chrono::milliseconds(100));
    }
  }

  communicator& comm_;
  run_progress shown_;
  std::vector<work_item> items_;
  std::vector<counters> last_;  // rank 0: each rank's last counters
  std::atomic<std::uint64_t> bytes_{0}, files_{0}, rows_{0}, phase_items_{0}, spilled_{0};
  std::atomic<bool> compressed_{false};
  std::atomic<run_phase> phase_{run_phase::reading};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// Runs one step of this rank's work and returns what went wrong, for the ranks to agree on before the next
// collective (a rank that threw alone would leave the others waiting in it): a labcount error as it is, running
// out of memory as an error naming the rank, the step and the ways out, anything else as an internal error.
template <typename Step>
std::optional<error> on_rank(int rank, const char* step_name, Step&& step) {
  try {
    step();
    return std::nullopt;
  } catch (const error& e) {
    return e;
  } catch (const std::bad_alloc&) {
    return error(error_kind::internal, "out of memory on MPI rank " + std::to_string(rank) + " while " + step_name, "",
                 0,
                 "use more ranks (each then holds a smaller share of the keys), fewer --threads per rank, or count in "
                 "parts with --partial and merge the states in a tree");
  } catch (const std::exception& e) {
    return error(error_kind::internal, "MPI rank " + std::to_string(rank) + ": " + e.what());
  }
}

}  // namespace

void agree_on_error(communicator& comm, const std::optional<error>& mine) {
  varint_encoder e;
  e.varint(mine ? 1 : 0);
  if (mine)
    put_error(e, rank_error{{0, 0, 0}, mine->kind(), mine->description(), mine->file(), mine->hint(), mine->line()});
  std::vector<std::string> all = gather(comm, std::move(e.bytes()));
  std::string first;  // rank 0: the first rank's error (by rank), as sent
  for (const auto& bytes : all)
    if (!bytes.empty() && bytes[0] == 1) {
      first = bytes;
      break;
    }
  first = comm.broadcast(std::move(first), 0);
  if (first.empty()) return;
  varint_decoder d = message_decoder(first);
  d.varint();
  throw get_error(d).make();
}

std::optional<job_result> count_on_ranks(communicator& comm, const count_request& request, value_mode table,
                                         const std::function<count_result(const count_request&)>& count_local) {
  const int rank = comm.rank();
  const auto ranks = static_cast<std::uint64_t>(comm.size());
  const auto t0 = std::chrono::steady_clock::now();
  // LABCOUNT_MPI_TRACE=1: each rank says on stderr when each step ended, and what it sent (bench/mpi_scaling.sh).
  const bool trace = std::getenv("LABCOUNT_MPI_TRACE") != nullptr;
  const auto mark = [&](const char* what, const std::string& more = {}) {
    if (trace)
      std::fprintf(stderr, "labcount: rank %d: %s at %.3f s%s\n", rank, what,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), more.c_str());
  };

  // ---- The work split: the same on every rank (checked). A split input's part k is its records that start in
  // [raw_begin, raw_end) = [cut(k), cut(k + 1)).
  std::vector<split_input> splits;
  std::vector<input_size> sizes;
  std::vector<std::uint64_t> raw_begin, raw_end;  // per split input, this rank's
  const auto cut = [&](const split_input& split, std::uint64_t k) {
    const std::uint64_t span = split.size - split.data_begin;
    return split.data_begin + span / ranks * k + span % ranks * k / ranks;  // floor(span * k / ranks)
  };
  std::optional<error> failed = on_rank(rank, "planning its share of the inputs", [&] {
    sizes = size_inputs(request, comm.size(), splits);
    for (const split_input& split : splits) {
      raw_begin.push_back(cut(split, static_cast<std::uint64_t>(rank)));
      raw_end.push_back(cut(split, static_cast<std::uint64_t>(rank) + 1));
    }
  });
  agree_on_error(comm, failed);
  // Every rank must have cut the same bytes (a file that grew between two ranks' looks would not fit).
  // (And whether rank 0 draws a progress line, which every rank then sends its counters to.)
  std::vector<std::uint64_t> digest = {plan_digest(sizes, splits), ~plan_digest(sizes, splits), splits.size(),
                                       rank == 0 && request.progress.bytes != nullptr ? 1u : 0u};
  std::vector<std::uint64_t> agreed = digest;
  comm.all_max(agreed);
  const bool show_progress = agreed[3] != 0;
  if (agreed[0] != digest[0] || agreed[1] != digest[1] || agreed[2] != digest[2])
    throw error(error_kind::io, "the MPI ranks see different inputs (a file changed while the job was starting?)", "",
                0, "count files that no other program is writing, from a folder every rank sees alike");
  const std::vector<work_item> items = deal_inputs(sizes, comm.size())[static_cast<std::size_t>(rank)];

  // This rank's items and the byte range of each split one (inside the try below: an error is the rank's).
  count_request local = request;
  local.inputs.clear();
  local.ranges.clear();
  // --max-bad-rows counts the whole job's bad rows in input order, which only rank 0 sees (the tallies below): a
  // rank that stopped at its own share's count would lose its tallies, and the job could name another input than
  // one process does. So a rank counts its share to the end, and rank 0 finds where the job passed the limit.
  local.max_bad_rows = no_bad_row_limit;
  local.warn_date_order = false;  // rank 0 decides, from every input's order (date_order_warnings)
  // Exact cuts: per split input, the quotes and LFs of this rank's raw range, and their sums over the ranks
  // before it (the quote parity and the line at its raw begin).
  std::vector<std::uint64_t> counters, before;
  const cut_method method = cut_method_from_env();
  rank_report mine;
  const auto plan_items = [&](bool guessed) {
    local.inputs.clear();
    local.ranges.clear();
    std::size_t next_split = 0;
    for (const work_item& item : items) {
      local.inputs.push_back(request.inputs[item.input]);
      count_request::input_range range;
      if (item.parts > 1) {
        while (splits[next_split].input != item.input) ++next_split;
        const std::size_t s = next_split;
        const std::uint64_t data_begin = splits[s].data_begin;
        std::unique_ptr<input_source> source;
        const std::string_view file = planned_bytes(request, splits[s], source);
        range.whole = false;
        range.begin = data_begin;
        range.end = file.size();
        range.first_line = splits[s].first_line;
        const bool last = item.part + 1 == item.parts;
        if (guessed) {
          // Lines are counted from 1 at a guessed start; rank 0 rebases them once the guesses are checked.
          if (item.part > 0) {
            range.begin = method == cut_method::outside ? record_start_at_or_after(file, data_begin, raw_begin[s], 0)
                                                        : guess_record_start(file, data_begin, raw_begin[s]);
            range.first_line = 1;
          }
          if (!last) range.cut = raw_end[s];
        } else {
          const std::uint64_t quotes_before = before[2 * s], lines_before = before[2 * s + 1];
          if (item.part > 0) range.begin = record_start_at_or_after(file, data_begin, raw_begin[s], quotes_before);
          if (!last)
            range.end = record_start_at_or_after(file, data_begin, raw_end[s], quotes_before + counters[2 * s]);
          range.first_line += lines_before;
          if (range.begin > raw_begin[s])
            range.first_line += count_quotes_and_lines(file.data() + raw_begin[s], file.data() + range.begin).lines;
        }
        mine.ranges.push_back({item.input, item.part, range.begin});
      }
      local.ranges.push_back(range);
    }
  };

  // ---- This rank's share. Each rank guesses where its parts of the split inputs start, unless told not to; when
  // a guess does not hold (rank 0 checks them all), every rank counts again with exact cuts.
  count_result result;
  job_result job;
  decision decided;
  for (bool guessed = method != cut_method::exact;; guessed = false) {
    if (!guessed) {
      counters.assign(2 * splits.size(), 0);
      failed = on_rank(rank, "finding the record boundaries of its share", [&] {
        for (std::size_t s = 0; s < splits.size(); ++s) {
          std::unique_ptr<input_source> source;  // one mapping at a time: their number is bounded
          const std::string_view file = planned_bytes(request, splits[s], source);
          const quote_line_counts c = count_quotes_and_lines(file.data() + raw_begin[s], file.data() + raw_end[s]);
          counters[2 * s] = c.quotes;
          counters[2 * s + 1] = c.lines;
        }
      });
      agree_on_error(comm, failed);
      before = counters;
      comm.exclusive_sum(before);
    }
    mark(guessed ? "split" : "split exactly");
    mine = {};
    result = {};
    job = {};
    decided = {};
    std::size_t current = 0;
    local.current_input = &current;
    const auto place = [&](std::size_t local_index) {
      return local_index < items.size()
                 ? std::pair<std::uint64_t, std::uint64_t>(items[local_index].input, items[local_index].part)
                 : std::pair<std::uint64_t, std::uint64_t>(0, 0);
    };
    std::optional<job_progress> progress;
    local.progress = {};
    if (show_progress) {
      if (rank == 0) request.progress.phase->store(run_phase::reading, std::memory_order_relaxed);  // (again)
      local.progress = progress.emplace(comm, request.progress, items).local();
    }
    std::vector<count_request::range_done> ranges_done;
    bool in_range = false;
    local.ranges_done = &ranges_done;
    local.in_range = &in_range;
    if (const auto e = on_rank(rank, "counting its share of the inputs", [&] {
          plan_items(guessed);
          if (!items.empty()) result = count_local(local);
        })) {
      const auto [input, part] = place(current);
      mine.failed =
          rank_error{{input, part, e->line()}, e->kind(), e->description(), e->file(), e->hint(), e->line(), in_range};
    }
    // Where each part this rank counted whole ended, and its LFs (also when a later input failed).
    for (const auto& done : ranges_done)
      for (auto& x : mine.ranges)
        if (x.input == items[done.input].input) {
          x.ended = true;
          x.end = done.end;
          x.lines = done.lines;
        }
    progress.reset();  // on rank 0, once every rank has counted its share
    if (show_progress && rank == 0) request.progress.phase->store(run_phase::merging, std::memory_order_relaxed);
    if (!mine.failed && !items.empty()) {
      mine.counted = true;
      mine.rows = result.rows;
      mine.bad_rows = result.bad_rows;
      mine.bytes = result.bytes;
      mine.parse_ns = result.parse_time.count();
      mine.finish_ns = result.finish_time.count();
      mine.backend_name = result.backend_name;
      mine.backend_time = result.backend_time;
      mine.key_names = result.key_names;
      mine.time_name = result.time_name;
      for (const auto& t : result.per_input) {
        placed_tally p{items[t.input].part, t};
        p.tally.input = items[t.input].input;
        if (!t.empty && mine.named_input == nowhere) mine.named_input = p.tally.input;
        mine.tallies.push_back(std::move(p));
      }
      // Where each bad row, message and skipped input is in the job's input order (their indexes are this rank's).
      for (auto& row : result.bad_row_samples) {
        const work_item& item = items[row.input];
        mine.samples.push_back({{item.input, item.part, row.line}, std::move(row)});
      }
      for (auto [from, to] : {std::pair(&result.warnings, &mine.warnings), std::pair(&result.notes, &mine.notes)})
        for (auto& m : *from) to->push_back({{items[m.input].input, items[m.input].part, 0}, std::move(m.text)});
      for (auto& s : result.skipped_files) mine.skipped.push_back({items[s.input].input, std::move(s)});
    }

    mark("counted");
    // ---- Rank 0 decides: the first error in input order, or the job goes on with the first input's names.
    std::vector<std::string> reports = gather(comm, encode_report(mine));
    if (rank == 0) {
      std::vector<rank_report> all;
      for (const auto& bytes : reports) all.push_back(decode_report(bytes));
      const auto first_error = [&] {
        std::optional<rank_error> first;
        for (auto& r : all)
          if (r.failed && (!first || r.failed->at < first->at)) first = r.failed;
        return first;
      };
      std::optional<rank_error> first = first_error();
      if (guessed) {
        // Up to the first error (which a wrong guess may have made), every part must start where the one before
        // it ended; then its lines are rebased onto the input's.
        if (const auto offsets = line_offsets(all, splits, ranks, first ? &first->at : nullptr)) {
          for (auto& r : all) rebase_lines(r, *offsets);
          first = first_error();
        } else {
          decided.redo = true;
        }
      }
      if (!decided.redo) {
        // --max-bad-rows counts the bad rows of the whole job, in input order.
        std::vector<placed_tally> tallies;
        for (const auto& r : all) tallies.insert(tallies.end(), r.tallies.begin(), r.tallies.end());
        std::sort(tallies.begin(), tallies.end(), [](const placed_tally& a, const placed_tally& b) {
          return std::pair(a.tally.input, a.part) < std::pair(b.tally.input, b.part);
        });
        std::uint64_t bad = 0;
        for (const auto& t : tallies) {
          bad += t.tally.bad_rows;
          if (bad > request.max_bad_rows) {
            const position at{t.tally.input, t.part, nowhere};
            if (!first || at < first->at) {
              const error e = too_many_bad_rows(request.max_bad_rows, t.tally.file);
              first = rank_error{at, e.kind(), e.description(), e.file(), e.hint(), e.line()};
            }
            break;
          }
        }
        decided.stop = first;
        const rank_report* namer = nullptr;
        for (const auto& r : all)
          if (r.counted && (namer == nullptr || r.named_input < namer->named_input)) namer = &r;
        if (namer != nullptr) {
          decided.key_names = namer->key_names;
          decided.time_name = namer->time_name;
        }
        if (!first) {
          // The report of the whole job, in input order.
          count_result& rep = job.report;
          std::vector<placed_row> samples;
          std::vector<placed_skip> skipped;
          std::vector<placed_message> warnings, notes;
          for (auto& r : all) {
            rep.rows += r.rows;
            rep.bad_rows += r.bad_rows;
            rep.bytes += r.bytes;
            rep.parse_time = std::max(rep.parse_time, std::chrono::nanoseconds(r.parse_ns));
            rep.finish_time = std::max(rep.finish_time, std::chrono::nanoseconds(r.finish_ns));
            rep.backend_time.transfer = std::max(rep.backend_time.transfer, r.backend_time.transfer);
            rep.backend_time.sort = std::max(rep.backend_time.sort, r.backend_time.sort);
            rep.backend_time.reduce = std::max(rep.backend_time.reduce, r.backend_time.reduce);
            rep.backend_time.setup = std::max(rep.backend_time.setup, r.backend_time.setup);
            if (rep.backend_name.empty()) rep.backend_name = r.backend_name;
            for (auto& s : r.samples) samples.push_back(std::move(s));
            std::move(r.warnings.begin(), r.warnings.end(), std::back_inserter(warnings));
            std::move(r.notes.begin(), r.notes.end(), std::back_inserter(notes));
            for (auto& s : r.skipped) skipped.push_back(std::move(s));
          }
          std::stable_sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
          for (auto& s : samples)
            if (rep.bad_row_samples.size() < bad_row_sample_limit) rep.bad_row_samples.push_back(std::move(s.row));
          // A rank sees only its own inputs: the date order warnings are decided here, from every input's order.
          std::vector<input_tally> in_order;
          for (const auto& t : tallies) in_order.push_back(t.tally);
          for (auto& w : date_order_warnings(in_order)) warnings.push_back({{w.input, 0, 0}, std::move(w.text)});
          // Messages in input order, each once: one process notes a thing once, at the first input it is true of (the
          // parts of a split input each say what its first part says).
          for (auto [from, to] : {std::pair(&warnings, &rep.warnings), std::pair(&notes, &rep.notes)}) {
            std::stable_sort(from->begin(), from->end(), [](const auto& a, const auto& b) { return a.at < b.at; });
            std::unordered_set<std::string> given;
            for (auto& m : *from)
              if (given.insert(m.text).second) to->push_back({std::get<0>(m.at), std::move(m.text)});
          }
          std::stable_sort(skipped.begin(), skipped.end(),
                           [](const auto& a, const auto& b) { return a.input < b.input; });
          for (auto& s : skipped) rep.skipped_files.push_back(std::move(s.skip));
          for (auto& t : tallies) {
            if (!rep.per_input.empty() && rep.per_input.back().input == t.tally.input) {
              rep.per_input.back().bad_rows += t.tally.bad_rows;
              rep.per_input.back().header_rows += t.tally.header_rows;
              rep.per_input.back().empty = rep.per_input.back().empty && t.tally.empty;
            } else {
              rep.per_input.push_back(std::move(t.tally));
            }
          }
        }
      }
    }
    decided = decode_decision(comm.broadcast(rank == 0 ? encode_decision(decided) : std::string(), 0));
    if (!decided.redo) break;
    mark("a guessed cut did not hold: counting again");
  }
  if (decided.stop) throw decided.stop->make();

  mark("decided");
  // ---- The exchange: each rank merges one share of the keys, then rank 0 merges the shares.
  // A rank that runs out of memory on the way says so to the others at the next point where they all meet (its
  // error, or the exchange's own check), so that every rank stops with it instead of waiting for it.
  // A rank sends the other ranks their parts of its state and keeps its own part in place: its dictionary, whose
  // table is built, takes in the parts sent to it (mostly keys it has), and the other parts' keys stay in it
  // without values. Rank 0 takes in the ranks' shares the same way; every key it holds without a value is in
  // one of them, since it sent that key's values to the rank that owns it.
  std::optional<partial_state> share;
  std::vector<std::string> send(ranks);
  std::string partitioned;  // what the trace says of it
  failed = on_rank(rank, "preparing its share of the partial states", [&] {
    if (!items.empty()) {
      result.key_names = decided.key_names;
      result.time_name = decided.time_name;
      share = partial_of(std::move(result), request, table);
    }
    if (ranks > 1 && share) {
      std::vector<bool> others(ranks, true);
      others[static_cast<std::size_t>(rank)] = false;
      send = encode_partitioned(*share, ranks, others, ranks);  // the rows stay here
      std::uint64_t sent = 0;
      for (const auto& bytes : send) sent += bytes.size();
      partitioned = "; sends " + std::to_string(sent) + " bytes for " + std::to_string(share->keys.size()) + " keys, " +
                    std::to_string(share->table == value_mode::counts ? share->keys.size() : share->pairs.size()) +
                    " pairs";
      keep_part(*share, ranks, static_cast<std::size_t>(rank));
    }
  });
  if (ranks > 1) agree_on_error(comm, failed);
  if (failed) throw *failed;  // one rank alone
  std::string share_bytes;    // a rank's share, for rank 0
  if (ranks > 1) {
    if (share) mark("partitioned", partitioned);
    std::vector<std::string> received;
    try {
      received = comm.all_to_all(std::move(send));
    } catch (const std::bad_alloc&) {  // every rank is here, with the same exception
      throw error(error_kind::internal, "out of memory on an MPI rank receiving its share of the partial states", "", 0,
                  "use more ranks (each then counts fewer inputs and receives a smaller share of the keys), or "
                  "count in parts with --partial and merge the states in a tree");
    }
    mark("exchanged");
    failed = on_rank(rank, "merging its share of the keys", [&] {
      for (std::size_t r = 0; r < ranks; ++r) {
        if (received[r].empty()) continue;
        const std::string from = "the state of MPI rank " + std::to_string(r);
        if (!share)
          share = decode_partial(received[r], from);
        else
          merge_encoded(*share, "MPI rank " + std::to_string(rank), received[r], from);
        std::string().swap(received[r]);
      }
      // Rank 0 keeps its share as it is; the others send theirs: their part, with their rows.
      if (share && rank != 0) {
        std::vector<bool> mine_only(ranks, false);
        mine_only[static_cast<std::size_t>(rank)] = true;
        share_bytes = std::move(encode_partitioned(*share, ranks, mine_only, static_cast<std::size_t>(rank))[rank]);
        share.reset();
      }
    });
    agree_on_error(comm, failed);
  }
  mark("merged", "; sends rank 0 its share: " + std::to_string(share_bytes.size()) + " bytes");
  std::vector<std::string> shares;
  try {
    shares = gather(comm, std::move(share_bytes));
  } catch (const std::bad_alloc&) {  // every rank is here, with the same exception
    throw error(error_kind::internal, "out of memory on MPI rank 0 receiving the ranks' shares of the keys", "", 0,
                "use a machine with more memory for rank 0 (it holds every key to write the table), or count in "
                "parts with --partial and merge the states in a tree");
  }
  mark("gathered");
  if (rank != 0) return std::nullopt;
  // Rank 0 alone merges the shares: an error here is not thrown (the others have gone on to their last
  // collective), but returned, for the caller to agree on with them there.
  if (share) {
    job.state = std::move(*share);
  } else {
    // Nothing counted here: an empty state of the right shape (the whole job's, if no rank counted anything).
    job.state.table = table;
    job.state.bucket = request.bucket;
    job.state.per_file = request.per_file;
    job.state.key_names = decided.key_names;
    job.state.time_name = table == value_mode::counts ? std::string() : decided.time_name;
  }
  try {
    std::vector<std::string> names(ranks);
    for (std::size_t r = 1; r < ranks; ++r) names[r] = "the share of MPI rank " + std::to_string(r);
    merge_shares(job.state, "MPI rank 0", shares, names, 0);
  } catch (const error& e) {
    job.failed = e;
  } catch (const std::bad_alloc&) {
    job.failed = error(error_kind::internal, "out of memory on MPI rank 0 merging the ranks' shares of the keys", "", 0,
                       "use a machine with more memory for rank 0 (it holds every key to write the table), or count "
                       "in parts with --partial and merge the states in a tree");
  } catch (const std::exception& e) {
    job.failed = error(error_kind::internal, std::string("MPI rank 0: ") + e.what());
  }
  mark("final merge");
  return job;
}

}  // namespace labcount
