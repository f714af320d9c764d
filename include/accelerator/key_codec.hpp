// accelerator/key_codec.hpp — how a user key becomes the string a backend sees.
//
// Encoded key = <escaped area> ':' <KeyCodec<K>::encode(key)>. Only the area (and a remote
// backend's prefix) are escaped: ':' becomes "\:" and '\' becomes "\\". The first unescaped ':'
// therefore always ends the namespace, so area "a:b" + key "c" ("a\:b:c") can never collide with
// area "a" + key "b:c" ("a:b:c") — the seed's keys could (spec §18.12). Plain areas and keys stay
// readable in redis-cli: area "user", key 42 -> "user:42".
//
// Customisation: specialise KeyCodec for your key type with
//   static std::string encode(const K&);
// The encoding must be injective (two different keys never give the same string).
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace accelerator {

template <class K>
struct KeyCodec;

template <class K>
  requires(std::integral<K> && !std::same_as<K, bool>)
struct KeyCodec<K> {
  static std::string encode(K key) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, key);
    (void)ec;  // cannot fail: 24 chars hold any 64-bit integer
    return std::string(buf, end);
  }
};

template <>
struct KeyCodec<std::string> {
  static std::string encode(const std::string& key) { return key; }
};

template <>
struct KeyCodec<std::string_view> {
  static std::string encode(std::string_view key) { return std::string(key); }
};

template <class K>
concept EncodableKey = requires(const K& key) {
  { KeyCodec<K>::encode(key) } -> std::convertible_to<std::string>;
};

// Escapes ':' and '\' so the segment can be joined with ':' unambiguously.
std::string escape_key_segment(std::string_view segment);

// <escaped namespace> ':' <key>. `escaped_namespace` must come from escape_key_segment.
std::string join_key(std::string_view escaped_namespace, std::string_view key);

}  // namespace accelerator
