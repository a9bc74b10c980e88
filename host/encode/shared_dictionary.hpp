// The run's global dictionary, shared by every parse worker. The lock protocol lives here, not in
// the callers: lookups take a shared lock (on high-cardinality inputs nearly every row brings a key
// new to its worker, and most are in the global dictionary already); only the keys still missing
// take the exclusive lock, in one go.
//
//   worker 1: encode_many([S1 S2])  ->  [0 1]      (both new: added under the exclusive lock)
//   worker 2: encode_many([S2 S3])  ->  [1 2]      (S2 found under the shared lock, S3 added)
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <span>
#include <string_view>

#include "encode/dictionary.hpp"

namespace labcount {

class shared_dictionary {
 public:
  // The codes of `keys` (with their hash_key() hashes) into out[0, keys.size()). Thread-safe.
  void encode_many(std::span<const std::string_view> keys, std::span<const std::uint64_t> hashes, std::uint32_t* out);

  std::size_t size() const {  // thread-safe
    std::shared_lock lock(mutex_);
    return dictionary_.size();
  }

  // The dictionary itself, once no worker runs any more.
  key_dictionary release() && { return std::move(dictionary_); }

 private:
  mutable std::shared_mutex mutex_;
  key_dictionary dictionary_;
};

}  // namespace labcount
