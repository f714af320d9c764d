// accelerator/local/read_gate.hpp — lets readers of a sharded table proceed without a shared lock.
//
// A reader-writer gate with one writer flag per shard and a small set of padded "stripes" that
// readers claim. A reader claims a free stripe (normally its thread's home stripe, so the cache
// line never moves between cores; a thread that finds its home held by another thread makes the
// stripe it gets instead its new home, so two busy threads do not keep sharing one), announces
// the shard it reads in it, and checks that shard's writer flag; a writer raises the flag and
// waits until no stripe announces its shard. The two sides use sequentially consistent
// operations (a store followed by a load on each side), so at least one of them sees the other:
// either the reader backs off or the writer waits. A read therefore costs one uncontended
// compare-exchange on a thread-private line and a load of a flag that only changes when that
// shard is written.
//
// The stripe a reader holds also carries its hit/miss counters and a ring of recorded accesses
// (TinyLFU needs to hear about hits, but a hit must not take the policy lock). The ring has one
// producer at a time, the stripe's holder, and one consumer, whoever holds the cache's policy
// lock; `head` and `tail` hand entries over with release/acquire, so neither side waits for
// the other. A full ring drops new accesses (lossy, as in Caffeine: the policy needs the shape
// of the access stream, not every access).
//
// Thread-safety: enter()/leave() from any thread; lock_shard()/unlock_shard() REQUIRE that
// writers are serialised by the caller (the cache's policy mutex). Not copyable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace accelerator::local {

class ReadGate {
 public:
  static constexpr std::uint32_t kRingSize = 256;  // recorded accesses a stripe can hold
  // record() reports exactly how many accesses wait once at least this many do; below it, the
  // count may include accesses already consumed (see tail_seen).
  static constexpr std::uint32_t kExactFrom = 32;
  // What Stripe::record() returns for an access it dropped (the ring was full).
  static constexpr std::uint32_t kDropped = kRingSize + 1;

  // Two cache lines of counters, then the ring. The holder's line is written on every read; the
  // consumer's line only by a drain. Were `tail` beside `holder`, every drain would take the
  // line the next read's compare-exchange needs away from the reading core.
  struct alignas(64) Stripe {
    std::atomic<std::uint32_t> holder{0};  // 0 = free, otherwise 1 + the shard being read
    std::atomic<std::uint32_t> head{0};    // accesses recorded (mod 2^32); written by the holder
    // The holder's last reading of `tail` (only ever behind it). The holder re-reads `tail`
    // only when this says kExactFrom accesses wait, so most reads touch no line the consumer
    // writes. Written and read by holders only, each under the stripe's claim.
    std::uint32_t tail_seen = 0;
    std::atomic<std::uint64_t> hits{0};  // written by the holder, read by anyone (relaxed)
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> dropped{0};           // accesses lost to a full ring
    alignas(64) std::atomic<std::uint32_t> tail{0};  // accesses consumed; written by the consumer
    alignas(64) std::uint64_t ring[kRingSize];       // slot i is the producer's until head passes it

    // Counter bumps by the holder: a plain load/store pair, no read-modify-write.
    static void bump(std::atomic<std::uint64_t>& counter) noexcept {
      counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    // Holder only. Returns how many accesses now wait in the ring: exact when >= kExactFrom,
    // possibly an over-count below that; kDropped when the ring was full and `access` was
    // dropped (more than kRingSize, so a caller still sees that a drain is due).
    std::uint32_t record(std::uint64_t access) noexcept {
      const std::uint32_t h = head.load(std::memory_order_relaxed);
      std::uint32_t waiting = h - tail_seen;
      if (waiting >= kExactFrom) {
        tail_seen = tail.load(std::memory_order_acquire);
        waiting = h - tail_seen;
      }
      if (waiting == kRingSize) {
        bump(dropped);
        return kDropped;
      }
      ring[h % kRingSize] = access;
      head.store(h + 1, std::memory_order_release);
      return waiting + 1;
    }
    // Consumer only (REQUIRES the caller serialises consumers). Calls f(const uint64_t*, n) on
    // the waiting accesses in order, in runs of at most `kRun`; returns how many.
    template <class F>
    std::uint32_t consume(F&& f) noexcept {
      constexpr std::uint32_t kRun = 32;
      const std::uint32_t t = tail.load(std::memory_order_relaxed);
      const std::uint32_t h = head.load(std::memory_order_acquire);
      std::uint64_t run[kRun];
      for (std::uint32_t i = t; i != h;) {
        std::uint32_t n = 0;
        for (; n < kRun && i != h; ++n, ++i) run[n] = ring[i % kRingSize];
        f(static_cast<const std::uint64_t*>(run), n);
      }
      tail.store(h, std::memory_order_release);
      return h - t;
    }
  };

  // `shards` <= 65535 shards; the stripe count follows the hardware (2 per core, 4..64).
  explicit ReadGate(std::size_t shards);
  ReadGate(const ReadGate&) = delete;
  ReadGate& operator=(const ReadGate&) = delete;

  // Claims a stripe for reading `shard`; waits while a writer holds the shard.
  Stripe& enter(std::size_t shard) noexcept {
    Stripe& own = stripes_[home_stripe() & stripe_mask_];
    std::uint32_t expected = 0;
    if (own.holder.compare_exchange_strong(expected, static_cast<std::uint32_t>(shard + 1),
                                           std::memory_order_seq_cst)) {
      if (!flags_[shard].writing.load(std::memory_order_seq_cst)) return own;
      own.holder.store(0, std::memory_order_release);  // a writer is in: back off
    }
    return enter_slow(shard, own);
  }
  void leave(Stripe& stripe) noexcept { stripe.holder.store(0, std::memory_order_release); }

  // Excludes readers of `shard`. REQUIRES: the caller serialises writers.
  void lock_shard(std::size_t shard) noexcept;
  void unlock_shard(std::size_t shard) noexcept { flags_[shard].writing.store(false, std::memory_order_release); }

  // The calling thread's home stripe (not claimed: for the ring's consumer side only).
  Stripe& home() noexcept { return stripes_[home_stripe() & stripe_mask_]; }
  std::size_t stripe_count() const noexcept { return stripe_mask_ + 1; }
  Stripe& stripe(std::size_t i) noexcept { return stripes_[i]; }
  const Stripe& stripe(std::size_t i) const noexcept { return stripes_[i]; }

 private:
  struct alignas(64) Flag {
    std::atomic<bool> writing{false};
  };
  // The calling thread's home stripe number (before masking). Inline, so a read pays one
  // thread-local load rather than calls into the library (measured ~10% of a bare lookup).
  static std::size_t home_stripe() noexcept {
    const std::size_t home = home_plus_one_;
    return home != 0 ? home - 1 : assign_home();
  }
  static std::size_t assign_home() noexcept;
  // 1 + the thread's home stripe number; 0 until its first read. constinit: no guard per access.
  static inline constinit thread_local std::size_t home_plus_one_ = 0;
  Stripe& enter_slow(std::size_t shard, Stripe& own) noexcept;

  std::size_t stripe_mask_;
  std::unique_ptr<Stripe[]> stripes_;
  std::unique_ptr<Flag[]> flags_;
};

}  // namespace accelerator::local
