// RedisBackend against a real redis-server: the RemoteBackend primitives, key prefixing, TTLs,
// health, Pub/Sub, and auto-pipelining under concurrency.
#include <gtest/gtest.h>

#include <asio/experimental/awaitable_operators.hpp>

#include "support/redis_fixture.hpp"

namespace accelerator::testing {
namespace {

using namespace std::chrono_literals;
using remote::RedisBackend;
using remote::RedisReply;

// (gcc 12 warns falsely on `"v" + std::to_string(i)` under -O3 -Wrestrict.)
std::string numbered(std::string_view stem, int i) {
  std::string s(stem);
  s += std::to_string(i);
  return s;
}

TEST(RedisUrl, BadUrlIsRejectedAsInvalidConfig) {
  IoThreads io(1);
  remote::RedisOptions o;
  o.url = "http://localhost:6379";
  auto b = RedisBackend::create(io.executor(), o);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind(), ErrorKind::InvalidConfig);
  EXPECT_NE(b.error().message().find("invalid redis URL"), std::string::npos) << b.error().message();
}

TEST_F(RedisTest, BackendRoundTripAndBatchOps) {
  auto b = backend();
  ASSERT_TRUE(io.run(b.set("a:1", "one", 60s)));
  ASSERT_TRUE(io.run(b.mset({{"a:2", "two", 60s}, {"a:3", std::string("\0null\xff", 6), 60s}})));
  EXPECT_EQ(io.run(b.get("a:1")).value(), "one");
  EXPECT_EQ(io.run(b.get("a:3")).value(), std::string("\0null\xff", 6)) << "binary safe";
  auto many = io.run(b.mget({"a:1", "a:2", "a:3", "a:4"})).value();
  ASSERT_EQ(many.size(), 4u);
  EXPECT_EQ(many[0], "one");
  EXPECT_EQ(many[1], "two");
  EXPECT_EQ(many[2], std::string("\0null\xff", 6));
  EXPECT_EQ(many[3], std::nullopt);
  ASSERT_TRUE(io.run(b.del("a:1")));
  ASSERT_TRUE(io.run(b.mdel({"a:2", "a:3", "a:missing"})));
  auto after = io.run(b.mget({"a:1", "a:2", "a:3"})).value();
  EXPECT_EQ(after, (std::vector<std::optional<std::string>>{std::nullopt, std::nullopt, std::nullopt}));
}

TEST_F(RedisTest, KeysCarryThePrefixAndTtlIsMilliseconds) {
  auto b = backend();
  ASSERT_TRUE(io.run(b.set("user:7", "x", 5000ms)));
  const std::string stored = b.redis_key("user:7");
  EXPECT_EQ(stored, prefix_ + ":user:7");
  auto pttl = raw(b, {"PTTL", stored});
  ASSERT_EQ(pttl.type, RedisReply::Type::Integer);
  EXPECT_GT(pttl.integer, 4000);
  EXPECT_LE(pttl.integer, 5000);
  auto exists = raw(b, {"EXISTS", "user:7"});
  EXPECT_EQ(exists.integer, 0) << "nothing is written without the prefix";
}

TEST_F(RedisTest, PrefixIsEscapedSoItCannotCollide) {
  auto o = options();
  o.key_prefix = "p:q";
  auto b = backend(o);
  EXPECT_EQ(b.redis_key("k"), "p\\:q:k");
  EXPECT_EQ(b.channel_for("user"), "accelerator:invalidation:p\\:q:user");
}

TEST_F(RedisTest, ErrorReplyIsABackendErrorNamingTheCommand) {
  auto b = backend();
  raw(b, {"LPUSH", b.redis_key("list"), "x"});
  auto r = io.run(b.get("list"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Backend);
  EXPECT_NE(r.error().message().find("redis GET failed: WRONGTYPE"), std::string::npos) << r.error().message();
  EXPECT_EQ(b.health().circuit, "closed") << "an error reply is not a transport failure";
}

TEST_F(RedisTest, ConcurrentCallsArePipelinedAndMatchedInOrder) {
  auto o = options();
  o.pool_size = 1;
  auto b = backend(o);
  constexpr int kKeys = 200;
  for (int i = 0; i < kKeys; i += 50) {
    std::vector<RemoteWrite> writes;
    for (int j = i; j < i + 50; ++j) writes.push_back({numbered("k", j), numbered("v", j), 60s});
    ASSERT_TRUE(io.run(b.mset(writes)));
  }
  std::atomic<int> wrong{0}, errors{0}, done{0};
  constexpr int kWorkers = 40, kPerWorker = 250;
  for (int w = 0; w < kWorkers; ++w) {
    asio::co_spawn(
        io.executor(),
        [&, w]() -> asio::awaitable<void> {
          for (int i = 0; i < kPerWorker; ++i) {
            const int k = (w * 7 + i * 13) % kKeys;
            auto r = co_await b.get(numbered("k", k));
            if (!r) {
              ++errors;
            } else if (*r != numbered("v", k)) {
              ++wrong;
            }
          }
          ++done;
        },
        asio::detached);
  }
  ASSERT_TRUE(eventually([&] { return done == kWorkers; }, 20s));
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(RedisTest, PubSubDeliversAndReportsTheFirstConfirmationAsAGap) {
  auto b = backend();
  std::mutex m;
  std::vector<std::string> got;
  std::atomic<int> gaps{0};
  InvalidationHandlers h;
  h.on_message = [&](std::string_view p) {
    std::lock_guard lock(m);
    got.emplace_back(p);
  };
  h.on_gap = [&] { ++gaps; };
  auto sub = b.subscribe(b.channel_for("pubsub"), h).value();
  ASSERT_TRUE(eventually([&] { return sub->active(); }));
  EXPECT_EQ(gaps.load(), 1);
  ASSERT_TRUE(io.run(b.publish(b.channel_for("pubsub"), "hello-subscriber")));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return !got.empty();
  }, 2s));
  {
    std::lock_guard lock(m);
    EXPECT_EQ(got.front(), "hello-subscriber");
  }
  sub->stop();
  EXPECT_FALSE(sub->active());
}

TEST_F(RedisTest, HealthReportsConnection) {
  auto b = backend();
  ASSERT_TRUE(io.run(b.set("h", "1", 1000ms)));
  auto h = b.health();
  EXPECT_TRUE(h.connected);
  EXPECT_EQ(h.circuit, "closed");
  EXPECT_EQ(h.failures, 0u);
}

}  // namespace
}  // namespace accelerator::testing
