// Unit tests for the concurrent W-TinyLFU engine and its LocalBackend adapter (correctness only).
#include "accelerator/local/tiny_lfu_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "accelerator/clock.hpp"
#include "accelerator/local/default_local_backend.hpp"
#include "accelerator/local/tiny_lfu_backend.hpp"

namespace accelerator::local {
namespace {

using namespace std::chrono_literals;
using Cache = TinyLfuCache<std::uint64_t, std::uint64_t>;

Cache::Options with_capacity(std::uint64_t capacity) {
  Cache::Options o;
  o.capacity = capacity;
  return o;
}

// Records listener calls.
struct Recorder {
  std::mutex mutex;
  std::map<RemovalCause, int> causes;
  std::vector<std::pair<std::uint64_t, RemovalCause>> events;
  Cache::Listener listener() {
    return [this](const std::uint64_t& k, const std::uint64_t&, RemovalCause cause) {
      std::lock_guard lock(mutex);
      ++causes[cause];
      events.emplace_back(k, cause);
    };
  }
};

TEST(TinyLfuCache, GetPutAndReplace) {
  Cache cache(with_capacity(100));
  EXPECT_FALSE(cache.get(1).has_value());
  cache.put(1, 10);
  EXPECT_EQ(cache.get(1), 10u);
  cache.put(1, 11);
  EXPECT_EQ(cache.get(1), 11u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.invalidate(1));
  EXPECT_FALSE(cache.invalidate(1));
  EXPECT_FALSE(cache.get(1).has_value());
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 2u);
}

// With a transparent hash and equality, reads by std::string_view (and by literal) find the
// std::string keys the writes stored: same hash values, so the same bucket and the same entry.
TEST(TinyLfuCache, TransparentStringKeysAreFoundByView) {
  using Strings = TinyLfuCache<std::string, int, TransparentStringHash, std::equal_to<>>;
  Strings::Options o;
  o.capacity = 100;
  Strings cache(o);
  const std::string long_key = "product-detail:1234567890123456789";  // past the inline string buffer
  cache.put(long_key, 1);
  cache.put("k", 2);
  EXPECT_EQ(cache.get(std::string_view(long_key)), 1);
  EXPECT_EQ(cache.get_at(std::string_view(long_key), SystemClock::instance()->now()), 1);
  EXPECT_EQ(cache.get("k"), 2);
  EXPECT_FALSE(cache.get(std::string_view(long_key).substr(0, 10)).has_value());
  EXPECT_FALSE(cache.get(std::string_view("product-detail:1234567890123456788")).has_value());
  int seen = 0;
  EXPECT_TRUE(cache.find(std::string_view("k"), [&](const int& v) { seen = v; }));
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(TransparentStringHash{}(long_key), std::hash<std::string>{}(long_key));
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 4u);
  EXPECT_EQ(stats.misses, 2u);
}

// A big cache uses huge slab chunks (2^18 slots for u64 -> u64 at capacity 2^20): entries on both
// sides of a chunk boundary, reused ids after removals and replaced values all read back right.
TEST(TinyLfuCache, LargeSlabChunksKeepEveryEntryAddressable) {
  Cache cache(with_capacity(std::uint64_t{1} << 20));
  constexpr std::uint64_t kEntries = 300'000;  // more than one chunk of 262'144 slots
  for (std::uint64_t k = 0; k < kEntries; ++k) cache.put(k, k * 7);
  for (std::uint64_t k = 0; k < 1'000; ++k) ASSERT_TRUE(cache.invalidate(k * 3));
  for (std::uint64_t k = kEntries; k < kEntries + 1'000; ++k) cache.put(k, k * 7);  // reuses the freed ids
  cache.put(262'143, 1);
  cache.put(262'144, 2);
  EXPECT_EQ(cache.size(), kEntries);
  for (std::uint64_t k = 0; k < kEntries + 1'000; ++k) {
    const auto value = cache.get(k);
    if (k < 3'000 && k % 3 == 0) {
      ASSERT_FALSE(value.has_value()) << k;
    } else if (k == 262'143 || k == 262'144) {
      ASSERT_EQ(value, k - 262'142) << k;
    } else {
      ASSERT_EQ(value, k * 7) << k;
    }
  }
}

// Without a weigher the slab's last chunk ends at capacity + 1 slots (capacity 1'000: 16-slot
// chunks, the last holds 9). Churn with removals and re-inserts uses every id up to that bound;
// the ASan build checks that no slot outside an allocation is touched.
TEST(TinyLfuCache, SlabCutAtTheEntryBoundHoldsEveryLiveEntry) {
  Cache cache(with_capacity(1'000));
  for (std::uint64_t round = 0; round < 5; ++round) {
    for (std::uint64_t k = 0; k < 3'000; ++k) cache.put(round * 10'000 + k, round * 10'000 + k + 1);
    ASSERT_EQ(cache.size(), 1'000u);
    std::size_t present = 0;
    for (std::uint64_t key = 0; key < (round + 1) * 10'000; ++key) {
      if (auto v = cache.get(key)) {
        ASSERT_EQ(*v, key + 1);
        ++present;
        if (key % 2 == 0) {
          ASSERT_TRUE(cache.invalidate(key));
        }
      }
    }
    EXPECT_EQ(present, 1'000u) << "every live entry reads back through its slot";
  }
}

TEST(TinyLfuCache, StaysWithinEntryBound) {
  Cache cache(with_capacity(100));
  for (std::uint64_t k = 0; k < 10'000; ++k) {
    cache.put(k, k);
    ASSERT_LE(cache.size(), 100u);
  }
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_EQ(cache.stats().evictions_size, 9'900u);
  std::size_t present = 0;
  for (std::uint64_t k = 0; k < 10'000; ++k) present += cache.get(k).has_value();
  EXPECT_EQ(present, 100u);
}

TEST(TinyLfuCache, StaysWithinWeightBound) {
  Cache::Options o;
  o.capacity = 1'000;
  o.weigher = [](const std::uint64_t&, const std::uint64_t& v) { return static_cast<std::uint32_t>(v); };
  Recorder recorder;
  o.listener = recorder.listener();
  Cache cache(o);
  std::mt19937_64 rng(7);
  for (std::uint64_t k = 0; k < 5'000; ++k) {
    cache.put(k, 1 + rng() % 50);
    ASSERT_LE(cache.weight(), 1'000u);
  }
  EXPECT_GT(cache.size(), 1'000u / 50);
  // An entry heavier than the whole cache is admitted and immediately evicted.
  cache.put(999'999, 5'000);
  EXPECT_FALSE(cache.get(999'999).has_value());
  EXPECT_LE(cache.weight(), 1'000u);
}

TEST(TinyLfuCache, ExpiresWithManualClockWithoutReads) {
  auto clock = std::make_shared<ManualClock>();
  Recorder recorder;
  Cache::Options o = with_capacity(100);
  o.clock = clock;
  o.listener = recorder.listener();
  Cache cache(o);
  cache.put(1, 1, clock->now() + 1s);
  cache.put(2, 2, clock->now() + 1h);
  cache.put(3, 3);  // never expires
  clock->advance(999ms);
  EXPECT_EQ(cache.get(1), 1u);
  clock->advance(2ms);
  EXPECT_FALSE(cache.get(1).has_value());  // read-side check is exact
  cache.cleanup();                         // the timer wheel drops it without a read
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.stats().evictions_expired, 1u);
  clock->advance(2h);
  cache.put(4, 4);  // any write also sweeps
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.get(2).has_value());
  EXPECT_EQ(cache.get(3), 3u);
  EXPECT_EQ(recorder.causes[RemovalCause::kExpired], 2);
}

TEST(TinyLfuCache, ListenerReportsEveryCause) {
  Recorder recorder;
  Cache::Options o = with_capacity(10);
  o.listener = recorder.listener();
  Cache cache(o);
  cache.put(1, 1);
  cache.put(1, 2);  // replaced
  EXPECT_EQ(recorder.events.back(), std::make_pair(std::uint64_t{1}, RemovalCause::kReplaced));
  cache.invalidate(1);  // explicit
  EXPECT_EQ(recorder.events.back(), std::make_pair(std::uint64_t{1}, RemovalCause::kExplicit));
  for (std::uint64_t k = 100; k < 200; ++k) cache.put(k, k);
  EXPECT_EQ(recorder.causes[RemovalCause::kEvicted], 90);
  cache.invalidate_all();
  EXPECT_EQ(recorder.causes[RemovalCause::kExplicit], 11);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.weight(), 0u);
}

TEST(TinyLfuCache, InvalidateIfRemovesMatchesOnly) {
  TinyLfuCache<std::string, int>::Options o;
  o.capacity = 1'000;
  TinyLfuCache<std::string, int> cache(o);
  for (int i = 0; i < 100; ++i) {
    cache.put("user:" + std::to_string(i), i);
    cache.put("order:" + std::to_string(i), i);
  }
  const auto removed = cache.invalidate_if([](const std::string& key, const int&) { return key.starts_with("user:"); });
  EXPECT_EQ(removed, 100u);
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_FALSE(cache.get("user:5").has_value());
  EXPECT_EQ(cache.get("order:5"), 5);
  // Survivors stay reachable after the backward-shift deletions.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(cache.get("order:" + std::to_string(i)), i);
}

TEST(TinyLfuCache, HotEntriesSurviveAScan) {
  // Hits applied on this thread, so the admission decisions do not depend on timing.
  Cache::Options o = with_capacity(200);
  o.maintenance = Maintenance::kCallerThread;
  Cache cache(o);
  for (int round = 0; round < 20; ++round) {
    for (std::uint64_t k = 0; k < 150; ++k) {
      if (!cache.get(k)) cache.put(k, k);
    }
  }
  // One-hit wonders interleaved with the hot set: the hot keys' reuse distance (300 distinct
  // keys) exceeds the capacity, so LRU would keep almost none of them; admission keeps them.
  for (std::uint64_t k = 10'000; k < 30'000; ++k) {
    if (!cache.get(k)) cache.put(k, k);
    if (!cache.get(k % 150)) cache.put(k % 150, k % 150);
  }
  cache.cleanup();
  int hot = 0;
  for (std::uint64_t k = 0; k < 150; ++k) hot += cache.get(k).has_value();
  EXPECT_GE(hot, 140);
}

TEST(TinyLfuCache, CallerThreadMaintenanceAppliesEvery32HitsAtOnce) {
  Cache::Options o = with_capacity(100);
  o.maintenance = Maintenance::kCallerThread;
  Cache cache(o);
  for (std::uint64_t k = 0; k < 10; ++k) cache.put(k, k);
  for (int i = 0; i < 31; ++i) ASSERT_TRUE(cache.get(i % 10).has_value());
  EXPECT_EQ(cache.stats().reads_applied, 0u);  // recorded, waiting in the ring
  ASSERT_TRUE(cache.get(3).has_value());
  EXPECT_EQ(cache.stats().reads_applied, 32u);
  EXPECT_FALSE(cache.get(99).has_value());  // misses are counted, not recorded
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.get(i).has_value());
  cache.cleanup();  // applies what waits
  EXPECT_EQ(cache.stats().reads_applied, 37u);
  EXPECT_EQ(cache.stats().reads_dropped, 0u);
  EXPECT_EQ(cache.stats().hits, 37u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

TEST(TinyLfuCache, AWriterAboutToEvictFirstHearsItsOwnWaitingHits) {
  Cache cache(with_capacity(10));  // background maintenance: a drain is due only at 128 hits
  for (std::uint64_t k = 0; k < 10; ++k) cache.put(k, k);
  // Key 0 is the coldest entry of main (the first eviction victim) until its hits reach the
  // policy. 60 hits: recorded, not yet worth a drain.
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(cache.get(0).has_value());
  EXPECT_EQ(cache.stats().reads_applied, 0u);
  // Candidates warm enough (5 puts each) to win admission against a victim the policy thinks
  // was used once. Had the writer not applied key 0's hits, key 0 would be the first to go.
  for (std::uint64_t k = 100; k < 105; ++k) {
    for (int i = 0; i < 5; ++i) cache.put(k, k);
  }
  EXPECT_EQ(cache.stats().reads_applied, 60u);
  EXPECT_TRUE(cache.get(0).has_value());
  EXPECT_LE(cache.size(), 10u);
}

TEST(TinyLfuCacheConcurrency, AFullRingIsDrainedByTheFirstHitAfterThePolicyIsFree) {
  Cache::Options o = with_capacity(100);
  o.maintenance = Maintenance::kCallerThread;
  Cache cache(o);
  for (std::uint64_t k = 0; k < 10; ++k) cache.put(k, k);
  // invalidate_if runs its predicate under the policy lock: hold it there.
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    cache.invalidate_if([&](const std::uint64_t&, const std::uint64_t&) {
      holding.store(true);
      while (!release.load()) std::this_thread::sleep_for(100us);
      return false;
    });
  });
  while (!holding.load()) std::this_thread::sleep_for(100us);
  const std::uint32_t hits = ReadGate::kRingSize + 72;
  for (std::uint32_t i = 0; i < hits; ++i) ASSERT_TRUE(cache.get(i % 10).has_value());
  EXPECT_EQ(cache.stats().reads_applied, 0u);  // every drain attempt found the policy busy
  EXPECT_EQ(cache.stats().reads_dropped, 72u);
  release.store(true);
  holder.join();
  // The ring is still full; the next hit is dropped but must drain the ring (a full ring that
  // no longer asked for a drain would lose every later hit).
  ASSERT_TRUE(cache.get(1).has_value());
  EXPECT_EQ(cache.stats().reads_applied, ReadGate::kRingSize);
  ASSERT_TRUE(cache.get(2).has_value());
  cache.cleanup();
  EXPECT_EQ(cache.stats().reads_applied, ReadGate::kRingSize + 1);
}

TEST(TinyLfuCacheConcurrency, BackgroundMaintenanceAppliesHitsWithoutFurtherCalls) {
  Cache cache(with_capacity(100));  // Maintenance::kBackground is the default
  for (std::uint64_t k = 0; k < 10; ++k) cache.put(k, k);
  for (std::uint64_t round = 1; round <= 10; ++round) {
    // 128 hits: what makes the background mode schedule a drain.
    for (int i = 0; i < 128; ++i) ASSERT_TRUE(cache.get(i % 10).has_value());
    // No call into the cache from here on: only the maintenance thread can apply them.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (cache.stats().reads_applied < 128 * round && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(100us);
    }
    ASSERT_EQ(cache.stats().reads_applied, 128 * round);
  }
  EXPECT_EQ(cache.stats().reads_dropped, 0u);
}

// A background cache whose first drain stops in a removal listener (it expires key 9) until
// released. A drain reads the rings first and runs listeners last, with no lock held, so while
// it waits there the maintenance thread is awake and busy, and new hits are not seen by it.
class CacheWithAHeldDrain {
 public:
  CacheWithAHeldDrain() {
    Cache::Options o = with_capacity(100);
    o.clock = clock_;
    o.listener = [this](const std::uint64_t&, const std::uint64_t&, RemovalCause cause) {
      if (cause != RemovalCause::kExpired) return;
      in_listener_.store(true);
      while (!release_.load()) std::this_thread::sleep_for(100us);
    };
    cache = std::make_unique<Cache>(o);
    for (std::uint64_t k = 0; k < 5; ++k) cache->put(k, k);
    cache->put(9, 9, clock_->now() + 5ms);
    clock_->advance(10ms);
    hit(128);  // a drain is due: it applies these, then blocks
  }
  ~CacheWithAHeldDrain() { release(); }
  // Waits until the drain is held; false if it never came.
  bool held() const {
    return eventually([&] { return in_listener_.load(); });
  }
  void release() { release_.store(true); }
  void hit(std::uint32_t times) {
    for (std::uint32_t i = 0; i < times; ++i) ASSERT_TRUE(cache->get(i % 5).has_value());
  }
  bool applied_reach(std::uint64_t n) const {
    return eventually([&] { return cache->stats().reads_applied >= n; });
  }
  static bool eventually(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(100us);
    return done();
  }

 private:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::atomic<bool> in_listener_{false}, release_{false};

 public:
  std::unique_ptr<Cache> cache;  // last: destroyed first, while the listener's flags live
};

TEST(TinyLfuCacheConcurrency, HitsRecordedWhileADrainRunsAreAppliedWithoutFurtherCalls) {
  // A drain's worth of hits recorded while one runs, then no more calls: a drain must still
  // come for them (before the fix they waited for a next read that never came).
  CacheWithAHeldDrain held;
  ASSERT_TRUE(held.held());
  EXPECT_EQ(held.cache->stats().reads_applied, 128u);
  held.hit(128);
  held.release();
  EXPECT_TRUE(held.applied_reach(256));
  EXPECT_EQ(held.cache->stats().reads_applied, 256u);
}

TEST(TinyLfuCacheConcurrency, ABackgroundReaderWithAFullRingDropsHitsInsteadOfApplyingThem) {
  // The maintenance thread is awake but behind: a reader whose ring fills must not apply the
  // hits itself (the policy work stays off the readers); what the ring cannot hold is dropped.
  CacheWithAHeldDrain held;
  ASSERT_TRUE(held.held());
  held.hit(ReadGate::kRingSize + 44);
  EXPECT_EQ(held.cache->stats().reads_applied, 128u);  // nothing applied on this thread
  EXPECT_EQ(held.cache->stats().reads_dropped, 44u);
  held.release();
  EXPECT_TRUE(held.applied_reach(128 + ReadGate::kRingSize));
  EXPECT_EQ(held.cache->stats().reads_applied, 128 + ReadGate::kRingSize);
}

TEST(TinyLfuCacheConcurrency, ExpiredEntriesLeaveWithoutAnyCall) {
  auto clock = std::make_shared<ManualClock>();
  std::mutex mutex;
  std::vector<std::pair<std::uint64_t, std::thread::id>> expired;
  Cache::Options o = with_capacity(100);
  o.clock = clock;
  o.listener = [&](const std::uint64_t& key, const std::uint64_t&, RemovalCause cause) {
    std::lock_guard lock(mutex);
    if (cause == RemovalCause::kExpired) expired.emplace_back(key, std::this_thread::get_id());
  };
  Cache cache(o);
  for (std::uint64_t k = 0; k < 10; ++k) cache.put(k, k, clock->now() + 5ms);
  for (std::uint64_t k = 10; k < 15; ++k) cache.put(k, k);
  clock->advance(10ms);
  // From here only size() (a counter read): the maintenance thread's sweep must do it. The
  // sweep publishes the size before it calls the listener (which runs after the policy lock is
  // released), so the wait covers both.
  const auto swept = [&] {
    std::lock_guard lock(mutex);
    return cache.size() == 5 && expired.size() >= 10;
  };
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!swept() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(cache.size(), 5u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(expired.size(), 10u);
  for (const auto& [key, thread] : expired) {
    EXPECT_LT(key, 10u);
    EXPECT_NE(thread, std::this_thread::get_id());
  }
}

TEST(TinyLfuCacheConcurrency, DestroyingACacheWithADrainPendingIsSafe) {
  // Each cache is destroyed right after a drain was scheduled for it; the destructor must
  // take the task off the maintenance thread (ASan/TSan would report the use after free).
  std::atomic<int> evicted{0};
  for (int i = 0; i < 200; ++i) {
    Cache::Options o = with_capacity(4);
    o.listener = [&](const std::uint64_t&, const std::uint64_t&, RemovalCause cause) {
      if (cause == RemovalCause::kEvicted) evicted.fetch_add(1);
    };
    Cache cache(o);
    for (std::uint64_t k = 0; k < 5; ++k) cache.put(k, k);
    for (int r = 0; r < 200; ++r) cache.get(r % 5);  // >= 128 hits: a drain is scheduled
  }
  EXPECT_EQ(evicted.load(), 200);  // one per cache: five puts into four slots
}

TEST(TinyLfuCacheConcurrency, WriteStormNeverExceedsBoundByOnePercent) {
  constexpr std::uint64_t kCapacity = 1'000;
  Cache cache(with_capacity(kCapacity));
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> worst{0};
  std::thread monitor([&] {
    while (!stop.load()) {
      const auto size = cache.size();
      if (size > worst.load()) worst.store(size);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (int i = 0; i < 20'000; ++i) {
        const std::uint64_t key = rng() % 50'000;
        if (i % 7 == 0) {
          cache.invalidate(key);
        } else {
          cache.put(key, key);
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  stop.store(true);
  monitor.join();
  EXPECT_LE(worst.load(), kCapacity + kCapacity / 100);
  EXPECT_LE(cache.size(), kCapacity);
}

TEST(TinyLfuCacheConcurrency, ReadersSeeConsistentValuesDuringWrites) {
  auto clock = std::make_shared<ManualClock>();
  Cache::Options o = with_capacity(512);
  o.clock = clock;
  Cache cache(o);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bad{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      while (!stop.load(std::memory_order_relaxed)) {
        const std::uint64_t key = rng() % 2'000;
        if (auto v = cache.get(key)) {
          hits.fetch_add(1, std::memory_order_relaxed);
          if (*v != key * 3) bad.fetch_add(1);
        }
      }
    });
  }
  threads.emplace_back([&] {
    std::mt19937_64 rng(1);
    for (int i = 0; i < 30'000; ++i) {
      const std::uint64_t key = rng() % 2'000;
      switch (i % 10) {
        case 0:
          cache.invalidate(key);
          break;
        case 1:
          cache.put(key, key * 3, clock->now() + 1ms);
          break;
        case 2:
          clock->advance(1ms);
          break;
        case 3:
          if (i % 1000 == 3)
            cache.invalidate_if([](const std::uint64_t& k, const std::uint64_t&) { return k % 5 == 0; });
          break;
        default:
          cache.put(key, key * 3);
      }
    }
    stop.store(true);
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_LE(cache.size(), 512u);
}

TEST(TinyLfuBackend, KeepsEntriesUntilStaleUntilAndSharesStateAcrossCopies) {
  auto clock = std::make_shared<ManualClock>();
  TinyLfuBackend<std::string> backend(100, clock);
  static_assert(LocalBackend<TinyLfuBackend<std::string>, std::string>);
  auto copy = backend;
  StoredEntry<std::string> entry{std::string("v"), clock->now() + 1s, clock->now() + 3s};
  backend.set("k", entry);
  EXPECT_TRUE(copy.get("k").has_value());
  clock->advance(2s);  // expired but within grace: still returned
  auto got = copy.get("k");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->fresh_at(clock->now()));
  clock->advance(2s);
  EXPECT_FALSE(backend.get("k").has_value());
  const auto stats = backend.stats();
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.evictions_expired, 1u);
  EXPECT_EQ(stats.capacity, 100u);
  backend.set("n", StoredEntry<std::string>{std::nullopt, clock->now() + 1s, clock->now() + 1s});
  ASSERT_TRUE(backend.get("n").has_value());
  EXPECT_TRUE(backend.get("n")->is_null());
  backend.del("n");
  EXPECT_FALSE(backend.get("n").has_value());
}

// Diagnostics report the hits the policy had to drop: here the policy lock is held (the
// predicate of a prefix delete runs under it) while one thread reads past its ring.
TEST(TinyLfuBackendConcurrency, StatsCountHitsThePolicyDropped) {
  auto clock = std::make_shared<ManualClock>();
  TinyLfuBackend<std::string> backend(100, clock);
  backend.set("k", StoredEntry<std::string>{std::string("v"), clock->now() + 1h, clock->now() + 1h});
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    backend.engine().invalidate_if([&](const std::string&, const StoredEntry<std::string>&) {
      holding.store(true);
      while (!release.load()) std::this_thread::sleep_for(100us);
      return false;
    });
  });
  while (!holding.load()) std::this_thread::sleep_for(100us);
  for (std::uint32_t i = 0; i < ReadGate::kRingSize + 5; ++i) ASSERT_TRUE(backend.get("k").has_value());
  release.store(true);
  holder.join();
  const auto stats = backend.stats();
  EXPECT_EQ(stats.hits, ReadGate::kRingSize + 5);
  EXPECT_EQ(stats.policy_hits_dropped, 5u);
}

TEST(TinyLfuBackend, WeightedByBytesAndPrefixDelete) {
  auto backend =
      TinyLfuBackend<std::string>::weighted(1'000, [](const std::string& k, const StoredEntry<std::string>& e) {
        return static_cast<std::uint32_t>(k.size() + (e.value ? e.value->size() : 0));
      });
  const auto far = SystemClock::instance()->now() + 1h;
  for (int i = 0; i < 200; ++i) {
    backend.set("a:" + std::to_string(i), StoredEntry<std::string>{std::string(20, 'x'), far, far});
  }
  auto stats = backend.stats();
  EXPECT_LE(stats.weight, 1'000u);
  EXPECT_GT(stats.entries, 0u);
  backend.set("b:1", StoredEntry<std::string>{std::string("y"), far, far});
  const auto with_b = backend.stats().entries;
  EXPECT_EQ(backend.del_prefix("a:"), with_b - 1);
  EXPECT_TRUE(backend.get("b:1").has_value());
  backend.clear();
  EXPECT_EQ(backend.stats().entries, 0u);
}

TEST(DefaultLocalBackend, IsTheTinyLfuEngine) {
  static_assert(std::is_same_v<DefaultLocalBackend<std::string>, TinyLfuBackend<std::string>>);
  DefaultLocalBackend<std::string> l1(10);
  EXPECT_EQ(l1.stats().capacity, 10u);
}

}  // namespace
}  // namespace accelerator::local
