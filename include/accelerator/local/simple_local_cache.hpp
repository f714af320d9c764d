// accelerator/local/simple_local_cache.hpp — a small, correct, bounded L1.
//
// A sharded LRU: the key hash picks one of 16 shards, each an unordered_map plus an LRU list under
// its own mutex, with capacity split evenly. Entries are dropped once their `stale_until` passes
// (on access, and by a bounded sweep of the LRU tail on every insert). It satisfies LocalBackend;
// the default L1 is the W-TinyLFU engine, this one is for tests, tiny caches and as a reference.
// Thread-safety: all members may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "accelerator/backend.hpp"
#include "accelerator/clock.hpp"

namespace accelerator::local {

template <class V>
class SimpleLocalCache {
 public:
  // REQUIRES: capacity >= 1 (smaller values are raised to 1).
  explicit SimpleLocalCache(std::size_t capacity, std::shared_ptr<const Clock> clock = SystemClock::instance())
      : state_(std::make_shared<State>(capacity, std::move(clock))) {}

  std::optional<StoredEntry<V>> get(const std::string& key) {
    auto& shard = shard_for(key);
    const auto now = state_->clock->now();
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it == shard.index.end()) {
      state_->misses.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (now >= it->second->entry.stale_until) {
      shard.lru.erase(it->second);
      shard.index.erase(it);
      state_->evictions_expired.fetch_add(1, std::memory_order_relaxed);
      state_->misses.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    state_->hits.fetch_add(1, std::memory_order_relaxed);
    return it->second->entry;
  }

  void set(const std::string& key, StoredEntry<V> entry) {
    auto& shard = shard_for(key);
    const auto now = state_->clock->now();
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      it->second->entry = std::move(entry);
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
      return;
    }
    shard.lru.push_front(Node{key, std::move(entry)});
    shard.index.emplace(key, shard.lru.begin());
    // Expired entries at the cold end go first, then plain LRU order to respect capacity.
    for (int swept = 0; swept < 4 && !shard.lru.empty() && now >= shard.lru.back().entry.stale_until; ++swept) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
      state_->evictions_expired.fetch_add(1, std::memory_order_relaxed);
    }
    while (shard.index.size() > state_->shard_capacity) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
      state_->evictions_size.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void del(const std::string& key) {
    auto& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it == shard.index.end()) return;
    shard.lru.erase(it->second);
    shard.index.erase(it);
  }

  void clear() {
    for (auto& shard : state_->shards) {
      std::lock_guard lock(shard.mutex);
      shard.index.clear();
      shard.lru.clear();
    }
  }

  LocalStats stats() const {
    LocalStats s;
    for (auto& shard : state_->shards) {
      std::lock_guard lock(shard.mutex);
      s.entries += shard.index.size();
    }
    s.weight = s.entries;
    s.capacity = state_->shard_capacity * kShards;
    s.hits = state_->hits.load(std::memory_order_relaxed);
    s.misses = state_->misses.load(std::memory_order_relaxed);
    s.evictions_size = state_->evictions_size.load(std::memory_order_relaxed);
    s.evictions_expired = state_->evictions_expired.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct Node {
    std::string key;
    StoredEntry<V> entry;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Node> lru;  // front = most recently used
    std::unordered_map<std::string, typename std::list<Node>::iterator> index;
  };
  struct State {
    State(std::size_t capacity, std::shared_ptr<const Clock> c)
        : shard_capacity(std::max<std::size_t>(1, (std::max<std::size_t>(capacity, 1) + kShards - 1) / kShards)),
          clock(std::move(c)) {}
    std::size_t shard_capacity;
    std::shared_ptr<const Clock> clock;
    std::array<Shard, kShards> shards;
    std::atomic<std::uint64_t> hits{0}, misses{0}, evictions_size{0}, evictions_expired{0};
  };

  Shard& shard_for(const std::string& key) { return state_->shards[std::hash<std::string>{}(key) % kShards]; }

  // Shared so copies of the backend (the builder takes it by value) refer to one cache.
  std::shared_ptr<State> state_;
};

}  // namespace accelerator::local
