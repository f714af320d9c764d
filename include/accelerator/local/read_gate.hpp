// accelerator/local/read_gate.hpp — lets readers of a sharded table proceed without a shared lock.
//
// A reader-writer gate with one writer flag per shard and a small set of padded "stripes" that
// readers claim. A reader claims a free stripe (normally the one owned by its thread, so the
// cache line never moves between cores), announces the shard it reads in it, and checks that
// shard's writer flag; a writer raises the flag and waits until no stripe announces its shard.
// The two sides use sequentially consistent operations (a store followed by a load on each side),
// so at least one of them sees the other: either the reader backs off or the writer waits.
// A read therefore costs one uncontended compare-exchange on a thread-private line and a load of
// a flag that only changes when that shard is written.
//
// The stripe a reader holds also carries its buffer of recorded accesses (TinyLFU needs to hear
// about hits, but a hit must not take the policy lock) and its hit/miss counters: while a reader
// holds a stripe it is the only thread touching them.
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
  static constexpr std::size_t kBufferSize = 32;  // recorded accesses per stripe before a drain

  struct alignas(64) Stripe {
    std::atomic<std::uint32_t> holder{0};  // 0 = free, otherwise 1 + the shard being read
    std::uint32_t buffered = 0;            // valid entries in `buffer`; holder-only
    std::atomic<std::uint64_t> hits{0};    // written by the holder, read by anyone (relaxed)
    std::atomic<std::uint64_t> misses{0};
    std::uint64_t buffer[kBufferSize];  // holder-only

    // Counter bumps by the holder: a plain load/store pair, no read-modify-write.
    static void bump(std::atomic<std::uint64_t>& counter) noexcept {
      counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
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

  std::size_t stripe_count() const noexcept { return stripe_mask_ + 1; }
  Stripe& stripe(std::size_t i) noexcept { return stripes_[i]; }
  const Stripe& stripe(std::size_t i) const noexcept { return stripes_[i]; }

 private:
  struct alignas(64) Flag {
    std::atomic<bool> writing{false};
  };
  static std::size_t home_stripe() noexcept;
  Stripe& enter_slow(std::size_t shard, Stripe& own) noexcept;

  std::size_t stripe_mask_;
  std::unique_ptr<Stripe[]> stripes_;
  std::unique_ptr<Flag[]> flags_;
};

}  // namespace accelerator::local
