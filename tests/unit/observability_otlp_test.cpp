// Tracing (Span, InMemoryTracer), the OTLP/JSON encoders, and OtlpExporter posting to a tiny
// HTTP/1.1 receiver on a free loopback port that records each request's path and JSON body.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "accelerator/observability/otlp.hpp"
#include "accelerator/observability/tracing.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace {

using nlohmann::json;

// Accepts connections until destroyed; answers every request 200 with "{}".
class Receiver {
 public:
  struct Request {
    std::string path;
    std::string content_type;
    std::string authorization;
    std::string body;
  };

  Receiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static std::string header(const std::string& head, const std::string& name) {
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return {};
    auto start = at + 2 + name.size() + 1;
    while (start < head.size() && head[start] == ' ') ++start;
    return head.substr(start, head.find("\r\n", start) - start);
  }

  void serve() {
    while (!stop_) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string data;
      char buffer[8192];
      std::size_t body_start = std::string::npos, length = 0;
      while (true) {
        auto n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        data.append(buffer, static_cast<std::size_t>(n));
        if (body_start == std::string::npos && (body_start = data.find("\r\n\r\n")) != std::string::npos) {
          body_start += 4;
          const std::string declared = header(data.substr(0, body_start), "content-length");
          length = declared.empty() ? 0 : std::stoul(declared);
        }
        if (body_start != std::string::npos && data.size() >= body_start + length) break;
      }
      if (body_start != std::string::npos) {
        const std::string head = data.substr(0, body_start);
        Request r;
        r.path = head.substr(head.find(' ') + 1, head.find(' ', head.find(' ') + 1) - head.find(' ') - 1);
        r.content_type = header(head, "content-type");
        r.authorization = header(head, "authorization");
        r.body = data.substr(body_start, length);
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(r));
      }
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
      ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

std::string attribute(const json& list, const std::string& key) {
  for (const auto& a : list) {
    if (a.at("key") == key) return a.at("value").at("stringValue");
  }
  return "<absent>";
}

CacheDiagnosticSnapshot diagnostics(const std::string& area) {
  CacheMetrics m;
  m.local_hit.add(4);
  m.latency.get.record(std::chrono::microseconds(120));
  CacheDiagnosticSnapshot d;
  d.config.area = area;
  d.metrics = m.snapshot();
  return d;
}

TEST(Tracing, NullTracerSpansAreInert) {
  Span span(nullptr, "cache.get", "a");
  EXPECT_FALSE(span.recording());
  span.set_attribute("size", std::uint64_t{3});
  span.set_error(CacheError::backend("x"));
  EXPECT_FALSE(span.context().valid());
  EXPECT_FALSE(span.child("cache.load").recording());
}

TEST(Tracing, SpansCarryNameAreaStatusAndParent) {
  InMemoryTracer tracer;
  {
    Span get(&tracer, "cache.get", "users");
    {
      Span load = get.child("cache.load");
      load.set_result(CacheResult<int>(fail(CacheError::timeout("loader"))));
    }
    get.set_attribute("size", std::uint64_t{2});
    get.set_ok();
  }
  auto spans = tracer.spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "cache.load");
  EXPECT_EQ(spans[0].status, SpanStatus::Error);
  EXPECT_EQ(spans[0].status_message, "timeout while executing loader");
  EXPECT_EQ(spans[0].context.trace_id, spans[1].context.trace_id);
  EXPECT_EQ(spans[0].parent_span_id, spans[1].context.span_id);
  EXPECT_EQ(spans[1].name, "cache.get");
  EXPECT_EQ(spans[1].status, SpanStatus::Ok);
  EXPECT_EQ(spans[1].attributes, (std::vector<std::pair<std::string, std::string>>{{"area", "users"}, {"size", "2"}}));
  EXPECT_LE(spans[1].start, spans[1].end);
}

TEST(Otlp, SignalUrlsAreNormalised) {
  EXPECT_EQ(otlp_signal_url("http://h:4318", "/v1/traces"), "http://h:4318/v1/traces");
  EXPECT_EQ(otlp_signal_url("http://h:4318//", "/v1/metrics"), "http://h:4318/v1/metrics");
  EXPECT_EQ(otlp_signal_url("http://h:4318/v1/traces", "/v1/traces"), "http://h:4318/v1/traces");
  EXPECT_EQ(otlp_signal_url("http://h:4318/v1/traces", "/v1/metrics"), "http://h:4318/v1/metrics");
}

TEST(Otlp, MetricsJsonGroupsPointsByNameWithTypedDataPoints) {
  OtlpConfig config;
  config.service_name = "svc";
  auto body = json::parse(otlp_metrics_json(config, to_otel_points(diagnostics("users"))));
  const auto& rm = body.at("resourceMetrics").at(0);
  EXPECT_EQ(attribute(rm.at("resource").at("attributes"), "service.name"), "svc");
  const auto& metrics = rm.at("scopeMetrics").at(0).at("metrics");
  EXPECT_EQ(metrics.at(0).at("name"), "accelerator_cache_local_hit_total");
  EXPECT_EQ(metrics.at(0).at("sum").at("aggregationTemporality"), 2);
  EXPECT_EQ(metrics.at(0).at("sum").at("dataPoints").at(0).at("asInt"), "4");
  const json* duration = nullptr;
  for (const auto& m : metrics) {
    if (m.at("name") == "accelerator_cache_operation_duration") duration = &m;
  }
  ASSERT_TRUE(duration);
  EXPECT_EQ(duration->at("unit"), "s");
  const auto& points = duration->at("histogram").at("dataPoints");
  EXPECT_EQ(points.size(), 9u) << "one data point per op";
  EXPECT_EQ(attribute(points.at(0).at("attributes"), "op"), "get");
  EXPECT_EQ(points.at(0).at("count"), "1");
  EXPECT_EQ(points.at(0).at("bucketCounts").size(), points.at(0).at("explicitBounds").size() + 1);
}

TEST(OtlpExporter, PostsSpansAndMetricsToTheReceiver) {
  if (!otlp_available()) {
    if (std::getenv("CI")) FAIL() << "built without libcurl in CI";
    GTEST_SKIP() << "built without libcurl (ACCELERATOR_WITH_OTLP=OFF)";
  }
  Receiver receiver;
  OtlpConfig config;
  config.endpoint = receiver.endpoint() + "/";
  config.service_name = "otlp-test";
  config.service_version = "1.2.3";
  config.headers = {{"authorization", "Bearer t0ken"}};
  config.export_interval = std::chrono::hours(1);  // only explicit flushes in this test
  auto exporter = OtlpExporter::create(config);
  ASSERT_TRUE(exporter) << exporter.error().to_string();
  (*exporter)->watch([] { return diagnostics("orders"); });
  {
    Span get(exporter->get(), "cache.get", "orders");
    Span load = get.child("cache.load");
  }
  { Span mget(exporter->get(), "cache.mget", "orders"); }
  ASSERT_TRUE((*exporter)->flush());
  (*exporter)->shutdown();

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u) << "flush: traces + metrics; shutdown: metrics only (no span left)";
  EXPECT_EQ(requests[2].path, "/v1/metrics");
  const auto& traces = requests[0];
  EXPECT_EQ(traces.path, "/v1/traces");
  EXPECT_EQ(traces.content_type, "application/json");
  EXPECT_EQ(traces.authorization, "Bearer t0ken");
  auto tbody = json::parse(traces.body);
  const auto& rs = tbody.at("resourceSpans").at(0);
  EXPECT_EQ(attribute(rs.at("resource").at("attributes"), "service.name"), "otlp-test");
  EXPECT_EQ(attribute(rs.at("resource").at("attributes"), "service.version"), "1.2.3");
  const auto& spans = rs.at("scopeSpans").at(0).at("spans");
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans.at(0).at("name"), "cache.load");
  EXPECT_EQ(spans.at(0).at("parentSpanId"), spans.at(1).at("spanId"));
  EXPECT_EQ(spans.at(1).at("name"), "cache.get");
  EXPECT_EQ(spans.at(2).at("name"), "cache.mget");
  EXPECT_EQ(spans.at(1).at("traceId").get<std::string>().size(), 32u);
  EXPECT_EQ(attribute(spans.at(2).at("attributes"), "area"), "orders");

  const auto& metrics = requests[1];
  EXPECT_EQ(metrics.path, "/v1/metrics");
  auto mbody = json::parse(metrics.body);
  const auto& list = mbody.at("resourceMetrics").at(0).at("scopeMetrics").at(0).at("metrics");
  EXPECT_EQ(list.at(0).at("name"), "accelerator_cache_local_hit_total");
  EXPECT_EQ(attribute(list.at(0).at("sum").at("dataPoints").at(0).at("attributes"), "area"), "orders");

  auto stats = (*exporter)->stats();
  EXPECT_EQ(stats.spans_exported, 3u);
  EXPECT_EQ(stats.metric_posts, 2u) << "flush and shutdown each post metrics";
  EXPECT_EQ(stats.failed_posts, 0u);
}

TEST(OtlpExporter, UnreachableCollectorIsCountedNotThrown) {
  if (!otlp_available()) GTEST_SKIP() << "built without libcurl";
  int port = 0;
  {
    Receiver closed;  // take a free port, then release it
    port = std::stoi(closed.endpoint().substr(closed.endpoint().rfind(':') + 1));
  }
  OtlpConfig config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(port);
  config.export_interval = std::chrono::hours(1);
  config.max_queued_spans = 1;
  auto exporter = OtlpExporter::create(config);
  ASSERT_TRUE(exporter);
  { Span a(exporter->get(), "cache.get", "x"); }
  { Span b(exporter->get(), "cache.get", "x"); }  // queue full: dropped
  auto flushed = (*exporter)->flush();
  ASSERT_FALSE(flushed);
  EXPECT_EQ(flushed.error().kind(), ErrorKind::Backend);
  auto stats = (*exporter)->stats();
  EXPECT_EQ(stats.spans_dropped, 1u);
  EXPECT_EQ(stats.failed_posts, 1u);
  EXPECT_FALSE(stats.last_error.empty());
}

TEST(OtlpExporter, ExportsACachesSpansAndTelemetryAndForgetsItWhenGone) {
  if (!otlp_available()) GTEST_SKIP() << "built without libcurl";
  Receiver receiver;
  OtlpConfig config;
  config.endpoint = receiver.endpoint();
  config.export_interval = std::chrono::hours(1);
  auto exporter = OtlpExporter::create(config);
  ASSERT_TRUE(exporter);
  testing::Runner runner;
  {
    auto cache = LevelCacheBuilder<std::uint64_t, std::string>()
                     .area("orders")
                     .mode(CacheMode::Local)
                     .local(local::SimpleLocalCache<std::string>(100))
                     .tracer(*exporter)
                     .loader_fn([](std::uint64_t id) -> asio::awaitable<CacheResult<std::optional<std::string>>> {
                       co_return "order-" + std::to_string(id);
                     })
                     .build()
                     .value();
    (*exporter)->watch(cache.telemetry_source());
    ASSERT_EQ(runner.run(cache.get(7)).value(), "order-7");
    ASSERT_TRUE((*exporter)->flush());
  }
  runner.poll();
  ASSERT_TRUE((*exporter)->flush()) << "the dropped cache's source is removed, nothing is posted";

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u) << "one traces post and one metrics post";
  const auto spans = json::parse(requests[0].body).at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans.at(0).at("name"), "cache.load");
  EXPECT_EQ(spans.at(1).at("name"), "cache.get");
  EXPECT_EQ(spans.at(0).at("parentSpanId"), spans.at(1).at("spanId"));
  EXPECT_EQ(attribute(spans.at(1).at("attributes"), "area"), "orders");

  const auto metrics = json::parse(requests[1].body).at("resourceMetrics").at(0).at("scopeMetrics").at(0).at("metrics");
  bool found = false;
  for (const auto& m : metrics) {
    if (m.at("name") != "accelerator_cache_operation_duration") continue;
    for (const auto& p : m.at("histogram").at("dataPoints")) {
      if (attribute(p.at("attributes"), "op") == "get") {
        EXPECT_EQ(p.at("count"), "1");
        EXPECT_EQ(attribute(p.at("attributes"), "area"), "orders");
        found = true;
      }
    }
  }
  EXPECT_TRUE(found) << "the get latency histogram reached the collector";
}

}  // namespace
}  // namespace accelerator
