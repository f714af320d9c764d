#include "accelerator/local/maintenance_thread.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <new>
#include <system_error>
#include <thread>

namespace accelerator::local {
namespace {

// How long the thread keeps looking for work before it sleeps, while tasks come less than this
// apart on average (IdleSpin). A reader schedules a drain every 128 hits (a few microseconds apart
// under load); sleeping between them would make each schedule() pay a futex wake-up, which
// costs more than the work it hands over. It yields while it looks, so reading threads that
// want the core get it (measured on 2 cores, l1/read_zipf: a pause-instruction spin read 12-14
// M/s at 1 thread, yielding 15-17 M/s; no spin 10 M/s). Spinning after every task, as it did
// until 2026-12-02, cost 37% of a core at 1 M hits/s (a drain every ~128 us: every spin failed).
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(50);

}  // namespace

MaintenanceThread& MaintenanceThread::shared() {
  // Leaked on purpose: see the header.
  static MaintenanceThread* instance = new MaintenanceThread();
  return *instance;
}

MaintenanceThread::MaintenanceThread() : idle_spin_(kSpinBeforeSleep) {
  // fork() copies only the calling thread. The handlers make the fork wait until no task runs,
  // so the child never inherits a cache whose policy lock the (vanished) maintenance thread was
  // holding, and make the child start a maintenance thread of its own when it first needs one.
  ::pthread_atfork([] { shared().before_fork(); }, [] { shared().after_fork(false); },
                   [] { shared().after_fork(true); });
}

// Returns holding mutex_ (released by after_fork), with no task running and none to start.
void MaintenanceThread::before_fork() {
  std::unique_lock lock(mutex_);
  forking_ = true;
  idle_.wait(lock, [&] { return running_ == nullptr; });
  lock.release();
}

void MaintenanceThread::after_fork(bool in_child) {
  forking_ = false;
  if (in_child) {
    // The parent's thread does not exist here and nothing waits on these yet. Only plain
    // stores: the next schedule() starts the thread (a child should not create threads here).
    started_ = false;
    sleeping_ = false;
    asleep_.store(true, std::memory_order_relaxed);
    new (&work_) std::condition_variable();
    new (&idle_) std::condition_variable();
  }
  mutex_.unlock();
  if (!in_child) work_.notify_one();
}

void MaintenanceThread::schedule(MaintenanceTask* task) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    start_if_needed();
    queue_.push_back(task);
    queued_.store(queue_.size(), std::memory_order_release);
    wake = sleeping_;
    // Only on the wake-up path, which costs far more than a clock read.
    if (wake && asked_while_asleep_ == std::chrono::steady_clock::time_point::min()) {
      asked_while_asleep_ = std::chrono::steady_clock::now();
    }
  }
  if (wake) work_.notify_one();
}

void MaintenanceThread::schedule_after(MaintenanceTask* task, std::chrono::steady_clock::duration delay) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    start_if_needed();
    timers_.emplace_back(std::chrono::steady_clock::now() + delay, task);
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
    wake = sleeping_;  // it may sleep until a later timer
  }
  if (wake) work_.notify_one();
}

void MaintenanceThread::cancel(MaintenanceTask* task) {
  std::unique_lock lock(mutex_);
  // Wait first: a running task may schedule itself again (an expiry sweep re-arms its timer).
  idle_.wait(lock, [&] { return running_ != task; });
  queue_.erase(std::remove(queue_.begin(), queue_.end(), task), queue_.end());
  queued_.store(queue_.size(), std::memory_order_release);
  const auto timers_end =
      std::remove_if(timers_.begin(), timers_.end(), [&](const Timer& t) { return t.second == task; });
  if (timers_end != timers_.end()) {
    timers_.erase(timers_end, timers_.end());
    std::make_heap(timers_.begin(), timers_.end(), std::greater<>());
  }
}

void MaintenanceThread::start_if_needed() {
  if (started_) return;
  try {
    std::thread([this] { loop(); }).detach();
    started_ = true;
  } catch (const std::system_error&) {
    // No thread (resource limits): the task waits in the queue and the next schedule() tries
    // again. Caches stay correct meanwhile: a cache whose drain waits here has its hits applied
    // by writers and by readers whose rings fill (asleep() is true until the thread runs).
  }
}

void MaintenanceThread::queue_due_timers() {
  const auto now = std::chrono::steady_clock::now();
  while (!timers_.empty() && timers_.front().first <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    queue_.push_back(timers_.back().second);
    timers_.pop_back();
  }
  queued_.store(queue_.size(), std::memory_order_release);
}

void MaintenanceThread::wait_for_work(std::unique_lock<std::mutex>& lock) {
  const auto ready = [&] {
    queue_due_timers();
    return !queue_.empty() && !forking_;
  };
  // Work already waiting (a drain re-queued while it ran) ends no idle spell: only the gaps
  // after the queue ran dry say whether a spin would find the next task.
  if (ready()) return;
  lock.unlock();
  const auto idle_since = std::chrono::steady_clock::now();
  const auto give_up = idle_since + idle_spin_.budget();
  while (queued_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  lock.lock();
  if (ready()) {
    idle_spin_.record_gap(std::chrono::steady_clock::now() - idle_since);
    return;
  }
  sleeping_ = true;
  asleep_.store(true, std::memory_order_relaxed);
  asked_while_asleep_ = std::chrono::steady_clock::time_point::min();
  while (!ready()) {
    if (timers_.empty()) {
      work_.wait(lock);
    } else {
      // A copy: wait_until reads its deadline again after waking, and a schedule_after() while
      // this thread waits (the mutex is released) may reallocate timers_ under a reference.
      const auto next_timer = timers_.front().first;
      work_.wait_until(lock, next_timer);
    }
  }
  sleeping_ = false;
  asleep_.store(false, std::memory_order_relaxed);
  // A task's arrival, not the wake-up's end, closes the gap (the wake-up's latency would make
  // closely spaced tasks look sparse); a timer's task arrives when the thread wakes for it.
  const bool asked = asked_while_asleep_ != std::chrono::steady_clock::time_point::min();
  idle_spin_.record_gap((asked ? asked_while_asleep_ : std::chrono::steady_clock::now()) - idle_since);
}

void MaintenanceThread::loop() {
#if defined(__linux__)
  ::pthread_setname_np(::pthread_self(), "acc-maintenance");  // what top -H and gdb show
#endif
  asleep_.store(false, std::memory_order_relaxed);
  std::unique_lock lock(mutex_);
  for (;;) {
    wait_for_work(lock);
    MaintenanceTask* task = queue_.front();
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_release);
    running_ = task;
    lock.unlock();
    try {
      task->run_maintenance();
    } catch (...) {
      // Nothing to report to: a listener that throws loses only its own notification.
    }
    lock.lock();
    running_ = nullptr;
    idle_.notify_all();
  }
}

}  // namespace accelerator::local
