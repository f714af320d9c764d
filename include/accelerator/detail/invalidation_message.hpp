// accelerator/detail/invalidation_message.hpp — what travels on the invalidation channel.
//
// Internal. JSON, so an operator can read it with redis-cli SUBSCRIBE:
//   {"v":1,"origin":"<instance id>","area":"<area>","keys":["<encoded key>",...]}
// `origin` lets an instance skip its own messages (the seed re-deleted its own L1, §18.2);
// `area` is checked by the receiver in addition to the channel (§18.4).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "accelerator/error.hpp"

namespace accelerator::detail {

struct InvalidationMessage {
  std::string origin;
  std::string area;
  std::vector<std::string> keys;
};

std::string encode_invalidation(const InvalidationMessage& message);
CacheResult<InvalidationMessage> decode_invalidation(std::string_view payload);

// Splits `keys` into messages of at most `max_keys` keys each. REQUIRES: max_keys >= 1.
std::vector<std::string> encode_invalidation_batches(std::string_view origin, std::string_view area,
                                                     const std::vector<std::string>& keys, std::size_t max_keys);

// "accelerator:invalidation:<escaped area>" — used when the remote backend has no channel_for().
std::string default_invalidation_channel(std::string_view area);

// A random 128-bit id in hex, unique per cache instance.
std::string new_instance_id();

}  // namespace accelerator::detail
