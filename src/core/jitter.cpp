#include "accelerator/detail/jitter.hpp"

#include <atomic>
#include <cstdint>
#include <random>

namespace accelerator::detail {

std::uint64_t thread_random() noexcept {
  thread_local std::uint64_t state = [] {
    static std::atomic<std::uint64_t> sequence{0};
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^ (sequence.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
  }();
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::chrono::milliseconds jittered_ttl(std::chrono::milliseconds ttl, std::optional<double> ratio) noexcept {
  using std::chrono::milliseconds;
  if (!ratio || *ratio <= 0.0 || !(*ratio <= 1.0)) return std::max(ttl, milliseconds(1));
  const auto base = static_cast<double>(ttl.count());
  const double spread = base * *ratio;
  // 53 random bits -> uniform double in [0, 1).
  const double unit = static_cast<double>(thread_random() >> 11) * 0x1.0p-53;
  const double drawn = base - spread + unit * 2.0 * spread;
  const auto result = static_cast<milliseconds::rep>(drawn + 0.5);
  return milliseconds(std::max<milliseconds::rep>(result, 1));
}

}  // namespace accelerator::detail
