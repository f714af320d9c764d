#include "support/zipf_workload.hpp"

#include <cmath>

namespace accelerator::bench {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t fnv1a64(std::uint64_t value) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; ++i) {
    hash ^= value & 0xFF;
    hash *= 0x100000001B3ULL;
    value >>= 8;
  }
  return hash;
}

}  // namespace

std::vector<std::uint64_t> scrambled_zipf(std::size_t count, std::uint64_t items, double theta, std::uint64_t seed) {
  double zetan = 0;
  for (std::uint64_t i = 1; i <= items; ++i) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
  const double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
  const double alpha = 1.0 / (1.0 - theta);
  const double eta = (1.0 - std::pow(2.0 / static_cast<double>(items), 1.0 - theta)) / (1.0 - zeta2 / zetan);
  std::vector<std::uint64_t> out(count);
  std::uint64_t state = seed;
  for (auto& index : out) {
    const double u = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
    const double uz = u * zetan;
    std::uint64_t rank;
    if (uz < 1.0) {
      rank = 0;
    } else if (uz < 1.0 + std::pow(0.5, theta)) {
      rank = 1;
    } else {
      rank = static_cast<std::uint64_t>(static_cast<double>(items) * std::pow(eta * u - eta + 1.0, alpha));
    }
    index = fnv1a64(rank) % items;
  }
  return out;
}

}  // namespace accelerator::bench
