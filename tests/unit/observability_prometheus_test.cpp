// render_prometheus output checked by a strict parser of the text exposition format 0.0.4
// (written here from the format's description): metric and label name syntax, label-value
// escapes, float syntax, HELP/TYPE once per family and before its samples, families contiguous,
// no duplicate series, histogram buckets cumulative with +Inf == _count, summaries with quantile.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "accelerator/diagnostics.hpp"
#include "accelerator/observability/prometheus.hpp"

namespace accelerator {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ParsedFamily {
  std::string type;
  std::string help;
  std::vector<Sample> samples;
};

struct Parsed {
  std::map<std::string, ParsedFamily> families;

  const Sample* find(const std::string& name, const std::map<std::string, std::string>& labels) const {
    for (const auto& [_, f] : families) {
      for (const auto& s : f.samples) {
        if (s.name == name && s.labels == labels) return &s;
      }
    }
    return nullptr;
  }
};

[[noreturn]] void reject(std::size_t line, const std::string& why) {
  throw std::runtime_error("line " + std::to_string(line) + ": " + why);
}

bool valid_metric_name(const std::string& s) { return std::regex_match(s, std::regex("[a-zA-Z_:][a-zA-Z0-9_:]*")); }
bool valid_label_name(const std::string& s) { return std::regex_match(s, std::regex("[a-zA-Z_][a-zA-Z0-9_]*")); }

double parse_float(const std::string& text, std::size_t line) {
  if (text == "+Inf" || text == "Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  if (!std::regex_match(text, std::regex(R"([-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)"))) {
    reject(line, "bad float '" + text + "'");
  }
  return std::strtod(text.c_str(), nullptr);
}

// The family a sample name belongs to, given the declared types.
std::optional<std::string> family_of(const std::string& name, const std::map<std::string, ParsedFamily>& families) {
  if (families.contains(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx = suffix;
    if (name.size() > sfx.size() && name.ends_with(sfx)) {
      auto base = name.substr(0, name.size() - sfx.size());
      auto it = families.find(base);
      if (it == families.end()) continue;
      if (it->second.type == "histogram") return base;
      if (it->second.type == "summary" && sfx != "_bucket") return base;
    }
  }
  return std::nullopt;
}

Parsed parse_exposition(const std::string& text) {
  Parsed out;
  if (!text.empty() && text.back() != '\n') reject(0, "text must end with a newline");
  std::istringstream in(text);
  std::string line;
  std::size_t n = 0;
  std::string current;  // family of the previous sample line
  std::set<std::string> closed;
  std::set<std::string> series;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line.starts_with("#")) {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // plain comment
      if (!valid_metric_name(name)) reject(n, "bad metric name in " + keyword);
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
      auto& f = out.families[name];
      if (!f.samples.empty()) reject(n, keyword + " after samples of " + name);
      if (keyword == "HELP") {
        if (!f.help.empty()) reject(n, "second HELP for " + name);
        f.help = rest.empty() ? " " : rest;
      } else {
        if (!f.type.empty()) reject(n, "second TYPE for " + name);
        static const std::set<std::string> types{"counter", "gauge", "histogram", "summary", "untyped"};
        if (!types.contains(rest)) reject(n, "bad type '" + rest + "'");
        f.type = rest;
      }
      continue;
    }
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!valid_metric_name(s.name)) reject(n, "bad sample name '" + s.name + "'");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i >= line.size()) reject(n, "unterminated label set");
        if (line[i] == '}') {
          ++i;
          break;
        }
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) reject(n, "label without '='");
        std::string label = line.substr(i, eq - i);
        if (!valid_label_name(label)) reject(n, "bad label name '" + label + "'");
        if (eq + 1 >= line.size() || line[eq + 1] != '"') reject(n, "label value not quoted");
        std::string value;
        std::size_t j = eq + 2;
        for (;; ++j) {
          if (j >= line.size()) reject(n, "unterminated label value");
          if (line[j] == '"') break;
          if (line[j] == '\\') {
            ++j;
            if (j >= line.size()) reject(n, "dangling escape");
            if (line[j] == 'n') {
              value += '\n';
            } else if (line[j] == '\\' || line[j] == '"') {
              value += line[j];
            } else {
              reject(n, "bad escape");
            }
          } else {
            value += line[j];
          }
        }
        if (!s.labels.emplace(label, value).second) reject(n, "repeated label " + label);
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
    }
    if (i >= line.size() || line[i] != ' ') reject(n, "missing space before value");
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (value.empty() || !extra.empty()) reject(n, "bad value/timestamp field count");
    s.value = parse_float(value, n);
    if (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?[0-9]+"))) reject(n, "bad timestamp");

    auto family = family_of(s.name, out.families);
    if (!family) reject(n, "sample " + s.name + " has no TYPE-declared family");
    if (*family != current) {
      if (closed.contains(*family)) reject(n, "family " + *family + " is not contiguous");
      if (!current.empty()) closed.insert(current);
      current = *family;
    }
    auto& f = out.families[*family];
    if (f.type == "histogram" && s.name.ends_with("_bucket") && !s.labels.contains("le"))
      reject(n, "bucket without le");
    if (f.type == "summary" && s.name == *family && !s.labels.contains("quantile"))
      reject(n, "summary without quantile");
    std::string key = s.name;
    for (auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!series.insert(key).second) reject(n, "duplicate series " + key);
    f.samples.push_back(std::move(s));
  }
  // Histogram invariants, per label set without `le`.
  for (const auto& [name, f] : out.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    for (const auto& s : f.samples) {
      if (!s.name.ends_with("_bucket")) continue;
      auto key = s.labels;
      double le = parse_float(key.at("le"), 0);
      key.erase("le");
      buckets[key].emplace_back(le, s.value);
    }
    for (auto& [key, list] : buckets) {
      if (list.back().first != INFINITY) reject(0, name + ": last bucket is not +Inf");
      for (std::size_t k = 1; k < list.size(); ++k) {
        if (list[k].first <= list[k - 1].first) reject(0, name + ": le not increasing");
        if (list[k].second < list[k - 1].second) reject(0, name + ": buckets not cumulative");
      }
      bool count_matches = false;
      for (const auto& s : f.samples) {
        if (s.name == name + "_count" && s.labels == key) count_matches = s.value == list.back().second;
      }
      if (!count_matches) reject(0, name + ": +Inf bucket != _count");
    }
  }
  return out;
}

CacheDiagnosticSnapshot diagnostics(const std::string& area) {
  CacheMetrics m;
  m.local_hit.add(5);
  m.local_miss.add(2);
  m.load_total.add();
  m.latency.get.record(std::chrono::microseconds(80));
  m.latency.get.record(std::chrono::microseconds(300));
  m.latency.get.record(std::chrono::milliseconds(3));
  m.latency.load.record(std::chrono::milliseconds(12));
  CacheDiagnosticSnapshot d;
  d.config.area = area;
  d.metrics = m.snapshot();
  d.inflight_loads = 1;
  LocalStats local;
  local.entries = 7;
  local.weight = 9;
  local.capacity = 100;
  local.evictions_size = 4;
  local.evictions_expired = 1;
  local.policy_hits_dropped = 2;
  d.local = local;
  RemoteHealth remote;
  remote.connected = true;
  remote.circuit = "half_open";
  d.remote = remote;
  return d;
}

TEST(PrometheusParser, RejectsMalformedExpositions) {
  EXPECT_THROW(parse_exposition("x 1\n"), std::runtime_error) << "no TYPE";
  EXPECT_THROW(parse_exposition("# TYPE x counter\nx{a=\"1} 1\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE x counter\nx one\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE x counter\n# TYPE x counter\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE x counter\nx 1\nx 2\n"), std::runtime_error) << "duplicate";
  EXPECT_THROW(parse_exposition("# TYPE x counter\n# TYPE y counter\nx 1\ny 1\nx{a=\"b\"} 1\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"),
               std::runtime_error);
  EXPECT_NO_THROW(parse_exposition("# HELP x a\n# TYPE x counter\nx{a=\"q\\\"\\n\\\\\"} 1.5e3\n"));
}

TEST(Prometheus, OutputParsesAndCarriesCountersHistogramsSummariesAndGauges) {
  const std::string text = render_prometheus(diagnostics("users"));
  Parsed p;
  ASSERT_NO_THROW(p = parse_exposition(text)) << text;

  ASSERT_TRUE(p.families.contains("accelerator_cache_local_hit_total"));
  EXPECT_EQ(p.families.at("accelerator_cache_local_hit_total").type, "counter");
  EXPECT_EQ(p.families.at("accelerator_cache_local_hit_total").help, "L1 lookups that found a fresh entry");
  auto hit = p.find("accelerator_cache_local_hit_total", {{"area", "users"}});
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value, 5);
  EXPECT_EQ(p.find("accelerator_cache_local_miss_total", {{"area", "users"}})->value, 2);

  EXPECT_EQ(p.families.at("accelerator_cache_operation_duration_seconds").type, "histogram");
  auto get_count = p.find("accelerator_cache_operation_duration_seconds_count", {{"area", "users"}, {"op", "get"}});
  ASSERT_TRUE(get_count);
  EXPECT_EQ(get_count->value, 3);
  auto le_1ms = p.find("accelerator_cache_operation_duration_seconds_bucket",
                       {{"area", "users"}, {"op", "get"}, {"le", "0.001"}});
  ASSERT_TRUE(le_1ms);
  EXPECT_EQ(le_1ms->value, 2) << "80 us and 300 us are <= 1 ms, 3 ms is not";
  auto sum = p.find("accelerator_cache_operation_duration_seconds_sum", {{"area", "users"}, {"op", "get"}});
  EXPECT_NEAR(sum->value, 0.00338, 1e-12);

  EXPECT_EQ(p.families.at("accelerator_cache_operation_latency_seconds").type, "summary");
  auto p99 =
      p.find("accelerator_cache_operation_latency_seconds", {{"area", "users"}, {"op", "load"}, {"quantile", "0.99"}});
  ASSERT_TRUE(p99);
  EXPECT_EQ(p99->value, 0.012) << "capped by the exact max";
  EXPECT_EQ(p.find("accelerator_cache_operation_duration_max_seconds", {{"area", "users"}, {"op", "get"}})->value,
            0.003);
  EXPECT_EQ(p.find("accelerator_cache_operation_duration_seconds_count", {{"area", "users"}, {"op", "set"}})->value, 0)
      << "empty series exist from the start";

  EXPECT_EQ(p.families.at("accelerator_cache_local_entries").type, "gauge");
  EXPECT_EQ(p.find("accelerator_cache_local_entries", {{"area", "users"}})->value, 7);
  EXPECT_EQ(p.find("accelerator_cache_local_weight", {{"area", "users"}})->value, 9);
  EXPECT_EQ(p.find("accelerator_cache_local_evictions_total", {{"area", "users"}, {"cause", "size"}})->value, 4);
  EXPECT_EQ(p.families.at("accelerator_cache_local_policy_hits_dropped_total").type, "counter");
  EXPECT_EQ(p.find("accelerator_cache_local_policy_hits_dropped_total", {{"area", "users"}})->value, 2);
  EXPECT_EQ(p.find("accelerator_cache_inflight_loads", {{"area", "users"}})->value, 1);
  EXPECT_EQ(p.find("accelerator_cache_circuit_breaker_state", {{"area", "users"}})->value, 1);
  EXPECT_EQ(p.find("accelerator_cache_remote_connected", {{"area", "users"}})->value, 1);
}

TEST(Prometheus, SeveralCachesShareFamiliesAndEscapeAreas) {
  const std::string text = render_prometheus({diagnostics("users"), diagnostics("we\"ird\\area\nx")});
  Parsed p;
  ASSERT_NO_THROW(p = parse_exposition(text)) << text;
  EXPECT_TRUE(p.find("accelerator_cache_local_hit_total", {{"area", "users"}}));
  EXPECT_TRUE(p.find("accelerator_cache_local_hit_total", {{"area", "we\"ird\\area\nx"}}));
  EXPECT_EQ(p.families.at("accelerator_cache_local_hit_total").samples.size(), 2u);
}

}  // namespace
}  // namespace accelerator
