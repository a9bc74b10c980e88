#include "csv/csv_scanner.hpp"

#include <bit>

#include "util/errors.hpp"

namespace labcount {

error_kind error_kind_for(row_problem problem) noexcept {
  switch (problem) {
    case row_problem::too_few_fields: return error_kind::too_few_fields;
    case row_problem::too_many_fields: return error_kind::too_many_fields;
    case row_problem::unterminated_quote: return error_kind::unterminated_quote;
    case row_problem::stray_quote: return error_kind::stray_quote;
    case row_problem::bad_timestamp: return error_kind::bad_value;
    case row_problem::none: break;
  }
  return error_kind::internal;
}

const char* describe(row_problem problem) noexcept {
  switch (problem) {
    case row_problem::none: return "no problem";
    case row_problem::too_few_fields: return "too few fields";
    case row_problem::too_many_fields: return "too many fields";
    case row_problem::unterminated_quote: return "unterminated quoted field";
    case row_problem::stray_quote: return "stray quote";
    case row_problem::bad_timestamp: return "unparseable timestamp";
  }
  return "?";
}

void parse_record(const char* begin, const char* end, char delimiter, parsed_record& out) {
  out.fields.clear();
  out.scratch.clear();
  out.problem = row_problem::none;
  out.problem_at = nullptr;
  // Unescaped text is never longer than the record, so views into scratch stay valid while it fills.
  out.scratch.reserve(static_cast<std::size_t>(end - begin));

  const char* p = begin;
  for (;;) {
    if (p < end && *p == '"') {
      const char* opening = p;
      ++p;
      const std::size_t first = out.scratch.size();
      for (;;) {
        const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (q == nullptr) {
          out.problem = row_problem::unterminated_quote;
          out.problem_at = opening;
          return;
        }
        out.scratch.append(p, q);
        if (q + 1 < end && q[1] == '"') {
          out.scratch.push_back('"');
          p = q + 2;
          continue;
        }
        p = q + 1;
        break;
      }
      out.fields.emplace_back(out.scratch.data() + first, out.scratch.size() - first);
      if (p == end || (*p == '\r' && p + 1 == end)) return;
      if (*p != delimiter) {
        out.problem = row_problem::stray_quote;
        out.problem_at = p;
        return;
      }
      ++p;
      continue;
    }
    const char* field_end = p;
    while (field_end < end && *field_end != delimiter) {
      if (*field_end == '"') {
        out.problem = row_problem::stray_quote;
        out.problem_at = field_end;
        return;
      }
      ++field_end;
    }
    if (field_end == end) {
      const char* value_end = (end > p && end[-1] == '\r') ? end - 1 : end;
      out.fields.emplace_back(p, static_cast<std::size_t>(value_end - p));
      return;
    }
    out.fields.emplace_back(p, static_cast<std::size_t>(field_end - p));
    p = field_end + 1;
  }
}

const char* find_record_end(const char* begin, const char* end) noexcept {
  bool in_quote = false;
  for (const char* p = begin; p < end; ++p) {
    if (*p == '"')
      in_quote = !in_quote;
    else if (*p == '\n' && !in_quote)
      return p;
  }
  return end;
}

std::uint64_t count_quotes(const char* begin, const char* end) noexcept {
  std::uint64_t quotes = 0;
  const char* p = begin;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  for (; end - p >= 64; p += 64) {
    std::uint64_t q = 0;
    for (int i = 0; i < 4; ++i) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
      q |= detail::byte_mask(v, quote, 16 * i);
    }
    quotes += static_cast<std::uint64_t>(std::popcount(q));
  }
#endif
  for (; p < end; ++p) quotes += *p == '"';
  return quotes;
}

quote_line_counts count_quotes_and_lines(const char* begin, const char* end) noexcept {
  quote_line_counts counts;
  const char* p = begin;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; end - p >= 64; p += 64) {
    std::uint64_t q = 0;
    std::uint64_t l = 0;
    for (int i = 0; i < 4; ++i) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
      q |= detail::byte_mask(v, quote, 16 * i);
      l |= detail::byte_mask(v, lf, 16 * i);
    }
    counts.quotes += static_cast<std::uint64_t>(std::popcount(q));
    counts.lines += static_cast<std::uint64_t>(std::popcount(l));
  }
#endif
  for (; p < end; ++p) {
    counts.quotes += *p == '"';
    counts.lines += *p == '\n';
  }
  return counts;
}

const char* find_last_record_end(const char* begin, const char* end, std::uint64_t quotes_in_range) noexcept {
  // Walking back from `end`, `odd` is the parity of the quotes in [begin, p]; an LF with even parity
  // before it ends a record.
  bool odd = (quotes_in_range & 1) != 0;
  for (const char* p = end; p > begin;) {
    --p;
    if (*p == '\n') {
      if (!odd) return p;
    } else if (*p == '"') {
      odd = !odd;
    }
  }
  return nullptr;
}

}  // namespace labcount
