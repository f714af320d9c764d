// accelerator/detail/flight.hpp — one in-progress load and the table that deduplicates them.
//
// Internal. A Flight is the shared outcome of one load: any number of callers wait on it and all
// receive a copy of the same result (singleflight). The load itself runs detached from every
// caller, so a caller that is cancelled or times out never cancels the load for the others.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "accelerator/detail/waiter_list.hpp"

namespace accelerator::detail {

template <class T>
class Flight {
 public:
  // First call wins; returns false when the flight already had a result.
  bool complete(T result) {
    {
      std::lock_guard lock(mutex_);
      if (result_) return false;
      result_.emplace(std::move(result));
    }
    waiters_.notify_all();
    return true;
  }

  bool done() const { return waiters_.notified(); }

  // A copy of the result, once there is one. INVARIANT: result_ is never modified after set.
  asio::awaitable<T> wait() {
    co_await wait_for(waiters_);
    co_return *result_;
  }

 private:
  std::mutex mutex_;
  std::optional<T> result_;
  WaiterList waiters_;
};

// Maps an encoded key to the flight loading it. Thread-safe.
template <class T>
class FlightTable {
 public:
  using FlightPtr = std::shared_ptr<Flight<T>>;

  // The key's current flight (leader=false), or a new one registered for it (leader=true), in
  // which case the caller must start the load and later call release().
  std::pair<FlightPtr, bool> join_or_lead(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = flights_.try_emplace(key);
    if (inserted) it->second = std::make_shared<Flight<T>>();
    return {it->second, inserted};
  }

  // The key's current flight, or nullptr.
  FlightPtr find(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = flights_.find(key);
    return it == flights_.end() ? nullptr : it->second;
  }

  // Unregisters `flight` if it is still the key's flight.
  void release(const std::string& key, const FlightPtr& flight) {
    std::lock_guard lock(mutex_);
    auto it = flights_.find(key);
    if (it != flights_.end() && it->second == flight) flights_.erase(it);
  }

  // Detaches whatever flight the key has: its waiters still get its result, but later callers
  // start a new load. Used when the key is written or deleted while a load is running.
  void forget(const std::string& key) {
    std::lock_guard lock(mutex_);
    flights_.erase(key);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return flights_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, FlightPtr> flights_;
};

}  // namespace accelerator::detail
