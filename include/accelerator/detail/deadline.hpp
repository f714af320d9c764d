// accelerator/detail/deadline.hpp — run a user coroutine with a deadline it cannot ignore.
//
// Internal. asio's `a || timer` waits for BOTH operations to finish after cancelling the loser,
// so a loader that ignores cancellation would hold the caller forever. Here the operation runs as
// its own coroutine; the caller waits only for "operation done or deadline passed". On the
// deadline the operation is sent a cancellation signal and its eventual result is dropped.
// REQUIRES: called from a coroutine running on a strand (every piece of shared state below is
// touched only on that strand).
#pragma once

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "accelerator/error.hpp"

namespace accelerator::detail {

// The error a loader that threw is reported as.
CacheError loader_exception_error(std::exception_ptr error);

// `make_op()` returns asio::awaitable<CacheResult<T>>. The factory is kept alive until the
// operation finishes, so whatever it captures by value outlives a timed-out caller.
// Returns nullopt when `timeout` passed first.
template <class T, class MakeOp>
asio::awaitable<std::optional<CacheResult<T>>> run_with_deadline(MakeOp make_op,
                                                                 std::optional<std::chrono::milliseconds> timeout) {
  auto strand = co_await asio::this_coro::executor;
  struct Race {
    explicit Race(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    asio::cancellation_signal cancel;
    std::optional<CacheResult<T>> result;
  };
  auto race = std::make_shared<Race>(strand);
  asio::co_spawn(strand, std::move(make_op),
                 asio::bind_cancellation_slot(
                     race->cancel.slot(),
                     asio::bind_executor(strand, [race](std::exception_ptr error, CacheResult<T> result) {
                       if (error) result = fail(loader_exception_error(error));
                       race->result.emplace(std::move(result));
                       race->timer.cancel();
                     })));
  // The operation was queued first on this strand, so after one turn a loader that never
  // suspends (an in-memory source) has finished, and no timer is armed for it: arming and
  // cancelling one costs timer-queue updates (timerfd system calls) on every load.
  co_await asio::post(strand, asio::use_awaitable);
  if (!race->result) {
    if (timeout) {
      race->timer.expires_after(*timeout);
    } else {
      race->timer.expires_at(asio::steady_timer::time_point::max());
    }
    asio::error_code ec;
    co_await race->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (race->result) co_return std::move(race->result);
  race->cancel.emit(asio::cancellation_type::all);
  co_return std::nullopt;
}

}  // namespace accelerator::detail
