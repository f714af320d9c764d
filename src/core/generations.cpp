#include "accelerator/detail/generations.hpp"

#include <functional>

namespace accelerator::detail {

std::size_t GenerationTable::hash(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }

void GenerationTable::bump_all() noexcept {
  for (std::size_t l = 0; l < kLocks; ++l) {
    std::lock_guard lock(locks_[l]);
    for (std::size_t s = l; s < kStripes; s += kLocks) stripes_[s].value.fetch_add(1, std::memory_order_acq_rel);
  }
}

}  // namespace accelerator::detail
