// The Redis L2 on a real 3-master Redis Cluster (issue 7): keys on every master through the
// backend and through LevelCache, batches split per node, a live slot migration under reads, a
// killed master, and cross-instance invalidation (including the subscriber moving off a dead
// node). Every test starts its own cluster (support/redis_cluster.hpp).
// gcc 12 at -O3 reports a false -Wmaybe-uninitialized inside asio::co_spawn for
// std::expected<std::optional<std::string>, CacheError> (a known gcc 12 false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/detached.hpp>
#include <filesystem>
#include <mutex>

#include "support/redis_cluster_fixture.hpp"
#include "support/test_certificates.hpp"

namespace accelerator::testing {
namespace {

using namespace std::chrono_literals;
using Key = std::uint64_t;
using Value = std::optional<std::string>;
using Reply = remote::RedisReply;

class ClusterTest : public RedisClusterTest {
 protected:
  std::shared_ptr<std::atomic<int>> loads = std::make_shared<std::atomic<int>>(0);

  auto builder(remote::RedisBackend redis, CacheMode mode = CacheMode::Both, std::string area = "user") {
    return user_cache_builder(std::move(redis), mode, std::move(area));
  }
  auto loader() const { return counting_user_loader(loads); }

  // How many keys node n holds (DBSIZE on a plain connection to it).
  long long dbsize(std::size_t n) {
    auto b = node_backend(n);
    return raw(b, {"DBSIZE"}).integer;
  }

  // The nodes (indexes) where `channel` has at least one subscriber (PUBSUB NUMSUB is per node).
  std::vector<std::size_t> subscribed_nodes(const std::string& channel) {
    std::vector<std::size_t> out;
    for (std::size_t n = 0; n < cluster_->size(); ++n) {
      if (!cluster_->running(n)) continue;
      auto b = node_backend(n);
      auto r = raw(b, {"PUBSUB", "NUMSUB", channel});
      if (r.type == Reply::Type::Array && r.elements.size() == 2 && r.elements[1].integer > 0) out.push_back(n);
    }
    return out;
  }

  static std::vector<Key> flatten(const std::vector<std::vector<Key>>& per_node) {
    std::vector<Key> out;
    for (const auto& v : per_node) out.insert(out.end(), v.begin(), v.end());
    return out;
  }
};

TEST_F(ClusterTest, BackendSpreadsKeysOverAllMastersAndMergesBatchesInOrder) {
  auto redis = backend();
  EXPECT_TRUE(redis.options().cluster) << "a redis-cluster:// URL selects cluster mode";
  std::vector<std::string> keys;
  std::vector<int> per_node(cluster_->size(), 0);
  for (int i = 0; i < 60; ++i) {
    keys.push_back("k" + std::to_string(i));
    ++per_node[node_of(redis.redis_key(keys.back()))];
  }
  for (std::size_t n = 0; n < per_node.size(); ++n) ASSERT_GE(per_node[n], 5) << "node " << n << " gets keys";

  // Single-key commands reach the owner of each key.
  for (std::size_t i = 0; i < 3; ++i) {
    {
      auto r = io.run(redis.set(keys[i], "single-" + keys[i], 60s));
      ASSERT_TRUE(r) << r.error().to_string();
    }
    EXPECT_EQ(io.run(redis.get(keys[i])).value(), "single-" + keys[i]);
    ASSERT_TRUE(io.run(redis.del(keys[i])));
    EXPECT_EQ(io.run(redis.get(keys[i])).value(), std::nullopt);
  }

  // mset: every node holds exactly its own keys afterwards.
  std::vector<RemoteWrite> writes;
  for (const auto& k : keys) writes.push_back(RemoteWrite{k, "v-" + k, 60s});
  ASSERT_TRUE(io.run(redis.mset(writes)));
  for (std::size_t n = 0; n < cluster_->size(); ++n) EXPECT_EQ(dbsize(n), per_node[n]) << "node " << n;
  auto ttl = raw(redis, {"PTTL", redis.redis_key(keys[7])});
  EXPECT_GT(ttl.integer, 50'000) << "SET ... PX went to the key's node";

  // mget: one entry per requested key in request order, misses and duplicates included.
  std::vector<std::string> request(keys.rbegin(), keys.rend());
  request.push_back("missing");
  request.push_back(keys[0]);
  auto got = io.run(redis.mget(request)).value();
  ASSERT_EQ(got.size(), request.size());
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(got[i], "v-" + request[i]) << i;
  EXPECT_EQ(got[keys.size()], std::nullopt);
  EXPECT_EQ(got[keys.size() + 1], "v-k0");

  // mdel of the first half: the second half stays.
  std::vector<std::string> first_half(keys.begin(), keys.begin() + 30);
  ASSERT_TRUE(io.run(redis.mdel(first_half)));
  got = io.run(redis.mget(keys)).value();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i < 30) {
      EXPECT_EQ(got[i], std::nullopt) << i;
    } else {
      EXPECT_EQ(got[i], "v-" + keys[i]) << i;
    }
  }
  long long total = 0;
  for (std::size_t n = 0; n < cluster_->size(); ++n) total += dbsize(n);
  EXPECT_EQ(total, 30);

  // Keys sharing a hash tag share a slot, hence a node.
  std::vector<RemoteWrite> tagged{{"{t}.a", "A", 60s}, {"{t}.b", "B", 60s}};
  ASSERT_TRUE(io.run(redis.mset(tagged)));
  EXPECT_EQ(node_of(redis.redis_key("{t}.a")), node_of(redis.redis_key("{t}.b")));
  std::vector<std::string> tagged_keys{"{t}.b", "{t}.a"};
  auto tagged_got = io.run(redis.mget(tagged_keys)).value();
  EXPECT_EQ(tagged_got, (std::vector<std::optional<std::string>>{"B", "A"}));

  const auto h = redis.health();
  EXPECT_TRUE(h.connected);
  EXPECT_EQ(h.circuit, "closed");
}

// A user that may not run CLUSTER SLOTS (managed Redis services restrict it) never gets a slot
// map: every command first goes to a seed and the MOVED replies teach the client where each slot
// lives. (A MOVED that arrived before the first map used to send the retries back to the first
// seed until the redirect limit: the commands for the other nodes failed.)
TEST_F(ClusterTest, WithoutClusterSlotsPermissionMovedRepliesRouteEveryCommand) {
  for (std::size_t n = 0; n < cluster_->size(); ++n) {
    auto admin = node_backend(n);
    auto made = raw(admin, {"ACL", "SETUSER", "noslots", "on", ">slots-pw", "~*", "&*", "+@all", "-cluster"});
    ASSERT_EQ(made.str, "OK") << "node " << n;
  }
  auto o = options();
  const std::string scheme = "redis-cluster://";
  ASSERT_EQ(o.url.rfind(scheme, 0), 0u) << o.url;
  o.url.insert(scheme.size(), "noslots:slots-pw@");
  auto redis = backend(o);
  auto refused = raw(redis, {"CLUSTER", "SLOTS"});
  ASSERT_TRUE(refused.is_error()) << "the user must not read the slot map";

  std::vector<std::string> keys;
  std::vector<int> per_node(cluster_->size(), 0);
  for (int i = 0; i < 30; ++i) {
    keys.push_back("m" + std::to_string(i));
    ++per_node[node_of(redis.redis_key(keys.back()))];
  }
  for (std::size_t n = 0; n < per_node.size(); ++n) ASSERT_GE(per_node[n], 2) << "node " << n << " gets keys";
  for (std::size_t i = 0; i < 10; ++i) {
    auto r = io.run(redis.set(keys[i], "single-" + keys[i], 60s));
    ASSERT_TRUE(r) << keys[i] << ": " << r.error().to_string();
  }
  std::vector<RemoteWrite> writes;
  for (std::size_t i = 10; i < keys.size(); ++i) writes.push_back(RemoteWrite{keys[i], "batch-" + keys[i], 60s});
  {
    auto r = io.run(redis.mset(writes));
    ASSERT_TRUE(r) << r.error().to_string();
  }
  auto got = io.run(redis.mget(keys));
  ASSERT_TRUE(got) << got.error().to_string();
  ASSERT_EQ(got->size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*got)[i], (i < 10 ? "single-" : "batch-") + keys[i]) << keys[i];
  }
  for (std::size_t n = 0; n < cluster_->size(); ++n) EXPECT_EQ(dbsize(n), per_node[n]) << "node " << n;
}

TEST_F(ClusterTest, LevelCacheRemoteAndBothModesOnAllMasters) {
  for (CacheMode mode : {CacheMode::Remote, CacheMode::Both}) {
    SCOPED_TRACE(mode == CacheMode::Remote ? "Remote" : "Both");
    const std::string area = mode == CacheMode::Remote ? "r" : "b";
    *loads = 0;
    auto redis = backend();
    const auto per_node = ids_per_node(redis, area, 4);
    const auto ids = flatten(per_node);
    ASSERT_EQ(ids.size(), 12u);
    auto mloads = std::make_shared<std::atomic<int>>(0);
    auto cache =
        builder(redis, mode, area)
            .mloader_fn(
                loader(),
                [mloads](const std::vector<Key>& keys) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                  ++*mloads;
                  LoadedMap<Key, std::string> out;
                  for (Key k : keys) {
                    if (k < 1000) out[k] = "user-" + std::to_string(k);
                  }
                  co_return out;
                })
            .build()
            .value();

    // get: loads once per key, then serves from L2 (Remote) or L1 (Both).
    for (Key id : ids) EXPECT_EQ(io.run(cache.get(id)).value(), "user-" + std::to_string(id));
    EXPECT_EQ(*loads, 12);
    for (Key id : ids) EXPECT_EQ(io.run(cache.get(id)).value(), "user-" + std::to_string(id));
    EXPECT_EQ(*loads, 12);
    auto m = cache.metrics_snapshot();
    if (mode == CacheMode::Remote) {
      EXPECT_EQ(m.remote_hit, 12u);
    } else {
      EXPECT_EQ(m.local_hit, 12u);
    }
    EXPECT_EQ(m.remote_errors, 0u) << redis.health().last_error;
    // Each node holds its own keys: a plain GET on that node answers (another node would MOVE).
    for (std::size_t n = 0; n < per_node.size(); ++n) {
      auto node = node_backend(n);
      for (Key id : per_node[n]) {
        auto stored = raw(node, {"GET", redis.redis_key(area + ":" + std::to_string(id))});
        EXPECT_EQ(stored.type, Reply::Type::String) << "node " << n << " id " << id << ": " << stored.str;
      }
    }

    // set / mset on every node, read back through a second instance (L2 only).
    ASSERT_TRUE(io.run(cache.set(per_node[0][0], "s0")));
    ASSERT_TRUE(io.run(cache.set(per_node[1][0], "s1")));
    ASSERT_TRUE(io.run(cache.set(per_node[2][0], "s2")));
    std::vector<std::pair<Key, Value>> entries;
    for (const auto& v : per_node) entries.emplace_back(v[1], "m-" + std::to_string(v[1]));
    ASSERT_TRUE(io.run(cache.mset(entries)));
    auto reader = builder(backend(), mode, area).build().value();
    std::vector<Key> request = ids;
    request.push_back(5000);  // absent
    auto got = io.run(reader.mget(request, ReadOptions{.disable_load = true})).value();
    ASSERT_EQ(got.size(), request.size());
    EXPECT_EQ(got[per_node[0][0]], "s0");
    EXPECT_EQ(got[per_node[1][0]], "s1");
    EXPECT_EQ(got[per_node[2][0]], "s2");
    for (const auto& v : per_node) {
      EXPECT_EQ(got[v[1]], "m-" + std::to_string(v[1]));
      EXPECT_EQ(got[v[2]], "user-" + std::to_string(v[2]));
    }
    EXPECT_EQ(got[5000], std::nullopt);
    EXPECT_EQ(reader.metrics_snapshot().remote_hit, 12u) << "one L2 read per present key";

    // mget through the loading instance: all from L2/L1, no loader call.
    const int mloads_before = *mloads;
    auto again = io.run(cache.mget(ids)).value();
    EXPECT_EQ(again.size(), ids.size());
    EXPECT_EQ(*mloads, mloads_before);

    // del on one key per node, mdel on the rest: gone from L2 on every node.
    for (const auto& v : per_node) ASSERT_TRUE(io.run(cache.del(v[0])));
    std::vector<Key> rest;
    for (const auto& v : per_node) rest.insert(rest.end(), v.begin() + 1, v.end());
    ASSERT_TRUE(io.run(cache.mdel(rest)));
    auto fresh = builder(backend(), mode, area).build().value();
    auto after = io.run(fresh.mget(ids, ReadOptions{.disable_load = true})).value();
    for (Key id : ids) {
      EXPECT_EQ(after[id], std::nullopt) << id;
      auto raw_get = raw(redis, {"GET", redis.redis_key(area + ":" + std::to_string(id))});
      EXPECT_TRUE(raw_get.is_nil()) << id;
    }
  }
}

TEST_F(ClusterTest, LiveSlotMigrationUnderReadsGivesNoErrorsAndNoWrongValues) {
  auto redis = backend();
  // 40 keys in one slot (hash tag), so the whole migration happens under the readers' feet.
  constexpr int kKeys = 40;
  std::vector<std::string> keys;
  std::vector<RemoteWrite> writes;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back("{mig}:" + std::to_string(i));
    writes.push_back(RemoteWrite{keys.back(), "v" + std::to_string(i), 120s});
  }
  auto written = io.run(redis.mset(writes));
  ASSERT_TRUE(written) << written.error().to_string();
  const auto slot = remote::detail::key_slot(redis.redis_key(keys[0]));
  const std::size_t src = owners_[slot];
  const std::size_t dst = (src + 1) % cluster_->size();
  const std::string src_id = cluster_->node_id(src);
  const std::string dst_id = cluster_->node_id(dst);
  ASSERT_FALSE(src_id.empty());
  ASSERT_FALSE(dst_id.empty());

  struct Shared {
    std::atomic<bool> stop{false};
    std::atomic<int> running{0};
    std::atomic<std::uint64_t> reads{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> wrong{0};
    std::mutex mutex;
    std::string first_problem;
    void problem(std::string text) {
      std::lock_guard lock(mutex);
      if (first_problem.empty()) first_problem = std::move(text);
    }
  };
  auto shared = std::make_shared<Shared>();
  auto reader = [shared, &redis, &keys](int seed) -> asio::awaitable<void> {
    for (std::uint64_t n = static_cast<std::uint64_t>(seed); !shared->stop; ++n) {
      const std::size_t i = (n * 7) % keys.size();
      if (n % 4 == 0) {
        std::vector<std::string> batch;
        for (std::size_t j = 0; j < 6; ++j) batch.push_back(keys[(i + j) % keys.size()]);
        auto r = co_await redis.mget(batch);
        if (!r) {
          ++shared->errors;
          shared->problem("mget: " + r.error().to_string());
        } else {
          for (std::size_t j = 0; j < batch.size(); ++j) {
            if ((*r)[j] != "v" + std::to_string((i + j) % keys.size())) {
              ++shared->wrong;
              shared->problem("mget " + batch[j] + " = " + (*r)[j].value_or("<nil>"));
            }
          }
        }
      } else {
        auto r = co_await redis.get(keys[i]);
        if (!r) {
          ++shared->errors;
          shared->problem("get: " + r.error().to_string());
        } else if (*r != "v" + std::to_string(i)) {
          ++shared->wrong;
          shared->problem("get " + keys[i] + " = " + r->value_or("<nil>"));
        }
      }
      ++shared->reads;
    }
    --shared->running;
  };
  for (int r = 0; r < 4; ++r) {
    ++shared->running;
    asio::co_spawn(io.executor(), reader(r), asio::detached);
  }
  ASSERT_TRUE(eventually([&] { return shared->reads > 100; }, 10s));

  auto to = node_backend(dst);
  auto from = node_backend(src);
  const std::string slot_text = std::to_string(slot);
  ASSERT_EQ(raw(to, {"CLUSTER", "SETSLOT", slot_text, "IMPORTING", src_id}).str, "OK");
  ASSERT_EQ(raw(from, {"CLUSTER", "SETSLOT", slot_text, "MIGRATING", dst_id}).str, "OK");
  // Move the keys a few at a time, letting the readers run between batches, so reads meet the
  // slot split between the two nodes (ASK) and then owned by the target (MOVED).
  std::uint64_t reads_during = 0;
  for (;;) {
    auto batch = raw(from, {"CLUSTER", "GETKEYSINSLOT", slot_text, "5"});
    ASSERT_EQ(batch.type, Reply::Type::Array);
    if (batch.elements.empty()) break;
    std::vector<std::string> migrate{"MIGRATE", "127.0.0.1", std::to_string(cluster_->port(dst)), "", "0", "5000"};
    migrate.push_back("KEYS");
    for (const auto& e : batch.elements) migrate.push_back(e.str);
    ASSERT_EQ(raw(from, migrate).str, "OK");
    const auto before = shared->reads.load();
    ASSERT_TRUE(eventually([&] { return shared->reads > before + 20; }, 10s));
    reads_during += shared->reads - before;
  }
  for (std::size_t n = 0; n < cluster_->size(); ++n) {
    auto admin = node_backend(n);
    ASSERT_EQ(raw(admin, {"CLUSTER", "SETSLOT", slot_text, "NODE", dst_id}).str, "OK") << "node " << n;
  }
  // Reads continue after the hand-over (MOVED teaches the client the new owner).
  const auto after_handover = shared->reads.load();
  ASSERT_TRUE(eventually([&] { return shared->reads > after_handover + 200; }, 10s));
  shared->stop = true;
  ASSERT_TRUE(eventually([&] { return shared->running == 0; }, 10s));

  EXPECT_EQ(shared->errors, 0u) << shared->first_problem;
  EXPECT_EQ(shared->wrong, 0u) << shared->first_problem;
  EXPECT_GE(reads_during, 160u) << "reads ran while the slot was split";
  EXPECT_EQ(raw(to, {"CLUSTER", "COUNTKEYSINSLOT", slot_text}).integer, kKeys);
  EXPECT_EQ(raw(from, {"CLUSTER", "COUNTKEYSINSLOT", slot_text}).integer, 0);
  // A fresh client (map from CLUSTER SLOTS) reads every key from the new owner.
  auto fresh = backend();
  auto all = io.run(fresh.mget(keys)).value();
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], "v" + std::to_string(i));
}

TEST_F(ClusterTest, KilledMasterFailsFastItsKeysFallBackOthersKeepWorking) {
  auto o = options();
  o.command_timeout = 500ms;
  o.connect_timeout = 500ms;
  auto redis = backend(o);
  const auto per_node = ids_per_node(redis, "user", 3);
  const auto ids = flatten(per_node);
  auto cache = builder(redis, CacheMode::Remote).loader_fn(loader()).build().value();
  std::vector<std::pair<Key, Value>> entries;
  for (Key id : ids) entries.emplace_back(id, "user-" + std::to_string(id));
  ASSERT_TRUE(io.run(cache.mset(entries)));

  const std::size_t victim = 2;
  cluster_->kill(victim);
  const std::string victim_key = "user:" + std::to_string(per_node[victim][0]);

  // The victim's keys: every call ends with an error, bounded by command_timeout; once the
  // node's breaker opens, at once.
  for (int i = 0; i < 8; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = io.run(redis.get(victim_key));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_FALSE(r) << "call " << i;
    EXPECT_LT(took, 1500ms) << "call " << i;
  }
  EXPECT_NE(redis.health().circuit, "closed") << "the dead node's breaker tripped";
  {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(io.run(redis.get(victim_key)));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms) << "an open circuit refuses at once";
  }

  // The other masters' keys keep working, straight from L2.
  for (std::size_t n = 0; n < victim; ++n) {
    for (Key id : per_node[n]) {
      auto r = io.run(redis.get("user:" + std::to_string(id)));
      ASSERT_TRUE(r) << r.error().to_string();
      EXPECT_TRUE(r->has_value()) << id;
    }
  }
  const int loads_before = *loads;
  for (std::size_t n = 0; n < victim; ++n) {
    for (Key id : per_node[n]) EXPECT_EQ(io.run(cache.get(id)).value(), "user-" + std::to_string(id));
  }
  EXPECT_EQ(*loads, loads_before) << "live masters' keys come from L2";

  // Through the cache the victim's keys fall back to the loader (fail-open).
  const auto errors_before = cache.metrics_snapshot().remote_errors;
  for (Key id : per_node[victim]) EXPECT_EQ(io.run(cache.get(id)).value(), "user-" + std::to_string(id));
  EXPECT_EQ(*loads, loads_before + 3);
  EXPECT_GE(cache.metrics_snapshot().remote_errors, errors_before + 3);
  // A batch touching every node still answers every key (values from L2 or the loader).
  auto all = io.run(cache.mget(ids)).value();
  ASSERT_EQ(all.size(), ids.size());
  for (Key id : ids) EXPECT_EQ(all[id], "user-" + std::to_string(id)) << id;
  // Writes to live masters work.
  ASSERT_TRUE(io.run(redis.set("user:" + std::to_string(per_node[0][0]), "fresh", 60s)));
  EXPECT_EQ(io.run(redis.get("user:" + std::to_string(per_node[0][0]))).value(), "fresh");
}

TEST_F(ClusterTest, PublishOnAnyNodeReachesASubscriberOnAnother) {
  auto redis = backend();
  const std::string channel = redis.channel_for("pubsub-" + prefix_);
  struct Received {
    std::mutex mutex;
    std::vector<std::string> messages;
    std::atomic<int> gaps{0};
  };
  auto received = std::make_shared<Received>();
  InvalidationHandlers handlers;
  handlers.on_message = [received](std::string_view payload) {
    std::lock_guard lock(received->mutex);
    received->messages.emplace_back(payload);
  };
  handlers.on_gap = [received] { ++received->gaps; };
  auto subscription = redis.subscribe(channel, handlers).value();
  ASSERT_TRUE(eventually([&] { return subscription->active(); }, 10s));
  EXPECT_EQ(received->gaps, 1) << "on_gap runs on the first confirmed subscription";
  const auto where = subscribed_nodes(channel);
  ASSERT_EQ(where.size(), 1u) << "one subscriber connection, on one node";
  // Publish through a plain connection to each node in turn: all reach the one subscriber.
  for (std::size_t n = 0; n < cluster_->size(); ++n) {
    auto node = node_backend(n);
    raw(node, {"PUBLISH", channel, "from-" + std::to_string(n)});
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(received->mutex);
    return received->messages.size() == 3;
  }));
  {
    // Redis orders messages per publishing node only: one published on the subscriber's own
    // node can overtake an earlier one still crossing the cluster bus.
    std::lock_guard lock(received->mutex);
    auto got = received->messages;
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"from-0", "from-1", "from-2"}));
  }
  // The backend's own publish (to any node) arrives too.
  ASSERT_TRUE(io.run(redis.publish(channel, "via-backend")));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(received->mutex);
    return received->messages.size() == 4 && received->messages.back() == "via-backend";
  }));
  subscription->stop();
}

TEST_F(ClusterTest, DelOnOneInstanceEvictsTheOtherInstancesL1OnEveryNode) {
  auto a = builder(backend()).broadcast_invalidation(true).build().value();
  auto b = builder(backend()).broadcast_invalidation(true).build().value();
  ASSERT_TRUE(eventually([&] { return listening(a) && listening(b); }, 10s));
  auto probe = backend();
  const auto per_node = ids_per_node(probe, "user", 2);
  const auto ids = flatten(per_node);

  std::vector<std::pair<Key, Value>> entries;
  for (Key id : ids) entries.emplace_back(id, "v1-" + std::to_string(id));
  ASSERT_TRUE(io.run(a.mset(entries)));
  // B fills its L1 from L2 once A's invalidations for the mset have passed.
  ASSERT_TRUE(eventually([&] { return b.metrics_snapshot().invalidation_receive >= 1; }, 10s));
  for (Key id : ids) {
    ASSERT_TRUE(eventually(
        [&] {
          auto v = io.run(b.get(id, ReadOptions{.disable_load = true}));
          return v && *v == "v1-" + std::to_string(id) && b.peek(id).has_value();
        },
        10s))
        << id;
  }

  // del of one key per node on A: B drops exactly those.
  for (const auto& v : per_node) ASSERT_TRUE(io.run(a.del(v[0])));
  for (const auto& v : per_node) {
    ASSERT_TRUE(eventually([&] { return !b.peek(v[0]).has_value(); }, 10s)) << v[0];
    EXPECT_TRUE(b.peek(v[1]).has_value()) << v[1] << " was not deleted";
    EXPECT_EQ(io.run(b.get(v[0], ReadOptions{.disable_load = true})).value(), std::nullopt);
  }
  // mdel of the rest on A: B drops them all.
  std::vector<Key> rest;
  for (const auto& v : per_node) rest.push_back(v[1]);
  ASSERT_TRUE(io.run(a.mdel(rest)));
  for (Key id : rest) ASSERT_TRUE(eventually([&] { return !b.peek(id).has_value(); }, 10s)) << id;
  EXPECT_EQ(b.metrics_snapshot().remote_errors, 0u);
}

TEST_F(ClusterTest, SubscriberMovesOffADeadNodeAndClearsL1) {
  auto cache = builder(backend()).broadcast_invalidation(true).build().value();
  ASSERT_TRUE(eventually([&] { return listening(cache); }, 10s));
  const std::string channel = cache.diagnostic_snapshot().invalidation_channel.value_or("");
  ASSERT_FALSE(channel.empty());
  const auto where = subscribed_nodes(channel);
  ASSERT_EQ(where.size(), 1u);
  const std::size_t victim = where.front();

  auto probe = backend();
  const auto per_node = ids_per_node(probe, "user", 1);
  const std::size_t live = (victim + 1) % cluster_->size();
  const Key kept = per_node[live][0];
  ASSERT_TRUE(io.run(cache.set(kept, "before")));
  ASSERT_TRUE(cache.peek(kept));
  const auto gaps_before = cache.metrics_snapshot().invalidation_gap_clears;

  cluster_->kill(victim);
  ASSERT_TRUE(eventually([&] { return cache.metrics_snapshot().invalidation_gap_clears > gaps_before; }, 15s))
      << "resubscribed elsewhere";
  EXPECT_FALSE(cache.peek(kept)) << "L1 cleared: messages may have been lost while moving";
  ASSERT_TRUE(eventually([&] { return listening(cache); }, 10s));
  const auto now_on = subscribed_nodes(channel);
  ASSERT_EQ(now_on.size(), 1u);
  EXPECT_NE(now_on.front(), victim);

  // Invalidation still flows: another instance's set evicts this one's L1 copy.
  auto other = builder(backend()).broadcast_invalidation(true).build().value();
  ASSERT_TRUE(eventually([&] { return listening(other); }, 10s));
  EXPECT_EQ(io.run(cache.get(kept)).value(), "before");
  ASSERT_TRUE(cache.peek(kept));
  const auto received_before = cache.metrics_snapshot().invalidation_receive;
  ASSERT_TRUE(io.run(other.set(kept, "after")));
  ASSERT_TRUE(eventually([&] { return cache.metrics_snapshot().invalidation_receive > received_before; }, 10s));
  EXPECT_FALSE(cache.peek(kept));
  EXPECT_EQ(io.run(cache.get(kept)).value(), "after");
}

class ClusterAuthTest : public ClusterTest {
 protected:
  RedisClusterOptions cluster_options() const override {
    RedisClusterOptions o;
    o.password = "cluster-secret";
    return o;
  }
};

TEST_F(ClusterAuthTest, CredentialsApplyToEveryNode) {
  auto redis = backend();
  std::vector<RemoteWrite> writes;
  std::vector<std::string> keys;
  std::vector<int> per_node(cluster_->size(), 0);
  for (int i = 0; i < 30; ++i) {
    keys.push_back("a" + std::to_string(i));
    writes.push_back(RemoteWrite{keys.back(), "x" + std::to_string(i), 60s});
    ++per_node[node_of(redis.redis_key(keys.back()))];
  }
  for (int n : per_node) ASSERT_GT(n, 0);
  {
    auto written = io.run(redis.mset(writes));
    ASSERT_TRUE(written) << written.error().to_string();
  }
  auto got = io.run(redis.mget(keys)).value();
  for (int i = 0; i < 30; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], "x" + std::to_string(i));
  for (std::size_t n = 0; n < cluster_->size(); ++n) EXPECT_EQ(dbsize(n), per_node[n]);

  // Without the password every node refuses: calls fail, nothing is written.
  auto o = options();
  o.url = "redis-cluster://127.0.0.1:" + std::to_string(cluster_->port(0));
  o.connect_timeout = 300ms;
  o.command_timeout = 300ms;
  auto anonymous = backend(o);
  auto r = io.run(anonymous.get(keys[0]));
  EXPECT_FALSE(r);
}

// Selecting cluster mode needs no server: create() validates and connects in the background.
TEST(ClusterConfig, ClusterModeIsSelectedByUrlOrOptionAndValidated) {
  IoThreads io(1);
  remote::RedisOptions o;
  o.url = "redis-cluster://127.0.0.1:1,127.0.0.1:2";
  auto by_url = remote::RedisBackend::create(io.executor(), o);
  ASSERT_TRUE(by_url) << by_url.error().to_string();
  EXPECT_TRUE(by_url->options().cluster);

  o.url = "redis://127.0.0.1:1,127.0.0.1:2";
  o.cluster = true;
  auto by_option = remote::RedisBackend::create(io.executor(), o);
  ASSERT_TRUE(by_option) << by_option.error().to_string();
  EXPECT_TRUE(by_option->options().cluster);

  o.cluster = false;
  EXPECT_EQ(remote::RedisBackend::create(io.executor(), o).error().kind(), ErrorKind::InvalidConfig)
      << "a seed list without cluster mode";
  o.url = "redis-cluster://127.0.0.1:1/3";
  EXPECT_EQ(remote::RedisBackend::create(io.executor(), o).error().kind(), ErrorKind::InvalidConfig)
      << "a cluster has only database 0";
  o.url = "redis-cluster://127.0.0.1:1,,127.0.0.1:2";
  EXPECT_EQ(remote::RedisBackend::create(io.executor(), o).error().kind(), ErrorKind::InvalidConfig);
  o.url = "redis-cluster://127.0.0.1:1";
  o.pool_size = 0;
  EXPECT_EQ(remote::RedisBackend::create(io.executor(), o).error().kind(), ErrorKind::InvalidConfig);

  // Nothing answers: calls fail (bounded), they do not hang.
  o.pool_size = 1;
  o.connect_timeout = std::chrono::milliseconds(200);
  o.command_timeout = std::chrono::milliseconds(200);
  auto dead = remote::RedisBackend::create(io.executor(), o).value();
  EXPECT_FALSE(io.run(dead.get("k")));
  std::vector<std::string> keys{"a", "b", "c"};
  EXPECT_FALSE(io.run(dead.mget(keys)));
  EXPECT_FALSE(dead.health().connected);
}

class ClusterTlsTest : public ClusterTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("accelerator-cluster-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    if (!make_test_certificates(dir_)) {
      if (std::getenv("CI") != nullptr) FAIL() << "openssl could not make the test certificates";
      GTEST_SKIP() << "openssl could not make the test certificates";
    }
    ClusterTest::SetUp();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // the nodes have read their files already
  }
  RedisClusterOptions cluster_options() const override {
    RedisClusterOptions o;
    o.tls = true;
    o.tls_cert_file = (dir_ / "server.crt").string();
    o.tls_key_file = (dir_ / "server.key").string();
    o.tls_ca_file = (dir_ / "ca.crt").string();
    return o;
  }
  remote::RedisOptions tls_options(const std::string& ca) const {
    auto o = options();
    o.tls.ca_file = (dir_ / ca).string();
    return o;
  }
  std::filesystem::path dir_;
};

TEST_F(ClusterTlsTest, TlsAppliesToEveryNodeAndToTheSubscriber) {
  ASSERT_TRUE(cluster_->url().starts_with("rediss-cluster://"));
  auto redis = backend(tls_options("ca.crt"));
  std::vector<RemoteWrite> writes;
  std::vector<std::string> keys;
  std::vector<int> per_node(cluster_->size(), 0);
  for (int i = 0; i < 30; ++i) {
    keys.push_back("t" + std::to_string(i));
    writes.push_back(RemoteWrite{keys.back(), "tls" + std::to_string(i), 60s});
    ++per_node[node_of(redis.redis_key(keys.back()))];
  }
  for (int n : per_node) ASSERT_GT(n, 0);
  ASSERT_TRUE(io.run(redis.mset(writes))) << redis.health().last_error;
  auto got = io.run(redis.mget(keys)).value();
  for (int i = 0; i < 30; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], "tls" + std::to_string(i));
  for (std::size_t n = 0; n < cluster_->size(); ++n) EXPECT_EQ(dbsize(n), per_node[n]) << "node " << n;

  // Invalidation over TLS between two instances.
  auto a = builder(backend(tls_options("ca.crt"))).broadcast_invalidation(true).build().value();
  auto b = builder(backend(tls_options("ca.crt"))).broadcast_invalidation(true).build().value();
  ASSERT_TRUE(eventually([&] { return listening(a) && listening(b); }, 10s));
  ASSERT_TRUE(io.run(a.set(7, "seven")));
  ASSERT_TRUE(eventually(
      [&] {
        auto v = io.run(b.get(7, ReadOptions{.disable_load = true}));
        return v && *v == "seven" && b.peek(7).has_value();
      },
      10s));
  ASSERT_TRUE(io.run(a.del(7)));
  EXPECT_TRUE(eventually([&] { return !b.peek(7).has_value(); }, 10s));

  // A client that does not trust the servers' CA gets nowhere.
  auto o = tls_options("other.crt");
  o.breaker_failure_threshold = 1000;
  auto untrusting = backend(o);
  EXPECT_FALSE(io.run(untrusting.get(keys[0])));
  EXPECT_NE(untrusting.health().last_error.find("TLS handshake failed"), std::string::npos)
      << untrusting.health().last_error;
}

}  // namespace
}  // namespace accelerator::testing
