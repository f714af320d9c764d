// detail::distinct_positions: the first occurrence of each key, in input order, on both of its
// paths (pairwise for small batches, hash-sorted for larger ones), with hash collisions.
#include "accelerator/detail/distinct_keys.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace accelerator::detail {
namespace {

using Positions = std::vector<std::size_t>;

TEST(DistinctPositions, EmptyAndSmallBatches) {
  EXPECT_EQ(distinct_positions(std::vector<int>{}), Positions{});
  EXPECT_EQ(distinct_positions(std::vector<int>{7}), Positions{0});
  EXPECT_EQ(distinct_positions(std::vector<int>{3, 1, 3, 2, 1}), (Positions{0, 1, 3}));
}

TEST(DistinctPositions, LargeBatchKeepsFirstOccurrencesInInputOrder) {
  std::vector<std::uint64_t> keys;
  for (std::uint64_t i = 0; i < 40; ++i) keys.push_back(i % 13 == 0 ? 5 : 100 - i);  // 5 repeats
  keys.push_back(99);                                                                // repeats position 1
  Positions expected;
  bool seen_five = false;
  for (std::size_t i = 0; i < 40; ++i) {
    if (keys[i] != 5) {
      expected.push_back(i);
    } else if (!seen_five) {
      expected.push_back(i);
      seen_five = true;
    }
  }
  EXPECT_EQ(distinct_positions(keys), expected);
}

// Every key hashes alike: distinctness must come from comparing keys, not hashes.
struct CollidingHash {
  std::size_t operator()(const std::string&) const noexcept { return 42; }
};

TEST(DistinctPositions, CollidingHashesStillCompareKeys) {
  std::vector<std::string> keys = {"a", "b", "a", "c", "d", "b", "e", "f", "g", "h", "a", "i"};
  EXPECT_EQ(distinct_positions(keys, CollidingHash{}), (Positions{0, 1, 3, 4, 6, 7, 8, 9, 11}));
}

TEST(DistinctPositions, AllDuplicates) { EXPECT_EQ(distinct_positions(std::vector<int>(30, 9)), Positions{0}); }

}  // namespace
}  // namespace accelerator::detail
