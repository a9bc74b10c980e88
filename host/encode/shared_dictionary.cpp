#include "encode/shared_dictionary.hpp"

#include <algorithm>
#include <mutex>

namespace labcount {

void shared_dictionary::encode_many(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes,
                                    std::uint32_t* out) {
  {
    std::shared_lock lock(mutex_);
    dictionary_.find_many(keys, hashes, out);
  }
  if (std::find(out, out + keys.size(), key_dictionary::missing) == out + keys.size()) return;
  std::lock_guard lock(mutex_);
  // Another worker may have added some of them since: encode() finds those.
  dictionary_.encode_missing(keys, hashes, out);
}

}  // namespace labcount
