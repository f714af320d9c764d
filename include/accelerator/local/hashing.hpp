// accelerator/local/hashing.hpp — the hash finaliser the L1 engine applies to every key hash.
//
// std::hash of an integer is the identity in libstdc++; the engine needs well-spread bits (shard
// choice, table tags and the frequency sketch all take different bits), so every user hash goes
// through this 64-bit finaliser (the MurmurHash3 fmix64 constants). The simulator uses the same
// function so its policy decisions match the engine's.
// Thread-safety: pure function.
#pragma once

#include <cstdint>

namespace accelerator::local {

constexpr std::uint64_t spread_hash(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace accelerator::local
