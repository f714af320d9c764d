// An in-memory RemoteBackend + InvalidationSubscriber for unit tests of the Remote/Both paths.
// (Integration tests use a real redis-server; this fake only lets unit tests script failures.)
// Copies share one store, like a real backend handle. Publish delivers synchronously to every
// subscriber of the channel, including the publisher's own subscription.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accelerator/accelerator.hpp"
#include "test_support.hpp"

namespace accelerator::testing {

class FakeRemote {
 public:
  struct Stored {
    std::string bytes;
    std::chrono::milliseconds ttl;
  };
  struct Shared {
    std::mutex mutex;
    std::map<std::string, Stored> data;
    std::multimap<std::string, InvalidationHandlers> subscribers;
    std::atomic<bool> failing{false};
    std::atomic<int> gets{0}, mgets{0}, sets{0}, msets{0}, dels{0}, mdels{0}, publishes{0};
    // When set, GET / MGET read the store at once but hold their reply until the gate opens: a
    // reply that is slow on the wire and describes the store as it was when the command ran.
    std::shared_ptr<Gate> reply_gate;
  };

  FakeRemote() : shared_(std::make_shared<Shared>()) {}

  Shared& shared() { return *shared_; }
  void set_failing(bool failing) { shared_->failing = failing; }
  std::optional<Stored> raw(const std::string& key) {
    std::lock_guard lock(shared_->mutex);
    auto it = shared_->data.find(key);
    if (it == shared_->data.end()) return std::nullopt;
    return it->second;
  }
  void put_raw(const std::string& key, std::string bytes) {
    std::lock_guard lock(shared_->mutex);
    shared_->data[key] = Stored{std::move(bytes), std::chrono::milliseconds(60000)};
  }
  // Simulates a dropped and re-established subscriber connection.
  void signal_gap() {
    std::vector<InvalidationHandlers> handlers;
    {
      std::lock_guard lock(shared_->mutex);
      for (auto& [channel, h] : shared_->subscribers) handlers.push_back(h);
    }
    for (auto& h : handlers) h.on_gap();
  }

  asio::awaitable<CacheResult<std::optional<std::string>>> get(const std::string& key) {
    ++shared_->gets;
    if (shared_->failing) co_return fail(CacheError::backend("redis GET failed: injected"));
    auto reply = raw_bytes(key);
    if (auto gate = shared_->reply_gate) co_await gate->wait();
    co_return reply;
  }
  asio::awaitable<CacheResult<std::vector<std::optional<std::string>>>> mget(const std::vector<std::string>& keys) {
    ++shared_->mgets;
    if (shared_->failing) co_return fail(CacheError::backend("redis MGET failed: injected"));
    std::vector<std::optional<std::string>> out;
    for (auto& key : keys) out.push_back(raw_bytes(key));
    if (auto gate = shared_->reply_gate) co_await gate->wait();
    co_return out;
  }
  asio::awaitable<CacheResult<void>> set(const std::string& key, const std::string& bytes,
                                         std::chrono::milliseconds ttl) {
    ++shared_->sets;
    if (shared_->failing) co_return fail(CacheError::backend("redis SET failed: injected"));
    std::lock_guard lock(shared_->mutex);
    shared_->data[key] = Stored{bytes, ttl};
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<void>> mset(const std::vector<RemoteWrite>& writes) {
    ++shared_->msets;
    if (shared_->failing) co_return fail(CacheError::backend("redis pipeline mset failed: injected"));
    std::lock_guard lock(shared_->mutex);
    for (auto& w : writes) shared_->data[w.key] = Stored{w.bytes, w.ttl};
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<void>> del(const std::string& key) {
    ++shared_->dels;
    if (shared_->failing) co_return fail(CacheError::backend("redis DEL failed: injected"));
    std::lock_guard lock(shared_->mutex);
    shared_->data.erase(key);
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<void>> mdel(const std::vector<std::string>& keys) {
    ++shared_->mdels;
    if (shared_->failing) co_return fail(CacheError::backend("redis DEL failed: injected"));
    std::lock_guard lock(shared_->mutex);
    for (auto& key : keys) shared_->data.erase(key);
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<void>> publish(const std::string& channel, const std::string& payload) {
    ++shared_->publishes;
    if (shared_->failing) co_return fail(CacheError::backend("redis PUBLISH failed: injected"));
    std::vector<InvalidationHandlers> handlers;
    {
      std::lock_guard lock(shared_->mutex);
      auto [begin, end] = shared_->subscribers.equal_range(channel);
      for (auto it = begin; it != end; ++it) handlers.push_back(it->second);
    }
    for (auto& h : handlers) h.on_message(payload);
    co_return CacheResult<void>{};
  }

  class FakeSubscription : public Subscription {
   public:
    void stop() override { active_ = false; }
    bool active() const override { return active_; }

   private:
    std::atomic<bool> active_{true};
  };

  CacheResult<std::shared_ptr<Subscription>> subscribe(std::string channel, InvalidationHandlers handlers) {
    std::lock_guard lock(shared_->mutex);
    shared_->subscribers.emplace(std::move(channel), std::move(handlers));
    return std::make_shared<FakeSubscription>();
  }

 private:
  std::optional<std::string> raw_bytes(const std::string& key) {
    std::lock_guard lock(shared_->mutex);
    auto it = shared_->data.find(key);
    if (it == shared_->data.end()) return std::nullopt;
    return it->second.bytes;
  }

  std::shared_ptr<Shared> shared_;
};

static_assert(RemoteBackend<FakeRemote>);
static_assert(InvalidationSubscriber<FakeRemote>);

}  // namespace accelerator::testing
