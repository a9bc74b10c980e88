// fuzz_timestamp: any text either fails to parse or parses to a time of years 0000-9999 whose format_iso text
// the ISO parsers read back as the same time; buckets of it format without trouble.
//
//   byte 0: the parser: automatic (even), else a --time-format taken from the text up to its first '\n'
//           (an invalid format is a labcount::error, and the end of this input)
//   rest:   the text
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.hpp"
#include "time/timestamp.hpp"
#include "util/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace labcount;
  if (size < 1) return 0;
  static const time_parser automatic;
  static const time_parser iso("%Y-%m-%dT%H:%M:%S");
  static const time_parser iso_fraction("%Y-%m-%dT%H:%M:%S.%f");
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::optional<time_parser> custom;
  if (data[0] % 2 != 0) {
    const std::size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return 0;
    try {
      custom.emplace(std::string(text.substr(0, newline)));
    } catch (const error& e) {
      LABCOUNT_FUZZ_CHECK(e.kind() == error_kind::usage, "a bad --time-format is not a usage error: %s", e.what());
      return 0;
    }
    text.remove_prefix(newline + 1);
  }
  const time_parser& parser = custom ? *custom : automatic;
  timestamp t = 0;
  if (!parser.parse(text, t)) return 0;
  const std::string formatted = format_iso(t);
  timestamp again = 0;
  LABCOUNT_FUZZ_CHECK(automatic.parse(formatted, again) && again == t, "'%s' read back from %lld as %lld",
                      formatted.c_str(), static_cast<long long>(t), static_cast<long long>(again));
  again = 0;
  const time_parser& exact = t % ticks_per_second == 0 ? iso : iso_fraction;  // a fraction is written when there is one
  LABCOUNT_FUZZ_CHECK(exact.parse(formatted, again) && again == t, "'%s' (%s) read back as %lld", formatted.c_str(),
                      exact.description().c_str(), static_cast<long long>(again));
  for (const time_bucket b : {time_bucket::hour, time_bucket::day, time_bucket::week, time_bucket::month})
    LABCOUNT_FUZZ_CHECK(!format_bucket(bucket_of(t, b), b).empty(), "empty bucket text");
  return 0;
}
