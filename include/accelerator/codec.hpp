// accelerator/codec.hpp — how values are stored in L2.
//
// Every L2 value is an envelope:
//   byte 0      magic 0xAC
//   byte 1      format version (1)
//   byte 2      flags: bit 0 = "not found" marker (no payload follows)
//   bytes 3-10  logical expiry, Unix epoch milliseconds, unsigned little-endian
//   bytes 11-   payload, encoded by ValueCodec<V>
// The logical expiry lets a reader tell fresh from stale (Redis keeps the key for the stale grace
// beyond it) and gives L1 fills the entry's true remaining lifetime. Anything that is not a valid
// envelope, or whose payload does not decode, is a Serialization error on that key only; the cache
// treats it as a miss and overwrites it.
//
// Customisation: specialise ValueCodec<V> with
//   static void encode(const V&, std::string& out);           // append the payload to `out`
//   static CacheResult<V> decode(std::string_view payload);
// Provided: std::string (raw bytes), arithmetic types (fixed-width little-endian), and any type with
// nlohmann::json to_json/from_json (MessagePack).
#pragma once

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "accelerator/clock.hpp"
#include "accelerator/error.hpp"

namespace accelerator {

template <class V>
struct ValueCodec;

template <>
struct ValueCodec<std::string> {
  static void encode(const std::string& value, std::string& out) { out.append(value); }
  static CacheResult<std::string> decode(std::string_view payload) { return std::string(payload); }
};

template <class V>
  requires std::is_arithmetic_v<V>
struct ValueCodec<V> {
  static void encode(V value, std::string& out) {
    char bytes[sizeof(V)];
    std::memcpy(bytes, &value, sizeof(V));
    if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(V));
    out.append(bytes, sizeof(V));
  }
  static CacheResult<V> decode(std::string_view payload) {
    if (payload.size() != sizeof(V)) {
      return fail(CacheError::serialization("expected " + std::to_string(sizeof(V)) + " payload bytes, got " +
                                            std::to_string(payload.size())));
    }
    char bytes[sizeof(V)];
    std::memcpy(bytes, payload.data(), sizeof(V));
    if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(V));
    V value;
    std::memcpy(&value, bytes, sizeof(V));
    return value;
  }
};

template <class V>
concept JsonSerializable = requires(nlohmann::json& j, const V& v) {
  nlohmann::json(v);
  j.template get<V>();
};

template <class V>
  requires(!std::is_arithmetic_v<V> && !std::same_as<V, std::string> && JsonSerializable<V>)
struct ValueCodec<V> {
  static void encode(const V& value, std::string& out) {
    nlohmann::json::to_msgpack(nlohmann::json(value), nlohmann::detail::output_adapter<char>(out));
  }
  static CacheResult<V> decode(std::string_view payload) {
    try {
      return nlohmann::json::from_msgpack(payload.begin(), payload.end()).template get<V>();
    } catch (const std::exception& e) {
      return fail(CacheError::serialization(std::string("msgpack payload did not decode: ") + e.what()));
    }
  }
};

template <class V>
concept EncodableValue = requires(const V& v, std::string& out, std::string_view in) {
  ValueCodec<V>::encode(v, out);
  { ValueCodec<V>::decode(in) } -> std::same_as<CacheResult<V>>;
};

// A decoded envelope; `payload` views the input bytes.
struct EnvelopeView {
  bool is_null = false;
  UnixTime expire_at{};
  std::string_view payload;
};

inline constexpr std::size_t kEnvelopeHeaderBytes = 11;

// Writes the header for an envelope into `out` (cleared first); append the payload after it.
void begin_envelope(std::string& out, bool is_null, UnixTime expire_at);
CacheResult<EnvelopeView> decode_envelope(std::string_view bytes);

// Encodes a value (or a "not found" marker when `value` is empty) into a complete envelope.
template <EncodableValue V>
std::string encode_envelope(const std::optional<V>& value, UnixTime expire_at) {
  std::string out;
  begin_envelope(out, !value.has_value(), expire_at);
  if (value) ValueCodec<V>::encode(*value, out);
  return out;
}

}  // namespace accelerator
