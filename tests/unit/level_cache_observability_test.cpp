// What LevelCache reports about itself: latency histograms per operation (exact counts after a
// scripted sequence), spans through a test Tracer (names, parent/child, attributes, Error status),
// operation logs through a sink and through a real spdlog sink (fields, keys hashed by default),
// the WARN rate limit, and the weak telemetry source an exporter polls.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <sstream>

#include "fake_remote.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace {

using namespace std::chrono_literals;
using testing::FakeRemote;
using testing::Runner;
using L1 = local::SimpleLocalCache<std::string>;
using Value = std::optional<std::string>;
using LoadResult = CacheResult<Value>;
using Key = std::uint64_t;

// A loader: ids below 1000 exist, 666 fails, the rest are "not found".
asio::awaitable<LoadResult> load_user(Key id) {
  if (id == 666) co_return fail(CacheError::loader("db down"));
  if (id >= 1000) co_return Value{};
  co_return "user-" + std::to_string(id);
}

asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> load_users(const std::vector<Key>& ids) {
  LoadedMap<Key, std::string> out;
  for (auto id : ids) {
    if (id == 666) co_return fail(CacheError::loader("db down"));
    if (id < 1000) out.emplace(id, "user-" + std::to_string(id));
  }
  co_return out;
}

// Records every log record the cache hands to its sink (copies: the record holds views).
struct LogCapture {
  struct Line {
    std::string op, result, error_kind, key, error;
    double latency_ms = -1;
    bool warn = false;
  };
  std::mutex mutex;
  std::vector<Line> lines;

  OperationLogger::Options options(bool log_keys = false) {
    OperationLogger::Options o;
    o.log_keys = log_keys;
    o.force_debug = true;
    o.sink = [this](const OperationLogRecord& r) {
      std::lock_guard lock(mutex);
      lines.push_back(Line{std::string(r.op), std::string(r.result), std::string(r.error_kind), std::string(r.key),
                           std::string(r.error), r.latency_ms, r.warn});
      EXPECT_EQ(r.area, "obs");
    };
    return o;
  }
  std::vector<Line> take() {
    std::lock_guard lock(mutex);
    return std::exchange(lines, {});
  }
};

const SpanData* find_span(const std::vector<SpanData>& spans, std::string_view name, std::size_t nth = 0) {
  for (const auto& s : spans) {
    if (s.name == name && nth-- == 0) return &s;
  }
  return nullptr;
}

std::string attribute(const SpanData& span, std::string_view key) {
  for (const auto& [k, v] : span.attributes) {
    if (k == key) return v;
  }
  return "<absent>";
}

class ObservabilityTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  Runner runner;

  // Area "obs", TTLs 60 s (L1) / 120 s (L2) / 10 s (null), the manual clock, and the user loaders.
  auto local_builder(CacheMode mode = CacheMode::Local) const {
    return LevelCacheBuilder<Key, std::string>()
        .area("obs")
        .mode(mode)
        .local_ttl(60s)
        .remote_ttl(120s)
        .null_ttl(10s)
        .clock(clock)
        .local(L1(1000, clock))
        .mloader_fn(load_user, load_users);
  }
  auto both_builder(const FakeRemote& remote) const { return local_builder(CacheMode::Both).remote(remote); }
};

TEST_F(ObservabilityTest, HistogramsCountEveryPublicCallAndEveryLoaderRun) {
  auto cache = local_builder().warmup_enabled(true).warmup_batch_size(2).build().value();
  ASSERT_TRUE(runner.run(cache.set(5, "five")));
  ASSERT_EQ(runner.run(cache.get(1)).value(), "user-1");            // miss: one load
  ASSERT_EQ(runner.run(cache.get(1)).value(), "user-1");            // L1 hit
  ASSERT_EQ(runner.run(cache.get(5)).value(), "five");              // L1 hit
  ASSERT_EQ(runner.run(cache.mget({1, 2, 3})).value().size(), 3u);  // one mload for 2 and 3
  const std::vector<std::pair<Key, Value>> entries{{7, "seven"}, {8, "eight"}};
  ASSERT_TRUE(runner.run(cache.mset(entries)));
  ASSERT_TRUE(runner.run(cache.del(7)));
  ASSERT_TRUE(runner.run(cache.mdel({8, 9})));
  ASSERT_EQ(runner.run(cache.warmup({10, 11, 12})).value(), 3u);  // two chunks: two mloads

  const auto s = cache.metrics_snapshot().latency;
  EXPECT_EQ(s.get.count, 3u);
  EXPECT_EQ(s.mget.count, 1u) << "warmup chunks are not public mget calls";
  EXPECT_EQ(s.set.count, 1u);
  EXPECT_EQ(s.mset.count, 1u);
  EXPECT_EQ(s.del.count, 1u);
  EXPECT_EQ(s.mdel.count, 1u);
  EXPECT_EQ(s.warmup.count, 1u);
  EXPECT_EQ(s.load.count, 4u) << "get(1), mget's batch, two warmup chunks";
  EXPECT_EQ(s.load.count, cache.metrics_snapshot().load_total);
  EXPECT_EQ(s.remote.count, 0u) << "Local mode makes no L2 round trip";
  EXPECT_GT(s.get.sum, 0u);
  EXPECT_GE(s.get.max, s.get.p50());
}

TEST_F(ObservabilityTest, FailedCallsAreTimedToo) {
  auto cache = local_builder().build().value();
  EXPECT_FALSE(runner.run(cache.get(666)));
  auto s = cache.metrics_snapshot();
  EXPECT_EQ(s.latency.get.count, 1u);
  EXPECT_EQ(s.latency.load.count, 1u);
  EXPECT_EQ(s.get_errors, 1u);
}

TEST_F(ObservabilityTest, RemoteHistogramCountsOneEntryPerL2RoundTrip) {
  FakeRemote remote;
  auto cache = both_builder(remote).broadcast_invalidation(true).build().value();
  ASSERT_EQ(runner.run(cache.get(1)).value(), "user-1");            // L2 GET, loader, L2 SET
  ASSERT_EQ(runner.run(cache.mget({1, 2, 3})).value().size(), 3u);  // L1 hit for 1; L2 MGET; mload; L2 MSET
  ASSERT_TRUE(runner.run(cache.set(4, "four")));                    // L2 SET + PUBLISH
  ASSERT_TRUE(runner.run(cache.mdel({2, 3})));                      // L2 DEL batch + PUBLISH
  auto& f = remote.shared();
  const int calls = f.gets + f.mgets + f.sets + f.msets + f.dels + f.mdels + f.publishes;
  EXPECT_EQ(calls, 8) << "GET+SET, MGET+MSET, SET+PUBLISH, DEL+PUBLISH";
  EXPECT_EQ(cache.metrics_snapshot().latency.remote.count, static_cast<std::uint64_t>(calls));
}

TEST_F(ObservabilityTest, SpansNameTheOperationAndNestTheLoad) {
  auto tracer = std::make_shared<InMemoryTracer>();
  auto cache = local_builder().tracer(tracer).warmup_enabled(true).warmup_batch_size(2).build().value();

  ASSERT_TRUE(runner.run(cache.get(1)));  // miss: cache.get + cache.load
  auto spans = tracer->spans();
  ASSERT_EQ(spans.size(), 2u);
  const SpanData* get = find_span(spans, "cache.get");
  const SpanData* load = find_span(spans, "cache.load");
  ASSERT_TRUE(get && load);
  EXPECT_EQ(load->context.trace_id, get->context.trace_id);
  EXPECT_EQ(load->parent_span_id, get->context.span_id);
  EXPECT_EQ(get->parent_span_id, (std::array<std::uint8_t, 8>{})) << "cache.get is a root span";
  EXPECT_EQ(get->status, SpanStatus::Ok);
  EXPECT_EQ(load->status, SpanStatus::Ok);
  EXPECT_EQ(attribute(*get, "area"), "obs");
  EXPECT_LE(get->start, load->start);
  EXPECT_GE(get->end, load->end);

  ASSERT_TRUE(runner.run(cache.get(1)));  // hit: no load span
  ASSERT_TRUE(runner.run(cache.mget({1, 2, 3})));
  ASSERT_TRUE(runner.run(cache.set(9, "nine")));
  const std::vector<std::pair<Key, Value>> entries{{7, "a"}, {8, "b"}};
  ASSERT_TRUE(runner.run(cache.mset(entries)));
  ASSERT_TRUE(runner.run(cache.del(9)));
  ASSERT_TRUE(runner.run(cache.mdel({7, 8, 10})));
  spans = tracer->spans();
  std::vector<std::string> names;
  for (const auto& s : spans) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"cache.load", "cache.get", "cache.get", "cache.load", "cache.mget",
                                             "cache.set", "cache.mset", "cache.del", "cache.mdel"}));
  const SpanData* mget = find_span(spans, "cache.mget");
  const SpanData* batch_load = find_span(spans, "cache.load", 1);
  EXPECT_EQ(attribute(*mget, "size"), "3");
  EXPECT_EQ(attribute(*batch_load, "size"), "2") << "only the misses 2 and 3 are loaded";
  EXPECT_EQ(batch_load->parent_span_id, mget->context.span_id);
  EXPECT_EQ(attribute(*find_span(spans, "cache.mset"), "size"), "2");
  EXPECT_EQ(attribute(*find_span(spans, "cache.mdel"), "size"), "3");
  EXPECT_EQ(attribute(*find_span(spans, "cache.set"), "size"), "<absent>");
  for (const auto& s : spans) {
    for (const auto& [k, v] : s.attributes) {
      EXPECT_TRUE(k == "area" || k == "size") << s.name << " carries " << k << " (no key or value data)";
    }
  }
}

TEST_F(ObservabilityTest, WarmupSpanParentsOneMgetSpanPerChunk) {
  auto tracer = std::make_shared<InMemoryTracer>();
  auto cache = local_builder().tracer(tracer).warmup_enabled(true).warmup_batch_size(2).build().value();
  ASSERT_EQ(runner.run(cache.warmup({1, 2, 3})).value(), 3u);
  auto spans = tracer->spans();
  const SpanData* warmup = find_span(spans, "cache.warmup");
  ASSERT_TRUE(warmup);
  EXPECT_EQ(attribute(*warmup, "size"), "3");
  const SpanData* first = find_span(spans, "cache.mget", 0);
  const SpanData* second = find_span(spans, "cache.mget", 1);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->parent_span_id, warmup->context.span_id);
  EXPECT_EQ(second->parent_span_id, warmup->context.span_id);
  EXPECT_EQ(attribute(*first, "size"), "2");
  EXPECT_EQ(attribute(*second, "size"), "1");
  EXPECT_EQ(find_span(spans, "cache.load", 0)->parent_span_id, first->context.span_id);
  EXPECT_EQ(find_span(spans, "cache.load", 1)->parent_span_id, second->context.span_id);
  EXPECT_EQ(spans.size(), 5u);
}

TEST_F(ObservabilityTest, LoaderFailureMarksTheLoadAndTheCallAsErrors) {
  auto tracer = std::make_shared<InMemoryTracer>();
  auto cache = local_builder().tracer(tracer).build().value();
  auto got = runner.run(cache.get(666));
  ASSERT_FALSE(got);
  auto spans = tracer->spans();
  ASSERT_EQ(spans.size(), 2u);
  for (const char* name : {"cache.get", "cache.load"}) {
    const SpanData* span = find_span(spans, name);
    ASSERT_TRUE(span) << name;
    EXPECT_EQ(span->status, SpanStatus::Error) << name;
    EXPECT_EQ(attribute(*span, "error.kind"), "loader") << name;
    EXPECT_NE(span->status_message.find("db down"), std::string::npos) << span->status_message;
  }
  ASSERT_FALSE(runner.run(cache.mget({1, 666})));
  spans = tracer->spans();
  EXPECT_EQ(find_span(spans, "cache.mget")->status, SpanStatus::Error);
  EXPECT_EQ(attribute(*find_span(spans, "cache.load", 1), "error.kind"), "loader");
}

TEST_F(ObservabilityTest, RefreshAheadLoadIsARootSpanMarkedRefresh) {
  auto tracer = std::make_shared<InMemoryTracer>();
  auto cache =
      local_builder().tracer(tracer).refresh_ahead(true).refresh_ahead_window(10s).disable_ttl_jitter().build().value();
  ASSERT_TRUE(runner.run(cache.set(1, "old")));
  clock->advance(55s);  // inside the refresh window of the 60 s entry
  ASSERT_EQ(runner.run(cache.get(1)).value(), "old");
  ASSERT_TRUE(runner.run_until([&] { return cache.metrics_snapshot().refresh_success == 1; }));
  ASSERT_TRUE(runner.run_until([&] { return tracer->spans().size() == 3; }));
  auto spans = tracer->spans();
  const SpanData* refresh = find_span(spans, "cache.load");
  ASSERT_TRUE(refresh);
  EXPECT_EQ(attribute(*refresh, "refresh"), "true");
  EXPECT_EQ(refresh->parent_span_id, (std::array<std::uint8_t, 8>{}));
  EXPECT_EQ(refresh->status, SpanStatus::Ok);
}

TEST_F(ObservabilityTest, OperationLogHasTheSeedFieldsAndHashesKeys) {
  LogCapture capture;
  auto cache = local_builder().operation_log(capture.options()).build().value();
  const std::string encoded = cache.encode_key(1).value();
  ASSERT_TRUE(runner.run(cache.get(1)));
  ASSERT_TRUE(runner.run(cache.get(1000)));
  ASSERT_TRUE(runner.run(cache.mget({1, 2})));
  ASSERT_TRUE(runner.run(cache.set(1, "x")));
  ASSERT_TRUE(runner.run(cache.del(1)));
  auto lines = capture.take();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].op, "get");
  EXPECT_EQ(lines[0].result, "ok_some");
  EXPECT_EQ(lines[0].error_kind, "none");
  EXPECT_FALSE(lines[0].warn);
  EXPECT_GE(lines[0].latency_ms, 0.0);
  EXPECT_EQ(lines[0].key, fmt::format("h:{:016x}", key_hash(encoded)));
  EXPECT_EQ(lines[0].key.find(encoded), std::string::npos) << "the key is not logged in clear text by default";
  EXPECT_EQ(lines[1].result, "ok_none");
  EXPECT_EQ(lines[2].op, "mget");
  EXPECT_EQ(lines[2].result, "ok");
  EXPECT_EQ(lines[2].key, "") << "batch calls log no keys";
  EXPECT_EQ(lines[3].op, "set");
  EXPECT_EQ(lines[3].result, "done");
  EXPECT_EQ(lines[3].key, lines[0].key);
  EXPECT_EQ(lines[4].op, "del");
  EXPECT_EQ(lines[4].result, "done");

  LogCapture clear;
  auto verbose = local_builder().operation_log(clear.options(/*log_keys=*/true)).build().value();
  ASSERT_TRUE(runner.run(verbose.get(1)));
  EXPECT_EQ(clear.take().at(0).key, encoded);
}

TEST_F(ObservabilityTest, FailuresAreLoggedAtWarnWithTheErrorKind) {
  LogCapture capture;
  auto cache = local_builder().operation_log(capture.options()).build().value();
  ASSERT_FALSE(runner.run(cache.get(666)));
  auto lines = capture.take();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].op, "load") << "the loader failure itself, once per run";
  EXPECT_TRUE(lines[0].warn);
  EXPECT_EQ(lines[1].op, "get");
  EXPECT_EQ(lines[1].result, "error");
  EXPECT_EQ(lines[1].error_kind, "loader");
  EXPECT_TRUE(lines[1].warn);
  EXPECT_NE(lines[1].error.find("db down"), std::string::npos);

  FakeRemote remote;
  remote.set_failing(true);
  LogCapture both;
  auto two_level = both_builder(remote).operation_log(both.options()).build().value();
  ASSERT_EQ(runner.run(two_level.get(1)).value(), "user-1") << "fail-open: served by the loader";
  lines = both.take();
  ASSERT_EQ(lines.size(), 3u) << "L2 GET failed, write-back SET failed, get done";
  EXPECT_EQ(lines[0].op, "remote");
  EXPECT_EQ(lines[0].result, "fail_open");
  EXPECT_EQ(lines[0].error_kind, "backend");
  EXPECT_TRUE(lines[0].warn);
  EXPECT_EQ(lines[0].error, "backend error: redis GET failed: injected");
  EXPECT_EQ(lines[1].op, "remote");
  EXPECT_EQ(lines[1].error, "backend error: redis SET failed: injected") << "the write-back's error, intact";
  EXPECT_EQ(lines[2].op, "get");
  EXPECT_EQ(lines[2].result, "ok_some");
  EXPECT_FALSE(lines[2].warn);
}

TEST_F(ObservabilityTest, OperationLogReachesSpdlogWithoutClearKeys) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("accelerator::ops::obs-test", sink);
  logger->set_level(spdlog::level::debug);
  logger->set_pattern("%l %v");
  spdlog::register_logger(logger);
  OperationLogger::Options options;
  options.logger_name = "accelerator::ops::obs-test";
  auto cache = local_builder().operation_log(options).build().value();
  ASSERT_TRUE(runner.run(cache.get(424242)));
  ASSERT_FALSE(runner.run(cache.get(666)));
  spdlog::drop("accelerator::ops::obs-test");
  const std::string text = out.str();
  EXPECT_NE(text.find("debug cache operation completed area=obs op=get result=ok_none latency_ms="), std::string::npos)
      << text;
  EXPECT_NE(text.find("error_kind=none key=h:"), std::string::npos) << text;
  EXPECT_EQ(text.find("424242"), std::string::npos) << "key in clear text: " << text;
  EXPECT_NE(text.find("warning cache operation completed area=obs op=get result=error"), std::string::npos) << text;
  EXPECT_NE(text.find("error_kind=loader"), std::string::npos) << text;

  // DEBUG off: successes write no record at all.
  std::ostringstream quiet;
  auto quiet_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(quiet);
  auto info_logger = std::make_shared<spdlog::logger>("accelerator::ops::obs-quiet", quiet_sink);
  info_logger->set_level(spdlog::level::info);
  spdlog::register_logger(info_logger);
  options.logger_name = "accelerator::ops::obs-quiet";
  auto quiet_cache = local_builder().operation_log(options).build().value();
  ASSERT_TRUE(runner.run(quiet_cache.get(1)));
  spdlog::drop("accelerator::ops::obs-quiet");
  EXPECT_EQ(quiet.str(), "");
}

TEST(OperationLoggerLimit, WarningsAreRateLimitedAndTheDropIsCounted) {
  int written = 0;
  OperationLogger::Options options;
  options.max_warnings_per_second = 2;
  options.sink = [&](const OperationLogRecord& r) {
    EXPECT_TRUE(r.warn);
    EXPECT_EQ(r.suppressed, 0u);
    ++written;
  };
  OperationLogger logger("limit", options);
  const CacheError error = CacheError::backend("down");
  for (int i = 0; i < 5; ++i) logger.completed("remote", "fail_open", 1ms, &error);
  EXPECT_EQ(written, 2);
  EXPECT_EQ(logger.suppressed_warnings(), 3u);

  options.max_warnings_per_second = 0;
  OperationLogger unlimited("limit", options);
  written = 0;
  for (int i = 0; i < 8; ++i) unlimited.completed("remote", "fail_open", 1ms, &error);
  EXPECT_EQ(written, 8);
  EXPECT_EQ(unlimited.suppressed_warnings(), 0u);
}

TEST_F(ObservabilityTest, ConcurrentCallsOnAPoolAreEachTimedTracedAndLoggedOnce) {
  // 400 gets of 40 keys from 4 threads, tracer and logger on: every call leaves exactly one
  // histogram entry, one cache.get span and one log record; loads match the loader runs.
  auto tracer = std::make_shared<InMemoryTracer>();
  LogCapture capture;
  auto cache = local_builder().tracer(tracer).operation_log(capture.options()).build().value();
  asio::thread_pool pool(4);
  std::vector<std::future<LoadResult>> results;
  for (Key i = 0; i < 400; ++i) results.push_back(asio::co_spawn(pool, cache.get(i % 40), asio::use_future));
  int ok = 0;
  for (auto& r : results) ok += r.get().has_value() ? 1 : 0;
  pool.join();
  EXPECT_EQ(ok, 400);
  const auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.latency.get.count, 400u);
  EXPECT_EQ(m.latency.load.count, m.load_total);
  EXPECT_GE(m.load_total, 40u);
  EXPECT_LT(m.load_total, 400u) << "singleflight and L1 spare most loads";
  const auto spans = tracer->spans();
  EXPECT_EQ(std::count_if(spans.begin(), spans.end(), [](const SpanData& s) { return s.name == "cache.get"; }), 400);
  EXPECT_EQ(capture.take().size(), 400u);
}

TEST_F(ObservabilityTest, TelemetrySourceHoldsTheCacheWeakly) {
  std::function<std::optional<CacheDiagnosticSnapshot>()> source;
  {
    auto cache = local_builder().build().value();
    ASSERT_TRUE(runner.run(cache.get(1)));
    source = cache.telemetry_source();
    auto snapshot = source();
    ASSERT_TRUE(snapshot);
    EXPECT_EQ(snapshot->config.area, "obs");
    EXPECT_EQ(snapshot->metrics.latency.get.count, 1u);
    EXPECT_EQ(snapshot->metrics.load_success, 1u);
  }
  runner.poll();
  EXPECT_FALSE(source()) << "the source must not keep a dropped cache alive";
}

}  // namespace
}  // namespace accelerator
