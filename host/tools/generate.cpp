#include "tools/generate.hpp"

#include "time/calendar.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "util/errors.hpp"

// What the real file (samplesTests.csv, 20.7 MB, CRLF) looks like, measured with python's csv module:
// - 886,413 data rows, 1,243 distinct SampleIDs, ids S00014..S99014 (sparse in the 5-digit space).
// - Rows per sample: min 9, 10th percentile 157, median 474, mean 713, 90th percentile 1,292,
//   99th 4,493, max 25,914. The top sample has 2.9% of the rows, the top 10 11.7%, the top 100 35%,
//   the top 500 74%. The expected counts of a pure Zipf law over 1,243 ranks match the top sample
//   at exponent 0.64 and the whole cumulative curve best at 0.67 (largest gap in cumulative share
//   4.0%); 0.65 sits between (max 27.4k, top 10 13%, top 100 37%, median 419, gap 4.6%), hence
//   the default skew. Its low tail is flatter than the real one (Zipf min 267 vs real 9), which no
//   single exponent fixes; 0.5 is too flat (top 10 7%), 0.8 too steep (top 10 22%).
// - Timestamps span 8/10/2004 0:00 .. 9/9/2004 23:59 (31 days); 44,155 distinct minutes out of 44,640,
//   i.e. about 20 rows per minute, and every minute is present bar a few at night. Busiest hour 8:00
//   (80k rows in the month, 43 rows a minute), quietest 2:00 (15k, 8 a minute). Sundays have about
//   60% of a weekday's rows; we model the hour of day only.
// - The file is in day order, but within a day rows are grouped by sample (93% of rows repeat the
//   previous row's SampleID, median run 8 rows), so 5% of consecutive steps go back in time. We
//   generate strictly non-decreasing timestamps and independent samples instead: simpler to check,
//   and the harder case for a counter (no runs for a "same key as last row" shortcut to exploit).

namespace labcount {
namespace {

using detail::splitmix64;

class xoshiro256ss {
 public:
  explicit xoshiro256ss(std::uint64_t seed) noexcept {
    for (auto& word : s_) word = splitmix64(seed);
  }
  std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

 private:
  std::array<std::uint64_t, 4> s_{};
};

// Uniform in [0, bound): the high half of random * bound (Lemire), whose bias is below
// bound / 2^64. Spelled in 32-bit halves because __int128 is not standard C++.
std::uint64_t below(std::uint64_t random, std::uint64_t bound) noexcept {
  const std::uint64_t a_lo = random & 0xffffffffULL, a_hi = random >> 32;
  const std::uint64_t b_lo = bound & 0xffffffffULL, b_hi = bound >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo;
  const std::uint64_t hi_lo = a_hi * b_lo;
  const std::uint64_t lo_hi = a_lo * b_hi;
  const std::uint64_t middle = (lo_lo >> 32) + (hi_lo & 0xffffffffULL) + (lo_hi & 0xffffffffULL);
  return a_hi * b_hi + (hi_lo >> 32) + (lo_hi >> 32) + (middle >> 32);
}

// Salts so the id shuffle and the row draws use unrelated streams of the same seed.
constexpr std::uint64_t id_stream_salt = 0x5a3c'1d0e'77f2'9b41ULL;
constexpr std::uint64_t row_stream_salt = 0xc2b2'ae3d'27d4'eb4fULL;

// Rows in each hour of the day in the real file (summed over its 31 days). The chance that a row
// moves the clock on by one minute is 1 / (rows per minute in that hour), so generated data has
// the real daily rhythm and, at the default size, spans the same 31 days.
constexpr std::array<std::uint32_t, 24> real_rows_per_hour = {20238, 17130, 14855, 15474, 16528, 17620, 22907, 45613,
                                                              80178, 73582, 67375, 63118, 52728, 51590, 53513, 53220,
                                                              46554, 36813, 31188, 24582, 22374, 19338, 20036, 19859};
constexpr std::uint64_t real_days = 31;

// advance_threshold[h] / 2^32 = P(next row is a minute later) during hour h.
constexpr std::array<std::uint64_t, 24> make_advance_thresholds() {
  std::array<std::uint64_t, 24> thresholds{};
  for (std::size_t h = 0; h < 24; ++h) thresholds[h] = ((real_days * 60) << 32) / real_rows_per_hour[h];
  return thresholds;
}
constexpr auto advance_threshold = make_advance_thresholds();

// log2(k) in Q32 fixed point, by repeated squaring of the mantissa (one result bit per step).
std::uint64_t log2_q32(std::uint32_t k) noexcept {
  const unsigned exponent = static_cast<unsigned>(std::bit_width(k)) - 1;
  std::uint64_t mantissa = static_cast<std::uint64_t>(k) << (31 - exponent);  // Q31 in [1, 2)
  std::uint64_t result = static_cast<std::uint64_t>(exponent) << 32;
  // Branch-free: the result bits are as good as random, so a branch would mispredict half the time.
  for (unsigned shift = 32; shift-- > 0;) {
    mantissa = (mantissa * mantissa) >> 31;      // in [1, 4)
    const std::uint64_t carry = mantissa >> 32;  // 1 when the square reached 2
    mantissa >>= carry;
    result |= carry << shift;
  }
  return result;
}

// round(2^(-2^-i) * 2^31) for i = 1..32: 2^-f is the product of those whose bit is set in f.
constexpr std::array<std::uint64_t, 32> exp2_neg_bit_q31 = {
    1518500250u, 1805811301u, 1969251188u, 2056437387u, 2101467502u, 2124350982u, 2135885998u, 2141676973u,
    2144578345u, 2146030505u, 2146756953u, 2147120270u, 2147301951u, 2147392798u, 2147438222u, 2147460935u,
    2147472292u, 2147477970u, 2147480809u, 2147482228u, 2147482938u, 2147483293u, 2147483471u, 2147483559u,
    2147483604u, 2147483626u, 2147483637u, 2147483642u, 2147483645u, 2147483647u, 2147483647u, 2147483648u};

constexpr unsigned weight_bits = 38;  // weight of rank 0; 10^7 weights still sum below 2^62

// 2^(-t) * 2^weight_bits for t >= 0 in Q32.
std::uint64_t exp2_neg_q32(std::uint64_t t) noexcept {
  const std::uint64_t whole = t >> 32;
  if (whole >= 64) return 0;
  std::uint64_t value = 1ULL << 31;  // Q31 one
  for (unsigned i = 0; i < 32; ++i) {
    // Multiplying by Q31 one is exact, so selecting the factor instead of branching is free.
    const bool bit_set = ((t >> (31 - i)) & 1) != 0;
    value = (value * (bit_set ? exp2_neg_bit_q31[i] : (1ULL << 31))) >> 31;
  }
  return (value << (weight_bits - 31)) >> whole;
}

// A bijection on [0, 2^(2 * half_bits)): four Feistel rounds with keyed splitmix-style mixing.
class feistel_permutation {
 public:
  feistel_permutation(unsigned half_bits, std::uint64_t seed) noexcept
      : half_bits_(half_bits), mask_((1ULL << half_bits) - 1) {
    for (auto& key : keys_) key = splitmix64(seed);
  }
  std::uint64_t operator()(std::uint64_t x) const noexcept {
    std::uint64_t left = x >> half_bits_;
    std::uint64_t right = x & mask_;
    for (const std::uint64_t key : keys_) {
      std::uint64_t mixed = (right ^ key) * 0xbf58476d1ce4e5b9ULL;
      mixed ^= mixed >> 29;
      const std::uint64_t new_right = left ^ (mixed & mask_);
      left = right;
      right = new_right;
    }
    return (left << half_bits_) | right;
  }

 private:
  unsigned half_bits_;
  std::uint64_t mask_;
  std::array<std::uint64_t, 4> keys_{};
};

const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes value without leading zeros; returns the end.
char* write_uint(char* out, std::uint64_t value) noexcept {
  char scratch[20];
  char* end = scratch + sizeof scratch;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  const auto length = static_cast<std::size_t>(end - p);
  std::memcpy(out, p, length);
  return out + length;
}

// "M/D/YYYY H:MM,S": everything of a row before the id digits.
std::size_t format_row_prefix(char* out, const calendar::civil_date& date, unsigned minute_of_day) {
  char* p = write_uint(out, date.month);
  *p++ = '/';
  p = write_uint(p, date.day);
  *p++ = '/';
  p = write_uint(p, static_cast<std::uint64_t>(date.year));
  *p++ = ' ';
  p = write_uint(p, minute_of_day / 60);
  *p++ = ':';
  std::memcpy(p, digit_pairs + 2 * (minute_of_day % 60), 2);
  p += 2;
  *p++ = ',';
  *p++ = 'S';
  return static_cast<std::size_t>(p - out);
}

}  // namespace

namespace detail {

unsigned sample_id_digits(std::uint32_t samples) noexcept {
  unsigned digits = 5;
  std::uint64_t capacity = 99'999;
  while (capacity < samples) {
    ++digits;
    capacity = capacity * 10 + 9;
  }
  return digits;
}

std::vector<std::uint32_t> sample_id_numbers(std::uint32_t samples, std::uint64_t seed) {
  std::uint64_t id_space = 9;  // ids 1 .. 10^digits - 1; S000..0 looks like a placeholder
  for (unsigned i = 1; i < sample_id_digits(samples); ++i) id_space = id_space * 10 + 9;
  // Cycle-walking a Feistel permutation of the enclosing power of four keeps the shuffle a
  // bijection on [0, id_space) without materialising the whole id space.
  const auto half_bits = static_cast<unsigned>((std::bit_width(id_space - 1) + 1) / 2);
  const feistel_permutation permute(half_bits, seed ^ id_stream_salt);
  std::vector<std::uint32_t> ids(samples);
  for (std::uint32_t rank = 0; rank < samples; ++rank) {
    std::uint64_t x = rank;
    do {
      x = permute(x);
    } while (x >= id_space);
    ids[rank] = static_cast<std::uint32_t>(x + 1);
  }
  return ids;
}

std::vector<std::uint64_t> zipf_weights(std::uint32_t samples, double skew) {
  // skew in Q20 (scaling by 2^20 is exact, so the rounding is the same everywhere); with
  // skew <= 10 and rank < 10^7 the product below stays under 2^60.
  const auto skew_q20 = static_cast<std::uint64_t>(std::llround(skew * (1 << 20)));
  std::vector<std::uint64_t> weights(samples, std::uint64_t{1} << weight_bits);
  if (skew_q20 == 0) return weights;  // uniform; skips ~0.2 us of fixed-point math per sample
  for (std::uint32_t rank = 0; rank < samples; ++rank)
    weights[rank] = exp2_neg_q32((skew_q20 * log2_q32(rank + 1)) >> 20);
  return weights;
}

}  // namespace detail

namespace {

// One column of Walker's alias table: a draw u in [0, capacity) picks id when u < threshold,
// else alias_id. Ids are stored as text (zero-padded digits in 8 bytes) so a row needs a single
// table access even with 10M samples, where the table no longer fits in any cache.
struct alias_slot {
  std::uint64_t threshold;
  char id[8];
  char alias_id[8];
};

struct alias_table {
  std::vector<alias_slot> slots;
  std::uint64_t capacity;  // of every column: the sum of all weights
};

// Vose's construction in exact integer arithmetic: column capacity = total weight, sample i
// brings weight[i] * samples of mass. Sums are conserved exactly, so every sample gets exactly
// its share and the table is the same on every platform. weight <= 2^38 and samples <= 10^7
// keep every quantity below 2^62.
alias_table build_alias_table(const generate_options& options) {
  const std::uint32_t num_samples = options.samples;
  std::vector<std::uint64_t> mass = detail::zipf_weights(num_samples, options.skew);
  std::uint64_t capacity = 0;
  for (const std::uint64_t weight : mass) capacity += weight;  // > 0: rank 0 weighs 2^38
  for (auto& m : mass) m *= num_samples;

  std::vector<std::uint32_t> alias(num_samples);
  {
    // Small columns stack up from the front, large ones from the back of one array.
    std::vector<std::uint32_t> work(num_samples);
    std::size_t num_small = 0;
    std::size_t large_begin = num_samples;
    for (std::uint32_t i = 0; i < num_samples; ++i) {
      if (mass[i] < capacity)
        work[num_small++] = i;
      else
        work[--large_begin] = i;
    }
    while (num_small > 0 && large_begin < num_samples) {
      const std::uint32_t small = work[--num_small];
      const std::uint32_t large = work[large_begin];
      alias[small] = large;
      mass[large] -= capacity - mass[small];  // mass[small] stays as the threshold
      if (mass[large] < capacity) {
        ++large_begin;
        work[num_small++] = large;
      }
    }
    // Exact arithmetic leaves every remaining column exactly full.
    for (std::size_t k = 0; k < num_small; ++k) mass[work[k]] = capacity;
    for (std::size_t k = large_begin; k < num_samples; ++k) mass[work[k]] = capacity;
  }

  const unsigned id_digits = detail::sample_id_digits(num_samples);
  const std::vector<std::uint32_t> numbers = detail::sample_id_numbers(num_samples, options.seed);
  const auto write_id = [id_digits](char* out, std::uint32_t value) {
    std::memset(out, '0', 8);
    for (unsigned i = id_digits; i-- > 0;) {
      out[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  std::vector<alias_slot> slots(num_samples);
  for (std::uint32_t i = 0; i < num_samples; ++i) {
    slots[i].threshold = mass[i];
    write_id(slots[i].id, numbers[i]);
    // A full column never uses its alias; point it at itself.
    write_id(slots[i].alias_id, numbers[mass[i] == capacity ? i : alias[i]]);
  }
  return {std::move(slots), capacity};
}

// 0.65 prints as "0.65", not std::to_string's "0.650000".
std::string shortest_text(double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

}  // namespace

void validate(const generate_options& options) {
  if (options.rows > max_generate_rows)
    throw error(error_kind::usage, "--rows " + std::to_string(options.rows) + " is too many", "", 0,
                "use at most 100G rows (10^11)");
  if (options.samples < 1)
    throw error(error_kind::usage, "--samples must be at least 1", "", 0,
                "give the number of distinct SampleIDs, e.g. --samples 1243 like the real file");
  if (options.samples > max_generate_samples)
    throw error(error_kind::usage, "--samples " + std::to_string(options.samples) + " is too many", "", 0,
                "use at most 10M distinct samples");
  if (!(options.skew >= 0.0 && options.skew <= max_generate_skew))
    throw error(error_kind::usage, "--skew " + shortest_text(options.skew) + " is out of range", "", 0,
                "give a Zipf exponent from 0 (uniform) to 10; 0.65 mimics the real file");
}

void generate_csv(const generate_options& options, output_file& out) {
  validate(options);
  // Two bytes either way so the row loop copies a fixed size; eol_length says how many count.
  const char eol[2] = {options.crlf ? '\r' : '\n', '\n'};
  const std::size_t eol_length = options.crlf ? 2 : 1;
  out.write("TestTime,SampleID");
  out.write(std::string_view(eol, eol_length));
  if (options.rows == 0) return;

  const unsigned id_digits = detail::sample_id_digits(options.samples);
  const alias_table table = build_alias_table(options);
  const alias_slot* const slot_data = table.slots.data();
  const std::uint64_t num_slots = table.slots.size();
  const std::uint64_t slot_capacity = table.capacity;

  xoshiro256ss rng(options.seed ^ row_stream_salt);
  std::int64_t day = calendar::days_from_civil(2004, 8, 10);  // where the real file starts
  unsigned minute_of_day = 0;
  calendar::civil_date date = calendar::civil_from_days(day);
  // The prefix changes every ~20 rows, so it is formatted once per minute and copied per row.
  // 32 bytes: a 5-digit year still fits, and the row loop copies all 32 unconditionally.
  std::array<char, 32> prefix{};
  std::size_t prefix_length = format_row_prefix(prefix.data(), date, minute_of_day);

  constexpr std::size_t flush_bytes = std::size_t{1} << 20;
  constexpr std::size_t max_row_bytes = 32 + 8 + 2;  // the fixed-size copies below
  std::string buffer(flush_bytes + max_row_bytes, '\0');
  char* const begin = buffer.data();
  char* p = begin;

  for (std::uint64_t row = 0; row < options.rows; ++row) {
    if ((rng.next() >> 32) < advance_threshold[minute_of_day / 60]) {
      if (++minute_of_day == 24 * 60) {
        minute_of_day = 0;
        date = calendar::civil_from_days(++day);
      }
      prefix_length = format_row_prefix(prefix.data(), date, minute_of_day);
    }
    // Pick a slot, then its own sample or its alias: one table access per row.
    const alias_slot& slot = slot_data[below(rng.next(), num_slots)];
    const char* const id = below(rng.next(), slot_capacity) < slot.threshold ? slot.id : slot.alias_id;
    std::memcpy(p, prefix.data(), 32);
    p += prefix_length;
    std::memcpy(p, id, 8);
    p += id_digits;
    std::memcpy(p, eol, 2);
    p += eol_length;
    if (static_cast<std::size_t>(p - begin) >= flush_bytes) {
      out.write(std::string_view(begin, static_cast<std::size_t>(p - begin)));
      p = begin;
    }
  }
  out.write(std::string_view(begin, static_cast<std::size_t>(p - begin)));
}

}  // namespace labcount
