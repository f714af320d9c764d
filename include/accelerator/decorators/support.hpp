// accelerator/decorators/support.hpp — the non-policy parts the decorators share.
//
// Internal to the decorators: error reporting, key deduplication, and the per-call-site
// singleflight used with caches that have no get_or_load.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "accelerator/decorators/options.hpp"
#include "accelerator/detail/distinct_keys.hpp"
#include "accelerator/detail/flight.hpp"
#include "accelerator/error.hpp"

namespace accelerator::decorators {

// Logs a failed cache call of `decorator` (e.g. "cacheable") during `op` (e.g. "get",
// "del_before") at WARN on the "accelerator::macros" logger, and returns true when the policy is
// Propagate. Non-template; defined in src/decorators/.
bool report_cache_error(std::string_view decorator, std::string_view op, OnCacheError policy, const CacheError& error);

// Distinct keys in order of first appearance.
template <class K, class Range>
std::vector<K> dedupe(const Range& keys) {
  std::vector<K> all(std::ranges::begin(keys), std::ranges::end(keys));
  const std::vector<std::size_t> positions = detail::distinct_positions(all);
  if (positions.size() == all.size()) return all;
  std::vector<K> out;
  out.reserve(positions.size());
  for (const std::size_t at : positions) out.push_back(std::move(all[at]));
  return out;
}

// Singleflight for one decorator call site (one instantiation): concurrent misses of the same
// (cache object, key) share one run of the body. Thread-safe.
template <class K, class R>
class SiteFlights {
 public:
  using FlightPtr = std::shared_ptr<detail::Flight<R>>;

  std::pair<FlightPtr, bool> join_or_lead(const void* cache, const K& key) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = flights_.try_emplace(Id{cache, key});
    if (inserted) it->second = std::make_shared<detail::Flight<R>>();
    return {it->second, inserted};
  }

  void release(const void* cache, const K& key, const FlightPtr& flight) {
    std::lock_guard lock(mutex_);
    auto it = flights_.find(Id{cache, key});
    if (it != flights_.end() && it->second == flight) flights_.erase(it);
  }

 private:
  struct Id {
    const void* cache;
    K key;
    bool operator==(const Id&) const = default;
  };
  struct Hash {
    std::size_t operator()(const Id& id) const noexcept {
      return std::hash<K>{}(id.key) ^ (std::hash<const void*>{}(id.cache) * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::mutex mutex_;
  std::unordered_map<Id, FlightPtr, Hash> flights_;
};

template <class K>
concept HashableKey = requires(const K& k) {
  { std::hash<K>{}(k) } -> std::convertible_to<std::size_t>;
  { k == k } -> std::convertible_to<bool>;
};

// Leader side of a SiteFlights flight: whatever happens (including the caller's coroutine being
// destroyed mid-way), the flight is released and completed, so followers never wait forever.
template <class K, class R>
class FlightLeader {
 public:
  FlightLeader(SiteFlights<K, R>& table, const void* cache, K key, typename SiteFlights<K, R>::FlightPtr flight)
      : table_(table), cache_(cache), key_(std::move(key)), flight_(std::move(flight)) {}
  FlightLeader(const FlightLeader&) = delete;
  FlightLeader& operator=(const FlightLeader&) = delete;
  ~FlightLeader() {
    table_.release(cache_, key_, flight_);
    flight_->complete(R(std::unexpected(typename R::error_type(CacheError::loader("decorated call was cancelled")))));
  }
  void complete(const R& result) {
    table_.release(cache_, key_, flight_);
    flight_->complete(result);
  }

 private:
  SiteFlights<K, R>& table_;
  const void* cache_;
  K key_;
  typename SiteFlights<K, R>::FlightPtr flight_;
};

}  // namespace accelerator::decorators
