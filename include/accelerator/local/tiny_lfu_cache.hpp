// accelerator/local/tiny_lfu_cache.hpp — the concurrent W-TinyLFU cache engine (the default L1).
//
// A bounded map from K to V. What stays is decided by TinyLfuPolicy (adaptive W-TinyLFU, see
// tiny_lfu_policy.hpp); this template only stores keys and values and makes the policy safe to
// share between threads:
//   * Lookups: keys live in 64 open-addressing tables (linear probing, 8-byte buckets of a
//     32-bit hash tag and an entry id); entries live in a chunked slab indexed by id, so an
//     entry never moves. Readers pass a ReadGate (no shared lock: one compare-exchange on a
//     thread-private line) and record the hit in their stripe's ring. Once 128 hits wait, the
//     cache schedules a drain on the shared MaintenanceThread (default), which applies them to
//     the policy off the reading thread, or (Maintenance::kCallerThread) the reader applies
//     them itself under a try-lock (every 32 hits). A writer while a drain waits to start
//     applies all waiting hits, and a writer about to evict its own stripe's. Hits are dropped
//     when a ring is full and no one can apply them now (background: the maintenance thread
//     is awake but behind, and a reader whose ring fills while it sleeps drains itself;
//     caller-thread mode: another thread holds the policy): lossy, as in Caffeine, the policy
//     needs the shape of the access stream, not every access.
//   * Writes (put, invalidate, expiry, eviction) take the policy mutex, exclude readers of the
//     one shard they touch, and run eviction before returning, so the bound holds at all times
//     outside a write in progress: weight() <= capacity() (one entry more inside a put).
//   * Expiry: a per-entry deadline; reads treat a passed deadline as absent and a timer wheel
//     removes expired entries during writes, drains and cleanup(), and (background mode) in a
//     sweep the maintenance thread runs every second while the cache holds entries, so they
//     stop counting even if no call comes.
//   * The removal listener runs after the policy mutex is released, with the cause, on the
//     thread that caused the removal: the writer (before its call returns), cleanup()'s caller,
//     or for removals found by a drain the thread that ran it (the maintenance thread by
//     default). No lock is held, so it may call back into the cache; it must not destroy it.
//
// Thread-safety: every member may be called concurrently. Not copyable (wrap in shared_ptr to
// share). Requirements on types: K and V copy-constructible; Hash/Eq stateless-constructible.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "accelerator/clock.hpp"
#include "accelerator/local/brief_mutex.hpp"
#include "accelerator/local/hashing.hpp"
#include "accelerator/local/large_array.hpp"
#include "accelerator/local/maintenance_thread.hpp"
#include "accelerator/local/read_gate.hpp"
#include "accelerator/local/tiny_lfu_policy.hpp"

namespace accelerator::local {

struct TinyLfuStats {
  std::size_t entries = 0;
  std::uint64_t weight = 0;
  std::uint64_t capacity = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions_size = 0;
  std::uint64_t evictions_expired = 0;
  std::uint64_t window_capacity = 0;  // the adaptive window's current share of capacity
  std::uint64_t reads_applied = 0;    // hits the policy has heard about
  std::uint64_t reads_dropped = 0;    // hits lost because their stripe's ring was full
};

// Who applies recorded hits to the policy.
enum class Maintenance {
  kBackground,    // the shared MaintenanceThread: a hit costs the reader only the lookup
  kCallerThread,  // the reading thread, every 32 hits (deterministic; no other thread involved)
};

// A key type reads may look entries up by without building a K: Hash and Eq both declare
// `is_transparent` and accept it (TransparentStringHash and std::equal_to<> let a std::string_view
// find a std::string key, so a caller holding the key's bytes elsewhere allocates nothing).
// Hash must give a Q the value it gives the equal K.
template <class Q, class K, class Hash, class Eq>
concept HeterogeneousLookup = !std::same_as<Q, K> && requires {
  typename Hash::is_transparent;
  typename Eq::is_transparent;
}
&&requires(const Q& q, const K& k) {
  { Hash{}(q) } -> std::convertible_to<std::size_t>;
  { Eq{}(k, q) } -> std::convertible_to<bool>;
};

template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class TinyLfuCache {
 public:
  using Weigher = std::function<std::uint32_t(const K&, const V&)>;
  using Listener = std::function<void(const K&, const V&, RemovalCause)>;

  struct Options {
    std::uint64_t capacity = 10'000;     // entries, or total weight when `weigher` is set; >= 1
    Weigher weigher;                     // empty: every entry weighs 1
    std::uint64_t expected_entries = 0;  // sizes the sketch when weighted; 0 = capacity
    std::shared_ptr<const Clock> clock = SystemClock::instance();
    Listener listener;  // empty: no notifications
    Maintenance maintenance = Maintenance::kBackground;
  };

  explicit TinyLfuCache(Options options)
      : options_(std::move(options)),
        policy_(policy_options(options_), now_ns()),
        gate_(kShards),
        chunk_bits_(chunk_bits_for(expected(options_))),
        drain_threshold_(options_.maintenance == Maintenance::kBackground ? kBackgroundDrainThreshold
                                                                          : kCallerDrainThreshold),
        drainer_(*this),
        expirer_(*this) {
    for (auto& table : tables_) table.reset(8);
  }
  TinyLfuCache(const TinyLfuCache&) = delete;
  TinyLfuCache& operator=(const TinyLfuCache&) = delete;
  ~TinyLfuCache() {
    // Idle means the maintenance thread neither holds nor will run this cache's task.
    if (drain_state_.load(std::memory_order_acquire) != kIdle) MaintenanceThread::shared().cancel(&drainer_);
    if (expiry_sweeps_used_.load(std::memory_order_acquire)) MaintenanceThread::shared().cancel(&expirer_);
    for (auto& table : tables_) {
      for (std::size_t i = 0; i <= table.mask; ++i) {
        if (table.buckets[i].tag != 0) slot(table.buckets[i].id)->~Slot();
      }
    }
    for (auto& mid : directory_) {
      auto* chunks = mid.load(std::memory_order_relaxed);
      if (!chunks) continue;
      for (std::size_t i = 0; i < kMid; ++i) {
        if (auto* chunk = chunks[i].load(std::memory_order_relaxed)) {
          ::operator delete(chunk, std::align_val_t(alignof(Slot)));
        }
      }
      delete[] chunks;
    }
  }

  // The value if present and not expired. Never blocks on the policy; waits only while a
  // writer holds this key's shard.
  std::optional<V> get(const K& key) {
    std::optional<V> out;
    find(key, [&](const V& value) { out.emplace(value); });
    return out;
  }
  // get() with the caller's reading of the cache's clock (saves a clock read when it has one).
  std::optional<V> get_at(const K& key, TimePoint now) {
    std::optional<V> out;
    find_at(key, now, [&](const V& value) { out.emplace(value); });
    return out;
  }
  // get() and get_at() by a key of another type (see HeterogeneousLookup).
  template <class Q>
  requires HeterogeneousLookup<Q, K, Hash, Eq> std::optional<V> get(const Q& key) {
    std::optional<V> out;
    find(key, [&](const V& value) { out.emplace(value); });
    return out;
  }
  template <class Q>
  requires HeterogeneousLookup<Q, K, Hash, Eq> std::optional<V> get_at(const Q& key, TimePoint now) {
    std::optional<V> out;
    find_at(key, now, [&](const V& value) { out.emplace(value); });
    return out;
  }
  // Calls f(const V&) on the value if present (no copy); true on a hit. f runs while the
  // key's shard is held for reading: keep it short and do not write to this cache from it.
  template <class F>
  bool find(const K& key, F&& f) {
    return find_with(key, nullptr, std::forward<F>(f));
  }
  template <class Q, class F>
  requires HeterogeneousLookup<Q, K, Hash, Eq>
  bool find(const Q& key, F&& f) { return find_with(key, nullptr, std::forward<F>(f)); }
  // find() with the caller's reading of the cache's clock.
  template <class F>
  bool find_at(const K& key, TimePoint now, F&& f) {
    const std::int64_t now_at = to_ns(now);
    return find_with(key, &now_at, std::forward<F>(f));
  }
  template <class Q, class F>
  requires HeterogeneousLookup<Q, K, Hash, Eq>
  bool find_at(const Q& key, TimePoint now, F&& f) {
    const std::int64_t now_at = to_ns(now);
    return find_with(key, &now_at, std::forward<F>(f));
  }

 private:
  // `given_now`: the time to judge expiry by, or null to read the clock (only if expiry is used).
  template <class Q, class F>
  bool find_with(const Q& key, const std::int64_t* given_now, F&& f) {
    const std::uint32_t h = hash_of(key);
    const std::size_t shard = h >> (32 - kShardBits);
    const bool check_time = expiry_used_.load(std::memory_order_relaxed);
    const std::int64_t now = !check_time ? 0 : given_now ? *given_now : now_ns();
    ReadGate::Stripe& stripe = gate_.enter(shard);
    const Table& table = tables_[shard];
    bool hit = false;
    std::uint32_t waiting = 0;
    for (std::size_t i = table.home(h);; i = (i + 1) & table.mask) {
      const Bucket b = table.buckets[i];
      if (b.tag == 0) break;
      if (b.tag != h) continue;
      Slot* s = slot(b.id);
      if (!Eq{}(s->key, key)) continue;
      if (check_time && s->expire_ns <= now) break;
      f(static_cast<const V&>(s->value));
      hit = true;
      waiting = stripe.record((std::uint64_t{b.id} << 32) | h);
      break;
    }
    ReadGate::Stripe::bump(hit ? stripe.hits : stripe.misses);
    gate_.leave(stripe);
    if (waiting >= drain_threshold_) request_drain(waiting == ReadGate::kDropped);
    return hit;
  }

 public:
  // Inserts or replaces. `expire_at` = TimePoint::max() means no expiry.
  void put(const K& key, V value, TimePoint expire_at = TimePoint::max()) {
    const std::uint32_t h = hash_of(key);
    const std::size_t shard = h >> (32 - kShardBits);
    const std::uint32_t weight = options_.weigher ? options_.weigher(key, value) : 1;
    const std::int64_t expire = to_ns(expire_at);
    if (expire != TinyLfuPolicy::kNever && !expiry_used_.load(std::memory_order_relaxed)) {
      expiry_used_.store(true, std::memory_order_relaxed);
    }
    Pending pending;
    {
      std::lock_guard lock(mutex_);
      Table& table = tables_[shard];
      gate_.lock_shard(shard);
      if (auto i = table.find(h, key, *this); i != Table::npos) {
        const auto id = table.buckets[i].id;
        Slot* s = slot(id);
        if (options_.listener) pending.push_back({s->key, std::move(s->value), RemovalCause::kReplaced});
        s->value = std::move(value);
        s->expire_ns = expire;
        gate_.unlock_shard(shard);
        policy_.update(id, weight, expire);
      } else {
        const auto id = policy_.add(h, weight, expire);
        ensure_chunk(id);
        new (slot(id)) Slot{key, std::move(value), expire};
        table.insert(h, id);
        gate_.unlock_shard(shard);
      }
      maintain(pending);
    }
    notify(pending);
  }

  // Removes the key; true if it was present (expired or not).
  bool invalidate(const K& key) {
    const std::uint32_t h = hash_of(key);
    const std::size_t shard = h >> (32 - kShardBits);
    Pending pending;
    bool found = false;
    {
      std::lock_guard lock(mutex_);
      Table& table = tables_[shard];
      gate_.lock_shard(shard);
      if (auto i = table.find(h, key, *this); i != Table::npos) {
        const auto id = table.buckets[i].id;
        table.erase_at(i);
        take(id, RemovalCause::kExplicit, pending);
        policy_.remove(id);
        found = true;
      }
      gate_.unlock_shard(shard);
      publish_size();
    }
    notify(pending);
    return found;
  }

  // Removes every entry for which pred(const K&, const V&) is true; returns how many.
  template <class Pred>
  std::size_t invalidate_if(Pred pred) {
    Pending pending;
    std::size_t removed = 0;
    {
      std::lock_guard lock(mutex_);
      std::vector<std::uint32_t> ids;
      for (std::size_t shard = 0; shard < kShards; ++shard) {
        Table& table = tables_[shard];
        ids.clear();
        for (std::size_t i = 0; i <= table.mask; ++i) {
          const Bucket b = table.buckets[i];
          if (b.tag != 0 && pred(static_cast<const K&>(slot(b.id)->key), static_cast<const V&>(slot(b.id)->value))) {
            ids.push_back(b.id);
          }
        }
        if (ids.empty()) continue;
        gate_.lock_shard(shard);
        for (auto id : ids) {
          table.erase_id(policy_.hash_of(id), id);
          take(id, RemovalCause::kExplicit, pending);
          policy_.remove(id);
        }
        gate_.unlock_shard(shard);
        removed += ids.size();
      }
      publish_size();
    }
    notify(pending);
    return removed;
  }

  void invalidate_all() {
    invalidate_if([](const K&, const V&) { return true; });
  }

  // Applies recorded hits and pending expiry now.
  void cleanup() {
    Pending pending;
    {
      std::lock_guard lock(mutex_);
      apply_recorded_reads();
      maintain(pending);
    }
    notify(pending);
  }

  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  std::uint64_t weight() const noexcept { return weight_.load(std::memory_order_relaxed); }
  std::uint64_t capacity() const noexcept { return policy_.maximum(); }

  TinyLfuStats stats() const {
    TinyLfuStats s;
    s.entries = size();
    s.weight = weight();
    s.capacity = capacity();
    for (std::size_t i = 0; i < gate_.stripe_count(); ++i) {
      s.hits += gate_.stripe(i).hits.load(std::memory_order_relaxed);
      s.misses += gate_.stripe(i).misses.load(std::memory_order_relaxed);
    }
    s.evictions_size = evictions_size_.load(std::memory_order_relaxed);
    s.evictions_expired = evictions_expired_.load(std::memory_order_relaxed);
    s.window_capacity = window_max_.load(std::memory_order_relaxed);
    s.reads_applied = reads_applied_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < gate_.stripe_count(); ++i) {
      s.reads_dropped += gate_.stripe(i).dropped.load(std::memory_order_relaxed);
    }
    return s;
  }

 private:
  static constexpr std::size_t kShardBits = 6;
  static constexpr std::size_t kShards = std::size_t{1} << kShardBits;
  static constexpr std::size_t kMidBits = 10, kMid = std::size_t{1} << kMidBits;
  static constexpr std::size_t kTop = 1024;
  // kRunningAgain: a reader found a drain running after that drain had read the rings, so its
  // hits may not have been seen; the drain runs once more instead of going idle.
  enum DrainState : std::uint8_t { kIdle, kScheduled, kRunning, kRunningAgain };

  // Recorded hits that make a drain worth its fixed cost. Handing a drain to the maintenance
  // thread moves a dozen cache lines between cores (the stripe, the drain state, the thread's
  // queue and lock), so the background mode batches 128 hits: l1/read_zipf +10% over 32, and a
  // writer about to evict first applies its own stripe's hits, which keeps the policy as
  // current as with 32 (engine replays of the ten traces: within noise, multi3 +0.003). The
  // caller-thread mode has no hand-over and keeps 32 (128 lost 0.005 on the loop trace).
  // The ring counts exactly from ReadGate::kExactFrom on.
  static constexpr std::uint32_t kBackgroundDrainThreshold = 128;
  static constexpr std::uint32_t kCallerDrainThreshold = 32;
  static_assert(kCallerDrainThreshold >= ReadGate::kExactFrom);
  static_assert(kBackgroundDrainThreshold >= ReadGate::kExactFrom && kBackgroundDrainThreshold < ReadGate::kRingSize);

  // How often the maintenance thread removes expired entries of a cache nobody calls.
  static constexpr auto kExpirySweep = std::chrono::seconds(1);

  // The cache's tasks on the maintenance thread (members, so MaintenanceTask stays out of the
  // cache's public interface).
  struct Drainer final : MaintenanceTask {
    explicit Drainer(TinyLfuCache& c) : cache(c) {}
    void run_maintenance() override { cache.run_drain(); }
    TinyLfuCache& cache;
  };
  struct Expirer final : MaintenanceTask {
    explicit Expirer(TinyLfuCache& c) : cache(c) {}
    void run_maintenance() override { cache.run_expiry_sweep(); }
    TinyLfuCache& cache;
  };

  struct Slot {
    K key;
    V value;
    std::int64_t expire_ns;
  };
  struct Removal {
    K key;
    V value;
    RemovalCause cause;
  };
  using Pending = std::vector<Removal>;

  struct Bucket {
    std::uint32_t tag;  // the key's policy hash (never 0); 0 = empty
    std::uint32_t id;   // slab/policy id
  };
  // One shard's open-addressing table. Mutated only with the shard locked in the gate.
  struct Table {
    static constexpr std::size_t npos = ~std::size_t{0};
    std::unique_ptr<Bucket[]> buckets;
    std::size_t mask = 0;
    std::size_t used = 0;
    int bits = 0;

    void reset(std::size_t size) {
      buckets = std::make_unique<Bucket[]>(size);
      mask = size - 1;
      bits = std::countr_zero(size);
      used = 0;
    }
    // Fibonacci hashing: every tag bit reaches the index, independent of the shard bits.
    std::size_t home(std::uint32_t tag) const noexcept {
      return static_cast<std::uint32_t>(tag * 2654435769u) >> (32 - bits);
    }
    std::size_t find(std::uint32_t tag, const K& key, TinyLfuCache& cache) const {
      for (std::size_t i = home(tag);; i = (i + 1) & mask) {
        if (buckets[i].tag == 0) return npos;
        if (buckets[i].tag == tag && Eq{}(cache.slot(buckets[i].id)->key, key)) return i;
      }
    }
    void insert(std::uint32_t tag, std::uint32_t id) {
      // Keep the load factor <= 3/4 so probe sequences stay short.
      if ((used + 1) * 4 > (mask + 1) * 3) grow();
      std::size_t i = home(tag);
      while (buckets[i].tag != 0) i = (i + 1) & mask;
      buckets[i] = Bucket{tag, id};
      ++used;
    }
    void grow() {
      auto old = std::move(buckets);
      const std::size_t old_size = mask + 1;
      reset(old_size * 2);
      for (std::size_t i = 0; i < old_size; ++i) {
        if (old[i].tag != 0) insert(old[i].tag, old[i].id);
      }
    }
    void erase_id(std::uint32_t tag, std::uint32_t id) {
      for (std::size_t i = home(tag);; i = (i + 1) & mask) {
        if (buckets[i].tag == 0) return;
        if (buckets[i].id == id && buckets[i].tag == tag) return erase_at(i);
      }
    }
    // Backward-shift deletion: no tombstones, probe sequences stay as if never inserted.
    void erase_at(std::size_t hole) {
      for (std::size_t j = (hole + 1) & mask; buckets[j].tag != 0; j = (j + 1) & mask) {
        const std::size_t k = home(buckets[j].tag);
        // Move j into the hole unless its home lies cyclically in (hole, j].
        const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
        if (!stays) {
          buckets[hole] = buckets[j];
          hole = j;
        }
      }
      buckets[hole] = Bucket{0, 0};
      --used;
    }
  };

  static std::uint64_t expected(const Options& o) { return o.expected_entries ? o.expected_entries : o.capacity; }
  static TinyLfuOptions policy_options(const Options& o) {
    TinyLfuOptions p;
    p.maximum = std::max<std::uint64_t>(o.capacity, 1);
    p.expected_entries = expected(o);
    return p;
  }
  // Slab chunk size: about 1/64 of the expected entries (at most 4096 slots), so a small cache
  // wastes little. Once the slab is expected to reach 16 MiB: chunks of 4-8 MiB whose interior is
  // advised for huge pages, so a slot lookup rarely misses the TLB; the price is at most one
  // partly used chunk (2^20 u64 -> u64 entries fill four 6 MiB chunks exactly).
  static int chunk_bits_for(std::uint64_t entries) {
    constexpr std::uint64_t kHugeChunkBytes = std::uint64_t{4} << 20;
    if (entries * sizeof(Slot) >= 4 * kHugeChunkBytes) {
      return static_cast<int>(std::bit_width((kHugeChunkBytes - 1) / sizeof(Slot)));
    }
    return std::clamp(static_cast<int>(std::bit_width(entries / 64)), 4, 12);
  }
  template <class Q>
  static std::uint32_t hash_of(const Q& key) noexcept {
    return static_cast<std::uint32_t>(spread_hash(static_cast<std::uint64_t>(Hash{}(key)))) | 1u;
  }
  static std::int64_t to_ns(TimePoint t) noexcept {
    if (t == TimePoint::max()) return TinyLfuPolicy::kNever;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  std::int64_t now_ns() const noexcept { return to_ns(options_.clock->now()); }

  Slot* slot(std::uint32_t id) const noexcept {
    const std::size_t chunk = id >> chunk_bits_;
    auto* mid = directory_[chunk >> kMidBits].load(std::memory_order_acquire);
    Slot* base = mid[chunk & (kMid - 1)].load(std::memory_order_acquire);
    return base + (id & ((std::uint32_t{1} << chunk_bits_) - 1));
  }
  // REQUIRES: mutex_ held.
  void ensure_chunk(std::uint32_t id) {
    const std::size_t chunk = id >> chunk_bits_;
    if (chunk >> kMidBits >= kTop) throw std::length_error("TinyLfuCache: too many entries");
    auto& mid_ref = directory_[chunk >> kMidBits];
    auto* mid = mid_ref.load(std::memory_order_relaxed);
    if (!mid) {
      mid = new std::atomic<Slot*>[kMid]();
      mid_ref.store(mid, std::memory_order_release);
    }
    if (!mid[chunk & (kMid - 1)].load(std::memory_order_relaxed)) {
      const std::size_t bytes = sizeof(Slot) * slots_in_chunk(chunk);
      auto* chunk_mem = static_cast<Slot*>(::operator new(bytes, std::align_val_t(alignof(Slot))));
      advise_huge_pages(chunk_mem, bytes);
      mid[chunk & (kMid - 1)].store(chunk_mem, std::memory_order_release);
    }
  }

  // Without a weigher every entry weighs 1, so at most capacity + 1 entries are live (a put adds
  // before it evicts) and, ids being dense and reused, every id is < capacity + 1: the chunk that
  // holds the last such id is cut there instead of wasting up to a whole chunk (6 MiB at 2^20 + 1
  // u64 -> u64 entries). A weighted cache may hold any number of entries: full chunks.
  std::size_t slots_in_chunk(std::size_t chunk) const noexcept {
    const std::size_t full = std::size_t{1} << chunk_bits_;
    if (options_.weigher) return full;
    const std::size_t first = chunk << chunk_bits_;
    const std::size_t limit = static_cast<std::size_t>(policy_.maximum()) + 1;
    return first + full > limit ? limit - first : full;
  }

  // Destroys the slot of a removed entry, keeping key and value for the listener.
  // REQUIRES: mutex_ held and the entry's shard locked (or the entry unreachable).
  void take(std::uint32_t id, RemovalCause cause, Pending& pending) {
    Slot* s = slot(id);
    if (options_.listener) pending.push_back({std::move(s->key), std::move(s->value), cause});
    s->~Slot();
  }
  // Removes entries the policy dropped (ids already free in the policy). REQUIRES: mutex_ held.
  void remove_dropped(const std::vector<std::uint32_t>& ids, RemovalCause cause, Pending& pending) {
    for (auto id : ids) {
      const std::uint32_t h = policy_.hash_of(id);
      const std::size_t shard = h >> (32 - kShardBits);
      gate_.lock_shard(shard);
      tables_[shard].erase_id(h, id);
      take(id, cause, pending);
      gate_.unlock_shard(shard);
    }
  }
  // Expiry, then eviction down to the bound. REQUIRES: mutex_ held.
  void maintain(Pending& pending) {
    // A drain is wanted but not started: apply the hits now, so that eviction sees them (a
    // writer holds the policy anyway; the maintenance thread then finds the rings empty).
    if (drain_state_.load(std::memory_order_relaxed) == kScheduled) {
      apply_recorded_reads();
    } else if (policy_.weight() > policy_.maximum()) {
      apply_own_recorded_reads();
    }
    if (expiry_used_.load(std::memory_order_relaxed)) {
      dropped_.clear();
      policy_.expire(now_ns(), dropped_);
      remove_dropped(dropped_, RemovalCause::kExpired, pending);
      if (!dropped_.empty()) evictions_expired_.fetch_add(dropped_.size(), std::memory_order_relaxed);
    }
    dropped_.clear();
    policy_.evict(dropped_);
    remove_dropped(dropped_, RemovalCause::kEvicted, pending);
    if (!dropped_.empty()) evictions_size_.fetch_add(dropped_.size(), std::memory_order_relaxed);
    publish_size();
    arm_expiry_sweep();
  }
  // Entries with a deadline wait for a sweep even if no call comes (background mode only: the
  // caller-thread mode involves no other thread). REQUIRES: mutex_ held.
  void arm_expiry_sweep() {
    if (expiry_sweep_armed_ || options_.maintenance != Maintenance::kBackground ||
        !expiry_used_.load(std::memory_order_relaxed) || policy_.size() == 0) {
      return;
    }
    expiry_sweep_armed_ = true;
    expiry_sweeps_used_.store(true, std::memory_order_release);
    MaintenanceThread::shared().schedule_after(&expirer_, kExpirySweep);
  }
  // On the maintenance thread; re-arms itself (through maintain) while entries remain.
  void run_expiry_sweep() {
    Pending pending;
    {
      std::lock_guard lock(mutex_);
      expiry_sweep_armed_ = false;
      maintain(pending);
    }
    notify(pending);
  }
  void publish_size() noexcept {
    size_.store(policy_.size(), std::memory_order_relaxed);
    weight_.store(policy_.weight(), std::memory_order_relaxed);
    window_max_.store(policy_.window_maximum(), std::memory_order_relaxed);
  }
  // Moves every stripe's recorded hits into the policy. REQUIRES: mutex_ held.
  void apply_recorded_reads() noexcept {
    std::uint64_t applied = 0;
    for (std::size_t i = 0; i < gate_.stripe_count(); ++i) applied += apply_stripe(gate_.stripe(i));
    reads_applied_.store(reads_applied_.load(std::memory_order_relaxed) + applied, std::memory_order_relaxed);
  }
  // The calling thread's own recorded hits (its home stripe's ring; a local cache line), so that
  // an eviction it is about to decide sees its latest reads even before a drain is due.
  // REQUIRES: mutex_ held.
  void apply_own_recorded_reads() noexcept {
    const std::uint64_t applied = apply_stripe(gate_.home());
    reads_applied_.store(reads_applied_.load(std::memory_order_relaxed) + applied, std::memory_order_relaxed);
  }
  // Applies one stripe's waiting hits; returns how many. REQUIRES: mutex_ held.
  std::uint64_t apply_stripe(ReadGate::Stripe& stripe) noexcept {
    return stripe.consume([&](const std::uint64_t* accesses, std::uint32_t n) { policy_.access_batch(accesses, n); });
  }
  // A reader's ring holds enough hits to drain. In the background the drain is scheduled once
  // (kIdle -> kScheduled); a reader that finds it running asks it to run again (kRunning ->
  // kRunningAgain), one that finds it scheduled or asked again leaves it be: either way a drain
  // that reads this ring is still to come, so hits never wait for a next call that may not
  // happen. `dropped`: this hit did not fit in the ring. The hits in it were each followed by a
  // request, so a drain is already due (only a lost one, kIdle, needs the protocol again; that
  // keeps the fence off every read of a saturated reader). If the maintenance thread is awake
  // it is only behind, and the hit is dropped, as in Caffeine: readers drained full rings
  // themselves until 2026-12-02, which with every core reading put the policy work back on
  // them (l1/read_zipf/threads:2 +40% without). Evictions happen only in writes, and a writer
  // applies every waiting hit while a drain is scheduled, so what is dropped is hits the
  // policy never hears, not hits it hears late. If the thread sleeps, its wake-up takes longer
  // than a ring takes to fill (after an idle spell, or before it started), so the reader
  // applies the hits itself rather than drop them all (dropping lost 0.003-0.005 on gli and
  // zigzag replays). With Maintenance::kCallerThread the reader applies them itself.
  void request_drain(bool dropped) {
    if (options_.maintenance == Maintenance::kBackground) {
      if (dropped && drain_state_.load(std::memory_order_relaxed) != kIdle) {
        if (MaintenanceThread::shared().asleep()) drain_here();
        return;
      }
      // Pairs with the fence in run_drain: this ring's newest `head` is visible to a drain that
      // starts after this reader saw kScheduled, or this reader sees kRunning (the store-load
      // pattern needs a full fence on both sides). Once per request, not per read.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      std::uint8_t state = drain_state_.load(std::memory_order_relaxed);
      for (;;) {
        if (state == kIdle) {
          if (drain_state_.compare_exchange_weak(state, kScheduled, std::memory_order_acq_rel)) {
            MaintenanceThread::shared().schedule(&drainer_);
            return;
          }
        } else if (state == kRunning) {
          if (drain_state_.compare_exchange_weak(state, kRunningAgain, std::memory_order_acq_rel)) return;
        } else {
          return;  // kScheduled or kRunningAgain
        }
      }
    }
    drain_here();
  }
  // Applies the recorded hits on this thread, unless another thread holds the policy (the hits
  // then wait in the rings for the next try).
  void drain_here() {
    Pending pending;
    {
      std::unique_lock lock(mutex_, std::try_to_lock);
      if (!lock.owns_lock()) return;
      apply_recorded_reads();
      maintain(pending);
    }
    notify(pending);
  }
  // On the maintenance thread. kIdle is stored last: after it, this thread does not touch the
  // cache again (the destructor relies on that).
  void run_drain() {
    drain_state_.store(kRunning, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // see request_drain
    Pending pending;
    {
      // A writer holds the policy: it applies the hits itself if it sees the drain scheduled,
      // else the next hit schedules another drain. Waiting here would make that writer's next
      // lock wait for this thread (a futex round trip per write on a mixed workload).
      std::unique_lock lock(mutex_, std::try_to_lock);
      if (lock.owns_lock()) {
        apply_recorded_reads();
        maintain(pending);
      }
    }
    try {
      notify(pending);
    } catch (...) {
      finish_drain();
      throw;
    }
    finish_drain();
  }
  // Back to idle, or, if a reader asked while this drain ran, queued to run again (the
  // destructor's cancel() waits for the running drain and then takes the queued one off).
  void finish_drain() {
    std::uint8_t running = kRunning;
    if (drain_state_.compare_exchange_strong(running, kIdle, std::memory_order_acq_rel)) return;
    drain_state_.store(kScheduled, std::memory_order_relaxed);
    try {
      MaintenanceThread::shared().schedule(&drainer_);
    } catch (...) {
      // No memory to queue it: the next reader that asks queues it again.
      drain_state_.store(kIdle, std::memory_order_release);
    }
  }
  void notify(Pending& pending) {
    for (auto& r : pending) options_.listener(r.key, r.value, r.cause);
  }

  // Layout: what every read touches (gate, tables, slab directory, expiry flag) shares no cache
  // line with what a drain writes (policy, lock, counters, drain state). A drain runs on another
  // core every few dozen reads; a shared line would cost the next read a cross-core miss.
  Options options_;
  alignas(64) BriefMutex mutex_;  // the policy lock: serialises writers and policy updates
  TinyLfuPolicy policy_;
  alignas(64) ReadGate gate_;
  std::atomic<bool> expiry_used_{false};  // set once, by the first put with a deadline
  const int chunk_bits_;
  const std::uint32_t drain_threshold_;            // kBackgroundDrainThreshold or kCallerDrainThreshold
  alignas(64) std::array<Table, kShards> tables_;  // a writer stores its shard's `used`
  std::array<std::atomic<std::atomic<Slot*>*>, kTop> directory_{};
  alignas(64) std::atomic<std::uint8_t> drain_state_{kIdle};  // readers read it once a drain is due
  alignas(64) std::vector<std::uint32_t> dropped_;            // scratch, under mutex_
  std::atomic<std::uint64_t> reads_applied_{0};               // written under mutex_
  Drainer drainer_;
  bool expiry_sweep_armed_ = false;              // under mutex_: expirer_ is in the maintenance thread's timers
  std::atomic<bool> expiry_sweeps_used_{false};  // set once: the destructor must cancel expirer_
  Expirer expirer_;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> weight_{0};
  std::atomic<std::uint64_t> window_max_{0};
  std::atomic<std::uint64_t> evictions_size_{0};
  std::atomic<std::uint64_t> evictions_expired_{0};
};

}  // namespace accelerator::local
