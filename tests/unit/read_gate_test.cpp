// Unit tests for the reader gate of the L1 engine's tables.
#include "accelerator/local/read_gate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "accelerator/detail/striped_counter.hpp"

namespace accelerator::local {
namespace {

void wait_until(const std::atomic<bool>& flag) {
  while (!flag.load()) std::this_thread::yield();
}

// The holder learns how many accesses wait without reading the consumer's line on every read:
// the count is exact from ReadGate::kExactFrom on (where the cache decides to drain) and right
// again at the first access after a drain.
TEST(ReadGate, RecordCountsWaitingAccessesExactlyWhereDrainsAreDecided) {
  auto stripe = std::make_unique<ReadGate::Stripe>();
  const auto line_of = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) / 64; };
  EXPECT_NE(line_of(&stripe->tail), line_of(&stripe->holder)) << "a drain must not take the readers' line";

  std::uint32_t reported = 0;
  for (std::uint64_t i = 0; i < 40; ++i) reported = stripe->record(i);
  EXPECT_EQ(reported, 40u);
  std::vector<std::uint64_t> seen;
  EXPECT_EQ(stripe->consume([&](const std::uint64_t* a, std::uint32_t n) { seen.insert(seen.end(), a, a + n); }), 40u);
  ASSERT_EQ(seen.size(), 40u);
  for (std::uint64_t i = 0; i < 40; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_EQ(stripe->record(100), 1u) << "the first access after a drain sees the drained ring";
  for (std::uint32_t i = 2; i <= ReadGate::kRingSize; ++i) reported = stripe->record(100 + i);
  EXPECT_EQ(reported, ReadGate::kRingSize);
  EXPECT_EQ(stripe->record(999), ReadGate::kDropped) << "full: dropped, and still reported as due";
  EXPECT_EQ(stripe->dropped.load(), 1u);
  seen.clear();
  EXPECT_EQ(stripe->consume([&](const std::uint64_t* a, std::uint32_t n) { seen.insert(seen.end(), a, a + n); }),
            ReadGate::kRingSize);
  EXPECT_EQ(seen.back(), 100u + ReadGate::kRingSize) << "the dropped access is not in the ring";
  EXPECT_EQ(stripe->record(7), 1u);
}

// Stripe numbers are handed out round-robin, so two busy threads can share a home stripe while
// others sit idle; every read of both would then bounce one cache line between their cores. A
// thread that finds its home taken moves to the stripe it got, and stays there.
TEST(ReadGateConcurrency, AThreadWhoseHomeStripeIsTakenMovesToAnotherForGood) {
  ReadGate gate(4);
  const std::size_t count = gate.stripe_count();
  const auto index = [&](const ReadGate::Stripe& s) { return static_cast<std::size_t>(&s - &gate.stripe(0)); };

  std::atomic<std::size_t> held{count};
  std::atomic<bool> holding{false}, release{false}, released{false};
  std::thread holder([&] {
    ReadGate::Stripe& s = gate.enter(0);
    held = index(s);
    holding = true;
    wait_until(release);
    gate.leave(s);
    released = true;
  });
  wait_until(holding);

  // A fresh thread whose home is the held stripe: one of the next `count` threads has it.
  std::atomic<bool> found{false};
  std::size_t first = count, second = count;
  for (std::size_t attempt = 0; attempt < 4 * count && !found; ++attempt) {
    std::thread reader([&] {
      if (detail::thread_stripe() % count != held) return;
      found = true;
      ReadGate::Stripe& s1 = gate.enter(1);
      first = index(s1);
      gate.leave(s1);
      release = true;
      wait_until(released);  // its old home is free again
      ReadGate::Stripe& s2 = gate.enter(1);
      second = index(s2);
      gate.leave(s2);
    });
    reader.join();
  }
  release = true;
  holder.join();

  ASSERT_TRUE(found) << "no thread got the held stripe as its home";
  EXPECT_NE(first, held.load()) << "the held stripe cannot be claimed twice";
  EXPECT_EQ(second, first) << "the thread kept the stripe it moved to although its old home is free";
}

// A writer waits for readers of its shard only, and a reader waits while its shard is written.
TEST(ReadGateConcurrency, AWriterExcludesReadersOfItsShardOnly) {
  ReadGate gate(4);
  ReadGate::Stripe& other_shard_reader = gate.enter(2);
  gate.lock_shard(1);  // returns although a reader of shard 2 is inside
  std::atomic<bool> entered{false};
  std::thread reader([&] {
    ReadGate::Stripe& s = gate.enter(1);
    entered = true;
    gate.leave(s);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(entered.load()) << "a reader entered a shard under write";
  gate.unlock_shard(1);
  reader.join();
  EXPECT_TRUE(entered.load());
  gate.leave(other_shard_reader);
}

}  // namespace
}  // namespace accelerator::local
