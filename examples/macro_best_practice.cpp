// macro_best_practice — the three single-key decorators on a service class, Local mode.
//
// A UserService keeps users in an in-memory "database" and puts a LevelCache (area
// "macro-demo", local_ttl 120 s, null_ttl 15 s) in front of it with one or two lines per method:
//   find   cacheable   (on_cache_error=ignore, cache_none: "not found" is cached too)
//   save   cache_put   (on_cache_error=propagate: a failed cache write is reported)
//   remove cache_evict (before=true, propagate: the entry goes even if the delete fails)
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <map>
#include <string>

#include "accelerator/accelerator.hpp"
#include "accelerator/decorators.hpp"

using namespace accelerator;
using namespace std::chrono_literals;

// The service's own error type: anything it returns, plus cache failures under `propagate`.
struct ServiceError {
  std::string message;
  explicit ServiceError(std::string m) : message(std::move(m)) {}
  explicit ServiceError(const CacheError& e) : message("cache: " + e.to_string()) {}
};
template <class T>
using Result = std::expected<T, ServiceError>;

class UserRepository {
 public:
  asio::awaitable<Result<std::optional<std::string>>> find(std::uint64_t id) {
    ++queries;
    auto it = rows_.find(id);
    co_return it == rows_.end() ? std::optional<std::string>{} : std::optional(it->second);
  }
  asio::awaitable<Result<std::string>> save(std::uint64_t id, std::string name) {
    ++queries;
    rows_[id] = name;
    co_return name;
  }
  asio::awaitable<Result<void>> remove(std::uint64_t id) {
    ++queries;
    rows_.erase(id);
    co_return Result<void>{};
  }
  int queries = 0;

 private:
  std::map<std::uint64_t, std::string> rows_{{1, "alice"}, {2, "bob"}};
};

template <class Cache>
class UserService {
 public:
  UserService(Cache cache, UserRepository& repo) : cache_(std::move(cache)), repo_(repo) {}

  asio::awaitable<Result<std::optional<std::string>>> find(std::uint64_t id) {
    // Returned, not co_awaited: find() needs no coroutine frame of its own.
    return cacheable(cache_, id, [this, id] { return repo_.find(id); }, {.cache_none = true});
  }

  asio::awaitable<Result<std::string>> save(std::uint64_t id, std::string name) {
    auto body = [this, id, name] { return repo_.save(id, name); };
    co_return co_await cache_put(cache_, id, std::move(body),
                                 [](const std::string& saved) { return std::optional(saved); },
                                 {.on_cache_error = OnCacheError::Propagate});
  }

  asio::awaitable<Result<void>> remove(std::uint64_t id) {
    co_return co_await cache_evict(cache_, id, [this, id] { return repo_.remove(id); },
                                   {.before = true, .on_cache_error = OnCacheError::Propagate});
  }

  Cache& cache() { return cache_; }

 private:
  Cache cache_;
  UserRepository& repo_;
};

std::string show(const Result<std::optional<std::string>>& r) {
  if (!r) return "error: " + r.error().message;
  return r->has_value() ? **r : std::string("<not found>");
}

template <class Service>
asio::awaitable<int> demo(Service& users, UserRepository& repo) {
  std::printf("find(1)        -> %s (queries=%d)\n", show(co_await users.find(1)).c_str(), repo.queries);
  std::printf("find(1) again  -> %s (queries=%d, served from L1)\n", show(co_await users.find(1)).c_str(),
              repo.queries);
  std::printf("find(404)      -> %s (queries=%d)\n", show(co_await users.find(404)).c_str(), repo.queries);
  // With a cache offering get_or_load the cached null marker is a hit and queries stays put.
  std::printf("find(404) again-> %s (queries=%d)\n", show(co_await users.find(404)).c_str(), repo.queries);

  auto saved = co_await users.save(3, "carol");
  if (!saved) {
    std::printf("save failed: %s\n", saved.error().message.c_str());
    co_return 1;
  }
  std::printf("save(3)        -> %s; find(3) -> %s (queries=%d, written by cache_put)\n", saved->c_str(),
              show(co_await users.find(3)).c_str(), repo.queries);

  auto removed = co_await users.remove(1);
  if (!removed) {
    std::printf("remove failed: %s\n", removed.error().message.c_str());
    co_return 1;
  }
  std::printf("remove(1)      -> ok; L1 holds key 1: %s\n", users.cache().peek(1) ? "yes" : "no");
  std::printf("find(1)        -> %s (queries=%d)\n", show(co_await users.find(1)).c_str(), repo.queries);

  const auto m = users.cache().metrics_snapshot();
  std::printf("metrics: local_hit=%llu local_miss=%llu\n", static_cast<unsigned long long>(m.local_hit),
              static_cast<unsigned long long>(m.local_miss));
  co_return 0;
}

int main() {
  auto built = LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("macro-demo")
                   .mode(CacheMode::Local)
                   .local_ttl(120s)
                   .null_ttl(15s)
                   .local(local::SimpleLocalCache<std::string>(10'000))
                   .build();
  if (!built) {
    std::fprintf(stderr, "cache build failed: %s\n", built.error().to_string().c_str());
    return 1;
  }
  UserRepository repo;
  UserService users(std::move(*built), repo);
  asio::io_context io;
  auto done = asio::co_spawn(io, demo(users, repo), asio::use_future);
  io.run();
  return done.get();
}
