// OTLP/JSON encoding (the protobuf JSON mapping of the OTLP export requests): 64-bit integers
// are strings, trace/span ids are lower-case hex, enums are numbers.
#include <nlohmann/json.hpp>

#include <map>

#include "accelerator/observability/otlp.hpp"

namespace accelerator {

namespace {

using nlohmann::json;

std::string unix_nanos(std::chrono::system_clock::time_point t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

json attributes(const std::vector<std::pair<std::string, std::string>>& list) {
  json out = json::array();
  for (const auto& [k, v] : list) out.push_back({{"key", k}, {"value", {{"stringValue", v}}}});
  return out;
}

json resource(const OtlpConfig& c) {
  std::vector<std::pair<std::string, std::string>> attrs{{"service.name", c.service_name},
                                                         {"telemetry.sdk.name", "accelerator"},
                                                         {"telemetry.sdk.language", "cpp"}};
  if (!c.service_namespace.empty()) attrs.emplace_back("service.namespace", c.service_namespace);
  if (!c.service_version.empty()) attrs.emplace_back("service.version", c.service_version);
  return {{"attributes", attributes(attrs)}};
}

const json& scope() {
  static const json s = {{"name", "accelerator"}, {"version", "0.1.0"}};
  return s;
}

}  // namespace

std::string otlp_signal_url(const std::string& endpoint, std::string_view signal_path) {
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (std::string_view known : {"/v1/metrics", "/v1/traces"}) {
    if (base.ends_with(known)) {
      if (known == signal_path) return base;
      base.erase(base.size() - known.size());
    }
  }
  return base + std::string(signal_path);
}

std::string otlp_metrics_json(const OtlpConfig& config, const std::vector<OtelMetricPoint>& points) {
  // One metric per name, its points as data points (e.g. one per area and op).
  std::vector<std::string> order;
  std::map<std::string, json> metrics;
  for (const auto& p : points) {
    auto [it, inserted] = metrics.try_emplace(p.name);
    json& m = it->second;
    if (inserted) {
      order.push_back(p.name);
      m = {{"name", p.name}, {"description", p.description}, {"unit", p.unit}};
      switch (p.kind) {
        case OtelInstrument::Sum:
          m["sum"] = {{"dataPoints", json::array()}, {"aggregationTemporality", 2}, {"isMonotonic", true}};
          break;
        case OtelInstrument::Gauge: m["gauge"] = {{"dataPoints", json::array()}}; break;
        case OtelInstrument::Histogram:
          m["histogram"] = {{"dataPoints", json::array()}, {"aggregationTemporality", 2}};
          break;
      }
    }
    json dp = {{"attributes", attributes(p.attributes)},
               {"startTimeUnixNano", unix_nanos(p.start_time)},
               {"timeUnixNano", unix_nanos(p.time)}};
    if (p.kind == OtelInstrument::Histogram && p.histogram) {
      const auto& h = *p.histogram;
      json counts = json::array();
      for (auto c : h.bucket_counts) counts.push_back(std::to_string(c));
      dp["count"] = std::to_string(h.count);
      dp["sum"] = h.sum;
      dp["max"] = h.max;
      dp["bucketCounts"] = counts;
      dp["explicitBounds"] = h.bounds;
      m["histogram"]["dataPoints"].push_back(dp);
    } else {
      dp["asInt"] = std::to_string(p.value);
      m[p.kind == OtelInstrument::Sum ? "sum" : "gauge"]["dataPoints"].push_back(dp);
    }
  }
  json list = json::array();
  for (const auto& name : order) list.push_back(std::move(metrics[name]));
  json body = {{"resourceMetrics", json::array({{{"resource", resource(config)},
                                                  {"scopeMetrics", json::array({{{"scope", scope()},
                                                                                 {"metrics", list}}})}}})}};
  return body.dump();
}

std::string otlp_traces_json(const OtlpConfig& config, const std::vector<SpanData>& spans) {
  json list = json::array();
  for (const auto& s : spans) {
    json span = {{"traceId", to_hex(s.context.trace_id.data(), 16)},
                 {"spanId", to_hex(s.context.span_id.data(), 8)},
                 {"name", s.name},
                 {"kind", 1},  // SPAN_KIND_INTERNAL
                 {"startTimeUnixNano", unix_nanos(s.start)},
                 {"endTimeUnixNano", unix_nanos(s.end)},
                 {"attributes", attributes(s.attributes)},
                 {"status", {{"code", s.status == SpanStatus::Ok ? 1 : s.status == SpanStatus::Error ? 2 : 0}}}};
    if (s.parent_span_id != std::array<std::uint8_t, 8>{}) span["parentSpanId"] = to_hex(s.parent_span_id.data(), 8);
    if (!s.status_message.empty()) span["status"]["message"] = s.status_message;
    list.push_back(std::move(span));
  }
  json body = {{"resourceSpans", json::array({{{"resource", resource(config)},
                                                {"scopeSpans", json::array({{{"scope", scope()}, {"spans", list}}})}}})}};
  return body.dump();
}

}  // namespace accelerator
