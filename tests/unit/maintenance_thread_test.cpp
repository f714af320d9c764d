// Unit tests for the shared maintenance thread that applies caches' recorded hits.
#include "accelerator/local/maintenance_thread.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace accelerator::local {
namespace {

using namespace std::chrono_literals;

// Polls `done` for up to 10 s (the thread may sleep or be descheduled on a busy machine).
template <class F>
bool eventually(F done) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

struct CountingTask final : MaintenanceTask {
  std::atomic<int> runs{0};
  std::atomic<std::thread::id> ran_on{};
  void run_maintenance() override {
    ran_on.store(std::this_thread::get_id());
    runs.fetch_add(1);
  }
};

// Runs until released; tells when it has started.
struct BlockingTask final : MaintenanceTask {
  std::atomic<bool> started{false}, release{false}, finished{false};
  void run_maintenance() override {
    started.store(true);
    while (!release.load()) std::this_thread::sleep_for(50us);
    finished.store(true);
  }
};

TEST(MaintenanceThreadConcurrency, RunsEachScheduledTaskOnceOnOneOtherThread) {
  auto& thread = MaintenanceThread::shared();
  std::vector<CountingTask> tasks(20);
  for (auto& task : tasks) thread.schedule(&task);
  for (auto& task : tasks) ASSERT_TRUE(eventually([&] { return task.runs.load() == 1; }));
  const auto worker = tasks.front().ran_on.load();
  EXPECT_NE(worker, std::this_thread::get_id());
  for (auto& task : tasks) EXPECT_EQ(task.ran_on.load(), worker);
  // Each may be scheduled again once it has run.
  for (auto& task : tasks) thread.schedule(&task);
  for (auto& task : tasks) ASSERT_TRUE(eventually([&] { return task.runs.load() == 2; }));
}

TEST(MaintenanceThreadConcurrency, CancelWaitsForTheRunningTaskAndDropsQueuedOnes) {
  auto& thread = MaintenanceThread::shared();
  BlockingTask blocker;
  CountingTask queued, sentinel;
  thread.schedule(&blocker);
  ASSERT_TRUE(eventually([&] { return blocker.started.load(); }));
  thread.schedule(&queued);
  thread.cancel(&queued);  // queued behind the blocker: removed, returns at once

  std::atomic<bool> cancel_returned{false};
  std::thread canceller([&] {
    thread.cancel(&blocker);
    cancel_returned.store(true);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(cancel_returned.load());  // the blocker still runs
  blocker.release.store(true);
  canceller.join();
  EXPECT_TRUE(blocker.finished.load());  // cancel returned only after the task had finished

  // Tasks run in order: once the sentinel has run, the cancelled task would have too.
  thread.schedule(&sentinel);
  ASSERT_TRUE(eventually([&] { return sentinel.runs.load() == 1; }));
  EXPECT_EQ(queued.runs.load(), 0);
}

TEST(MaintenanceThreadConcurrency, SaysWhetherItSleeps) {
  // Caches ask before doing a drain themselves: a sleeping thread needs a wake-up first.
  auto& thread = MaintenanceThread::shared();
  BlockingTask blocker;
  thread.schedule(&blocker);
  ASSERT_TRUE(eventually([&] { return blocker.started.load(); }));
  EXPECT_FALSE(thread.asleep());  // running a task
  blocker.release.store(true);
  // With nothing left to do it spins briefly, then sleeps.
  EXPECT_TRUE(eventually([&] { return thread.asleep(); }));
  CountingTask task;
  thread.schedule(&task);
  ASSERT_TRUE(eventually([&] { return task.runs.load() == 1; }));
  thread.cancel(&blocker);
}

TEST(MaintenanceThreadConcurrency, TimedTasksRunAfterTheirDelayAndCancelRemovesThem) {
  auto& thread = MaintenanceThread::shared();
  CountingTask soon, later, cancelled;
  const auto start = std::chrono::steady_clock::now();
  thread.schedule_after(&later, 200ms);
  thread.schedule_after(&cancelled, 100ms);
  thread.schedule_after(&soon, 50ms);
  thread.cancel(&cancelled);
  ASSERT_TRUE(eventually([&] { return soon.runs.load() == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  ASSERT_TRUE(eventually([&] { return later.runs.load() == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_EQ(cancelled.runs.load(), 0);  // its time (100 ms) passed before `later` ran
  EXPECT_EQ(soon.runs.load(), 1);
}

// The thread sleeps until its earliest timer; timers scheduled meanwhile grow the timer heap
// (reallocating it) and wake it. It must wake on the earlier ones and not read the deadline it
// slept on from the old storage: AddressSanitizer reports that as a heap-use-after-free (it did
// in CI, and does here without the fix in wait_for_work).
TEST(MaintenanceThreadConcurrency, TimersAddedWhileItSleepsOnATimerAllRun) {
  auto& thread = MaintenanceThread::shared();
  CountingTask far;
  thread.schedule_after(&far, 60s);
  ASSERT_TRUE(eventually([&] { return thread.asleep(); }));
  // asleep() turns true just before the wait begins: give the thread time to be inside it, so
  // the reallocations below happen while it waits (without this the test misses the bug).
  std::this_thread::sleep_for(20ms);
  std::vector<CountingTask> near(100);
  for (auto& task : near) thread.schedule_after(&task, 1ms);
  for (auto& task : near) ASSERT_TRUE(eventually([&] { return task.runs.load() == 1; }));
  EXPECT_EQ(far.runs.load(), 0);
  thread.cancel(&far);
}

// Not a *Concurren* test: ThreadSanitizer does not support threads started after fork().
TEST(MaintenanceThreadFork, AForkedChildRunsTasksOnAThreadOfItsOwn) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer does not support starting threads in a forked child";
#endif
  auto& thread = MaintenanceThread::shared();
  CountingTask before;
  thread.schedule(&before);  // the parent's thread exists before the fork
  ASSERT_TRUE(eventually([&] { return before.runs.load() == 1; }));
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    CountingTask in_child;
    MaintenanceThread::shared().schedule(&in_child);
    const bool ran = eventually([&] { return in_child.runs.load() == 1; });
    ::_exit(ran && in_child.ran_on.load() != std::this_thread::get_id() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The parent's thread still works.
  CountingTask after;
  thread.schedule(&after);
  EXPECT_TRUE(eventually([&] { return after.runs.load() == 1; }));
}

}  // namespace
}  // namespace accelerator::local
