// Helpers shared by the unit tests: run coroutines to completion, count loader calls.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "accelerator/accelerator.hpp"

namespace accelerator::testing {

// Runs one coroutine on a fresh single-threaded io_context and returns its result.
template <class T>
T run(asio::awaitable<T> task) {
  asio::io_context io;
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run();
  return future.get();
}

// Runs a coroutine on a pool of `threads` threads (for concurrency tests) and waits for it.
template <class T>
T run_on_pool(std::size_t threads, asio::awaitable<T> task) {
  asio::thread_pool pool(threads);
  auto future = asio::co_spawn(pool, std::move(task), asio::use_future);
  T result = future.get();
  pool.join();
  return result;
}

// A coroutine-friendly sleep (real time; only for loaders that must be slow).
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// A one-shot gate a test opens to let a blocked loader continue.
class Gate {
 public:
  asio::awaitable<void> wait() { co_await detail::wait_for(waiters_); }
  void open() { waiters_.notify_all(); }

 private:
  detail::WaiterList waiters_;
};

}  // namespace accelerator::testing
