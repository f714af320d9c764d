// macro_batch_best_practice — cacheable_batch and cache_evict_batch on a service, Local mode.
//
// Area "macro-batch-demo" (local_ttl 90 s, null_ttl 30 s). Products 101 and 102 exist, 999 does
// not. The body of cacheable_batch only ever receives the keys the cache did not have, and the
// result has an entry for every requested id (nullopt for 999).
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "accelerator/accelerator.hpp"
#include "accelerator/decorators.hpp"

using namespace accelerator;
using namespace std::chrono_literals;

using Ids = std::vector<std::uint64_t>;
using Products = std::unordered_map<std::uint64_t, std::optional<std::string>>;

class ProductRepository {
 public:
  // One query for many ids; ids that do not exist are simply absent from the answer.
  asio::awaitable<CacheResult<Products>> find_many(Ids ids) {
    std::string asked;
    for (auto id : ids) asked += std::to_string(id) + " ";
    std::printf("  [db] SELECT ... WHERE id IN ( %s)\n", asked.c_str());
    Products out;
    for (auto id : ids) {
      if (auto it = rows_.find(id); it != rows_.end()) out.emplace(id, it->second);
    }
    co_return out;
  }
  asio::awaitable<CacheResult<void>> discontinue(Ids ids) {
    for (auto id : ids) rows_.erase(id);
    co_return CacheResult<void>{};
  }

 private:
  std::map<std::uint64_t, std::string> rows_{{101, "keyboard"}, {102, "mouse"}};
};

template <class Cache>
class ProductService {
 public:
  ProductService(Cache cache, ProductRepository& repo) : cache_(std::move(cache)), repo_(repo) {}

  // CacheResult bodies need no error conversion: the service's error type is CacheError.
  asio::awaitable<CacheResult<Products>> find_many(Ids ids) {
    return cacheable_batch(cache_, ids, [this](Ids misses) { return repo_.find_many(std::move(misses)); });
  }

  asio::awaitable<CacheResult<void>> discontinue(Ids ids) {
    auto body = [this, ids] { return repo_.discontinue(ids); };
    co_return co_await cache_evict_batch(cache_, ids, std::move(body));
  }

 private:
  Cache cache_;
  ProductRepository& repo_;
};

void print(const char* what, const CacheResult<Products>& r, const Ids& order) {
  if (!r) {
    std::printf("%s -> error: %s\n", what, r.error().to_string().c_str());
    return;
  }
  std::printf("%s ->", what);
  for (auto id : order) {
    auto it = r->find(id);
    std::printf(" %llu=%s", static_cast<unsigned long long>(id),
                it == r->end() ? "<missing entry!>" : it->second ? it->second->c_str() : "<not found>");
  }
  std::printf("\n");
}

// Key lists are named locals: GCC 12 miscompiles braced temporaries inside co_await expressions.
template <class Service>
asio::awaitable<int> demo(Service& products) {
  const Ids ids{101, 102, 999, 101};
  const Ids distinct{101, 102, 999};
  std::printf("find_many(101, 102, 999, 101): first call loads the distinct misses\n");
  auto first = co_await products.find_many(ids);
  print("  result", first, distinct);
  std::printf("find_many again: 101 and 102 come from L1 (999 is asked again: its null is not a hit\n"
              "  without get_or_load support in the cache)\n");
  auto second = co_await products.find_many(ids);
  print("  result", second, distinct);
  const Ids gone{102, 102};
  auto removed = co_await products.discontinue(gone);
  std::printf("discontinue(102, 102) -> %s\n", removed ? "ok (one mdel of [102])" : removed.error().to_string().c_str());
  const Ids just_102{102};
  auto third = co_await products.find_many(just_102);
  print("find_many(102)", third, just_102);
  co_return removed ? 0 : 1;
}

int main() {
  auto built = LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("macro-batch-demo")
                   .mode(CacheMode::Local)
                   .local_ttl(90s)
                   .null_ttl(30s)
                   .local(local::SimpleLocalCache<std::string>(10'000))
                   .build();
  if (!built) {
    std::fprintf(stderr, "cache build failed: %s\n", built.error().to_string().c_str());
    return 1;
  }
  ProductRepository repo;
  ProductService products(std::move(*built), repo);
  asio::io_context io;
  auto done = asio::co_spawn(io, demo(products), asio::use_future);
  io.run();
  return done.get();
}
