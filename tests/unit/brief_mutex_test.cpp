// Unit tests for BriefMutex, the L1 engine's policy lock: exclusion under contention, try_lock,
// and a waiter that had to park is woken by unlock().
#include "accelerator/local/brief_mutex.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace accelerator::local {
namespace {

using namespace std::chrono_literals;

TEST(BriefMutex, TryLockFailsWhileHeldAndSucceedsAfterUnlock) {
  BriefMutex m;
  ASSERT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock());
  bool other_thread_got_it = true;
  std::thread([&] { other_thread_got_it = m.try_lock(); }).join();
  EXPECT_FALSE(other_thread_got_it);
  m.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

// A plain (non-atomic) counter: a lost update or a torn exclusion shows as a wrong total, and
// under TSan as a data race.
TEST(BriefMutex, ConcurrentIncrementsAreExclusive) {
  BriefMutex m;
  std::uint64_t counter = 0;
  constexpr int kThreads = 4;
  constexpr int kRounds = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard lock(m);
        counter = counter + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, std::uint64_t{kThreads} * kRounds);
}

// The holder keeps the lock far longer than the spin (~3 us), so the waiter parks; unlock() must
// wake it, and it must see what the holder wrote before unlocking.
TEST(BriefMutex, AParkedWaiterIsWokenByUnlockAndSeesTheHoldersWrites) {
  BriefMutex m;
  int written = 0;
  m.lock();
  std::atomic<bool> waiting{false};
  auto waiter = std::async(std::launch::async, [&] {
    waiting = true;
    std::lock_guard lock(m);
    return written;
  });
  while (!waiting) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(waiter.wait_for(0s), std::future_status::timeout) << "the waiter got in while the lock was held";
  written = 42;
  m.unlock();
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready) << "unlock() did not wake the parked waiter";
  EXPECT_EQ(waiter.get(), 42);
  EXPECT_TRUE(m.try_lock()) << "the lock stayed held after the waiter released it";
  m.unlock();
}

// Several parked waiters: every one of them gets the lock in turn (none is left parked).
TEST(BriefMutex, ConcurrentParkedWaitersAllGetTheLock) {
  BriefMutex m;
  m.lock();
  constexpr int kWaiters = 3;
  std::atomic<int> started{0};
  std::atomic<int> done{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      ++started;
      std::lock_guard lock(m);
      std::this_thread::sleep_for(1ms);  // long enough that the next waiter parks again
      ++done;
    });
  }
  while (started < kWaiters) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(done.load(), 0);
  m.unlock();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (done < kWaiters && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(done.load(), kWaiters) << "a parked waiter was never woken";
  for (auto& w : waiters) w.join();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

}  // namespace
}  // namespace accelerator::local
