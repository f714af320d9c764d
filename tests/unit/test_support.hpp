// Helpers shared by the unit tests: drive coroutines to completion, gates for loaders.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "accelerator/accelerator.hpp"

namespace accelerator::testing {

// An io_context that outlives single calls, so background work (refresh-ahead, detached loads)
// keeps running between them. run() drives the context until the given coroutine finishes.
class Runner {
 public:
  Runner() : guard_(asio::make_work_guard(io_)) {}

  template <class T>
  T run(asio::awaitable<T> task, std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto future = asio::co_spawn(io_, std::move(task), asio::use_future);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("coroutine did not finish in time");
      io_.run_one_for(std::chrono::milliseconds(20));
    }
    return future.get();
  }

  // Runs whatever is ready without blocking.
  void poll() { io_.poll(); }

  // Runs handlers until `condition()` holds (or fails the test after `limit`).
  template <class Condition>
  bool run_until(Condition condition, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  asio::io_context& context() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
};

// Runs one coroutine on a fresh io_context.
template <class T>
T run(asio::awaitable<T> task) {
  Runner runner;
  return runner.run(std::move(task));
}

// A coroutine-friendly sleep (real time; only for loaders that must be slow).
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// A one-shot gate a test opens to let blocked loaders continue. Thread-safe.
class Gate {
 public:
  asio::awaitable<void> wait() {
    waiting_.fetch_add(1);
    co_await detail::wait_for(waiters_);
  }
  void open() { waiters_.notify_all(); }
  int waiting() const { return waiting_.load(); }

 private:
  detail::WaiterList waiters_;
  std::atomic<int> waiting_{0};
};

}  // namespace accelerator::testing
