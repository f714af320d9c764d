// accelerator/detail/distinct_keys.hpp — which keys of a batch are first occurrences.
//
// Internal. Batch calls (mget) keep one entry per distinct key. A node-based set costs a heap
// node per key; this sorts (hash, position) pairs in a flat buffer instead and compares keys only
// where hashes collide, so a call makes a few allocations whatever its size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace accelerator::detail {

// Positions of the first occurrence of each distinct key of `keys`, in input order.
template <class K, class Hash = std::hash<K>>
std::vector<std::size_t> distinct_positions(const std::vector<K>& keys, const Hash& hash = Hash()) {
  const std::size_t n = keys.size();
  std::vector<std::size_t> out;
  out.reserve(n);
  constexpr std::size_t kPairwiseUpTo = 8;  // below this, comparing every pair is cheaper than hashing
  if (n <= kPairwiseUpTo) {
    for (std::size_t i = 0; i < n; ++i) {
      bool seen = false;
      for (std::size_t j : out) {
        if (keys[j] == keys[i]) {
          seen = true;
          break;
        }
      }
      if (!seen) out.push_back(i);
    }
    return out;
  }
  // Sorted by (hash, position): within a run of equal hashes the earliest position comes first,
  // so a key is a duplicate exactly when an earlier member of its run that is itself a first
  // occurrence compares equal to it.
  std::vector<std::pair<std::size_t, std::size_t>> by_hash(n);
  for (std::size_t i = 0; i < n; ++i) by_hash[i] = {hash(keys[i]), i};
  std::sort(by_hash.begin(), by_hash.end());
  std::vector<bool> duplicate(n, false);
  for (std::size_t run = 0; run < n;) {
    std::size_t end = run + 1;
    while (end < n && by_hash[end].first == by_hash[run].first) ++end;
    for (std::size_t a = run + 1; a < end; ++a) {
      for (std::size_t b = run; b < a; ++b) {
        const std::size_t earlier = by_hash[b].second;
        if (!duplicate[earlier] && keys[earlier] == keys[by_hash[a].second]) {
          duplicate[by_hash[a].second] = true;
          break;
        }
      }
    }
    run = end;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!duplicate[i]) out.push_back(i);
  }
  return out;
}

}  // namespace accelerator::detail
