// accelerator/backend.hpp — the contracts a backend satisfies to plug into LevelCache.
//
// Dispatch is static (concepts, no virtual calls), as in the seed. Two deliberate departures:
//  * L1 is synchronous. An in-process map needs no coroutine frame, and a hit is then a few
//    nanoseconds of hashing instead of a suspended coroutine.
//  * L2 speaks bytes. LevelCache owns value encoding (codec.hpp), so a remote backend is one
//    non-template class (e.g. RedisBackend) no matter how many value types use it.
// Keys given to backends are already encoded (see key_codec.hpp); a remote backend may add its
// own namespace prefix.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accelerator/error.hpp"
#include "accelerator/stored_entry.hpp"

namespace accelerator {

// Occupancy and activity of an L1, for diagnostics.
struct LocalStats {
  std::size_t entries = 0;
  std::size_t weight = 0;    // equals entries unless the backend weighs entries
  std::size_t capacity = 0;  // in the same unit as weight
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions_size = 0;     // evicted to stay within capacity
  std::uint64_t evictions_expired = 0;  // dropped after stale_until
  // Hits the eviction policy never heard of: its read buffers were full because the process
  // read faster than the policy's maintenance kept up. A steadily rising share of hits means the
  // policy sees a thinned sample of the access stream (still lossy-by-design, as in Caffeine).
  // 0 for backends whose policy hears every hit.
  std::uint64_t policy_hits_dropped = 0;
};

// L1. REQUIRES: every member is safe to call concurrently from any thread.
//   get(key)    the entry if present and stale_until has not passed (expired-but-in-grace entries
//               ARE returned: LevelCache decides freshness with StoredEntry::fresh_at)
//   set(k, e)   insert or replace
//   del(key)    remove; removing an absent key is not an error
//   clear()     remove everything (used when invalidation messages may have been lost)
//   stats()     occupancy and counters
// Optional, used by LevelCache when present:
//   get(key, now)  get() with expiry judged at `now` (a TimePoint of the cache's clock), which the
//                  caller has already read. When `key` may be a std::string_view, a single-key
//                  get() looks keys up without building a std::string (the default TinyLfuBackend
//                  does; keys over 15 bytes would otherwise cost an allocation per hit).
template <class B, class V>
concept LocalBackend = requires(B& b, const B& cb, const std::string& key, StoredEntry<V> entry) {
  { b.get(key) } -> std::same_as<std::optional<StoredEntry<V>>>;
  { b.set(key, std::move(entry)) } -> std::same_as<void>;
  { b.del(key) } -> std::same_as<void>;
  { b.clear() } -> std::same_as<void>;
  { cb.stats() } -> std::same_as<LocalStats>;
};

// One write of a batch to L2.
struct RemoteWrite {
  std::string key;
  std::string bytes;
  std::chrono::milliseconds ttl;
};

// L2. Every call is a coroutine; REQUIRES: arguments stay alive until the awaitable completes
// (true whenever the caller co_awaits the call in the same expression). A backend enforces its
// own per-call timeouts: a hung server must cost at most that timeout.
//   get        the stored bytes, or nullopt when the key is absent
//   mget       one slot per requested key, in request order, in ONE round trip
//   set        store with a TTL
//   mset       store many in ONE round trip
//   del/mdel   remove (absent keys are not an error)
//   publish    send an invalidation payload to a channel
template <class B>
concept RemoteBackend = requires(B& b, const std::string& key, const std::vector<std::string>& keys,
                                 const std::string& bytes, std::chrono::milliseconds ttl,
                                 const std::vector<RemoteWrite>& writes) {
  { b.get(key) } -> std::same_as<asio::awaitable<CacheResult<std::optional<std::string>>>>;
  { b.mget(keys) } -> std::same_as<asio::awaitable<CacheResult<std::vector<std::optional<std::string>>>>>;
  { b.set(key, bytes, ttl) } -> std::same_as<asio::awaitable<CacheResult<void>>>;
  { b.mset(writes) } -> std::same_as<asio::awaitable<CacheResult<void>>>;
  { b.del(key) } -> std::same_as<asio::awaitable<CacheResult<void>>>;
  { b.mdel(keys) } -> std::same_as<asio::awaitable<CacheResult<void>>>;
  { b.publish(key, bytes) } -> std::same_as<asio::awaitable<CacheResult<void>>>;
};

// What a subscriber reports to the cache.
struct InvalidationHandlers {
  // One payload received on the channel.
  std::function<void(std::string_view payload)> on_message;
  // The subscription was (re)established after a time in which messages may have been lost
  // (a dropped connection). The cache reacts by clearing its L1.
  std::function<void()> on_gap;
};

// A live subscription; destroying or stopping it ends delivery.
class Subscription {
 public:
  virtual ~Subscription() = default;
  virtual void stop() = 0;
  // True while the subscriber holds a confirmed subscription.
  virtual bool active() const = 0;
};

// A remote backend that can also deliver invalidation messages. subscribe() starts the
// subscription before it returns (it need not be confirmed yet) and keeps it alive, reconnecting
// with backoff, until the Subscription is stopped.
template <class S>
concept InvalidationSubscriber = requires(S& s, std::string channel, InvalidationHandlers handlers) {
  { s.subscribe(std::move(channel), std::move(handlers)) } -> std::same_as<CacheResult<std::shared_ptr<Subscription>>>;
};

// The remote type of a cache that has no L2. Never called: LevelCache checks the mode first.
struct NoRemote {
  static CacheError unused() { return CacheError::backend("no remote backend configured"); }
  asio::awaitable<CacheResult<std::optional<std::string>>> get(const std::string&) { co_return fail(unused()); }
  asio::awaitable<CacheResult<std::vector<std::optional<std::string>>>> mget(const std::vector<std::string>&) {
    co_return fail(unused());
  }
  asio::awaitable<CacheResult<void>> set(const std::string&, const std::string&, std::chrono::milliseconds) {
    co_return fail(unused());
  }
  asio::awaitable<CacheResult<void>> mset(const std::vector<RemoteWrite>&) { co_return fail(unused()); }
  asio::awaitable<CacheResult<void>> del(const std::string&) { co_return fail(unused()); }
  asio::awaitable<CacheResult<void>> mdel(const std::vector<std::string>&) { co_return fail(unused()); }
  asio::awaitable<CacheResult<void>> publish(const std::string&, const std::string&) { co_return fail(unused()); }
};

}  // namespace accelerator

namespace accelerator {

// Health of a remote backend, reported in diagnostics when the backend offers `health()`.
struct RemoteHealth {
  bool connected = false;
  std::string circuit = "closed";  // "closed", "open" or "half_open"
  std::string last_error;          // empty when none
  std::uint64_t reconnects = 0;
  std::uint64_t failures = 0;
};

}  // namespace accelerator
