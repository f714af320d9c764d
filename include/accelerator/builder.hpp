// accelerator/builder.hpp — assembling and validating a LevelCache.
//
//   auto cache = LevelCacheBuilder<std::uint64_t, std::string>()
//                    .area("user")
//                    .mode(CacheMode::Local)
//                    .local(local::SimpleLocalCache<std::string>(100'000))
//                    .loader_fn([](std::uint64_t id) -> asio::awaitable<CacheResult<std::optional<std::string>>> {
//                      co_return "user-" + std::to_string(id);
//                    })
//                    .build();  // CacheResult<LevelCache<...>>
//
// Setters of plain fields return the builder; local(), remote() and the loader setters return a
// builder of a new type (the backend types are template parameters: static dispatch). build()
// runs validate() (config.hpp) and then checks the backends the mode needs; every rejection is an
// InvalidConfig error naming the field. build() starts the invalidation subscription when
// broadcast_invalidation is on in Both mode, so no message published after build() returns is
// missed once the subscription is confirmed, and a gap before that clears L1.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "accelerator/backend.hpp"
#include "accelerator/config.hpp"
#include "accelerator/level_cache.hpp"
#include "accelerator/loader.hpp"
#include "accelerator/local/default_local_backend.hpp"
#include "accelerator/observability/logging.hpp"
#include "accelerator/observability/tracing.hpp"

namespace accelerator {

template <class K, class V, class L = NoLoader<K, V>, class LB = local::DefaultLocalBackend<V>, class RB = NoRemote>
class LevelCacheBuilder {
  static_assert(EncodableValue<V>, "values need a ValueCodec: std::string, arithmetic, or to_json/from_json");

 public:
  using Cache = LevelCache<K, V, L, LB, RB>;

  LevelCacheBuilder() = default;

  LevelCacheBuilder& area(std::string value) { return field(&CacheConfig::area, std::move(value)); }
  LevelCacheBuilder& mode(CacheMode value) { return field(&CacheConfig::mode, value); }
  LevelCacheBuilder& local_ttl(std::chrono::milliseconds value) { return field(&CacheConfig::local_ttl, value); }
  LevelCacheBuilder& remote_ttl(std::chrono::milliseconds value) { return field(&CacheConfig::remote_ttl, value); }
  LevelCacheBuilder& null_ttl(std::chrono::milliseconds value) { return field(&CacheConfig::null_ttl, value); }
  LevelCacheBuilder& ttl_jitter_ratio(double value) { return field(&CacheConfig::ttl_jitter_ratio, value); }
  LevelCacheBuilder& disable_ttl_jitter() { return field(&CacheConfig::ttl_jitter_ratio, std::optional<double>{}); }
  LevelCacheBuilder& cache_null_value(bool value) { return field(&CacheConfig::cache_null_value, value); }
  LevelCacheBuilder& penetration_protect(bool value) { return field(&CacheConfig::penetration_protect, value); }
  LevelCacheBuilder& loader_timeout(std::chrono::milliseconds value) {
    return field(&CacheConfig::loader_timeout, std::optional<std::chrono::milliseconds>(value));
  }
  LevelCacheBuilder& disable_loader_timeout() {
    return field(&CacheConfig::loader_timeout, std::optional<std::chrono::milliseconds>{});
  }
  LevelCacheBuilder& warmup_enabled(bool value) { return field(&CacheConfig::warmup_enabled, value); }
  LevelCacheBuilder& warmup_batch_size(std::size_t value) { return field(&CacheConfig::warmup_batch_size, value); }
  LevelCacheBuilder& refresh_ahead(bool value) { return field(&CacheConfig::refresh_ahead, value); }
  LevelCacheBuilder& refresh_ahead_window(std::chrono::milliseconds value) {
    return field(&CacheConfig::refresh_ahead_window, value);
  }
  LevelCacheBuilder& stale_on_error(bool value) { return field(&CacheConfig::stale_on_error, value); }
  LevelCacheBuilder& stale_grace(std::chrono::milliseconds value) { return field(&CacheConfig::stale_grace, value); }
  LevelCacheBuilder& broadcast_invalidation(bool value) { return field(&CacheConfig::broadcast_invalidation, value); }
  LevelCacheBuilder& cache_omitted_batch_keys(bool value) {
    return field(&CacheConfig::cache_omitted_batch_keys, value);
  }
  LevelCacheBuilder& max_key_bytes(std::size_t value) { return field(&CacheConfig::max_key_bytes, value); }
  LevelCacheBuilder& remote_failure_policy(RemoteFailurePolicy value) {
    return field(&CacheConfig::remote_failure_policy, value);
  }
  LevelCacheBuilder& invalidation_batch_max_keys(std::size_t value) {
    return field(&CacheConfig::invalidation_batch_max_keys, value);
  }
  // Replaces every field at once (e.g. from a config file).
  LevelCacheBuilder& config(CacheConfig value) {
    config_ = std::move(value);
    return *this;
  }
  // Overrides KeyCodec<K> for this cache. The function must be injective.
  LevelCacheBuilder& key_converter(std::function<std::string(const K&)> fn) {
    key_converter_ = std::move(fn);
    return *this;
  }
  // The time source for expiry decisions (tests pass a ManualClock; give the same one to the L1).
  LevelCacheBuilder& clock(std::shared_ptr<const Clock> value) {
    clock_ = std::move(value);
    return *this;
  }
  // Receives the cache's spans (cache.get, cache.load, ...; see observability/tracing.hpp), e.g.
  // an OtlpExporter. None by default: spans then cost one null check.
  LevelCacheBuilder& tracer(std::shared_ptr<Tracer> value) {
    tracer_ = std::move(value);
    return *this;
  }
  // Turns on the operation log (observability/logging.hpp): every call at DEBUG, failed calls,
  // loader failures and L2 failures at WARN (rate-limited). Off by default. Keys are hashed
  // unless options.log_keys.
  LevelCacheBuilder& operation_log(OperationLogger::Options options = {}) {
    log_options_ = std::move(options);
    return *this;
  }

  template <class LB2>
  requires LocalBackend<LB2, V> LevelCacheBuilder<K, V, L, LB2, RB> local(LB2 backend)
  const {
    auto next = rebind<L, LB2, RB>();
    next.local_.emplace(std::move(backend));
    copy_into(next.remote_, remote_);
    copy_into(next.loader_, loader_);
    return next;
  }

  template <class RB2>
  requires RemoteBackend<RB2> LevelCacheBuilder<K, V, L, LB, RB2> remote(RB2 backend)
  const {
    auto next = rebind<L, LB, RB2>();
    copy_into(next.local_, local_);
    next.remote_.emplace(std::move(backend));
    copy_into(next.loader_, loader_);
    return next;
  }

  template <class L2>
  requires MLoader<L2, K, V> LevelCacheBuilder<K, V, L2, LB, RB> loader(L2 value)
  const {
    auto next = rebind<L2, LB, RB>();
    copy_into(next.local_, local_);
    copy_into(next.remote_, remote_);
    next.loader_.emplace(std::move(value));
    return next;
  }

  // F: (K) -> asio::awaitable<CacheResult<std::optional<V>>>; mget loads run concurrently.
  template <class F>
  auto loader_fn(F fn) const {
    return loader(accelerator::loader_fn<K, V>(std::move(fn)));
  }

  // F as in loader_fn; G: (const std::vector<K>&) -> asio::awaitable<CacheResult<LoadedMap<K, V>>>.
  template <class F, class G>
  auto mloader_fn(F single, G batch) const {
    return loader(accelerator::mloader_fn<K, V>(std::move(single), std::move(batch)));
  }

  const CacheConfig& current_config() const noexcept { return config_; }

  CacheResult<Cache> build() const {
    CacheConfig config = config_;
    if (auto error = validate(config)) return fail(*error);
    if constexpr (!EncodableKey<K>) {
      if (!key_converter_) {
        return fail(CacheError::invalid_config("key_converter is required: the key type has no KeyCodec"));
      }
    }
    const bool has_local = local_.has_value();
    const bool has_remote = remote_.has_value();
    switch (config.mode) {
      case CacheMode::Local:
        if (!has_local) return fail(CacheError::invalid_config("local backend is required when mode=Local"));
        break;
      case CacheMode::Remote:
        if (!has_remote) return fail(CacheError::invalid_config("remote backend is required when mode=Remote"));
        break;
      case CacheMode::Both:
        if (!has_local || !has_remote) {
          return fail(CacheError::invalid_config("both local and remote backends are required when mode=Both"));
        }
        break;
    }

    auto state = std::make_shared<typename Cache::State>();
    state->config = config;
    state->key_namespace = escape_key_segment(config.area);
    state->clock = clock_ ? clock_ : SystemClock::instance();
    state->clock_is_steady = state->clock->now_is_steady_clock();
    copy_into(state->local, local_);
    copy_into(state->remote, remote_);
    copy_into(state->loader, loader_);
    state->key_converter = key_converter_;
    state->observers.tracer = tracer_;
    if (log_options_) state->observers.logger = std::make_shared<const OperationLogger>(config.area, *log_options_);

    if (config.broadcast_invalidation && config.uses_remote()) {
      if constexpr (requires(RB & r, std::string_view a) {
                      { r.channel_for(a) } -> std::convertible_to<std::string>;
                    }) {
        state->channel = state->remote->channel_for(config.area);
      } else {
        state->channel = detail::default_invalidation_channel(config.area);
      }
    }
    if (config.broadcast_invalidation && config.mode == CacheMode::Both) {
      if constexpr (InvalidationSubscriber<RB>) {
        std::weak_ptr<typename Cache::State> weak = state;
        InvalidationHandlers handlers;
        handlers.on_message = [weak](std::string_view payload) {
          if (auto s = weak.lock()) s->on_invalidation(payload);
        };
        handlers.on_gap = [weak] {
          if (auto s = weak.lock()) s->on_invalidation_gap();
        };
        auto subscription = state->remote->subscribe(*state->channel, std::move(handlers));
        if (!subscription) return fail(subscription.error());
        state->subscription = std::move(*subscription);
      } else {
        return fail(CacheError::invalid_config(
            "broadcast_invalidation needs a remote backend that supports subscribe (InvalidationSubscriber)"));
      }
    }
    return Cache(std::move(state));
  }

 private:
  template <class, class, class, class, class>
  friend class LevelCacheBuilder;

  template <class M, class T>
  LevelCacheBuilder& field(M CacheConfig::*member, T&& value) {
    config_.*member = std::forward<T>(value);
    return *this;
  }

  // Copy-constructs (lambdas inside loaders are copyable but not assignable).
  template <class T>
  static void copy_into(std::optional<T>& target, const std::optional<T>& source) {
    if (source) target.emplace(*source);
  }

  template <class L2, class LB2, class RB2>
  LevelCacheBuilder<K, V, L2, LB2, RB2> rebind() const {
    LevelCacheBuilder<K, V, L2, LB2, RB2> next;
    next.config_ = config_;
    next.key_converter_ = key_converter_;
    next.clock_ = clock_;
    next.tracer_ = tracer_;
    next.log_options_ = log_options_;
    return next;
  }

  CacheConfig config_;
  std::function<std::string(const K&)> key_converter_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Tracer> tracer_;
  std::optional<OperationLogger::Options> log_options_;
  std::optional<L> loader_;
  std::optional<LB> local_;
  std::optional<RB> remote_;
};

}  // namespace accelerator
