// accelerator/detail/flight.hpp — one in-progress load and the table that deduplicates them.
//
// Internal. A Flight is the shared outcome of one load: any number of callers wait on it and all
// receive a copy of the same result (singleflight). The load itself runs detached from every
// caller, so a caller that is cancelled or times out never cancels the load for the others.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "accelerator/detail/waiter_list.hpp"

namespace accelerator::detail {

template <class T>
class Flight {
 public:
  // First call wins; returns false when the flight already had a result.
  bool complete(T result) {
    {
      std::lock_guard lock(mutex_);
      if (result_) return false;
      result_.emplace(std::move(result));
    }
    waiters_.notify_all();
    return true;
  }

  bool done() const { return waiters_.notified(); }

  // A copy of the result, once there is one. INVARIANT: result_ is never modified after set.
  asio::awaitable<T> wait() {
    co_await wait_for(waiters_);
    co_return *result_;
  }

 private:
  std::mutex mutex_;
  std::optional<T> result_;
  WaiterList waiters_;
};

// Maps an encoded key to the flight loading it. Thread-safe.
//
// It also tells a caller whether a flight for its key ended while the caller was not looking
// (settled_since): a caller that read L2 before a load's write-back and joins after that load
// unregistered would otherwise lead a second load of a value L2 already holds. Ended flights are
// counted per stripe of keys (a stripe's count only grows, under its shard's mutex), so a stale
// ticket means "a flight of this key, or of a key sharing its stripe, ended since": a false
// positive costs one extra L2 read, never a wrong value.
// The map is split into kShards shards, each with its own mutex, chosen from the key's stripe (so
// one stripe is always under one mutex): every miss joins or leads a flight and releases it, and
// every set and del forgets one; with one mutex, misses from two threads parked on it.
template <class T>
class FlightTable {
 public:
  using FlightPtr = std::shared_ptr<Flight<T>>;
  using Ticket = std::uint64_t;

  // Taken before the L2 read whose miss may lead to join_or_lead().
  Ticket ticket(std::string_view key) const noexcept {
    return settled_[stripe_of(key)].load(std::memory_order_acquire);
  }
  // Whether a flight of `key` (or of a key in its stripe) was released after `ticket` was taken.
  // Reliable right after join_or_lead() made the caller leader: release() counts under the mutex
  // join_or_lead() took (the key's shard's), so an earlier release is visible.
  bool settled_since(std::string_view key, Ticket ticket) const noexcept {
    return settled_[stripe_of(key)].load(std::memory_order_acquire) != ticket;
  }

  // The key's current flight (leader=false), or a new one registered for it (leader=true), in
  // which case the caller must start the load and later call release().
  std::pair<FlightPtr, bool> join_or_lead(const std::string& key) {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    auto [it, inserted] = shard.flights.try_emplace(key);
    if (inserted) it->second = std::make_shared<Flight<T>>();
    return {it->second, inserted};
  }

  // The key's current flight, or nullptr.
  FlightPtr find(const std::string& key) const {
    const Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.flights.find(key);
    return it == shard.flights.end() ? nullptr : it->second;
  }

  // Unregisters `flight` if it is still the key's flight.
  void release(const std::string& key, const FlightPtr& flight) {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.flights.find(key);
    if (it != shard.flights.end() && it->second == flight) {
      shard.flights.erase(it);
      settled_[stripe_of(key)].fetch_add(1, std::memory_order_release);
    }
  }

  // Detaches whatever flight the key has: its waiters still get its result, but later callers
  // start a new load. Used when the key is written or deleted while a load is running.
  void forget(const std::string& key) {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    shard.flights.erase(key);
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      n += shard.flights.size();
    }
    return n;
  }

 private:
  static constexpr std::size_t kStripes = 1024;
  static constexpr std::size_t kShards = 64;
  static_assert(kStripes % kShards == 0, "a stripe must map to one shard");
  static std::size_t stripe_of(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key) & (kStripes - 1);
  }

  struct alignas(64) Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, FlightPtr> flights;
  };
  Shard& shard_of(std::string_view key) noexcept { return shards_[stripe_of(key) % kShards]; }
  const Shard& shard_of(std::string_view key) const noexcept { return shards_[stripe_of(key) % kShards]; }

  std::array<Shard, kShards> shards_{};
  std::array<std::atomic<Ticket>, kStripes> settled_{};
};

}  // namespace accelerator::detail
