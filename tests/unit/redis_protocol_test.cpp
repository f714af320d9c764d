// The sans-I/O parts of the Redis client: command encoding (checked against hiredis's own
// formatter), reply parsing across arbitrary splits, FIFO reply matching and deadlines in the
// pipeline, the circuit breaker, reconnect backoff, and URL parsing.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <optional>

#include "accelerator/remote/detail/circuit_breaker.hpp"
#include "accelerator/remote/detail/pipeline.hpp"
#include "accelerator/remote/detail/resp.hpp"
#include "accelerator/remote/redis_options.hpp"

namespace accelerator::remote {
namespace {

using namespace std::chrono_literals;
using detail::Pipeline;
using detail::PipelineRequest;
using detail::RespParser;
using detail::RespValue;

// hiredis's own encoding of `args` (the reference the encoder is checked against), or nullopt
// when hiredis refuses them.
std::optional<std::string> hiredis_format(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* formatted = nullptr;
  const int n = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (n <= 0) return std::nullopt;
  std::string out(formatted, static_cast<std::size_t>(n));
  redisFreeCommand(formatted);
  return out;
}

TEST(RedisResp, EncoderMatchesHiredisFormatter) {
  const std::vector<std::string> args{"SET", "user:1", std::string("a\0b\r\n", 5), "PX", "60000", ""};
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string ours;
  detail::append_command(ours, views);
  const auto theirs = hiredis_format(args);
  ASSERT_TRUE(theirs);
  EXPECT_EQ(ours, *theirs);
}

// Lengths around every digit-count boundary (the encoder writes short lengths without a loop),
// with and without a key prefix, and argument counts past 9.
TEST(RedisResp, EncoderMatchesHiredisFormatterAtLengthBoundaries) {
  for (std::size_t len : {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 123456}) {
    for (std::string_view prefix : {std::string_view(), std::string_view("p:")}) {
      const std::string key(len, 'k');
      std::vector<std::string> args{"MGET", std::string(prefix) + key};
      for (int i = 0; i < 11; ++i) args.push_back(std::to_string(i));
      std::vector<std::string_view> views{"MGET", key};
      for (std::size_t i = 2; i < args.size(); ++i) views.push_back(args[i]);
      std::string ours = "x";
      detail::append_command(ours, prefix, views);
      const auto theirs = hiredis_format(args);
      ASSERT_TRUE(theirs);
      EXPECT_EQ(ours, "x" + *theirs) << "length " << len;
    }
  }
}

TEST(RedisResp, ParserHandlesRepliesSplitAnywhere) {
  const std::string wire = "+OK\r\n$5\r\nhello\r\n$-1\r\n:42\r\n-ERR bad\r\n*2\r\n$1\r\na\r\n$-1\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    RespParser p;
    std::vector<RespValue> got;
    p.feed(wire.data(), cut);
    while (auto r = p.next()) got.push_back(std::move(r->value()));
    p.feed(wire.data() + cut, wire.size() - cut);
    while (auto r = p.next()) got.push_back(std::move(r->value()));
    ASSERT_EQ(got.size(), 6u) << "cut at " << cut;
    EXPECT_EQ(got[0].type, RespValue::Type::Status);
    EXPECT_EQ(got[1].str, "hello");
    EXPECT_TRUE(got[2].is_nil());
    EXPECT_EQ(got[3].integer, 42);
    EXPECT_TRUE(got[4].is_error());
    EXPECT_EQ(got[4].str, "ERR bad");
    ASSERT_EQ(got[5].elements.size(), 2u);
    EXPECT_EQ(got[5].elements[0].str, "a");
    EXPECT_TRUE(got[5].elements[1].is_nil());
  }
}

TEST(RedisResp, ProtocolErrorIsReported) {
  RespParser p;
  p.feed("?garbage\r\n", 10);
  auto r = p.next();
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().message().find("protocol error"), std::string::npos);
}

struct Recorder {
  std::vector<std::pair<int, CacheResult<RespValue>>> done;
  PipelineRequest request(int id, std::string bytes, std::size_t commands = 1,
                          detail::TimePoint deadline = detail::TimePoint::max()) {
    return PipelineRequest{std::move(bytes), commands, "GET", deadline,
                           [this, id](CacheResult<RespValue> r) { done.emplace_back(id, std::move(r)); }};
  }
};

RespValue bulk(std::string s) {
  RespValue v;
  v.type = RespValue::Type::String;
  v.str = std::move(s);
  return v;
}

TEST(RedisPipeline, QueuedRequestsLeaveInOneWriteAndRepliesMatchFifo) {
  Pipeline p;
  Recorder rec;
  p.push(rec.request(1, "A"));
  p.push(rec.request(2, "BB", 2));
  p.push(rec.request(3, "C"));
  std::string out;
  EXPECT_EQ(p.take_writes(out), 3u);
  EXPECT_EQ(out, "ABBC");
  EXPECT_FALSE(p.has_unwritten());
  p.push(rec.request(4, "D"));
  EXPECT_TRUE(p.on_reply(bulk("r1")));
  EXPECT_TRUE(p.on_reply(bulk("r2a")));
  EXPECT_EQ(rec.done.size(), 1u) << "request 2 waits for both of its replies";
  EXPECT_TRUE(p.on_reply(bulk("r2b")));
  EXPECT_TRUE(p.on_reply(bulk("r3")));
  EXPECT_FALSE(p.on_reply(bulk("stray"))) << "request 4 is not written yet";
  ASSERT_EQ(rec.done.size(), 3u);
  EXPECT_EQ(rec.done[0].second->str, "r1");
  ASSERT_EQ(rec.done[1].second->elements.size(), 2u);
  EXPECT_EQ(rec.done[1].second->elements[1].str, "r2b");
  EXPECT_EQ(rec.done[2].second->str, "r3");
}

// The queue is a ring that grows: requests must stay in order across wrap-around and growth
// with some of them written, and fail_all must reach every one of them.
TEST(RedisPipeline, OrderSurvivesWrapAroundAndGrowth) {
  Pipeline p;
  Recorder rec;
  int next_id = 0;
  int next_reply = 0;
  std::string out;
  for (int round = 0; round < 10; ++round) {
    // Queue more than is answered, so the queue wraps and grows past its first capacity.
    for (int i = 0; i < 7; ++i, ++next_id) p.push(rec.request(next_id, std::to_string(next_id)));
    p.take_writes(out);
    for (int i = 0; i < 4; ++i, ++next_reply) ASSERT_TRUE(p.on_reply(bulk("r" + std::to_string(next_reply))));
  }
  ASSERT_EQ(p.size(), 30u);
  for (int i = 0; i < 5; ++i, ++next_id) p.push(rec.request(next_id, "x"));
  p.fail_all(CacheError::backend("stop"));
  EXPECT_EQ(p.size(), 0u);
  ASSERT_EQ(rec.done.size(), static_cast<std::size_t>(next_id));
  for (int i = 0; i < next_id; ++i) {
    EXPECT_EQ(rec.done[static_cast<std::size_t>(i)].first, i);
    const auto& r = rec.done[static_cast<std::size_t>(i)].second;
    if (i < next_reply) {
      EXPECT_EQ(r->str, "r" + std::to_string(i));
    } else {
      EXPECT_FALSE(r.has_value());
    }
  }
}

TEST(RedisPipeline, ExpiryFailsOldRequestsAndAsksForAResetOnlyWhenWritten) {
  Pipeline p;
  Recorder rec;
  const auto t0 = detail::TimePoint{} + 1h;
  p.push(rec.request(1, "A", 1, t0 + 10ms));
  p.push(rec.request(2, "B", 1, t0 + 20ms));
  EXPECT_FALSE(p.expire(t0 + 15ms)) << "unwritten: nothing on the wire to discard";
  ASSERT_EQ(rec.done.size(), 1u);
  EXPECT_EQ(rec.done[0].second.error(), CacheError::timeout("redis GET"));
  std::string out;
  p.take_writes(out);
  EXPECT_EQ(out, "B") << "an expired unwritten request's bytes are not sent";
  p.push(rec.request(3, "C", 1, t0 + 30ms));
  EXPECT_TRUE(p.expire(t0 + 25ms)) << "request 2 was written: the connection must reset";
  p.fail_written(CacheError::backend("reset"));
  EXPECT_EQ(p.size(), 1u) << "the unwritten request survives for the next connection";
  EXPECT_EQ(p.next_deadline(), t0 + 30ms);
}

// Commands encoded straight into the pending bytes line up with pushed strings, and a write that
// finds `out` non-empty appends to it.
TEST(RedisPipeline, EncodedRequestsShareThePendingBytes) {
  Pipeline p;
  Recorder rec;
  p.push(rec.request(1, "A"));
  p.push(
      [](std::string& out) {
        detail::append_command(out, "p:", {"GET", "k"});
      },
      1, "GET", detail::TimePoint::max(), [&](CacheResult<RespValue> r) { rec.done.emplace_back(2, std::move(r)); });
  p.push(rec.request(3, "C"));
  std::string out = "x";
  EXPECT_EQ(p.take_writes(out), 3u);
  EXPECT_EQ(out, "xA*2\r\n$3\r\nGET\r\n$3\r\np:k\r\nC");
  out.clear();
  p.push(rec.request(4, "D"));
  EXPECT_EQ(p.take_writes(out), 1u);
  EXPECT_EQ(out, "D");
  for (const char* r : {"r1", "r2", "r3", "r4"}) ASSERT_TRUE(p.on_reply(bulk(r)));
  ASSERT_EQ(rec.done.size(), 4u);
  EXPECT_EQ(rec.done[1].first, 2);
  EXPECT_EQ(rec.done[1].second->str, "r2");
}

TEST(RedisPipeline, CompletionMayPushReentrantly) {
  Pipeline p;
  int completed = 0;
  p.push(PipelineRequest{
      "A", 1, "GET", detail::TimePoint::max(), [&](CacheResult<RespValue>) {
        ++completed;
        p.push(PipelineRequest{"B", 1, "GET", detail::TimePoint::max(), [&](CacheResult<RespValue>) { ++completed; }});
      }});
  std::string out;
  p.take_writes(out);
  ASSERT_TRUE(p.on_reply(bulk("x")));
  EXPECT_TRUE(p.has_unwritten());
  p.fail_all(CacheError::backend("stop"));
  EXPECT_EQ(completed, 2);
}

TEST(RedisBreaker, OpensAfterThresholdProbesOnceAndCloses) {
  detail::CircuitBreaker b(3, 100ms);
  const auto t = std::chrono::steady_clock::time_point{} + 1h;
  for (int i = 0; i < 2; ++i) b.on_failure(t);
  EXPECT_TRUE(b.allow(t));
  b.on_success();
  for (int i = 0; i < 3; ++i) b.on_failure(t);
  EXPECT_EQ(b.state(t), detail::CircuitBreaker::State::Open);
  EXPECT_FALSE(b.allow(t + 50ms));
  EXPECT_EQ(b.state(t + 100ms), detail::CircuitBreaker::State::HalfOpen);
  EXPECT_TRUE(b.allow(t + 100ms)) << "one probe";
  EXPECT_FALSE(b.allow(t + 100ms)) << "only one";
  b.on_failure(t + 110ms);
  EXPECT_FALSE(b.allow(t + 150ms)) << "a failed probe re-opens for a new cooldown";
  EXPECT_TRUE(b.allow(t + 210ms));
  b.on_success();
  EXPECT_EQ(b.state(t + 210ms), detail::CircuitBreaker::State::Closed);
  EXPECT_TRUE(b.allow(t + 210ms));
}

TEST(RedisBackoff, GrowsExponentiallyWithJitterUpToTheCap) {
  detail::Backoff b(10ms, 100ms);
  std::vector<std::chrono::milliseconds> upper{10ms, 20ms, 40ms, 80ms, 100ms, 100ms};
  for (auto cap : upper) {
    auto d = b.next(0xdeadbeefcafeULL);
    EXPECT_GE(d, cap / 2);
    EXPECT_LE(d, cap);
  }
  b.reset();
  EXPECT_LE(b.next(7), 10ms);
}

TEST(RedisUrl, ParsesEveryForm) {
  auto a = parse_redis_url("redis://127.0.0.1:6380/2").value();
  EXPECT_FALSE(a.tls);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.db, 2);
  auto b = parse_redis_url("rediss://app:p%40ss@cache.local").value();
  EXPECT_TRUE(b.tls);
  EXPECT_EQ(b.user, "app");
  EXPECT_EQ(b.password, "p@ss");
  EXPECT_EQ(b.port, 6379);
  auto c = parse_redis_url("redis://:secret@[::1]:7000").value();
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.password, "secret");
  EXPECT_EQ(c.port, 7000);
}

TEST(RedisUrl, RejectsMalformedUrls) {
  for (const char* bad :
       {"http://x", "redis://", "redis://host:0", "redis://host:70000", "redis://host:12ab", "redis://host/db",
        "redis://host/-1", "redis://user:@host", "redis://h?x=1", "redis://%zz:pw@host", "redis://[::1"}) {
    auto r = parse_redis_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), ErrorKind::InvalidConfig);
    EXPECT_TRUE(r.error().message().starts_with("invalid redis URL: ")) << r.error().message();
  }
}

}  // namespace
}  // namespace accelerator::remote
