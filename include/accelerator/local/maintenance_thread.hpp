// accelerator/local/maintenance_thread.hpp — one shared thread that runs caches' deferred policy work.
//
// A cache hit must tell the eviction policy about the access, and applying that (a sketch
// increment and a list move per hit) costs about as much as the lookup itself. Readers therefore
// only record their hits; when enough are recorded a cache schedules a task here, and this
// thread applies them, off the reading thread (Caffeine does the same on a ForkJoinPool).
//
// One thread serves every cache in the process, started on first use and never stopped. It
// sleeps when there is nothing to do; while tasks come less than 50 us apart on average it
// first spins (up to 50 us) so that a steady stream of them does not pay a wake-up each, and
// when they come further apart it sleeps at once (see IdleSpin). Tasks run one at a time, in
// the order scheduled. A child process made by fork() gets a thread of its own; fork() waits
// for a running task to finish.
//
// Thread-safety: schedule() and cancel() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "accelerator/local/idle_spin.hpp"

namespace accelerator::local {

class MaintenanceTask {
 public:
  // Runs on the maintenance thread. Exceptions are caught and dropped (there is no caller to
  // report them to).
  virtual void run_maintenance() = 0;

 protected:
  ~MaintenanceTask() = default;
};

class MaintenanceThread {
 public:
  // The process-wide instance (never destroyed: caches with static storage may outlive any
  // other static object).
  static MaintenanceThread& shared();

  // Queues `task` to run once. REQUIRES: `task` is not already queued (callers track that with
  // their own state) and stays alive until it has run or cancel() returned.
  void schedule(MaintenanceTask* task);
  // Queues `task` to run once after `delay` (e.g. a cache's next expiry sweep). Same REQUIRES.
  void schedule_after(MaintenanceTask* task, std::chrono::steady_clock::duration delay);
  // Removes `task` from the queue and the timers and waits until it is not running. Call before
  // destroying a task that may be queued. Must not be called from the task itself.
  void cancel(MaintenanceTask* task);
  // True while the thread sleeps (or has not started): a task scheduled now waits for a
  // wake-up (tens of microseconds) rather than for the thread to get round to it. A hint, read
  // without the lock: a caller deciding whether to do a task's work itself.
  bool asleep() const noexcept { return asleep_.load(std::memory_order_relaxed); }

 private:
  MaintenanceThread();
  void loop();
  void before_fork();
  void after_fork(bool in_child);
  void wait_for_work(std::unique_lock<std::mutex>& lock);
  void start_if_needed();   // REQUIRES: mutex_ held
  void queue_due_timers();  // REQUIRES: mutex_ held

  using Timer = std::pair<std::chrono::steady_clock::time_point, MaintenanceTask*>;

  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::deque<MaintenanceTask*> queue_;
  std::atomic<std::size_t> queued_{0};  // queue_.size(), readable without the mutex while spinning
  std::vector<Timer> timers_;           // a min-heap on the time (std::greater)
  MaintenanceTask* running_ = nullptr;
  bool started_ = false;  // the thread is started by the first schedule()
  bool sleeping_ = false;
  // sleeping_ (or not started) for readers without the lock, on its own line: it changes only
  // when the thread falls asleep or wakes, not with every task.
  alignas(64) std::atomic<bool> asleep_{true};
  bool forking_ = false;  // set between fork()'s prepare and its parent/child handlers
  // When a schedule() first found the thread asleep in its current sleep: the task's arrival,
  // which the wake-up follows only later; time_point::min() otherwise.
  std::chrono::steady_clock::time_point asked_while_asleep_ = std::chrono::steady_clock::time_point::min();
  IdleSpin idle_spin_;  // only the thread itself uses it
};

}  // namespace accelerator::local
