// accelerator/detail/generations.hpp — "has this key been written since I started loading it?"
//
// Internal. Prevents stale resurrection: a load snapshots the key's generation before calling the
// loader; set/del/invalidation bump it; the load writes its result back only if the generation
// is unchanged, checked and written under the same lock as the bump. Generations live in a fixed
// array of stripes indexed by key hash, so memory is bounded whatever the key space. Two keys
// sharing a stripe can only cause a skipped cache fill (a later miss), never a stale value.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace accelerator::detail {

class GenerationTable {
 public:
  using Generation = std::uint64_t;

  Generation snapshot(std::string_view key) const noexcept {
    return stripes_[index(key)].value.load(std::memory_order_acquire);
  }

  void bump(std::string_view key) noexcept {
    auto& stripe = stripes_[index(key)];
    std::lock_guard lock(locks_[lock_index(key)]);
    stripe.value.fetch_add(1, std::memory_order_acq_rel);
  }

  // Bumps the key's generation and runs `write` under the same lock, so no load that started
  // earlier can slip its older value in after `write`.
  template <class Write>
  void bump_and_write(std::string_view key, Write&& write) {
    std::lock_guard lock(locks_[lock_index(key)]);
    stripes_[index(key)].value.fetch_add(1, std::memory_order_acq_rel);
    write();
  }

  // The L1 epoch: bumped when invalidation messages may have been lost. A load that began in an
  // older epoch may still write L2 (its key was not changed) but not L1.
  Generation epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  void bump_epoch() noexcept { epoch_.fetch_add(1, std::memory_order_acq_rel); }

  // Runs `write` only if the key's generation still equals `expected`, atomically with respect
  // to bump(). Returns whether it ran.
  template <class Write>
  bool write_if_unchanged(std::string_view key, Generation expected, Write&& write) {
    std::lock_guard lock(locks_[lock_index(key)]);
    if (stripes_[index(key)].value.load(std::memory_order_acquire) != expected) return false;
    write();
    return true;
  }

 private:
  static constexpr std::size_t kStripes = 4096;
  static constexpr std::size_t kLocks = 64;
  static std::size_t hash(std::string_view key) noexcept;
  static std::size_t index(std::string_view key) noexcept { return hash(key) % kStripes; }
  // Derived from the stripe index so one key always maps to one lock.
  static std::size_t lock_index(std::string_view key) noexcept { return index(key) % kLocks; }

  struct Stripe {
    std::atomic<Generation> value{0};
  };
  std::array<Stripe, kStripes> stripes_{};
  std::atomic<Generation> epoch_{0};
  mutable std::array<std::mutex, kLocks> locks_{};
};

}  // namespace accelerator::detail
