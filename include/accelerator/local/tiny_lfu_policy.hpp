// accelerator/local/tiny_lfu_policy.hpp — the W-TinyLFU eviction policy, free of keys and values.
//
// The policy decides WHICH entries to keep; the cache (tiny_lfu_cache.hpp) and the trace
// simulator (tools/accelerator-sim) both drive this one class, so measured hit ratios are the
// engine's. Entries are identified by small integer ids the policy hands out; the policy stores,
// per id, a 32-bit key hash (for the frequency sketch), a weight and list links.
//
// Structure (Caffeine's design, Einziger et al., "TinyLFU", ACM ToS 2017):
//   window     an LRU that every new entry enters; absorbs bursts of recency;
//   probation  main-region LRU segment of entries not yet re-used in main;
//   protected  main-region LRU segment of entries re-used in main (at most ~80% of main).
// An entry leaving the window is a candidate for main; when the cache is over its bound, the
// candidate fights the probation victim: it is admitted only if the FrequencySketch deems it more
// popular by more than one count (warm candidates also win at random, 1 in 32), else it is dropped.
// The window's share of capacity is tuned by a WindowClimber (hill climbing on the hit ratio).
// Optional per-entry expiry is tracked by a TimerWheel.
//
// Usage contract (REQUIRES): the caller serialises every call (one lock); after add()/update()
// it calls evict() and processes the victims before the next add() (ids are reused).
// Invariants: total weight = window + probation + protected weights; after evict() returns,
// total weight <= maximum; window weight <= window maximum unless main is empty.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "accelerator/local/frequency_sketch.hpp"
#include "accelerator/local/large_array.hpp"
#include "accelerator/local/timer_wheel.hpp"
#include "accelerator/local/window_climber.hpp"

namespace accelerator::local {

enum class RemovalCause : std::uint8_t { kExplicit, kReplaced, kExpired, kEvicted };

struct TinyLfuOptions {
  std::uint64_t maximum = 1;           // capacity in weight units (entries when unweighted); >= 1
  std::uint64_t expected_entries = 0;  // sketch sizing; 0 = maximum
  double initial_window = 0.01;        // the window's initial share of capacity
  bool adaptive = true;                // hill-climb the window size
};

class TinyLfuPolicy {
 public:
  using Id = std::uint32_t;
  static constexpr Id kNil = std::numeric_limits<Id>::max();
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  explicit TinyLfuPolicy(const TinyLfuOptions& options, std::int64_t now_ns = 0);

  // A new entry (a miss that inserts). Counts in the sketch and as a miss for the climber.
  Id add(std::uint32_t key_hash, std::uint32_t weight, std::int64_t expire_ns = kNever);
  // A hit on a live entry: counts in the sketch and moves it to the front of its segment.
  void access(Id id) noexcept;
  // A hit recorded by hash: ignored unless `id` is live and still holds `key_hash` (ids recorded
  // by lock-free readers may have been reused since).
  void access_if(Id id, std::uint32_t key_hash) noexcept {
    if (id < nodes_.size() && nodes_[id].queue != kNone && nodes_[id].hash == key_hash) access(id);
  }
  // access_if for a batch of recorded hits, each packed as (id << 32) | key_hash. Touches the
  // entries' nodes and sketch blocks ahead of use so their cache misses overlap.
  void access_batch(const std::uint64_t* accesses, std::size_t count) noexcept;
  // The value of a live entry was replaced: new weight and expiry; counts as an access.
  void update(Id id, std::uint32_t weight, std::int64_t expire_ns);
  // Drops a live entry (explicit removal); its id becomes free.
  void remove(Id id) noexcept;
  // Makes room: appends ids of evicted entries (now free) until total weight <= maximum.
  void evict(std::vector<Id>& victims);
  // Appends ids of entries whose expiry is <= now_ns (now free).
  void expire(std::int64_t now_ns, std::vector<Id>& expired);
  // Forgets every entry (sketch history is kept).
  void clear() noexcept;

  std::uint64_t weight() const noexcept { return window_.weight + probation_.weight + protected_.weight; }
  std::uint64_t maximum() const noexcept { return maximum_; }
  std::uint64_t window_maximum() const noexcept { return window_max_; }
  std::size_t size() const noexcept { return live_; }
  bool live(Id id) const noexcept { return id < nodes_.size() && nodes_[id].queue != kNone; }
  std::uint32_t hash_of(Id id) const noexcept { return nodes_[id].hash; }
  // Frequency estimate, for tests and diagnostics.
  std::uint32_t frequency(std::uint32_t key_hash) const noexcept { return sketch_.frequency(key_hash); }

 private:
  enum Queue : std::uint8_t { kNone, kWindow, kProbation, kProtected };
  struct Node {
    Id prev, next;
    std::uint32_t hash;
    std::uint32_t weight;
    Queue queue;
  };
  struct List {
    Id head = kNil;  // least recently used
    Id tail = kNil;  // most recently used
    std::uint64_t weight = 0;
  };

  List& list(Queue q) noexcept { return q == kWindow ? window_ : q == kProbation ? probation_ : protected_; }
  void push_back(Queue q, Id id) noexcept;
  void unlink(Id id) noexcept;
  void move_to(Queue q, Id id) noexcept;
  void release(Id id) noexcept;
  void demote_protected() noexcept;
  void climb() noexcept;
  bool admit(std::uint32_t candidate_hash, std::uint32_t victim_hash) noexcept;
  std::size_t next_node_capacity() const noexcept;

  std::vector<Node, LargeArrayAllocator<Node>> nodes_;
  std::vector<Id> free_;
  std::size_t live_ = 0;
  List window_, probation_, protected_;
  std::uint64_t maximum_;
  std::uint64_t window_max_;
  std::uint64_t protected_max_;
  bool adaptive_;
  FrequencySketch sketch_;
  WindowClimber climber_;
  TimerWheel timers_;
  std::size_t node_bound_;  // expected peak of live entries (+1 for a put before its eviction)
  bool timers_used_ = false;
  std::uint64_t random_;  // xorshift state for the occasional admission of warm candidates
};

}  // namespace accelerator::local
