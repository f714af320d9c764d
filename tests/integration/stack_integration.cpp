// The whole stack (spec §15.4, split into its steps): LevelCache in Both mode over a real
// redis-server (L2) and a real PostgreSQL behind a libpqxx loader (single-row SELECT for get,
// `WHERE id = ANY($1::bigint[])` for mget). Both servers are started by the harness on free
// loopback ports (support/redis_server.hpp, support/postgres_server.hpp) unless
// ACCELERATOR_TEST_REDIS_URL / ACCELERATOR_TEST_POSTGRES_DSN point at existing ones.
//
// Every test uses its own block of user ids and its own Redis key prefix, so the tests can share
// one database and one Redis.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "support/postgres_server.hpp"
#include "support/redis_fixture.hpp"

namespace accelerator::testing {
namespace {

using namespace std::chrono_literals;
using Id = std::uint64_t;
using Name = std::optional<std::string>;

// The users table over one libpqxx connection (serialised: the io threads and the test thread
// share it). Loads are counted so tests can tell a cache hit from a database read.
class UserRepository {
 public:
  explicit UserRepository(const std::string& dsn) : conn_(dsn) {
    std::scoped_lock lock(mutex_);
    pqxx::work tx(conn_);
    tx.exec("CREATE TABLE IF NOT EXISTS accelerator_users (id BIGINT PRIMARY KEY, name TEXT NOT NULL)");
    tx.commit();
  }

  void upsert(Id id, const std::string& name) {
    std::scoped_lock lock(mutex_);
    pqxx::work tx(conn_);
    tx.exec_params("INSERT INTO accelerator_users (id, name) VALUES ($1, $2) "
                   "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
                   static_cast<long long>(id), name);
    tx.commit();
  }

  void remove(const std::vector<Id>& ids) {
    std::scoped_lock lock(mutex_);
    pqxx::work tx(conn_);
    tx.exec_params("DELETE FROM accelerator_users WHERE id = ANY($1::bigint[])", array_literal(ids));
    tx.commit();
  }

  // Point SELECT; nullopt when the row does not exist.
  Name find(Id id) {
    ++loads;
    std::scoped_lock lock(mutex_);
    pqxx::nontransaction tx(conn_);
    auto rows = tx.exec_params("SELECT name FROM accelerator_users WHERE id = $1", static_cast<long long>(id));
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  }

  // One query for many ids; every requested id gets an entry (nullopt when there is no row).
  LoadedMap<Id, std::string> find_many(const std::vector<Id>& ids) {
    ++mloads;
    LoadedMap<Id, std::string> out;
    std::scoped_lock lock(mutex_);
    mload_keys.push_back(ids);
    pqxx::nontransaction tx(conn_);
    auto rows = tx.exec_params("SELECT id, name FROM accelerator_users WHERE id = ANY($1::bigint[])", array_literal(ids));
    for (Id id : ids) out.emplace(id, std::nullopt);
    for (const auto& row : rows) out[static_cast<Id>(row[0].as<long long>())] = row[1].as<std::string>();
    return out;
  }

  std::vector<std::vector<Id>> batches() {
    std::scoped_lock lock(mutex_);
    return mload_keys;
  }

  std::atomic<int> loads{0};
  std::atomic<int> mloads{0};

 private:
  static std::string array_literal(const std::vector<Id>& ids) {
    std::string literal = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) literal += ',';
      literal += std::to_string(ids[i]);
    }
    return literal + "}";
  }

  std::mutex mutex_;
  pqxx::connection conn_;
  std::vector<std::vector<Id>> mload_keys;
};

class StackTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const auto& pg = shared_postgres();
    if (pg.dsn.empty()) ACCELERATOR_POSTGRES_UNAVAILABLE(pg.why);
    repo = std::make_shared<UserRepository>(pg.dsn);
  }

  void TearDown() override {
    if (repo && !ids.empty()) repo->remove(ids);
  }

  // Reserves `n` ids for this test (and deletes their rows at the end).
  std::vector<Id> reserve(Id base, int n) {
    for (int i = 0; i < n; ++i) ids.push_back(base + static_cast<Id>(i));
    repo->remove(ids);
    return ids;
  }

  // The seed's stack cache: Both mode, no singleflight, local 60 s, remote 120 s, null 10 s.
  auto build(std::string area, bool broadcast = false) {
    auto r = repo;
    auto single = [r](Id id) -> asio::awaitable<CacheResult<Name>> {
      try {
        co_return r->find(id);
      } catch (const std::exception& e) {
        co_return std::unexpected(CacheError::loader(e.what()));
      }
    };
    auto batch = [r](const std::vector<Id>& keys) -> asio::awaitable<CacheResult<LoadedMap<Id, std::string>>> {
      try {
        co_return r->find_many(keys);
      } catch (const std::exception& e) {
        co_return std::unexpected(CacheError::loader(e.what()));
      }
    };
    auto built = LevelCacheBuilder<Id, std::string>()
                     .area(std::move(area))
                     .mode(CacheMode::Both)
                     .penetration_protect(false)
                     .local_ttl(60s)
                     .remote_ttl(120s)
                     .null_ttl(10s)
                     .loader_timeout(5s)
                     .broadcast_invalidation(broadcast)
                     .local(local::DefaultLocalBackend<std::string>(10'000))
                     .remote(backend())
                     .mloader_fn(std::move(single), std::move(batch))
                     .build();
    if (!built) throw std::runtime_error(built.error().to_string());
    return std::move(*built);
  }

  std::shared_ptr<UserRepository> repo;
  std::vector<Id> ids;
};

TEST_F(StackTest, ReadThroughServesTheCachedRowAfterTheDatabaseChanges) {
  reserve(91001, 3);
  repo->upsert(91001, "alice-v1");
  repo->upsert(91002, "bob-v1");
  auto cache = build("stack-user");

  EXPECT_EQ(io.run(cache.get(91001)).value(), "alice-v1");
  EXPECT_EQ(repo->loads, 1);
  repo->upsert(91001, "alice-v2");
  EXPECT_EQ(io.run(cache.get(91001)).value(), "alice-v1") << "served from the cache, not the database";
  EXPECT_EQ(repo->loads, 1);

  std::vector<Id> keys{91001, 91002, 91003};
  auto all = io.run(cache.mget(keys)).value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[91001], "alice-v1");
  EXPECT_EQ(all[91002], "bob-v1");
  EXPECT_EQ(all[91003], std::nullopt);
  EXPECT_EQ(repo->mloads, 1);

  const auto points = cache.otel_metric_points();
  ASSERT_FALSE(points.empty());
  for (const auto& p : points) {
    const auto area = std::find_if(p.attributes.begin(), p.attributes.end(), [](const auto& kv) { return kv.first == "area"; });
    ASSERT_NE(area, p.attributes.end()) << p.name;
    EXPECT_EQ(area->second, "stack-user") << p.name;
  }

  ASSERT_TRUE(io.run(cache.del(91001)));
  EXPECT_EQ(io.run(cache.get(91001, ReadOptions{.disable_load = true})).value(), std::nullopt);
  EXPECT_EQ(io.run(cache.get(91001)).value(), "alice-v2") << "after del the next read goes to the database";
  EXPECT_EQ(repo->loads, 2);
}

TEST_F(StackTest, MissingRowIsNegativeCachedInBothLevels) {
  reserve(92001, 1);
  auto cache = build("stack-negative");
  EXPECT_EQ(io.run(cache.get(92001)).value(), std::nullopt);
  EXPECT_EQ(repo->loads, 1);
  EXPECT_EQ(io.run(cache.get(92001)).value(), std::nullopt);
  EXPECT_EQ(repo->loads, 1) << "a cached not-found is a hit";

  // A second instance (own L1, same Redis prefix) finds the not-found marker in L2.
  auto other = build("stack-negative");
  EXPECT_EQ(io.run(other.get(92001)).value(), std::nullopt);
  EXPECT_EQ(repo->loads, 1) << "the null marker is shared through Redis";
  EXPECT_GE(other.metrics_snapshot().remote_hit, 1u);

  // The row appears; the marker holds until it is invalidated (or null_ttl passes).
  repo->upsert(92001, "carol");
  EXPECT_EQ(io.run(cache.get(92001)).value(), std::nullopt);
  ASSERT_TRUE(io.run(cache.del(92001)));
  EXPECT_EQ(io.run(cache.get(92001)).value(), "carol");
  EXPECT_EQ(repo->loads, 2);
}

TEST_F(StackTest, WriteThroughThenInvalidate) {
  reserve(93001, 1);
  repo->upsert(93001, "dave-v1");
  auto cache = build("stack-write");
  EXPECT_EQ(io.run(cache.get(93001)).value(), "dave-v1");
  ASSERT_EQ(repo->loads, 1);

  // The service updates the row, then writes the new value through both levels.
  repo->upsert(93001, "dave-v2");
  ASSERT_TRUE(io.run(cache.set(93001, std::string("dave-v2"))));
  EXPECT_EQ(io.run(cache.get(93001)).value(), "dave-v2");
  auto fresh = build("stack-write");
  EXPECT_EQ(io.run(fresh.get(93001, ReadOptions{.disable_load = true})).value(), "dave-v2") << "L2 holds the new value";
  EXPECT_EQ(repo->loads, 1) << "no database read after the write-through";

  // Invalidate: both levels drop it; the next load reads the database.
  repo->upsert(93001, "dave-v3");
  ASSERT_TRUE(io.run(cache.del(93001)));
  EXPECT_EQ(io.run(cache.get(93001, ReadOptions{.disable_load = true})).value(), std::nullopt);
  auto after = build("stack-write");
  EXPECT_EQ(io.run(after.get(93001, ReadOptions{.disable_load = true})).value(), std::nullopt) << "gone from L2 too";
  EXPECT_EQ(io.run(cache.get(93001)).value(), "dave-v3");
  EXPECT_EQ(repo->loads, 2);
}

TEST_F(StackTest, BatchLoadsOnlyThePartialMissesInOneQuery) {
  reserve(94001, 4);
  repo->upsert(94001, "erin");
  repo->upsert(94002, "frank");
  repo->upsert(94003, "grace");
  auto cache = build("stack-batch");
  EXPECT_EQ(io.run(cache.get(94001)).value(), "erin");  // cached beforehand

  std::vector<Id> keys{94001, 94002, 94003, 94004, 94002};
  auto first = io.run(cache.mget(keys)).value();
  ASSERT_EQ(first.size(), 4u) << "one entry per distinct key";
  EXPECT_EQ(first[94001], "erin");
  EXPECT_EQ(first[94002], "frank");
  EXPECT_EQ(first[94003], "grace");
  EXPECT_EQ(first[94004], std::nullopt);
  ASSERT_EQ(repo->mloads, 1);
  auto asked = repo->batches().at(0);
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<Id>{94002, 94003, 94004})) << "only the misses, once each";

  auto second = io.run(cache.mget(keys)).value();
  EXPECT_EQ(second, first);
  EXPECT_EQ(repo->mloads, 1) << "the second mget is all hits (94004 as a cached not-found)";
  EXPECT_EQ(repo->loads, 1);
}

TEST_F(StackTest, UpdateInTheDatabaseInvalidatesTheOtherInstance) {
  reserve(95001, 1);
  repo->upsert(95001, "heidi-v1");
  auto a = build("stack-cross", true);
  auto b = build("stack-cross", true);
  auto listening = [](const auto& cache) { return cache.diagnostic_snapshot().invalidation_listener_active; };
  ASSERT_TRUE(eventually([&] { return listening(a) && listening(b); }));

  EXPECT_EQ(io.run(a.get(95001)).value(), "heidi-v1");
  EXPECT_EQ(io.run(b.get(95001)).value(), "heidi-v1");
  EXPECT_EQ(repo->loads, 1) << "B found it in L2";
  ASSERT_TRUE(b.peek(95001)) << "B's L1 holds it";

  // Instance A's service updates the row and invalidates the key.
  repo->upsert(95001, "heidi-v2");
  ASSERT_TRUE(io.run(a.del(95001)));
  ASSERT_TRUE(eventually([&] { return b.metrics_snapshot().invalidation_receive >= 1; }, 5s));
  EXPECT_FALSE(b.peek(95001)) << "B dropped its L1 copy";
  EXPECT_EQ(io.run(b.get(95001)).value(), "heidi-v2") << "B reads the updated row";
  EXPECT_EQ(io.run(a.get(95001)).value(), "heidi-v2");
  EXPECT_EQ(repo->loads, 2) << "one database read after the update; A found B's load in L2";
}

}  // namespace
}  // namespace accelerator::testing
