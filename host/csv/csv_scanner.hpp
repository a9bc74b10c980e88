// The CSV scanner: finds records and the wanted field of each, 64 bytes at a time.
//
//   "a,S1\r\n\"x,y\",S2\n"   key_field = 1
//   masks per 64-byte block:  quote, delimiter, LF  ->  in-quote = prefix-XOR(quote)
//   structural = (delimiter | LF) & ~in-quote  ->  walk its set bits: field ends, record ends
//   -> on_key("S1"), on_key("S2")
//
// Quoting follows RFC 4180, which makes "inside quotes" the parity of the quotes seen so far: a record
// ends at an LF preceded by an even number of quotes. That single rule decides record boundaries
// everywhere (the chunk cutter, this scanner, the header reader), so how a file is split between threads
// can never change which bytes form a record. Records without any quote take the fast path; records with
// quotes are re-read by parse_record(), which unescapes and validates them strictly.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "csv/key_tuple.hpp"

namespace labcount {

enum class row_problem : std::uint8_t {
  none,
  too_few_fields,
  too_many_fields,
  unterminated_quote,
  stray_quote,    // a quote inside an unquoted field, or text right after a closing quote
  bad_timestamp,  // the --time field does not parse
};

const char* describe(row_problem problem) noexcept;

enum class error_kind;
// The error_kind of a bad row's problem (as --on-bad-row error reports it).
error_kind error_kind_for(row_problem problem) noexcept;

inline constexpr std::uint32_t no_field = 0xffffffffu;

// The most columns one key may have (--key A,B,...).
inline constexpr std::size_t max_key_parts = 16;

struct scan_options {
  char delimiter = ',';
  std::uint32_t key_field = 0;  // 0-based index of the key field (the first part's, for a composite key)
  // A composite key (--key SampleID,Assay): its fields in key order, key_tuple-encoded into one key
  // (csv/key_tuple.hpp). key_parts 1: the key is key_field's bytes as they are.
  std::uint32_t key_parts = 1;
  std::array<std::uint32_t, max_key_parts> key_fields{};
  std::uint32_t value_field = no_field;  // 0-based index of a second field to extract (--time), if any
  std::uint32_t num_fields = 1;          // fields every row must have (from the header)
  // --comment: a record whose first byte is `comment` is a comment line, left out (never a bad row).
  bool skip_comments = false;
  char comment = '\0';
};

// One record parsed the slow, strict way. Field views point into the record or into `scratch`.
struct parsed_record {
  std::vector<std::string_view> fields;
  std::string scratch;  // unescaped bytes of quoted fields
  std::string key;      // a composite key, encoded (the view on_key gets points here)
  std::vector<const char*> field_ends;  // a composite key's scan: where each field up to its last part ends
  row_problem problem = row_problem::none;
  const char* problem_at = nullptr;  // where the problem was found
};

// Parses the record [begin, end) (no LF; a CR right before `end` is a line ending) strictly per RFC 4180.
void parse_record(const char* begin, const char* end, char delimiter, parsed_record& out);

// Returns the LF that ends the record starting at `begin` (parity rule), or `end` if there is none.
const char* find_record_end(const char* begin, const char* end) noexcept;

struct quote_line_counts {
  std::uint64_t quotes = 0;
  std::uint64_t lines = 0;  // LF bytes
};
quote_line_counts count_quotes_and_lines(const char* begin, const char* end) noexcept;
std::uint64_t count_quotes(const char* begin, const char* end) noexcept;

// The last LF in [begin, end) that ends a record, given that `begin` starts a record; nullptr if none.
// `quotes_in_range` is the quote count of [begin, end) (from count_quotes).
const char* find_last_record_end(const char* begin, const char* end, std::uint64_t quotes_in_range) noexcept;

namespace detail {

struct block_masks {
  std::uint64_t quote;
  std::uint64_t delimiter;
  std::uint64_t lf;
};

#if defined(__SSE2__)
// The one SIMD primitive: a bit per byte of the 16 in v that equals the byte in every lane of c, moved
// to bits [shift, shift + 16).
[[gnu::always_inline]] inline std::uint64_t byte_mask(__m128i v, __m128i c, int shift) noexcept {
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)))) << shift;
}
#endif

// Bits set where the 64 bytes at p equal the quote, the delimiter, LF. p must have 64 readable bytes.
inline block_masks classify_block(const char* p, char delimiter) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i delim = _mm_set1_epi8(delimiter);
  const __m128i lf = _mm_set1_epi8('\n');
  block_masks m{0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    const int shift = 16 * i;
    m.quote |= byte_mask(v, quote, shift);
    m.delimiter |= byte_mask(v, delim, shift);
    m.lf |= byte_mask(v, lf, shift);
  }
  return m;
#else
  block_masks m{0, 0, 0};
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    m.quote |= p[i] == '"' ? bit : 0;
    m.delimiter |= p[i] == delimiter ? bit : 0;
    m.lf |= p[i] == '\n' ? bit : 0;
  }
  return m;
#endif
}

// Bit i of the result is the XOR of bits 0..i of x: 1 from an opening quote up to its closing quote.
inline std::uint64_t prefix_xor(std::uint64_t x) noexcept {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

}  // namespace detail

// The scan loop of scan_records (below), for a key of one column or of several.
namespace detail {

template <bool Composite, class OnKey, class OnBad>
std::uint64_t scan_records(const char* begin, const char* end, bool at_eof, const scan_options& options,
                           parsed_record& scratch, OnKey&& on_key, OnBad&& on_bad) {
  const std::uint32_t key_field = options.key_field;
  const std::uint32_t value_field = options.value_field;
  const std::uint32_t num_fields = options.num_fields;

  const char* record_begin = begin;
  const char* field_begin = begin;
  const char* key_begin = begin;
  const char* key_end = begin;
  const char* value_begin = begin;
  const char* value_end = begin;
  std::uint32_t field_index = 0;
  std::uint64_t quotes_before_block = 0;
  std::uint64_t quotes_at_record = 0;  // quotes before record_begin
  std::uint64_t in_quote_carry = 0;    // all ones when the previous block ended inside quotes
  std::uint64_t lines = 0;
  // A composite key: where each field ends, up to the last one of the key (the rest are not looked at).
  std::uint32_t tracked = 0;
  const char** field_ends = nullptr;
  if constexpr (Composite) {
    for (std::uint32_t k = 0; k < options.key_parts; ++k) tracked = std::max(tracked, options.key_fields[k] + 1);
    scratch.field_ends.resize(tracked);
    field_ends = scratch.field_ends.data();
  }
  // The composite key of the record just scanned, encoded into scratch.key.
  auto composite_key = [&](const char* record_end, bool has_cr) -> std::string_view {
    scratch.key.clear();
    for (std::uint32_t k = 0; k < options.key_parts; ++k) {
      const std::uint32_t field = options.key_fields[k];
      const char* part_begin = field == 0 ? record_begin : field_ends[field - 1] + 1;
      const char* part_end = field_ends[field];
      if (has_cr && part_end == record_end) --part_end;
      key_tuple::append_part(scratch.key, std::string_view(part_begin, static_cast<std::size_t>(part_end - part_begin)),
                             k == 0);
    }
    return scratch.key;
  };

  // Returns false to stop.
  auto finish_record = [&](const char* record_end, std::uint64_t record_quotes) __attribute__((always_inline))->bool {
    const std::uint32_t fields = field_index;
    if (options.skip_comments && record_end > record_begin && *record_begin == options.comment) [[unlikely]]
      return true;
    if (record_quotes != 0) {
      parse_record(record_begin, record_end, options.delimiter, scratch);
      if (scratch.problem != row_problem::none)
        return on_bad(scratch.problem, scratch.problem_at, record_begin,
                      static_cast<std::uint32_t>(scratch.fields.size()));
      const auto parsed_fields = static_cast<std::uint32_t>(scratch.fields.size());
      if (parsed_fields != num_fields)
        return on_bad(parsed_fields < num_fields ? row_problem::too_few_fields : row_problem::too_many_fields,
                      record_begin, record_begin, parsed_fields);
      std::string_view key = scratch.fields[key_field];
      if constexpr (Composite) {
        scratch.key.clear();
        for (std::uint32_t k = 0; k < options.key_parts; ++k)
          key_tuple::append_part(scratch.key, scratch.fields[options.key_fields[k]], k == 0);
        key = scratch.key;
      }
      return on_key(key, value_field == no_field ? std::string_view() : scratch.fields[value_field], record_begin);
    }
    const bool has_cr = record_end > record_begin && record_end[-1] == '\r';
    if (record_end - record_begin == static_cast<std::ptrdiff_t>(has_cr)) return true;  // blank line
    if (fields != num_fields)
      return on_bad(fields < num_fields ? row_problem::too_few_fields : row_problem::too_many_fields, record_begin,
                    record_begin, fields);
    std::string_view key;
    if constexpr (Composite) {
      key = composite_key(record_end, has_cr);
    } else {
      key = std::string_view(key_begin, static_cast<std::size_t>(key_end - key_begin));
      if (has_cr && key_end == record_end) key.remove_suffix(1);
    }
    std::string_view value;
    if (value_field != no_field) {
      value = std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin));
      if (has_cr && value_end == record_end) value.remove_suffix(1);
    }
    return on_key(key, value, record_begin);
  };

  alignas(64) char tail[64];
  for (const char* block = begin; block < end; block += 64) {
    const std::size_t avail = static_cast<std::size_t>(end - block);
    detail::block_masks m;
    if (avail >= 64) {
      m = detail::classify_block(block, options.delimiter);
    } else {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, block, avail);
      m = detail::classify_block(tail, options.delimiter);
      const std::uint64_t valid = (std::uint64_t{1} << avail) - 1;
      m.quote &= valid;
      m.delimiter &= valid;
      m.lf &= valid;
    }
    lines += static_cast<std::uint64_t>(std::popcount(m.lf));
    const std::uint64_t in_quote = detail::prefix_xor(m.quote) ^ in_quote_carry;
    in_quote_carry = static_cast<std::uint64_t>(static_cast<std::int64_t>(in_quote) >> 63);
    std::uint64_t structural = (m.delimiter | m.lf) & ~in_quote;
    while (structural != 0) {
      const int bit = std::countr_zero(structural);
      structural &= structural - 1;
      const char* at = block + bit;
      if constexpr (Composite) {
        if (field_index < tracked) field_ends[field_index] = at;
      } else if (field_index == key_field) {
        key_begin = field_begin;
        key_end = at;
      }
      if (field_index == value_field) {
        value_begin = field_begin;
        value_end = at;
      }
      ++field_index;
      field_begin = at + 1;
      if ((m.lf >> bit) & 1) {
        // Most blocks hold no quote at all: skip the popcount there.
        const std::uint64_t quotes_here =
            m.quote == 0 ? quotes_before_block
                         : quotes_before_block +
                               static_cast<std::uint64_t>(std::popcount(m.quote & ((std::uint64_t{1} << bit) - 1)));
        if (!finish_record(at, quotes_here - quotes_at_record)) return lines;
        quotes_at_record = quotes_here;
        record_begin = at + 1;
        field_index = 0;
      }
    }
    if (m.quote != 0) quotes_before_block += static_cast<std::uint64_t>(std::popcount(m.quote));
  }
  if (record_begin < end && at_eof) {
    // The input's last record, without a final LF.
    if constexpr (Composite) {
      if (field_index < tracked) field_ends[field_index] = end;
    } else if (field_index == key_field) {
      key_begin = field_begin;
      key_end = end;
    }
    if (field_index == value_field) {
      value_begin = field_begin;
      value_end = end;
    }
    ++field_index;
    finish_record(end, quotes_before_block - quotes_at_record);
  }
  return lines;
}

}  // namespace detail

// Scans the records of [begin, end), which must start at a record start. Every record must end with an
// LF, except the input's last one when `at_eof`. Returns the number of LF bytes scanned (for line
// numbers; partial if on_bad stopped the scan). Calls
//   on_key(std::string_view key, std::string_view value, const char* record_begin)  for each good record
//     (value is the value_field's text, empty without one); it returns false to stop scanning,
//   on_bad(row_problem, const char* where, const char* record_begin, std::uint32_t num_fields)
// for each bad one; on_bad returns false to stop scanning. Blank lines are skipped, and so are comment
// lines (options.skip_comments): a record that starts with the comment character, whatever it holds. Quotes
// in a comment line still count for record boundaries (the parity rule holds everywhere), so a comment with
// an unbalanced quote runs on to the line that balances it.
// `scratch` is reused between calls to hold parsed quoted records.
// A composite key (options.key_parts > 1) is key_tuple-encoded into scratch.key, which `key` then views; it
// takes a scan loop of its own, so the one-column loop carries nothing of it.
template <class OnKey, class OnBad>
std::uint64_t scan_records(const char* begin, const char* end, bool at_eof, const scan_options& options,
                           parsed_record& scratch, OnKey&& on_key, OnBad&& on_bad) {
  if (options.key_parts > 1)
    return detail::scan_records<true>(begin, end, at_eof, options, scratch, on_key, on_bad);
  return detail::scan_records<false>(begin, end, at_eof, options, scratch, on_key, on_bad);
}

}  // namespace labcount
