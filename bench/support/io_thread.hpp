// An io_context run by one thread of its own, for benchmarks that drive the client from outside:
// the client's natural deployment on a single core. run() blocks the caller until the coroutine
// finishes on that thread.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <thread>

namespace accelerator::bench {

struct IoThread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    guard.reset();
    io.stop();
    thread.join();
  }
  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(io, std::move(a), asio::use_future).get();
  }
};

}  // namespace accelerator::bench
