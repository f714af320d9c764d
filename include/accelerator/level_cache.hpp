// accelerator/level_cache.hpp — the two-level cache runtime.
//
// LevelCache<K, V, Loader, Local, Remote> puts an in-process L1 (Local) in front of a shared L2
// (Remote) and a source of truth (Loader). Build one with LevelCacheBuilder (builder.hpp).
//
// Read path of get(key):  L1 fresh hit -> value (maybe schedules a background refresh)
//                         L2 fresh hit -> value, L1 filled for min(local_ttl, L2's remaining TTL)
//                         loader (one load per key at a time) -> value written to L2 and L1
//                         load failed -> expired value within stale_grace, if allowed
// Guarantees:
//  * No stale resurrection: a load that began before a set/del/invalidation of the same key never
//    writes its older value into this instance's L1 after that call returned (and removes what it
//    wrote to L2 if the key changed meanwhile).
//  * Fail-open (default): an L2 failure is counted and the call is served by L1 and the loader.
//  * One call never waits for a loader longer than loader_timeout, even if the loader ignores
//    cancellation.
//
// Observation: every public call records its wall time in metrics.latency.<op>, each loader run
// in latency.load and each L2 round trip in latency.remote; with a tracer it opens a span
// (cache.get ..., cache.load as the child of the call that waits for the load), and with an
// operation log it writes one record (detail/operation_scope.hpp). Without a tracer or a log
// that is two clock reads (detail::steady_now(): an rdtsc where the hardware allows) and a
// histogram add per call. A get answered by L2 shares them with its round trip (which is timed
// from the call's start), so it ends, for latency.get, when L2's reply is read: two reads for
// both histograms.
//
// Thread-safety: every member may be called concurrently from any thread of any io_context.
// LevelCache is a cheap handle: copies share one cache; the cache (and its invalidation
// subscription) lives until the last copy is destroyed. Coroutines take their arguments by value.
// REQUIRES: the Loader and backends are safe to call concurrently.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <charconv>
#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "accelerator/backend.hpp"
#include "accelerator/codec.hpp"
#include "accelerator/config.hpp"
#include "accelerator/detail/compact_strand.hpp"
#include "accelerator/detail/deadline.hpp"
#include "accelerator/detail/distinct_keys.hpp"
#include "accelerator/detail/flight.hpp"
#include "accelerator/detail/generations.hpp"
#include "accelerator/detail/invalidation_message.hpp"
#include "accelerator/detail/jitter.hpp"
#include "accelerator/detail/key_buffer.hpp"
#include "accelerator/detail/operation_scope.hpp"
#include "accelerator/detail/tsc_clock.hpp"
#include "accelerator/diagnostics.hpp"
#include "accelerator/key_codec.hpp"
#include "accelerator/loader.hpp"
#include "accelerator/metrics.hpp"
#include "accelerator/observability/otel.hpp"

namespace accelerator {

template <class K, class V, class L, class LB, class RB>
class LevelCacheBuilder;

template <class K, class V, class L, class LB, class RB>
class LevelCache {
 public:
  using key_type = K;
  using value_type = V;
  using loader_type = L;
  using local_backend_type = LB;
  using remote_backend_type = RB;
  using Value = std::optional<V>;  // nullopt = absent / "not found"
  using ValueMap = std::unordered_map<K, Value>;

  // Cache-first read. Absent (nullopt) when no layer has the key and the loader (if any) says
  // "not found"; a cached "not found" marker is a hit that also returns nullopt.
  asio::awaitable<CacheResult<Value>> get(K key, ReadOptions options = {}) {
    return read(std::move(key), options, std::optional<NoCallLoad>(), false, PlainResult());
  }

  // One entry per distinct requested key. L1 first, then ONE L2 MGET for the rest, then ONE mload
  // for what is still missing (keys another caller is already loading are waited for instead).
  asio::awaitable<CacheResult<ValueMap>> mget(std::vector<K> keys, ReadOptions options = {}) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.mget, self->observers, self->config.area, "cache.mget", "mget");
    scope.set_size(keys.size());
    auto result = co_await self->mget(std::move(keys), options, scope.context());
    scope.finish(!result ? "error" : (result->empty() ? "ok_empty" : "ok"), result ? nullptr : &result.error());
    co_return std::move(result);
  }

  // get() with `load` as the loader of this one call, instead of the configured one (the
  // decorators' cacheable reads through this). Everything else is get(): a fresh L1 or L2 value,
  // a cached "not found" marker included, is a hit and `load` does not run; concurrent callers of
  // the key share one load, with each other and with get(); loader_timeout bounds the wait; the
  // result is written back to L2 and L1. `store_null`, not cache_null_value, decides whether a
  // nullopt result is stored as a "not found" marker.
  // REQUIRES: load() -> asio::awaitable<CacheResult<std::optional<V>>>. On a miss `load` is moved
  // into the load task, which may outlive this call (timeout): it must own what it uses.
  template <class Load>
  asio::awaitable<CacheResult<Value>> get_or_load(K key, Load load, ReadOptions options = {}, bool store_null = true) {
    return read(std::move(key), options, std::optional<Load>(std::move(load)), store_null, PlainResult());
  }

  // get_or_load() whose outcome `finish` turns into the caller's own result type inside the same
  // coroutine frame, so a wrapper (the decorators' cacheable) costs no frame of its own on a hit.
  // Finish: `using result_type = R;`, `bool recovers(const CacheResult<Value>& outcome)`,
  // `R operator()(CacheResult<Value>&& outcome)` (the result, when recovers() said false) and
  // `asio::awaitable<R> recover(const CacheError& error)` (co_awaited when it said true, after
  // the call's own latency, span and log are recorded).
  template <class Load, class Finish>
  asio::awaitable<typename Finish::result_type> get_or_load(K key, Load load, ReadOptions options, bool store_null,
                                                            Finish finish) {
    return read(std::move(key), options, std::optional<Load>(std::move(load)), store_null, std::move(finish));
  }

  // mget() with `mload` as the batch loader of this one call (the decorators' cacheable_batch):
  // one entry per distinct key; cached "not found" markers are hits; `mload` gets only the keys
  // that no layer holds and no other call is already loading, in one call; its results are
  // written back (nullopt as a marker when store_null; a key it omits is "not found").
  // REQUIRES: mload(const std::vector<K>&) -> asio::awaitable<CacheResult<LoadedMap<K, V>>>;
  // it may outlive this call (timeout): it must own what it uses.
  template <class MLoad>
  asio::awaitable<CacheResult<ValueMap>> mget_or_load(std::vector<K> keys, MLoad mload, ReadOptions options = {},
                                                      bool store_null = true) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.mget, self->observers, self->config.area, "cache.mget", "mget");
    scope.set_size(keys.size());
    // Type-erased only when a load is needed, so an all-hit call allocates nothing for `mload`.
    const CallLoadSource source{&mload, store_null, [](void* fn, bool keep_null) {
                                  auto call = std::make_shared<CallLoad>();
                                  call->mload = std::move(*static_cast<MLoad*>(fn));
                                  call->store_null = keep_null;
                                  return CallLoadPtr(std::move(call));
                                }};
    auto result = co_await self->mget(std::move(keys), options, scope.context(), &source);
    scope.finish(!result ? "error" : (result->empty() ? "ok_empty" : "ok"), result ? nullptr : &result.error());
    co_return std::move(result);
  }

  // Writes L2 then L1 and broadcasts an invalidation. nullopt stores a "not found" marker (or
  // deletes the key when cache_null_value is off).
  asio::awaitable<CacheResult<void>> set(K key, Value value) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.set, self->observers, self->config.area, "cache.set", "set");
    std::optional<K> logged_key;
    if (scope.logs_keys()) logged_key = key;
    std::vector<std::pair<K, Value>> entries;
    entries.emplace_back(std::move(key), std::move(value));
    auto result = co_await self->set_many(std::move(entries), /*batch=*/false);
    const CacheError* error = result ? nullptr : &result.error();
    scope.finish(result ? "done" : "error", error, self->log_key(scope, error, logged_key));
    co_return result;
  }

  // Like set for many keys: one L2 round trip for all of them.
  asio::awaitable<CacheResult<void>> mset(std::vector<std::pair<K, Value>> entries) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.mset, self->observers, self->config.area, "cache.mset", "mset");
    scope.set_size(entries.size());
    auto result = co_await self->set_many(std::move(entries), /*batch=*/true);
    scope.finish(result ? "done" : "error", result ? nullptr : &result.error());
    co_return result;
  }
  asio::awaitable<CacheResult<void>> mset(std::unordered_map<K, Value> entries) {
    return mset(std::vector<std::pair<K, Value>>(entries.begin(), entries.end()));
  }

  // Removes the key from L2 and L1 and broadcasts an invalidation. Absent keys are not an error.
  asio::awaitable<CacheResult<void>> del(K key) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.del, self->observers, self->config.area, "cache.del", "del");
    std::optional<K> logged_key;
    if (scope.logs_keys()) logged_key = key;
    std::vector<K> keys;
    keys.push_back(std::move(key));
    auto result = co_await self->del_many(std::move(keys), /*batch=*/false);
    const CacheError* error = result ? nullptr : &result.error();
    scope.finish(result ? "done" : "error", error, self->log_key(scope, error, logged_key));
    co_return result;
  }

  asio::awaitable<CacheResult<void>> mdel(std::vector<K> keys) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.mdel, self->observers, self->config.area, "cache.mdel", "mdel");
    scope.set_size(keys.size());
    auto result = co_await self->del_many(std::move(keys), /*batch=*/true);
    scope.finish(result ? "done" : "error", result ? nullptr : &result.error());
    co_return result;
  }

  // Loads `keys` in chunks of warmup_batch_size (one mget each) and returns how many of them now
  // hold a real value. Does nothing (returns 0) unless warmup_enabled.
  asio::awaitable<CacheResult<std::size_t>> warmup(std::vector<K> keys) {
    auto self = state_;
    detail::OperationScope scope(self->metrics.latency.warmup, self->observers, self->config.area, "cache.warmup",
                                 "warmup");
    scope.set_size(keys.size());
    auto result = co_await self->warmup(std::move(keys), scope.context());
    scope.finish(!result ? "error" : (*result == 0 ? "ok_zero" : "ok_loaded"), result ? nullptr : &result.error());
    co_return std::move(result);
  }

  // The L1 entry for `key`, fresh or expired-but-retained, without touching L2, the loader or
  // the metrics. nullopt when L1 holds nothing (or the mode has no L1).
  std::optional<StoredEntry<V>> peek(const K& key) const { return state_->peek(key); }

  // The string backends see for `key` ("<escaped area>:<key>"), or an InvalidKey error.
  CacheResult<std::string> encode_key(const K& key) const { return state_->encode(key); }

  const CacheConfig& config() const noexcept { return state_->config; }
  CacheMetricsSnapshot metrics_snapshot() const { return state_->metrics.snapshot(); }
  CacheDiagnosticSnapshot diagnostic_snapshot() const { return state_->diagnostics(); }
  std::vector<OtelMetricPoint> otel_metric_points() const {
    return to_otel_points(state_->config.area, state_->metrics.snapshot());
  }

  // A metrics source for OtlpExporter::watch (or any poller): the diagnostic snapshot while the
  // cache lives, nullopt once it is gone. Holds the cache weakly, so an exporter that is also
  // the cache's tracer does not keep it alive (no ownership cycle).
  std::function<std::optional<CacheDiagnosticSnapshot>()> telemetry_source() const {
    std::weak_ptr<State> weak = state_;
    return [weak]() -> std::optional<CacheDiagnosticSnapshot> {
      if (auto state = weak.lock()) return state->diagnostics();
      return std::nullopt;
    };
  }

  // The backends, e.g. to inspect L1 in tests. nullptr when not supplied.
  LB* local_backend() noexcept { return state_->local ? &*state_->local : nullptr; }
  RB* remote_backend() noexcept { return state_->remote ? &*state_->remote : nullptr; }

 private:
  friend class LevelCacheBuilder<K, V, L, LB, RB>;
  struct State;

  // Stops background work when the last handle goes away (tasks hold State, not Lifetime).
  struct Lifetime {
    explicit Lifetime(std::shared_ptr<State> s) : state(std::move(s)) {}
    Lifetime(const Lifetime&) = delete;
    Lifetime& operator=(const Lifetime&) = delete;
    ~Lifetime() { state->shutdown(); }
    std::shared_ptr<State> state;
  };

  explicit LevelCache(std::shared_ptr<State> state)
      : lifetime_(std::make_shared<Lifetime>(state)), state_(std::move(state)) {}

  struct NoCallLoad {};  // get(): the configured loader
  struct PlainResult {   // get() and get_or_load(): the outcome is the result
    using result_type = CacheResult<Value>;
  };

  // get() and get_or_load(): one coroutine frame per call, the L1 step (and `finish`) included.
  // INVARIANT (performance): the frame stays within the 1020 bytes asio's per-thread frame cache
  // recycles (thread_info_base: 255 chunks of 4 bytes); past that every call, hits included, pays
  // a malloc and a free (~20 ns). GCC 12 gives every local and every temporary that spans a
  // co_await its own slot, and keeps them all whichever branch runs, so this frame holds only what
  // an L1 hit needs: the miss path (stale value, L2 reply, load) runs in a frame of its own
  // (read_after_local_miss), helpers write into `result` by reference instead of returning values,
  // and a decorator's recovery comes back boxed. What is left is two values (`result` and the
  // promise's return slot) and ~450 bytes: measured with GCC 12 -O3, a V of eight std::strings
  // (256 bytes) fits through get() and cacheable, nine fit through get() only, ten through
  // neither (tests/unit/hit_allocation_test.cpp checks short strings and a 192-byte row).
  template <class Load, class Finish>
  asio::awaitable<typename Finish::result_type> read(K key, ReadOptions options, std::optional<Load> load,
                                                     bool store_null, Finish finish) {
    // No reference count is taken on the L1-hit path: every caller's thread would bump the one
    // count, a cache-line transfer per call that made L1 hits from two threads no faster than
    // from one. Until its first suspension the call runs inside its caller, whose LevelCache
    // owns the state; `keep` takes a count before any suspension and owns it from then on.
    State* const self = state_.get();
    std::shared_ptr<State> keep;
    detail::OperationScope scope(self->metrics.latency.get, self->observers, self->config.area, "cache.get", "get");
    std::optional<K> logged_key;
    if (scope.logs_keys()) logged_key = key;
    const CallLoadSource* source = nullptr;
    CallLoadSource call_source{};
    if constexpr (!std::is_same_v<Load, NoCallLoad>) {
      // Type-erased only when a load is needed, so a hit allocates nothing for `load`.
      call_source = CallLoadSource{&*load, store_null, [](void* fn, bool keep_null) {
                                     auto call = std::make_shared<CallLoad>();
                                     call->load = std::move(*static_cast<Load*>(fn));
                                     call->store_null = keep_null;
                                     return CallLoadPtr(std::move(call));
                                   }};
      source = &call_source;
    }
    CacheResult<Value> result;
    // Set when L2 answered the call: the instant its reply was read, which also ends the call's
    // latency (the decode and L1 fill after it take nanoseconds; a clock read is not free).
    std::optional<std::chrono::steady_clock::time_point> answered_at;
    // The key is encoded into the frame: an L1 hit needs no string of its own (see KeyBuffer).
    detail::KeyBuffer lookup_key;
    if (!self->encode_for_read(key, lookup_key, result)) {
      // `result` holds the error.
    } else if (const LocalRead local = self->read_local(lookup_key.view(), options, result, scope.started());
               local == LocalRead::kHit) {
      // `result` holds the value.
    } else if (local == LocalRead::kHitDueForRefresh) {
      co_await self->start_refresh_here(key, lookup_key.string());
    } else {
      keep = state_;
      co_await self->read_after_local_miss(key, lookup_key.string(), local == LocalRead::kStale, options, scope, source,
                                           result, answered_at);
    }
    const CacheError* error = result ? nullptr : &result.error();
    const std::string_view outcome = !result ? "error" : (*result ? "ok_some" : "ok_none");
    if (answered_at) {
      scope.finish_at(*answered_at, outcome, error, self->log_key(scope, error, logged_key));
    } else {
      scope.finish(outcome, error, self->log_key(scope, error, logged_key));
    }
    if constexpr (std::is_same_v<Finish, PlainResult>) {
      co_return std::move(result);
    } else {
      if (!finish.recovers(result)) co_return finish(std::move(result));
      if (!keep) keep = state_;
      // Boxed: the awaited result would otherwise be one more value-sized slot in this frame.
      auto recovered = co_await recover_boxed(finish, result.error());
      co_return std::move(*recovered);
    }
  }

  // A decorator's recovery (rare: a cache error it chose to ignore), its outcome on the heap.
  template <class Finish>
  static asio::awaitable<std::unique_ptr<typename Finish::result_type>> recover_boxed(Finish& finish,
                                                                                      const CacheError& error) {
    auto recovered = co_await finish.recover(error);
    co_return std::make_unique<typename Finish::result_type>(std::move(recovered));
  }

  std::shared_ptr<Lifetime> lifetime_;
  std::shared_ptr<State> state_;

  using LoadResult = CacheResult<Value>;
  using FlightPtr = typename detail::FlightTable<LoadResult>::FlightPtr;
  using Ticket = typename detail::FlightTable<LoadResult>::Ticket;

  // The loader of one get_or_load / mget_or_load call; replaces the configured loader for the
  // load that call leads. Shared by the caller and the detached load task.
  struct CallLoad {
    std::function<asio::awaitable<LoadResult>()> load;
    std::function<asio::awaitable<CacheResult<LoadedMap<K, V>>>(const std::vector<K>&)> mload;
    bool store_null = true;  // a nullopt result is stored as a "not found" marker
  };
  using CallLoadPtr = std::shared_ptr<const CallLoad>;
  // get_or_load's `load` or mget_or_load's `mload`, not yet type-erased: make(fn, store_null)
  // moves it into a CallLoad. Valid while the call that owns `fn` is suspended in State.
  struct CallLoadSource {
    void* fn;
    bool store_null;
    CallLoadPtr (*make)(void* fn, bool store_null);
  };

  // What get()'s L1 step found (State::read_local).
  enum class LocalRead : std::uint8_t { kHit, kHitDueForRefresh, kStale, kMiss };

  // A decoded L2 value.
  struct RemoteValue {
    Value value;
    UnixTime expire_at;
  };

  struct State : std::enable_shared_from_this<State> {
    CacheConfig config;
    std::string key_namespace;  // escaped area
    std::shared_ptr<const Clock> clock;
    bool clock_is_steady = false;  // clock->now() is detail::steady_now() (see read_local)
    std::optional<LB> local;
    std::optional<RB> remote;
    std::optional<L> loader;
    std::function<std::string(const K&)> key_converter;  // empty: KeyCodec<K>
    CacheMetrics metrics;
    detail::Observers observers;  // tracer and operation logger, both optional
    detail::GenerationTable generations;
    detail::FlightTable<LoadResult> flights;
    std::string instance_id = detail::new_instance_id();
    std::optional<std::string> channel;  // set when this instance subscribes or publishes
    std::shared_ptr<Subscription> subscription;

    bool l1() const noexcept { return config.uses_local() && local.has_value(); }
    bool l2() const noexcept { return config.uses_remote() && remote.has_value(); }
    bool fail_closed() const noexcept { return config.remote_failure_policy == RemoteFailurePolicy::FailClosed; }
    bool publishes() const noexcept { return config.broadcast_invalidation && l2() && channel.has_value(); }

    void shutdown() {
      if (subscription) subscription->stop();
    }

    // ---------------------------------------------------------------- keys and entries

    // The L1 entry of `ekey`, with the backend's own expiry judged at `now` when it accepts a
    // time (one clock reading then serves the backend and the caller's freshness check).
    auto local_get(const std::string& ekey, TimePoint now) {
      if constexpr (requires(LB & l) { l.get(ekey, now); }) {
        return local->get(ekey, now);
      } else {
        return local->get(ekey);
      }
    }
    // The same by a view of the key's bytes: a backend whose get(key, now) takes a
    // std::string_view (the default TinyLfuBackend) builds no string; others are given one.
    auto local_get(std::string_view ekey, TimePoint now) {
      if constexpr (requires(LB & l) { l.get(ekey, now); }) {
        return local->get(ekey, now);
      } else {
        return local_get(std::string(ekey), now);
      }
    }

    CacheResult<std::string> encode(const K& key) const {
      CacheResult<std::string> joined(std::in_place);
      if (auto error = encode_into(key, *joined)) return fail(std::move(*error));
      return joined;
    }
    // get()'s encoding: false, with the error in `result` (and counted), when the key does not
    // encode. Returns a bool so that get()'s coroutine frame holds no error object of its own.
    template <class Result>
    bool encode_for_read(const K& key, detail::KeyBuffer& out, Result& result) {
      auto error = encode_into(key, out);
      if (!error) return true;
      metrics.get_errors.add();
      result = fail(std::move(*error));
      return false;
    }

    // The joined key (<escaped area> ':' <encoded key>) into `out`, a std::string or a
    // detail::KeyBuffer; the error when the key does not encode. Integer and string keys
    // (without a key_converter) are written straight into it: the general path builds the
    // encoded key, then copies it into the joined one, and those copies were a tenth of an L1
    // hit. Same strings either way (KeyCodec's).
    template <class Out>
    std::optional<CacheError> encode_into(const K& key, Out& out) const {
      if (!key_converter) {
        if constexpr (std::integral<K> && !std::same_as<K, bool>) {
          char digits[24];
          const char* end = std::to_chars(digits, digits + sizeof digits, key).ptr;
          return namespace_into(std::string_view(digits, static_cast<std::size_t>(end - digits)), out);
        } else if constexpr (std::same_as<K, std::string> || std::same_as<K, std::string_view>) {
          return namespace_into(std::string_view(key), out);
        }
      }
      std::string encoded;
      if (key_converter) {
        encoded = key_converter(key);
      } else if constexpr (EncodableKey<K>) {
        encoded = KeyCodec<K>::encode(key);
      }
      return namespace_into(encoded, out);
    }

    // <escaped area> ':' <encoded> into `out`, after the checks on the encoded key.
    template <class Out>
    std::optional<CacheError> namespace_into(std::string_view encoded, Out& out) const {
      if (encoded.empty()) return CacheError::invalid_key("key encodes to an empty string");
      if (encoded.size() > config.max_key_bytes) {
        return CacheError::invalid_key("encoded key is " + std::to_string(encoded.size()) +
                                       " bytes, over max_key_bytes=" + std::to_string(config.max_key_bytes));
      }
      detail::join_key(out, key_namespace, encoded);
      return std::nullopt;
    }

    std::chrono::milliseconds stale_extension() const noexcept {
      return config.stale_on_error ? config.stale_grace : std::chrono::milliseconds::zero();
    }

    // L1 entry living `ttl` from now (already jittered / capped by the caller).
    StoredEntry<V> local_entry(Value value, std::chrono::milliseconds ttl) const {
      StoredEntry<V> entry;
      entry.value = std::move(value);
      entry.expire_at = clock->now() + ttl;
      entry.stale_until = entry.expire_at + stale_extension();
      return entry;
    }

    std::chrono::milliseconds local_ttl_for(const Value& value) const {
      return detail::jittered_ttl(value ? config.local_ttl : config.null_ttl, config.ttl_jitter_ratio);
    }

    bool stores(const Value& value) const noexcept { return value.has_value() || config.cache_null_value; }
    // Whether a loaded value is stored: a call loader's store_null replaces cache_null_value.
    bool stores_loaded(const Value& value, const CallLoad* call) const noexcept {
      return call ? value.has_value() || call->store_null : stores(value);
    }

    // Writes the value (or its removal) to L1. Caller holds whatever ordering guarantee it needs.
    // `keep`: whether the value is stored at all (default: stores(value)).
    void put_local(const std::string& ekey, const Value& value, std::optional<std::chrono::milliseconds> cap = {},
                   std::optional<bool> keep = {}) {
      if (!keep.value_or(stores(value))) {
        local->del(ekey);
        return;
      }
      auto ttl = local_ttl_for(value);
      if (cap && *cap < ttl) ttl = *cap;
      local->set(ekey, local_entry(value, ttl));
    }

    // The L2 write for a value: envelope with its logical expiry, Redis TTL extended by the grace.
    RemoteWrite remote_write(const std::string& ekey, const Value& value) const {
      const auto ttl = detail::jittered_ttl(value ? config.remote_ttl : config.null_ttl, config.ttl_jitter_ratio);
      const UnixTime expire_at = clock->unix_now() + ttl;
      return RemoteWrite{ekey, encode_envelope<V>(value, expire_at), ttl + stale_extension()};
    }

    CacheResult<RemoteValue> decode_remote(std::string_view bytes) const {
      auto envelope = decode_envelope(bytes);
      if (!envelope) return fail(envelope.error());
      RemoteValue out{std::nullopt, envelope->expire_at};
      if (!envelope->is_null) {
        auto value = ValueCodec<V>::decode(envelope->payload);
        if (!value) return fail(value.error());
        out.value = std::move(*value);
      }
      return out;
    }

    // The same from a reply the caller gives up: a std::string payload is taken out of it in
    // place instead of copied (ValueCodec<std::string> decodes the payload as it is).
    CacheResult<RemoteValue> decode_remote(std::string&& bytes) const {
      if constexpr (std::is_same_v<V, std::string>) {
        auto envelope = decode_envelope(bytes);
        if (!envelope) return fail(envelope.error());
        RemoteValue out{std::nullopt, envelope->expire_at};
        if (!envelope->is_null) {
          bytes.erase(0, static_cast<std::size_t>(envelope->payload.data() - bytes.data()));
          out.value = std::move(bytes);
        }
        return out;
      } else {
        return decode_remote(std::string_view(bytes));
      }
    }

    // Fills L1 from an L2 hit, for no longer than the L2 entry has left, unless the key changed
    // since `generation` was taken (before the L2 read).
    void fill_local(const std::string& ekey, const RemoteValue& hit, detail::GenerationTable::Generation generation,
                    detail::GenerationTable::Generation epoch) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(hit.expire_at - clock->unix_now());
      if (left <= std::chrono::milliseconds::zero()) return;
      generations.write_if_unchanged(ekey, generation, [&] {
        if (generations.epoch() == epoch) put_local(ekey, hit.value, left);
      });
    }

    // ---------------------------------------------------------------- observation

    Tracer* tracer() const noexcept { return observers.tracer.get(); }

    // The key as a log record shows it (the logger hashes it unless told otherwise); empty when
    // the record will not be written, so the key is encoded only when it is logged.
    std::string log_key(const detail::OperationScope& scope, const CacheError* error,
                        const std::optional<K>& key) const {
      if (!key || !scope.logs(error)) return {};
      auto ekey = encode(*key);
      return ekey ? std::move(*ekey) : std::string();
    }

    // Records one L2 round trip that began at `started`; returns how long it took.
    std::chrono::nanoseconds remote_done(std::chrono::steady_clock::time_point started) {
      const auto took = detail::steady_now() - started;
      metrics.latency.remote.record(took);
      return took;
    }

    // Counts (and logs at WARN) an L2 failure; returns the error to hand to the caller under
    // FailClosed. `took`: how long the failed L2 call(s) ran.
    std::optional<CacheError> remote_failed(const CacheError& error, std::chrono::nanoseconds took) {
      metrics.remote_errors.add();
      if (observers.logger) observers.logger->completed("remote", fail_closed() ? "error" : "fail_open", took, &error);
      if (fail_closed()) return error;
      return std::nullopt;
    }

    // A loader run ended: its wall time into latency.load, a failure logged at WARN.
    void load_done(std::chrono::steady_clock::time_point started, const CacheError* error) {
      const auto took = detail::steady_now() - started;
      metrics.latency.load.record(took);
      if (error && observers.logger) observers.logger->completed("load", "error", took, error);
    }

    // ---------------------------------------------------------------- get

    // The L1 step of get(), which writes the caller's `result` instead of returning the value
    // (get()'s frame then holds no second Value): kHit / kHitDueForRefresh with the fresh value in
    // `result` (a counted hit; the second when refresh-ahead should start, which the caller does
    // with start_refresh_here(): it needs the executor, which only a coroutine can ask for);
    // kStale after counting the miss, with an expired value still within its grace in `result`
    // for read_after_local_miss(); kMiss after counting it, `result` untouched. Refresh-ahead uses
    // only the configured loader, also in get_or_load. `started`: the call's start (a
    // detail::steady_now() reading), used as the current time when the clock is SystemClock: an L1
    // hit then reads the clock only to time the call.
    LocalRead read_local(std::string_view ekey, const ReadOptions& options, CacheResult<Value>& result,
                         std::chrono::steady_clock::time_point started) {
      if (!l1()) return LocalRead::kMiss;
      const TimePoint now = clock_is_steady ? started : clock->now();
      if (auto entry = local_get(ekey, now)) {
        result = std::move(entry->value);
        if (entry->fresh_at(now)) {
          metrics.local_hit.add();
          const bool refresh = config.refresh_ahead && !options.disable_load && loader &&
                               entry->expire_at - now <= config.refresh_ahead_window;
          return refresh ? LocalRead::kHitDueForRefresh : LocalRead::kHit;
        }
        metrics.local_miss.add();
        return LocalRead::kStale;
      }
      metrics.local_miss.add();
      return LocalRead::kMiss;
    }

    // A hit due for refresh-ahead: starts the refresh on the caller's executor (see start_refresh).
    asio::awaitable<void> start_refresh_here(const K& key, const std::string& ekey) {
      start_refresh(co_await asio::this_coro::executor, key, ekey);
    }

    // The L2 step of read_after_local_miss(), in two parts around its `co_await remote->get(ekey)`:
    // remote_read_begin() before it, remote_read_end() with its outcome.
    // The round trip is timed from `started`, the call's own start (the key encoding and the L1
    // probe before the L2 read take nanoseconds; a clock read is not free), to `ended`.
    struct RemoteRead {
      detail::GenerationTable::Generation generation;  // the key's, taken before the L2 read
      detail::GenerationTable::Generation epoch;
      std::chrono::steady_clock::time_point started;
      Ticket ticket;                                  // flights.ticket(ekey), taken before the L2 read
      std::chrono::steady_clock::time_point ended{};  // set by remote_read_end
    };
    RemoteRead remote_read_begin(const std::string& ekey, std::chrono::steady_clock::time_point started) const {
      return RemoteRead{generations.snapshot(ekey), generations.epoch(), started, flights.ticket(ekey)};
    }

    // Whether L2 answered the call, the answer then in `result`: a fresh hit (L1 filled when in
    // use), or the error under FailClosed. False when the call goes on to the load (`result`
    // untouched); a readable expired value then lands in `stale` unless L1 already kept one.
    bool remote_read_end(RemoteRead& before, const std::string& ekey, CacheResult<std::optional<std::string>>&& read,
                         std::optional<Value>& stale, CacheResult<Value>& result) {
      before.ended = detail::steady_now();
      const auto took = before.ended - before.started;
      metrics.latency.remote.record(took);
      if (!read) {
        if (auto error = remote_failed(read.error(), took)) {
          metrics.get_errors.add();
          result = fail(std::move(*error));
          return true;
        }
      } else if (*read) {
        auto hit = decode_remote(std::move(**read));
        if (!hit) {
          metrics.remote_corrupt.add();  // a miss; the load overwrites it
        } else if (clock->unix_now() < hit->expire_at) {
          metrics.remote_hit.add();
          if (l1()) fill_local(ekey, *hit, before.generation, before.epoch);
          result = std::move(hit->value);
          return true;
        } else if (!stale) {
          stale.emplace(std::move(hit->value));
        }
        metrics.remote_miss.add();
      } else {
        metrics.remote_miss.add();
      }
      return false;
    }

    // get() after an L1 miss: the L2 read when L2 is in use, then the load (this call's loader or
    // the configured one) and the stale fallback, the outcome in `result`. In a frame of its own,
    // so get()'s frame, which every L1 hit needs, holds none of this path's state (see read()).
    // `stale_in_result`: read_local() left an expired value within its grace in `result`.
    // `scope`: the caller's (its cache.get span is the cache.load span's parent). `answered_at`:
    // set to the instant of L2's reply when L2 answered the call (which also ends its latency).
    asio::awaitable<void> read_after_local_miss(const K& key, const std::string& ekey, bool stale_in_result,
                                                const ReadOptions& options, const detail::OperationScope& scope,
                                                const CallLoadSource* source, CacheResult<Value>& result,
                                                std::optional<std::chrono::steady_clock::time_point>& answered_at) {
      std::optional<Value> stale;
      if (stale_in_result) stale.emplace(std::move(*result));
      std::optional<Ticket> ticket;
      if (l2()) {
        auto remote_read = remote_read_begin(ekey, scope.started());
        auto read = co_await remote->get(ekey);
        if (remote_read_end(remote_read, ekey, std::move(read), stale, result)) {
          answered_at = remote_read.ended;
          co_return;
        }
        ticket = remote_read.ticket;
      }
      if (options.disable_load || (!loader && !source)) {
        result = Value{};
        co_return;
      }
      CallLoadPtr call = source ? source->make(source->fn, source->store_null) : nullptr;
      auto loaded = co_await load_one(key, ekey, scope.context(), std::move(call), ticket);
      if (loaded) {
        result = std::move(*loaded);
      } else if (stale && config.stale_on_error && options.allow_stale) {
        metrics.stale_fallback.add();
        result = std::move(*stale);
      } else {
        metrics.get_errors.add();
        result = fail(loaded.error());
      }
    }

    // ---------------------------------------------------------------- single-key load

    // The cache.load span covers this caller's whole wait, whether it leads the load or joins one.
    asio::awaitable<LoadResult> load_one(const K& key, const std::string& ekey, SpanContext parent, CallLoadPtr call,
                                         std::optional<Ticket> ticket) {
      Span span(tracer(), "cache.load", config.area, parent);
      auto executor = co_await asio::this_coro::executor;
      FlightPtr flight;
      bool leader = true;
      if (config.penetration_protect) {
        std::tie(flight, leader) = flights.join_or_lead(ekey);
      } else {
        flight = std::make_shared<detail::Flight<LoadResult>>();
      }
      bool settled = leader && settled_while_joining(ekey, flight);
      if (leader && !settled && missed_settled_flight(ekey, ticket)) settled = co_await settled_in_remote(ekey, flight);
      if (settled) {
        if (span.recording()) span.set_attribute("coalesced", "true");
      } else if (leader) {
        spawn_load(executor, key, ekey, flight, /*registered=*/config.penetration_protect, /*refresh=*/false, Span(),
                   std::move(call));
      } else {
        metrics.singleflight_coalesced.add();
        if (span.recording()) span.set_attribute("coalesced", "true");
      }
      auto result = co_await flight->wait();
      span.set_result(result);
      co_return result;
    }

    // A caller that missed L1 and then became the leader of a new flight may have lost a race with
    // the previous flight: it wrote L1 and unregistered itself between this caller's L1 miss and its
    // join_or_lead. The previous leader writes L1 before release() and both take the flight table's
    // mutex, so looking at L1 again now sees that value; the new flight is then completed with it
    // (its joiners get it too) instead of loading the key a second time. Counted as coalesced.
    // Without L1 (Remote mode) see missed_settled_flight().
    bool settled_while_joining(const std::string& ekey, const FlightPtr& flight) {
      if (!l1() || !config.penetration_protect) return false;
      const TimePoint now = clock->now();
      auto entry = local_get(ekey, now);
      if (!entry || !entry->fresh_at(now)) return false;
      settle_without_load(ekey, flight, std::move(entry->value));
      return true;
    }
    // The same race in Remote mode: there is no L1 to look at, but the flight table tells whether
    // a flight of this key ended since `ticket` (taken before this call's L2 read). Only then is L2
    // read a second time; the previous load wrote L2 before it released its flight.
    bool missed_settled_flight(const std::string& ekey, const std::optional<Ticket>& ticket) const {
      return !l1() && ticket && config.penetration_protect && flights.settled_since(ekey, *ticket);
    }
    // Reads L2 again for the new leader of `ekey`: a fresh value completes its flight. An error, a
    // miss or an expired value leaves the flight to the load, as the first read's outcome did.
    asio::awaitable<bool> settled_in_remote(const std::string& ekey, FlightPtr flight) {
      const auto started = detail::steady_now();
      auto read = co_await remote->get(ekey);
      const auto took = remote_done(started);
      if (!read) {
        (void)remote_failed(read.error(), took);  // the first read answered: the load goes on
        co_return false;
      }
      if (!*read) co_return false;  // still a miss
      co_return settled_by_reply(ekey, flight, std::move(**read));
    }
    // A second L2 reply for a new leader: settles its flight when it holds a fresh value.
    bool settled_by_reply(const std::string& ekey, const FlightPtr& flight, std::string&& bytes) {
      auto hit = decode_remote(std::move(bytes));
      if (!hit) {
        metrics.remote_corrupt.add();
        return false;
      }
      if (clock->unix_now() >= hit->expire_at) return false;
      metrics.remote_hit.add();
      settle_without_load(ekey, flight, std::move(hit->value));
      return true;
    }
    void settle_without_load(const std::string& ekey, const FlightPtr& flight, Value value) {
      metrics.singleflight_coalesced.add();
      flights.release(ekey, flight);
      flight->complete(LoadResult(std::move(value)));
    }

    // One refresh per key at a time: a key with any load running is left alone.
    void start_refresh(const asio::any_io_executor& executor, const K& key, const std::string& ekey) {
      auto [flight, leader] = flights.join_or_lead(ekey);
      if (!leader) return;
      Span span(tracer(), "cache.load", config.area);  // a root span: no caller waits for it
      if (span.recording()) span.set_attribute("refresh", "true");
      spawn_load(executor, key, ekey, flight, /*registered=*/true, /*refresh=*/true, std::move(span));
    }

    // The load runs on its own strand, detached from every caller (a compact one: copies of a
    // strand over an any_io_executor allocate, see detail/compact_strand.hpp).
    // `span`: ended with the load's outcome (a no-op span when the caller's span covers the load).
    void spawn_load(const asio::any_io_executor& executor, const K& key, const std::string& ekey, FlightPtr flight,
                    bool registered, bool refresh, Span span, CallLoadPtr call = nullptr) {
      asio::co_spawn(detail::make_compact_strand(executor),
                     run_load(this->shared_from_this(), key, ekey, std::move(flight), registered, refresh,
                              std::move(span), std::move(call)),
                     asio::detached);
    }

    // `call`: the loader of the get_or_load call that leads this load; null = the configured one.
    static asio::awaitable<void> run_load(std::shared_ptr<State> self, K key, std::string ekey, FlightPtr flight,
                                          bool registered, bool refresh, Span span, CallLoadPtr call) {
      State& s = *self;
      const auto started = detail::steady_now();
      const auto generation = s.generations.snapshot(ekey);
      const auto epoch = s.generations.epoch();
      s.metrics.load_total.add();
      s.metrics.load_keys.add();
      if (refresh) s.metrics.refresh_attempts.add();
      // The lambda is a named local on purpose: g++ 12 destroys a lambda temporary passed to a
      // coroutine inside a co_await expression twice (double release of its captures).
      auto load = [self, key, call]() { return call ? call->load() : self->loader->load(key); };
      auto outcome = co_await detail::run_with_deadline<Value>(std::move(load), s.config.loader_timeout);
      LoadResult result = Value{};
      if (!outcome) {
        s.metrics.load_timeout.add();
        result = fail(CacheError::timeout("loader"));
      } else if (!*outcome) {
        s.metrics.load_error.add();
        result = fail(outcome->error());
      } else {
        s.metrics.load_success.add();
        if (!s.l2()) {
          // No L2 round trip to make: the L1 write needs none of write_back's batch vectors
          // (six of a loaded miss's allocations).
          s.write_loaded_local(ekey, **outcome, generation, epoch, call.get());
          result = std::move(**outcome);
        } else {
          // (No braced lists inside co_await arguments: g++ 12 miscompiles initializer_list
          // temporaries in coroutines, "array used as initializer".)
          std::vector<std::string> keys(1, ekey);
          std::vector<Value> values(1, **outcome);
          std::vector<detail::GenerationTable::Generation> generations_at_start(1, generation);
          auto written = co_await s.write_back(std::move(keys), std::move(values), std::move(generations_at_start),
                                               epoch, call.get());
          if (written) {
            result = std::move(**outcome);
          } else {
            result = fail(written.error());
          }
        }
      }
      if (refresh) (result ? s.metrics.refresh_success : s.metrics.refresh_failures).add();
      // Recorded before the waiters are woken, so a caller that sees the value sees the latency.
      s.load_done(started, result ? nullptr : &result.error());
      span.set_result(result);
      span.end();
      if (registered) s.flights.release(ekey, flight);
      flight->complete(std::move(result));
    }

    // Writes loaded values to L2 (one round trip) and L1, skipping every key written or deleted
    // since its generation was taken. A key whose generation moved while the L2 write was in
    // flight is deleted again from L2 so the older value does not linger there either.
    // `epoch` is the L1 epoch when the load began: after an invalidation gap L1 is not filled.
    // `call`: the call loader that produced the values (its store_null applies), or null.
    asio::awaitable<CacheResult<void>> write_back(std::vector<std::string> ekeys, std::vector<Value> values,
                                                  std::vector<detail::GenerationTable::Generation> generations_at_start,
                                                  detail::GenerationTable::Generation epoch, const CallLoad* call) {
      std::vector<std::size_t> live;
      for (std::size_t i = 0; i < ekeys.size(); ++i) {
        if (generations.snapshot(ekeys[i]) == generations_at_start[i]) {
          live.push_back(i);
        } else {
          metrics.load_discarded.add();
        }
      }
      if (live.empty()) co_return CacheResult<void>{};
      if (l2()) {
        std::vector<RemoteWrite> writes;
        std::vector<std::string> deletes;
        for (auto i : live) {
          if (stores_loaded(values[i], call)) {
            writes.push_back(remote_write(ekeys[i], values[i]));
          } else {
            deletes.push_back(ekeys[i]);
          }
        }
        const auto started = detail::steady_now();
        auto stored = co_await remote_store(std::move(writes), std::move(deletes));
        if (!stored) {
          if (auto error = remote_failed(stored.error(), detail::steady_now() - started)) {
            co_return fail(*error);
          }
        }
        std::vector<std::string> superseded;
        std::erase_if(live, [&](std::size_t i) {
          if (generations.snapshot(ekeys[i]) == generations_at_start[i]) return false;
          superseded.push_back(ekeys[i]);
          metrics.load_discarded.add();
          return true;
        });
        if (!superseded.empty() && stored) {
          const auto undo_started = detail::steady_now();
          auto undone = co_await remote_delete(superseded);
          const auto took = remote_done(undo_started);
          if (!undone) (void)remote_failed(undone.error(), took);  // best effort: never fails the load
        }
      }
      for (auto i : live) write_loaded_local(ekeys[i], values[i], generations_at_start[i], epoch, call);
      co_return CacheResult<void>{};
    }

    // The L1 part of write_back for one key: written unless the key was written or deleted since
    // `generation` was taken or L1 was cleared since `epoch` (then counted as discarded).
    void write_loaded_local(const std::string& ekey, const Value& value, detail::GenerationTable::Generation generation,
                            detail::GenerationTable::Generation epoch, const CallLoad* call) {
      if (!l1()) return;
      bool wrote = false;
      generations.write_if_unchanged(ekey, generation, [&] {
        if (generations.epoch() != epoch) return;
        put_local(ekey, value, std::nullopt, stores_loaded(value, call));
        wrote = true;
      });
      if (!wrote) metrics.load_discarded.add();
    }

    // One L2 round trip for the writes (set or mset) and one for the deletes, if any; each is
    // recorded in latency.remote.
    asio::awaitable<CacheResult<void>> remote_store(std::vector<RemoteWrite> writes, std::vector<std::string> deletes) {
      if (!writes.empty()) {
        const auto started = detail::steady_now();
        // No co_await inside ?: — g++ 12 destroys the temporaries of a conditional co_await
        // expression too early (a failed call's error text was read after being freed).
        CacheResult<void> r;
        if (writes.size() == 1) {
          r = co_await remote->set(writes.front().key, writes.front().bytes, writes.front().ttl);
        } else {
          r = co_await remote->mset(writes);
        }
        remote_done(started);
        if (!r) co_return r;
      }
      if (!deletes.empty()) {
        const auto started = detail::steady_now();
        auto r = co_await remote_delete(deletes);
        remote_done(started);
        co_return r;
      }
      co_return CacheResult<void>{};
    }

    // DEL for one key, the batch delete for more (not timed: callers time it).
    asio::awaitable<CacheResult<void>> remote_delete(const std::vector<std::string>& ekeys) {
      if (ekeys.size() == 1) co_return co_await remote->del(ekeys.front());
      co_return co_await remote->mdel(ekeys);
    }

    // ---------------------------------------------------------------- mget / warmup

    // `parent`: the caller's cache.mget span (the batch's cache.load span is its child).
    // `source`: the batch loader of this call (mget_or_load), else the configured loader is used.
    asio::awaitable<CacheResult<ValueMap>> mget(std::vector<K> keys, ReadOptions options, SpanContext parent,
                                                const CallLoadSource* source = nullptr) {
      ValueMap result;
      std::vector<K> unique;
      std::vector<std::string> ekeys;
      const std::vector<std::size_t> positions = detail::distinct_positions(keys);
      unique.reserve(positions.size());
      ekeys.reserve(positions.size());
      for (const std::size_t at : positions) {
        auto ekey = encode(keys[at]);
        if (!ekey) {
          metrics.mget_errors.add();
          co_return fail(ekey.error());
        }
        unique.push_back(std::move(keys[at]));
        ekeys.push_back(std::move(*ekey));
      }
      if (unique.empty()) co_return result;
      const std::size_t n = unique.size();
      result.reserve(n);
      // Per-key state of the miss path, sized n only once a key misses: an all-hit call (the hot
      // path) allocates the result and the key lists, nothing else.
      std::vector<std::optional<Value>> stale;
      std::vector<std::size_t> missing;
      auto executor = co_await asio::this_coro::executor;

      if (l1()) {
        const TimePoint now = clock->now();
        for (std::size_t i = 0; i < n; ++i) {
          if (auto entry = local_get(ekeys[i], now)) {
            if (entry->fresh_at(now)) {
              metrics.local_hit.add();
              if (config.refresh_ahead && !options.disable_load && loader &&
                  entry->expire_at - now <= config.refresh_ahead_window) {
                start_refresh(executor, unique[i], ekeys[i]);
              }
              result.emplace(unique[i], std::move(entry->value));
              continue;
            }
            stale.resize(n);
            stale[i].emplace(std::move(entry->value));
          }
          metrics.local_miss.add();
          missing.push_back(i);
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) missing.push_back(i);
      }
      if (missing.empty()) co_return result;
      stale.resize(n);

      std::vector<std::optional<Ticket>> tickets(n);  // flights.ticket(), before the L2 read
      if (l2() && !missing.empty()) {
        std::vector<std::string> request;
        std::vector<detail::GenerationTable::Generation> generations_before;
        const auto epoch = generations.epoch();
        for (auto i : missing) {
          request.push_back(ekeys[i]);
          generations_before.push_back(generations.snapshot(ekeys[i]));
          tickets[i] = flights.ticket(ekeys[i]);
        }
        const auto started = detail::steady_now();
        auto read = co_await remote->mget(request);
        const auto took = remote_done(started);
        if (!read) {
          if (auto error = remote_failed(read.error(), took)) {
            metrics.mget_errors.add();
            co_return fail(*error);
          }
        } else {
          std::vector<std::size_t> still_missing;
          const UnixTime unix_now = clock->unix_now();
          const std::optional<std::string> absent;
          for (std::size_t j = 0; j < missing.size(); ++j) {
            const std::size_t i = missing[j];
            const auto& slot = j < read->size() ? (*read)[j] : absent;
            if (slot) {
              auto hit = decode_remote(*slot);
              if (!hit) {
                metrics.remote_corrupt.add();
              } else if (unix_now < hit->expire_at) {
                metrics.remote_hit.add();
                if (l1()) fill_local(ekeys[i], *hit, generations_before[j], epoch);
                result.emplace(unique[i], std::move(hit->value));
                continue;
              } else if (!stale[i]) {
                stale[i].emplace(std::move(hit->value));
              }
            }
            metrics.remote_miss.add();
            still_missing.push_back(i);
          }
          missing = std::move(still_missing);
        }
      }

      if (missing.empty() || options.disable_load || (!loader && !source)) {
        for (auto i : missing) result.emplace(unique[i], Value{});
        co_return result;
      }
      CallLoadPtr call = source ? source->make(source->fn, source->store_null) : nullptr;

      // Join loads already running for some keys; lead one batch load for the rest.
      Span load_span(tracer(), "cache.load", config.area, parent);
      if (load_span.recording()) load_span.set_attribute("size", static_cast<std::uint64_t>(missing.size()));
      std::vector<std::pair<std::size_t, FlightPtr>> waits;
      std::vector<K> lead_keys;
      std::vector<std::string> lead_ekeys;
      std::vector<FlightPtr> lead_flights;
      std::vector<std::size_t> recheck;  // new leaders whose key's flight ended after the L2 read
      for (auto i : missing) {
        FlightPtr flight;
        bool leader = true;
        if (config.penetration_protect) {
          std::tie(flight, leader) = flights.join_or_lead(ekeys[i]);
        } else {
          flight = std::make_shared<detail::Flight<LoadResult>>();
        }
        if (leader && settled_while_joining(ekeys[i], flight)) {
          // the value arrived from a flight that finished after this call's L1 miss
        } else if (leader && missed_settled_flight(ekeys[i], tickets[i])) {
          recheck.push_back(waits.size());
        } else if (leader) {
          lead_keys.push_back(unique[i]);
          lead_ekeys.push_back(ekeys[i]);
          lead_flights.push_back(flight);
        } else {
          metrics.singleflight_coalesced.add();
        }
        waits.emplace_back(i, std::move(flight));
      }
      if (!recheck.empty()) {
        // One more MGET for them (Remote mode); what it does not settle joins the batch load.
        std::vector<std::string> request;
        for (auto w : recheck) request.push_back(ekeys[waits[w].first]);
        const auto started = detail::steady_now();
        auto read = co_await remote->mget(request);
        const auto took = remote_done(started);
        if (!read) (void)remote_failed(read.error(), took);
        for (std::size_t j = 0; j < recheck.size(); ++j) {
          const auto& [i, flight] = waits[recheck[j]];
          if (read && j < read->size() && (*read)[j] && settled_by_reply(ekeys[i], flight, std::move(*(*read)[j]))) {
            continue;
          }
          lead_keys.push_back(unique[i]);
          lead_ekeys.push_back(ekeys[i]);
          lead_flights.push_back(flight);
        }
      }
      if (!lead_keys.empty()) {
        asio::co_spawn(detail::make_compact_strand(executor),
                       run_batch_load(this->shared_from_this(), std::move(lead_keys), std::move(lead_ekeys),
                                      std::move(lead_flights), config.penetration_protect, call),
                       asio::detached);
      }
      std::optional<CacheError> first_error;
      for (auto& [i, flight] : waits) {
        auto loaded = co_await flight->wait();
        if (loaded) {
          result.emplace(unique[i], std::move(*loaded));
        } else if (stale[i] && config.stale_on_error && options.allow_stale) {
          metrics.stale_fallback.add();
          result.emplace(unique[i], std::move(*stale[i]));
        } else if (!first_error) {
          first_error = loaded.error();
        }
      }
      if (first_error) {
        load_span.set_error(*first_error);
        metrics.mget_errors.add();
        co_return fail(*first_error);
      }
      load_span.set_ok();
      co_return result;
    }

    static asio::awaitable<void> run_batch_load(std::shared_ptr<State> self, std::vector<K> keys,
                                                std::vector<std::string> ekeys, std::vector<FlightPtr> batch,
                                                bool registered, CallLoadPtr call) {
      State& s = *self;
      const auto started = detail::steady_now();
      std::vector<detail::GenerationTable::Generation> generations_at_start;
      for (auto& ekey : ekeys) generations_at_start.push_back(s.generations.snapshot(ekey));
      const auto epoch = s.generations.epoch();
      s.metrics.load_total.add();
      s.metrics.load_keys.add(keys.size());
      auto mload = [self, keys, call]() {  // named: see run_load
        return call ? call->mload(keys) : self->loader->mload(keys);
      };
      auto outcome = co_await detail::run_with_deadline<LoadedMap<K, V>>(std::move(mload), s.config.loader_timeout);
      std::vector<LoadResult> results;
      if (!outcome || !*outcome) {
        CacheError error = outcome ? outcome->error() : CacheError::timeout("loader");
        (outcome ? s.metrics.load_error : s.metrics.load_timeout).add();
        results.assign(keys.size(), fail(error));
      } else {
        s.metrics.load_success.add();
        auto& loaded = **outcome;
        std::vector<std::string> write_keys;
        std::vector<Value> write_values;
        std::vector<detail::GenerationTable::Generation> write_generations;
        for (std::size_t i = 0; i < keys.size(); ++i) {
          auto it = loaded.find(keys[i]);
          const bool omitted = it == loaded.end();
          Value value = omitted ? Value{} : std::move(it->second);
          // A call loader's omitted keys are "not found", stored as such when store_null.
          if (!omitted || (call ? call->store_null : s.config.cache_omitted_batch_keys)) {
            write_keys.push_back(ekeys[i]);
            write_values.push_back(value);
            write_generations.push_back(generations_at_start[i]);
          }
          results.emplace_back(std::move(value));
        }
        auto written = co_await s.write_back(std::move(write_keys), std::move(write_values),
                                             std::move(write_generations), epoch, call.get());
        if (!written) results.assign(keys.size(), fail(written.error()));
      }
      s.load_done(started, results.empty() || results.front() ? nullptr : &results.front().error());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (registered) s.flights.release(ekeys[i], batch[i]);
        batch[i]->complete(std::move(results[i]));
      }
    }

    // Each chunk is one mget with its own cache.mget span, a child of the caller's cache.warmup.
    asio::awaitable<CacheResult<std::size_t>> warmup(std::vector<K> keys, SpanContext parent) {
      if (!config.warmup_enabled || keys.empty()) co_return std::size_t{0};
      std::size_t cached = 0;
      for (std::size_t begin = 0; begin < keys.size(); begin += config.warmup_batch_size) {
        const std::size_t end = std::min(keys.size(), begin + config.warmup_batch_size);
        std::vector<K> chunk(keys.begin() + begin, keys.begin() + end);
        Span chunk_span(tracer(), "cache.mget", config.area, parent);
        if (chunk_span.recording()) chunk_span.set_attribute("size", static_cast<std::uint64_t>(chunk.size()));
        const ReadOptions options;
        auto loaded = co_await mget(std::move(chunk), options, chunk_span.context());
        chunk_span.set_result(loaded);
        chunk_span.end();
        if (!loaded) {
          metrics.warmup_errors.add();
          co_return fail(loaded.error());
        }
        for (auto& [key, value] : *loaded) cached += value.has_value() ? 1 : 0;
      }
      co_return cached;
    }

    // ---------------------------------------------------------------- writes and deletes

    asio::awaitable<CacheResult<void>> set_many(std::vector<std::pair<K, Value>> entries, bool batch) {
      auto& errors = batch ? metrics.mset_errors : metrics.set_errors;
      // Last write wins for keys that encode alike.
      std::vector<std::string> ekeys;
      std::vector<Value> values;
      {
        std::unordered_map<std::string, std::size_t> position;
        for (auto& [key, value] : entries) {
          auto ekey = encode(key);
          if (!ekey) {
            errors.add();
            co_return fail(ekey.error());
          }
          auto [it, inserted] = position.try_emplace(*ekey, ekeys.size());
          if (inserted) {
            ekeys.push_back(std::move(*ekey));
            values.push_back(std::move(value));
          } else {
            values[it->second] = std::move(value);
          }
        }
      }
      if (ekeys.empty()) co_return CacheResult<void>{};
      for (auto& ekey : ekeys) {
        generations.bump(ekey);
        flights.forget(ekey);
      }
      if (l2()) {
        std::vector<RemoteWrite> writes;
        std::vector<std::string> deletes;
        for (std::size_t i = 0; i < ekeys.size(); ++i) {
          if (stores(values[i])) {
            writes.push_back(remote_write(ekeys[i], values[i]));
          } else {
            deletes.push_back(ekeys[i]);
          }
        }
        const auto started = detail::steady_now();
        auto stored = co_await remote_store(std::move(writes), std::move(deletes));
        if (!stored) {
          if (auto error = remote_failed(stored.error(), detail::steady_now() - started)) {
            errors.add();
            co_return fail(*error);
          }
        }
      }
      if (l1()) {
        for (std::size_t i = 0; i < ekeys.size(); ++i) {
          generations.bump_and_write(ekeys[i], [&] { put_local(ekeys[i], values[i]); });
        }
      }
      co_await publish(ekeys);
      co_return CacheResult<void>{};
    }

    asio::awaitable<CacheResult<void>> del_many(std::vector<K> keys, bool batch) {
      auto& errors = batch ? metrics.mdel_errors : metrics.del_errors;
      std::vector<std::string> ekeys;
      {
        std::unordered_set<std::string> seen;
        for (auto& key : keys) {
          auto ekey = encode(key);
          if (!ekey) {
            errors.add();
            co_return fail(ekey.error());
          }
          if (seen.insert(*ekey).second) ekeys.push_back(std::move(*ekey));
        }
      }
      if (ekeys.empty()) co_return CacheResult<void>{};
      for (auto& ekey : ekeys) {
        generations.bump(ekey);
        flights.forget(ekey);
      }
      if (l2()) {
        const auto started = detail::steady_now();
        auto removed = co_await remote_store(std::vector<RemoteWrite>(), ekeys);
        if (!removed) {
          if (auto error = remote_failed(removed.error(), detail::steady_now() - started)) {
            errors.add();
            co_return fail(*error);
          }
        }
      }
      if (l1()) {
        for (auto& ekey : ekeys) generations.bump_and_write(ekey, [&] { local->del(ekey); });
      }
      co_await publish(ekeys);
      co_return CacheResult<void>{};
    }

    // Tells other instances to drop these keys from their L1. A failed publish is counted, not
    // returned: the write itself succeeded, and the other instances' copies still expire.
    asio::awaitable<void> publish(const std::vector<std::string>& ekeys) {
      if (!publishes()) co_return;
      for (auto& message :
           detail::encode_invalidation_batches(instance_id, config.area, ekeys, config.invalidation_batch_max_keys)) {
        metrics.invalidation_publish.add();
        const auto started = detail::steady_now();
        auto sent = co_await remote->publish(*channel, message);
        remote_done(started);
        if (!sent) metrics.invalidation_publish_failures.add();
      }
    }

    // ---------------------------------------------------------------- invalidation receive

    void on_invalidation(std::string_view payload) {
      auto message = detail::decode_invalidation(payload);
      if (!message) {
        metrics.invalidation_receive_failures.add();
        return;
      }
      if (message->origin == instance_id) {
        metrics.invalidation_self_ignored.add();
        return;
      }
      if (message->area != config.area) return;  // another deployment sharing the channel
      for (auto& ekey : message->keys) {
        flights.forget(ekey);
        if (l1()) {
          generations.bump_and_write(ekey, [&] { local->del(ekey); });
        } else {
          generations.bump(ekey);
        }
      }
      metrics.invalidation_receive.add();
    }

    // Messages may have been lost: nothing in L1 can be trusted to be current. Loads already
    // running still write L2 (their keys were not changed) but no longer fill L1.
    void on_invalidation_gap() {
      generations.bump_epoch();
      if (l1()) local->clear();
      metrics.invalidation_gap_clears.add();
    }

    // ---------------------------------------------------------------- inspection

    std::optional<StoredEntry<V>> peek(const K& key) const {
      if (!l1()) return std::nullopt;
      auto ekey = encode(key);
      if (!ekey) return std::nullopt;
      return const_cast<LB&>(*local).get(*ekey);
    }

    CacheDiagnosticSnapshot diagnostics() const {
      CacheDiagnosticSnapshot d;
      d.config = config;
      d.metrics = metrics.snapshot();
      d.local_backend_ready = l1();
      d.remote_backend_ready = l2();
      d.loader_configured = loader.has_value();
      d.invalidation_listener_started = subscription != nullptr;
      d.invalidation_listener_active = subscription && subscription->active();
      d.invalidation_channel = channel;
      d.instance_id = instance_id;
      d.inflight_loads = flights.size();
      if (l1()) d.local = local->stats();
      if constexpr (requires(const RB& r) {
                      { r.health() } -> std::same_as<RemoteHealth>;
                    }) {
        if (l2()) d.remote = remote->health();
      }
      return d;
    }
  };
};

}  // namespace accelerator
