// accelerator/detail/waiter_list.hpp — one-shot wake-up of coroutines on any thread.
//
// Internal. asio's timers and channels are not safe to touch from several threads at once; a load
// that finishes on one io_context thread must wake callers suspended on others. WaiterList keeps
// each suspended caller's completion handler and, when notified, posts every handler to the
// executor it belongs to, so each caller resumes where it was running. Thread-safe.
#pragma once

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <mutex>
#include <vector>

namespace accelerator::detail {

class WaiterList {
 public:
  WaiterList() = default;
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;

  // Runs `resume` now when already notified, otherwise exactly once from notify_all().
  void wait_or_run(std::move_only_function<void()> resume);
  // Idempotent: later calls do nothing.
  void notify_all();
  bool notified() const;

 private:
  mutable std::mutex mutex_;
  bool notified_ = false;
  std::vector<std::move_only_function<void()>> waiters_;
};

// Suspends the calling coroutine until `list` is notified. Never resumes inline.
inline asio::awaitable<void> wait_for(WaiterList& list) {
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&list](auto handler) {
        list.wait_or_run([h = std::move(handler)]() mutable {
          auto executor = asio::get_associated_executor(h);
          asio::post(executor, std::move(h));
        });
      },
      asio::use_awaitable);
}

}  // namespace accelerator::detail
