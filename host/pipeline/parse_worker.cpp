#include "pipeline/parse_worker.hpp"

#include <cstring>

#include "util/errors.hpp"

namespace labcount {

void parse_worker::run(unsigned id, input_source& source, const parse_plan& plan, bad_row_log& bad_rows,
                       shared_dictionary& global, count_backend& backend, std::atomic<bool>& stop) {
  codes_.resize(batch_rows);
  if (plan.mode != value_mode::counts) {
    values_.resize(batch_rows);
    if (!times_read_by_ || !times_read_by_->reads_like(plan.times)) {
      recent_times_.forget();  // another reading of the same texts (D/M instead of M/D)
      times_read_by_ = plan.times;
    }
  }
  header_code_ = -1;
  if (!plan.header_record.empty() && !direct_) {
    const std::uint32_t code = local_.find(plan.header_key, hash_key(plan.header_key));
    if (code != key_dictionary::missing) header_code_ = code;
  }
  try {
    while (!stop.load(std::memory_order_relaxed)) {
      std::optional<chunk> c;
      try {
        c = source.next_chunk();
      } catch (const error& e) {
        if (e.kind() != error_kind::record_too_long) throw;
        bad_rows.record_too_long_at(source.chunks_cut());  // its line is known once the workers stop
        stop = true;
        break;
      }
      if (!c) break;
      if (!bad_rows.wants(c->index)) {
        source.release(*c);
        continue;
      }
      bytes_ += static_cast<std::uint64_t>(c->end - c->begin);
      found_.clear();
      std::uint64_t lines = 0;
      scan_chunk(id, *c, plan, found_, global, backend, lines);
      if (!bad_rows.add_chunk(c->index, c->begin, lines, found_)) stop = true;
      source.release(*c);
    }
    flush(id, plan, global, backend);
  } catch (...) {
    stop = true;
    throw;
  }
}

void parse_worker::scan_chunk(unsigned id, const chunk& c, const parse_plan& plan, bad_row_log::chunk_findings& found,
                              shared_dictionary& global, count_backend& backend, std::uint64_t& lines) {
  const scan_options& options = plan.options;
  const bool stop_at_first = plan.stop_at_first;  // the rest of the chunk cannot matter then
  auto on_bad = [&](row_problem problem, const char* where, const char* record, std::uint32_t fields) {
    // A record with an odd number of quotes never ends (the parity rule): it runs to the end of the input,
    // whether parsing it first met an unclosed quoted field or a stray quote in an unquoted one. That
    // swallowed the rest of the input, so it is not one bad row. Only the last chunk can hold one.
    // (The record's own quotes: an earlier bad record of the chunk sees the last one's odd quotes too.)
    const bool quote_problem = problem == row_problem::unterminated_quote || problem == row_problem::stray_quote;
    if (quote_problem && c.at_eof && find_record_end(record, c.end) == c.end && (count_quotes(record, c.end) & 1) != 0)
        [[unlikely]] {
      // Measure what it swallowed while the chunk's bytes are here.
      const std::uint64_t lfs = count_quotes_and_lines(where, c.end).lines;
      found.unterminated = {where, bad_row{.file = plan.file_name,
                                           .problem = problem,
                                           .fields = fields,
                                           .expected = options.num_fields,
                                           .first_byte = *record,
                                           .swallowed_lines = lfs + (c.end[-1] != '\n' ? 1 : 0),
                                           .swallowed_bytes = static_cast<std::uint64_t>(c.end - where)}};
      return false;
    }
    ++found.count;
    if (found.rows.size() < bad_row_sample_limit)
      found.rows.push_back(
          {where, bad_row{.file = plan.file_name,
                          .problem = problem,
                          .fields = fields,
                          .expected = options.num_fields,
                          .first_byte = *record}});
    return !stop_at_first;
  };
  // Out of line: building a bad_row in the hot loop's function slows every row down.
  auto on_bad_time = [&](std::string_view value, const char* record) __attribute__((noinline, cold)) {
    ++found.count;
    if (found.rows.size() < bad_row_sample_limit) {
      bad_row row{.file = plan.file_name,
                  .problem = row_problem::bad_timestamp,
                  .expected = options.num_fields,
                  .value = std::string(value.substr(0, 80)),
                  .expected_format = plan.times.description()};
      found.rows.push_back({record, std::move(row)});
    }
    return !stop_at_first;
  };
  // A row whose bytes are the header's (the header key is its key): the result of concatenating files.
  auto is_header_row = [&](const char* record) __attribute__((noinline, cold)) {
    const std::string& h = plan.header_record;
    if (h.empty() || static_cast<std::size_t>(c.end - record) < h.size() ||
        std::memcmp(record, h.data(), h.size()) != 0)
      return false;
    const char* after = record + h.size();
    return after == c.end || *after == '\n' || (*after == '\r' && (after + 1 == c.end || after[1] == '\n'));
  };
  auto push_code = [&](std::string_view key, const char* record) __attribute__((always_inline)) {
    if (direct_) [[unlikely]] {
      if (key == plan.header_key && is_header_row(record)) [[unlikely]] {
        ++header_rows_;
        return true;
      }
      if (key.data() < c.begin || key.data() >= c.end) key = key_copies_.emplace_back(key);  // quoted
      keys_[batched_] = key;
      hashes_[batched_] = hash_key(key);
    } else {
      std::int64_t code;
      if (!last_key_.find(key, code)) {
        const std::size_t known = local_.size();
        code = local_.encode(key);
        if (local_.size() != known && key == plan.header_key && !plan.header_record.empty()) [[unlikely]]
          header_code_ = code;
        last_key_.remember(key, code);
      }
      if (code == header_code_ && is_header_row(record)) [[unlikely]] {
        ++header_rows_;
        return true;
      }
      codes_[batched_] = static_cast<std::uint32_t>(code);
    }
    if (++batched_ == batch_rows) flush(id, plan, global, backend);
    return true;
  };
  // Plain counts get a callback without the time column, so their hot loop carries nothing of it.
  auto on_key_count = [&](std::string_view key, std::string_view, const char* record) __attribute__((always_inline)) {
    return push_code(key, record);
  };
  auto on_key_timed = [&](std::string_view key, std::string_view value, const char* record)
      __attribute__((always_inline)) {
    std::int64_t cached;
    if (!recent_times_.find(value, cached)) {
      timestamp t;
      if (!plan.times.parse(value, t)) [[unlikely]] {
        if (key == plan.header_key && is_header_row(record)) {  // its time column holds the column's name
          ++header_rows_;
          return true;
        }
        return on_bad_time(value, record);
      }
      cached = plan.mode == value_mode::stats ? t : bucket_of(t, plan.bucket);
      recent_times_.remember(value, cached);
    }
    values_[batched_] = cached;
    return push_code(key, record);
  };
  lines = plan.mode != value_mode::counts
              ? scan_records(c.begin, c.end, c.at_eof, options, scratch_, on_key_timed, on_bad)
              : scan_records(c.begin, c.end, c.at_eof, options, scratch_, on_key_count, on_bad);
  if (direct_) flush(id, plan, global, backend);  // the batch's keys point into the chunk
}

void parse_worker::flush(unsigned id, const parse_plan& plan, shared_dictionary& global, count_backend& backend) {
  if (batched_ == 0) return;
  const std::span<std::uint32_t> codes(codes_.data(), batched_);
  if (direct_) {
    global.encode_many(std::span(keys_.data(), batched_), std::span(hashes_.data(), batched_), codes.data());
    key_copies_.clear();
  } else {
    if (local_.size() > local_to_global_.size()) {
      const std::size_t first = local_to_global_.size();
      new_keys_.clear();
      new_hashes_.clear();
      for (auto code = static_cast<std::uint32_t>(first); code < local_.size(); ++code) {
        new_keys_.push_back(local_.key(code));
        new_hashes_.push_back(hash_key(new_keys_.back()));
      }
      local_to_global_.resize(local_.size());
      global.encode_many(new_keys_, new_hashes_, local_to_global_.data() + first);
    }
    for (auto& code : codes) code = local_to_global_[code];
  }
  row_batch batch{codes, {}};
  if (plan.mode != value_mode::counts) batch.values = std::span(values_.data(), batched_);
  backend.consume(id, batch);
  rows_ += batched_;
  if (plan.rows_progress != nullptr) plan.rows_progress->fetch_add(batched_, std::memory_order_relaxed);
  batched_ = 0;
  if (local_.size() > private_dictionary_limit) {
    local_ = key_dictionary();
    header_code_ = -1;
    last_key_.forget();
    local_to_global_ = {};
    direct_ = true;
    keys_.resize(batch_rows);
    hashes_.resize(batch_rows);
  }
}

void parse_worker::roll_back() noexcept {
  rows_ = marked_rows_;
  bytes_ = marked_bytes_;
  batched_ = 0;
  key_copies_.clear();
}

}  // namespace labcount
