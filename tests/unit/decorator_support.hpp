// Shared fixtures of the decorator tests: a business error type, a counting repository, and a
// real Local-mode cache (area "macro-test", local_ttl 60 s, null_ttl 10 s, as in the seed).
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "accelerator/accelerator.hpp"
#include "accelerator/decorators.hpp"
#include "decorator_fake_cache.hpp"

namespace accelerator::testing {

// A service's error: either a cache failure (converted by `propagate`) or its own.
struct AppError {
  enum class Kind { Cache, Business };
  Kind kind;
  std::string message;
  std::optional<ErrorKind> cache_kind;

  explicit AppError(const CacheError& error)
      : kind(Kind::Cache), message(error.message()), cache_kind(error.kind()) {}
  static AppError business(std::string message) { return AppError(Kind::Business, std::move(message)); }

 private:
  AppError(Kind k, std::string m) : kind(k), message(std::move(m)) {}
};

template <class T>
using AppResult = std::expected<T, AppError>;
using UserMap = std::unordered_map<std::uint64_t, std::optional<std::string>>;

// Users 1, 2 and 3 exist ("user-<id>"). Counts calls and records the keys each batch call got.
struct Repo {
  std::map<std::uint64_t, std::string> users{{1, "user-1"}, {2, "user-2"}, {3, "user-3"}};
  int calls = 0;
  bool fail = false;
  std::vector<std::vector<std::uint64_t>> batch_args;

  asio::awaitable<AppResult<std::optional<std::string>>> find(std::uint64_t id) {
    ++calls;
    if (fail) co_return std::unexpected(AppError::business("repo down"));
    auto it = users.find(id);
    co_return it == users.end() ? std::optional<std::string>{} : std::optional(it->second);
  }
  asio::awaitable<AppResult<UserMap>> find_many(std::vector<std::uint64_t> ids) {
    ++calls;
    batch_args.push_back(ids);
    if (fail) co_return std::unexpected(AppError::business("repo down"));
    UserMap out;
    for (auto id : ids) {
      if (auto it = users.find(id); it != users.end()) out.emplace(id, it->second);
    }
    co_return out;
  }
  asio::awaitable<AppResult<std::string>> save(std::uint64_t id, std::string name) {
    ++calls;
    if (fail) co_return std::unexpected(AppError::business("repo down"));
    users[id] = name;
    co_return name;
  }
  asio::awaitable<AppResult<void>> remove(std::uint64_t id) {
    ++calls;
    if (fail) co_return std::unexpected(AppError::business("repo down"));
    users.erase(id);
    co_return AppResult<void>{};
  }
  asio::awaitable<AppResult<void>> remove_many(std::vector<std::uint64_t> ids) {
    ++calls;
    batch_args.push_back(ids);
    if (fail) co_return std::unexpected(AppError::business("repo down"));
    for (auto id : ids) users.erase(id);
    co_return AppResult<void>{};
  }
};

using Mock = FakeCache<std::uint64_t, std::string>;
using LoadThroughMock = LoadThroughFakeCache<std::uint64_t, std::string>;

inline auto make_real_cache() {
  using namespace std::chrono_literals;
  auto built = LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("macro-test")
                   .mode(CacheMode::Local)
                   .local_ttl(60s)
                   .null_ttl(10s)
                   .local(local::SimpleLocalCache<std::string>(1000))
                   .build();
  return std::move(*built);
}

}  // namespace accelerator::testing
