// accelerator/local/tiny_lfu_backend.hpp — the W-TinyLFU engine as a LocalBackend (the default L1).
//
// Keys are LevelCache's encoded strings; values are StoredEntry<V>. An entry is kept until its
// `stale_until` (the engine's per-entry expiry), so get() returns expired-but-in-grace entries
// and LevelCache decides freshness; after stale_until the entry reads as absent and the timer
// wheel drops it at the next write, drain or stats() call, or the maintenance thread's sweep
// (at most about a second later).
//
//   local::TinyLfuBackend<std::string> l1(100'000);                       // 100k entries
//   auto l1 = local::TinyLfuBackend<std::string>::weighted(64 << 20,      // 64 MiB of
//       [](const std::string& k, const StoredEntry<std::string>& e) {     // key + value bytes
//         return std::uint32_t(k.size() + (e.value ? e.value->size() : 0)); });
//
// Copies share one cache (the builder takes backends by value), like SimpleLocalCache.
// Thread-safety: every member may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "accelerator/backend.hpp"
#include "accelerator/clock.hpp"
#include "accelerator/local/tiny_lfu_cache.hpp"

namespace accelerator::local {

template <class V>
class TinyLfuBackend {
 public:
  // Keyed by std::string, readable by std::string_view (get(key, now) takes a view: LevelCache's
  // single-key read looks up a key it encoded into a buffer of its own, and builds no string on a hit).
  using Engine = TinyLfuCache<std::string, StoredEntry<V>, TransparentStringHash, std::equal_to<>>;
  using Weigher = typename Engine::Weigher;
  using Listener = typename Engine::Listener;

  // Bounded by entry count. REQUIRES: capacity >= 1 (0 is raised to 1).
  explicit TinyLfuBackend(std::size_t capacity, std::shared_ptr<const Clock> clock = SystemClock::instance(),
                          Listener listener = {})
      : engine_(std::make_shared<Engine>(options(capacity, {}, std::move(clock), std::move(listener), 0))) {}

  // Bounded by total weight as computed by `weigher`; `expected_entries` sizes the frequency
  // sketch (0: derived from max_weight / 64).
  static TinyLfuBackend weighted(std::uint64_t max_weight, Weigher weigher,
                                 std::shared_ptr<const Clock> clock = SystemClock::instance(),
                                 std::size_t expected_entries = 0, Listener listener = {}) {
    if (expected_entries == 0) expected_entries = std::max<std::uint64_t>(max_weight / 64, 16);
    return TinyLfuBackend(std::make_shared<Engine>(
        options(max_weight, std::move(weigher), std::move(clock), std::move(listener), expected_entries)));
  }

  std::optional<StoredEntry<V>> get(const std::string& key) { return engine_->get(key); }
  // get() with expiry judged at `now`, a reading the caller already has (LevelCache passes the
  // one it judges freshness by, so the engine need not read the clock again).
  std::optional<StoredEntry<V>> get(std::string_view key, TimePoint now) { return engine_->get_at(key, now); }
  void set(const std::string& key, StoredEntry<V> entry) {
    const TimePoint until = entry.stale_until;
    engine_->put(key, std::move(entry), until);
  }
  void del(const std::string& key) { engine_->invalidate(key); }
  void clear() { engine_->invalidate_all(); }
  // Removes every key starting with `prefix` (e.g. one area's keys); returns how many.
  std::size_t del_prefix(const std::string& prefix) {
    return engine_->invalidate_if(
        [&](const std::string& key, const StoredEntry<V>&) { return key.starts_with(prefix); });
  }

  LocalStats stats() const {
    engine_->cleanup();  // expired entries leave the counts before they are reported
    const TinyLfuStats s = engine_->stats();
    LocalStats out;
    out.entries = s.entries;
    out.weight = s.weight;
    out.capacity = s.capacity;
    out.hits = s.hits;
    out.misses = s.misses;
    out.evictions_size = s.evictions_size;
    out.evictions_expired = s.evictions_expired;
    out.policy_hits_dropped = s.reads_dropped;
    return out;
  }

  Engine& engine() noexcept { return *engine_; }

 private:
  explicit TinyLfuBackend(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}
  static typename Engine::Options options(std::uint64_t capacity, Weigher weigher, std::shared_ptr<const Clock> clock,
                                          Listener listener, std::uint64_t expected_entries) {
    typename Engine::Options o;
    o.capacity = std::max<std::uint64_t>(capacity, 1);
    o.weigher = std::move(weigher);
    o.clock = std::move(clock);
    o.listener = std::move(listener);
    o.expected_entries = expected_entries;
    return o;
  }

  // Shared so copies of the backend refer to one cache.
  std::shared_ptr<Engine> engine_;
};

static_assert(LocalBackend<TinyLfuBackend<std::string>, std::string>);

}  // namespace accelerator::local
