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

// The key's counter in each row: all four live in one 64-byte block (8 words), so an update
// costs one cache miss instead of four; row r owns words 2r and 2r+1 of the block (so rows never
// collide), and an independent re-hash of the key picks the word and the nibble.
// Straight-line code: this runs for every recorded hit and every miss.
struct FrequencySketch::Cells {
  std::size_t block;  // index of the block's first word
  unsigned word[4];   // word within the block
  unsigned shift[4];
};

inline FrequencySketch::Cells FrequencySketch::cells(std::uint32_t key_hash) const noexcept {
  const std::uint64_t mixed = mix(key_hash);
  Cells c{block_of(mixed) * 8, {}, {}};
#pragma GCC unroll 4
  for (unsigned row = 0; row < 4; ++row) {
    const std::uint64_t h = (mixed + kRowSeeds[row]) * kRowSeeds[row];
    c.word[row] = row * 2 + static_cast<unsigned>(h >> 63);
    c.shift[row] = static_cast<unsigned>((h >> 58) & 15) * 4u;
  }
  return c;
}

std::uint32_t FrequencySketch::frequency(std::uint32_t key_hash) const noexcept {
  const Cells c = cells(key_hash);
  const std::uint64_t* block = table_.data() + c.block;
  std::uint64_t best = 15;
#pragma GCC unroll 4
  for (unsigned row = 0; row < 4; ++row) best = std::min(best, (block[c.word[row]] >> c.shift[row]) & 0xF);
  return static_cast<std::uint32_t>(best);
}

void FrequencySketch::increment(std::uint32_t key_hash) noexcept {
  const Cells c = cells(key_hash);
  std::uint64_t* block = table_.data() + c.block;
  std::uint64_t values[4];
  std::uint64_t least = 15;
#pragma GCC unroll 4
  for (unsigned row = 0; row < 4; ++row) {
    values[row] = (block[c.word[row]] >> c.shift[row]) & 0xF;
    least = std::min(least, values[row]);
  }
  if (least == 15) return;  // saturated: nothing to add, and it does not count toward aging
    // Every row's counter is bumped (not only the minimal ones): keys of equal popularity then
    // get equal estimates, so ties keep the incumbent and loops/scans do not churn main.
#pragma GCC unroll 4
  for (unsigned row = 0; row < 4; ++row) {
    block[c.word[row]] += std::uint64_t{values[row] < 15} << c.shift[row];
  }
  if (++additions_ >= sample_size_) halve();
}

void FrequencySketch::halve() noexcept {
  // Shift every nibble right by one; the mask drops the bit that crossed into the next nibble.
  for (auto& word : table_) word = (word >> 1) & 0x7777777777777777ULL;
  additions_ /= 2;
}

}  // namespace accelerator::local
