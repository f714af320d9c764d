#include "accelerator/detail/invalidation_message.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "accelerator/detail/jitter.hpp"
#include "accelerator/key_codec.hpp"

namespace accelerator::detail {

std::string encode_invalidation(const InvalidationMessage& message) {
  nlohmann::json j;
  j["v"] = 1;
  j["origin"] = message.origin;
  j["area"] = message.area;
  j["keys"] = message.keys;
  return j.dump();
}

CacheResult<InvalidationMessage> decode_invalidation(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(CacheError::serialization("invalidation payload is not JSON"));
  InvalidationMessage message;
  auto origin = j.find("origin");
  auto area = j.find("area");
  auto keys = j.find("keys");
  if (origin == j.end() || !origin->is_string() || area == j.end() || !area->is_string() || keys == j.end() ||
      !keys->is_array()) {
    return fail(CacheError::serialization("invalidation payload lacks origin, area or keys"));
  }
  message.origin = origin->get<std::string>();
  message.area = area->get<std::string>();
  for (const auto& key : *keys) {
    if (!key.is_string()) return fail(CacheError::serialization("invalidation key is not a string"));
    message.keys.push_back(key.get<std::string>());
  }
  return message;
}

std::vector<std::string> encode_invalidation_batches(std::string_view origin, std::string_view area,
                                                     const std::vector<std::string>& keys, std::size_t max_keys) {
  std::vector<std::string> out;
  for (std::size_t begin = 0; begin < keys.size(); begin += max_keys) {
    const std::size_t end = std::min(keys.size(), begin + max_keys);
    InvalidationMessage message{std::string(origin), std::string(area), {keys.begin() + begin, keys.begin() + end}};
    out.push_back(encode_invalidation(message));
  }
  return out;
}

std::string default_invalidation_channel(std::string_view area) {
  return "accelerator:invalidation:" + escape_key_segment(area);
}

std::string new_instance_id() {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(thread_random()),
                static_cast<unsigned long long>(thread_random()));
  return std::string(buf, 32);
}

}  // namespace accelerator::detail
