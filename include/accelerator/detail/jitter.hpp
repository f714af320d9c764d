// accelerator/detail/jitter.hpp — TTL jitter.
//
// Internal. Each write draws its own TTL uniformly from [ttl x (1 - r), ttl x (1 + r)] (at least
// 1 ms), from a per-thread generator, so keys written together do not expire together and a key
// rewritten repeatedly does not always get the same lifetime (the seed's jitter was a fixed
// per-key hash, spec §18.15).
#pragma once

#include <chrono>
#include <optional>

namespace accelerator::detail {

std::chrono::milliseconds jittered_ttl(std::chrono::milliseconds ttl, std::optional<double> ratio) noexcept;

// A fast per-thread 64-bit random number (splitmix64 seeded once per thread).
std::uint64_t thread_random() noexcept;

}  // namespace accelerator::detail
