#include "accelerator/local/frequency_sketch.hpp"

#include <algorithm>
#include <bit>

namespace accelerator::local {
namespace {

// Odd 64-bit constants for the per-row re-hash (any distinct odd values with mixed bits work).
constexpr std::uint64_t kRowSeeds[4] = {0x9E3779B97F4A7C15ULL, 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL,
                                        0xD6E8FEB86659FD93ULL};

}  // namespace

FrequencySketch::FrequencySketch(std::size_t expected_entries, std::size_t sample_factor) {
  const std::size_t words = std::bit_ceil(std::max<std::size_t>(expected_entries, 8));
  table_.assign(words, 0);
  mask_ = words - 1;
  sample_size_ = std::max<std::size_t>(sample_factor * std::max<std::size_t>(expected_entries, 1), 16);
}

void FrequencySketch::locate(std::uint64_t mixed, int row, std::size_t& word, unsigned& shift) const noexcept {
  // All four counters of a key live in one 64-byte block (8 words), so an update costs one
  // cache miss instead of four; each row owns two words of the block, so rows never collide.
  const std::uint64_t h = (mixed + kRowSeeds[row]) * kRowSeeds[row];
  word = block_of(mixed) * 8 + static_cast<std::size_t>(row) * 2 + static_cast<std::size_t>((h >> 63) & 1);
  shift = static_cast<unsigned>((h >> 58) & 15) * 4u;
}

std::uint32_t FrequencySketch::frequency(std::uint32_t key_hash) const noexcept {
  const std::uint64_t mixed = mix(key_hash);
  std::uint32_t best = 15;
  for (int row = 0; row < 4; ++row) {
    std::size_t word;
    unsigned shift;
    locate(mixed, row, word, shift);
    best = std::min(best, static_cast<std::uint32_t>((table_[word] >> shift) & 0xF));
  }
  return best;
}

void FrequencySketch::increment(std::uint32_t key_hash) noexcept {
  const std::uint64_t mixed = mix(key_hash);
  std::size_t words[4];
  unsigned shifts[4];
  std::uint32_t values[4];
  std::uint32_t least = 15;
  for (int row = 0; row < 4; ++row) {
    locate(mixed, row, words[row], shifts[row]);
    values[row] = static_cast<std::uint32_t>((table_[words[row]] >> shifts[row]) & 0xF);
    least = std::min(least, values[row]);
  }
  if (least == 15) return;  // saturated: nothing to add, and it does not count toward aging
  // Every row's counter is bumped (not only the minimal ones): keys of equal popularity then
  // get equal estimates, so ties keep the incumbent and loops/scans do not churn main.
  for (int row = 0; row < 4; ++row) {
    if (values[row] < 15) table_[words[row]] += std::uint64_t{1} << shifts[row];
  }
  if (++additions_ >= sample_size_) halve();
}

void FrequencySketch::halve() noexcept {
  // Shift every nibble right by one; the mask drops the bit that crossed into the next nibble.
  for (auto& word : table_) word = (word >> 1) & 0x7777777777777777ULL;
  additions_ /= 2;
}

}  // namespace accelerator::local
