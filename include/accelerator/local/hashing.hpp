// accelerator/local/hashing.hpp — the hash finaliser the L1 engine applies to every key hash.
//
// std::hash of an integer is the identity in libstdc++; the engine needs well-spread bits (shard
// choice, table tags and the frequency sketch all take different bits), so every user hash goes
// through this 64-bit finaliser (the MurmurHash3 fmix64 constants). The simulator uses the same
// function so its policy decisions match the engine's. TransparentStringHash hashes std::string
// keys so that a std::string_view (or a string literal) finds them too.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace accelerator::local {

constexpr std::uint64_t spread_hash(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

// std::hash<std::string>'s values (the standard makes std::hash<std::string_view> equal them) for
// any argument that converts to std::string_view; with std::equal_to<> it lets a cache keyed by
// std::string be read by a view of bytes held elsewhere, without building a string.
struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
};

}  // namespace accelerator::local
