#include "accelerator/observability/prometheus.hpp"

#include <fmt/format.h>

#include <map>
#include <vector>

#include "accelerator/observability/otel.hpp"

namespace accelerator {

namespace {

// One metric family: its header and its sample lines, in the order first seen.
struct Family {
  std::string help;
  std::string type;
  std::vector<std::string> samples;
};

class Exposition {
 public:
  Family& family(const std::string& name, std::string_view help, std::string_view type) {
    auto [it, inserted] = index_.try_emplace(name, families_.size());
    if (inserted) families_.push_back({name, Family{std::string(help), std::string(type), {}}});
    return families_[it->second].second;
  }

  std::string text() const {
    std::string out;
    for (const auto& [name, f] : families_) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(f.help), name, f.type);
      for (const auto& s : f.samples) out += s;
    }
    return out;
  }

 private:
  static std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    return out;
  }
  std::map<std::string, std::size_t> index_;
  std::vector<std::pair<std::string, Family>> families_;
};

std::string labels(const std::vector<std::pair<std::string, std::string>>& attributes, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("{}=\"{}\"", k, escape_label_value(v));
  };
  for (const auto& [k, v] : attributes) add(k, v);
  if (!extra_name.empty()) add(extra_name, extra_value);
  return out + "}";
}

std::string number(double v) { return fmt::format("{}", v); }

void render_cache(Exposition& e, const CacheDiagnosticSnapshot& d) {
  const std::vector<std::pair<std::string, std::string>> area{{"area", d.config.area}};
  for (const auto& p : to_otel_points(d)) {
    if (p.kind == OtelInstrument::Histogram) continue;  // rendered from the exact snapshots below
    auto& f = e.family(p.name, p.description, p.kind == OtelInstrument::Sum ? "counter" : "gauge");
    f.samples.push_back(fmt::format("{}{} {}\n", p.name, labels(p.attributes), p.value));
  }
  const auto& bounds = latency_bucket_bounds_seconds();
  for (const auto& l : latency_points(d.metrics)) {
    const HistogramSnapshot& h = *l.histogram;
    auto op = area;
    op.emplace_back("op", std::string(l.op));
    const std::string sum = number(static_cast<double>(h.sum) / 1e9);

    const std::string hist = "accelerator_cache_operation_duration_seconds";
    auto& fh = e.family(hist, "Wall time of cache operations by op", "histogram");
    for (double bound : bounds) {
      fh.samples.push_back(fmt::format("{}_bucket{} {}\n", hist, labels(op, "le", number(bound)),
                                       h.count_at_or_below(static_cast<std::uint64_t>(bound * 1e9))));
    }
    fh.samples.push_back(fmt::format("{}_bucket{} {}\n", hist, labels(op, "le", "+Inf"), h.count));
    fh.samples.push_back(fmt::format("{}_sum{} {}\n", hist, labels(op), sum));
    fh.samples.push_back(fmt::format("{}_count{} {}\n", hist, labels(op), h.count));

    const std::string summary = "accelerator_cache_operation_latency_seconds";
    auto& fs = e.family(summary, "Latency quantiles of cache operations by op (log-linear histogram, <=6.25% high)",
                        "summary");
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
      fs.samples.push_back(fmt::format("{}{} {}\n", summary, labels(op, "quantile", number(q)),
                                       number(static_cast<double>(h.percentile(q)) / 1e9)));
    }
    fs.samples.push_back(fmt::format("{}_sum{} {}\n", summary, labels(op), sum));
    fs.samples.push_back(fmt::format("{}_count{} {}\n", summary, labels(op), h.count));

    const std::string max = "accelerator_cache_operation_duration_max_seconds";
    e.family(max, "Longest cache operation since start, by op", "gauge")
        .samples.push_back(fmt::format("{}{} {}\n", max, labels(op), number(static_cast<double>(h.max) / 1e9)));
  }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_prometheus(std::span<const CacheDiagnosticSnapshot> caches) {
  Exposition e;
  for (const auto& d : caches) render_cache(e, d);
  return e.text();
}

std::string render_prometheus(const CacheDiagnosticSnapshot& cache) {
  return render_prometheus(std::span<const CacheDiagnosticSnapshot>(&cache, 1));
}

std::string render_prometheus(std::initializer_list<CacheDiagnosticSnapshot> caches) {
  return render_prometheus(std::span<const CacheDiagnosticSnapshot>(caches.begin(), caches.size()));
}

}  // namespace accelerator
