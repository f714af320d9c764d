#include "bench_gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string_view>

namespace accelerator::tools {

namespace {

bool valid_time(double ns) { return std::isfinite(ns) && ns > 0; }

std::expected<double, std::string> to_ns(double value, const std::string& unit) {
  if (unit == "ns") return value;
  if (unit == "us") return value * 1e3;
  if (unit == "ms") return value * 1e6;
  if (unit == "s") return value * 1e9;
  return std::unexpected("unknown time_unit \"" + unit + "\"");
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double round2(double x) { return std::round(x * 100) / 100; }

std::string string_field(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string case_id(const std::string& name) {
  std::string id = name;
  for (;;) {
    const auto slash = id.rfind('/');
    if (slash == std::string::npos) return id;
    const std::string last = id.substr(slash + 1);
    const bool option = last == "real_time" || last == "manual_time" || last.rfind("min_time:", 0) == 0 ||
                        last.rfind("iterations:", 0) == 0 || last.rfind("repeats:", 0) == 0;
    if (!option) return id;
    id.resize(slash);
  }
}

std::expected<nlohmann::json, std::string> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::unexpected("cannot read " + path);
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    return std::unexpected(path + ": invalid JSON: " + e.what());
  }
}

std::expected<Fingerprint, std::string> add_run(const nlohmann::json& doc, Samples& into) {
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    return std::unexpected("not a Google Benchmark JSON document (no \"benchmarks\" list)");
  }
  Fingerprint machine;
  if (auto ctx = doc.find("context"); ctx != doc.end() && ctx->is_object()) {
    machine.cpu_model = string_field(*ctx, "accelerator_cpu_model");
    machine.compiler = string_field(*ctx, "accelerator_compiler");
    machine.build_type = string_field(*ctx, "accelerator_build_type");
    machine.host = string_field(*ctx, "host_name");
    if (auto n = ctx->find("num_cpus"); n != ctx->end() && n->is_number_integer()) machine.cores = n->get<int>();
  }
  std::size_t added = 0;
  for (const auto& b : doc["benchmarks"]) {
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string()) {
      return std::unexpected("a benchmark entry has no name");
    }
    const std::string name = b["name"].get<std::string>();
    if (string_field(b, "run_type") == "aggregate") continue;
    if (b.value("error_occurred", false)) {
      return std::unexpected("case " + name + " reported an error: " + string_field(b, "error_message"));
    }
    const bool wall = name.find("/real_time") != std::string::npos;
    const char* field = wall ? "real_time" : "cpu_time";
    if (!b.contains(field) || !b[field].is_number()) return std::unexpected("case " + name + " has no " + field);
    const std::string unit = b.contains("time_unit") ? string_field(b, "time_unit") : "ns";
    auto ns = to_ns(b[field].get<double>(), unit);
    if (!ns) return std::unexpected("case " + name + ": " + ns.error());
    into[case_id(name)].push_back(*ns);
    ++added;
  }
  if (added == 0) return std::unexpected("no benchmark results in the document");
  return machine;
}

CaseStats summarize(std::vector<double> samples) {
  CaseStats s;
  if (samples.empty()) return s;
  s.runs = samples.size();
  s.median_ns = median_of(samples);
  s.mean_ns = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  s.min_ns = *lo;
  s.max_ns = *hi;
  std::vector<double> deviations;
  for (double x : samples) deviations.push_back(std::abs(x - s.median_ns));
  s.mad_ns = median_of(std::move(deviations));
  s.spread_pct = s.median_ns > 0 ? 100 * (s.max_ns - s.min_ns) / s.median_ns : 0;
  return s;
}

Cases summarize_all(const Samples& samples) {
  Cases out;
  for (const auto& [id, v] : samples) out.emplace(id, summarize(v));
  return out;
}

nlohmann::json baseline_json(const Fingerprint& machine, const Cases& cases) {
  nlohmann::json doc;
  doc["version"] = 2;
  doc["unit"] = "ns";
  doc["machine"] = {{"cpu_model", machine.cpu_model},
                    {"cores", machine.cores},
                    {"compiler", machine.compiler},
                    {"build_type", machine.build_type},
                    {"host", machine.host}};
  doc["benchmarks"] = nlohmann::json::object();
  for (const auto& [id, s] : cases) {
    doc["benchmarks"][id] = {{"median_ns", round2(s.median_ns)},
                             {"mean_ns", round2(s.mean_ns)},
                             {"min_ns", round2(s.min_ns)},
                             {"max_ns", round2(s.max_ns)},
                             {"mad_ns", round2(s.mad_ns)},
                             {"spread_pct", round2(s.spread_pct)},
                             {"runs", s.runs}};
  }
  return doc;
}

bool is_baseline(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("benchmarks") && doc["benchmarks"].is_object();
}

std::expected<Baseline, std::string> parse_baseline(const nlohmann::json& doc) {
  if (!is_baseline(doc)) return std::unexpected("not a baseline file (\"benchmarks\" must be an object)");
  Baseline b;
  if (auto m = doc.find("machine"); m != doc.end() && m->is_object()) {
    b.machine.cpu_model = string_field(*m, "cpu_model");
    b.machine.compiler = string_field(*m, "compiler");
    b.machine.build_type = string_field(*m, "build_type");
    b.machine.host = string_field(*m, "host");
    if (auto n = m->find("cores"); n != m->end() && n->is_number_integer()) b.machine.cores = n->get<int>();
  }
  for (const auto& [id, entry] : doc["benchmarks"].items()) {
    CaseStats s;
    if (entry.is_object()) {
      auto number = [&](const char* key) {
        auto it = entry.find(key);
        return it != entry.end() && it->is_number() ? it->get<double>() : std::nan("");
      };
      s.median_ns = number("median_ns");
      s.mean_ns = number("mean_ns");
      s.spread_pct = number("spread_pct");
      if (auto r = entry.find("runs"); r != entry.end() && r->is_number_unsigned()) s.runs = r->get<std::size_t>();
    } else {
      s.median_ns = std::nan("");
    }
    b.cases.emplace(id, s);
  }
  if (b.cases.empty()) return std::unexpected("the baseline holds no benchmarks");
  return b;
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Ok:
      return "ok";
    case Verdict::Faster:
      return "faster";
    case Verdict::Regression:
      return "REGRESSION";
    case Verdict::Missing:
      return "MISSING";
    case Verdict::InvalidBaseline:
      return "INVALID BASELINE";
    case Verdict::New:
      return "new";
  }
  return "?";
}

Comparison compare(const Baseline& baseline, const Cases& current, double threshold) {
  Comparison c;
  for (const auto& [id, base] : baseline.cases) {
    Row row{.id = id, .base_ns = base.median_ns, .base_spread_pct = base.spread_pct};
    auto it = current.find(id);
    if (!valid_time(base.median_ns)) {
      row.verdict = Verdict::InvalidBaseline;
      ++c.invalid;
    } else if (it == current.end() || it->second.runs == 0) {
      row.verdict = Verdict::Missing;
      ++c.missing;
    } else {
      row.current_ns = it->second.median_ns;
      row.delta = row.current_ns / row.base_ns - 1;
      if (!std::isfinite(row.delta) || row.delta > threshold) {
        row.verdict = Verdict::Regression;
        ++c.regressions;
      } else {
        row.verdict = row.delta < -threshold ? Verdict::Faster : Verdict::Ok;
      }
    }
    c.rows.push_back(row);
  }
  for (const auto& [id, now] : current) {
    if (baseline.cases.contains(id)) continue;
    c.rows.push_back(Row{.id = id, .current_ns = now.median_ns, .verdict = Verdict::New});
  }
  return c;
}

std::string render(const Comparison& c, double threshold) {
  std::size_t width = 4;
  for (const auto& row : c.rows) width = std::max(width, row.id.size());
  std::ostringstream out;
  out << fmt::format("{:<{}}  {:>12}  {:>7}  {:>12}  {:>8}  {}\n", "case", width, "baseline ns", "spread", "current ns",
                     "delta", "status");
  auto number = [](double x) { return std::isfinite(x) && x > 0 ? fmt::format("{:.1f}", x) : std::string("-"); };
  for (const auto& row : c.rows) {
    const bool compared = row.verdict == Verdict::Ok || row.verdict == Verdict::Faster ||
                          (row.verdict == Verdict::Regression && std::isfinite(row.delta));
    const std::string spread = std::isfinite(row.base_spread_pct) && row.verdict != Verdict::New
                                   ? fmt::format("{:.1f}%", row.base_spread_pct)
                                   : std::string("-");
    out << fmt::format("{:<{}}  {:>12}  {:>7}  {:>12}  {:>8}  {}\n", row.id, width,
                       row.verdict == Verdict::New ? std::string("-") : number(row.base_ns), spread,
                       number(row.current_ns), compared ? fmt::format("{:+.1f}%", 100 * row.delta) : std::string("-"),
                       to_string(row.verdict));
  }
  if (c.failed()) {
    out << fmt::format("[FAIL] {} regression(s) over +{:.1f}%, {} missing case(s), {} invalid baseline value(s)\n",
                       c.regressions, 100 * threshold, c.missing, c.invalid);
  } else {
    out << fmt::format("[PASS] no regression over +{:.1f}% (medians)\n", 100 * threshold);
  }
  return out.str();
}

std::vector<std::pair<std::string, double>> macro_overhead(const Cases& cases) {
  std::vector<std::pair<std::string, double>> out;
  constexpr std::string_view kManual = "_manual", kLoad = "_load";
  for (const auto& [id, manual] : cases) {
    const auto at = id.find(kManual);
    if (at == std::string::npos) continue;
    // "<case>_manual_load<rest>" is the hand-written get_or_load, "<case>_manual<rest>" get + set.
    const bool load = id.compare(at + kManual.size(), kLoad.size(), kLoad) == 0;
    const std::size_t length = kManual.size() + (load ? kLoad.size() : 0);
    std::string macro_id = id;
    macro_id.replace(at, length, "_macro");
    auto it = cases.find(macro_id);
    if (it == cases.end() || !valid_time(manual.median_ns) || !valid_time(it->second.median_ns)) continue;
    std::string pair = id;
    pair.erase(at, length);
    if (load) pair += " vs get_or_load";
    out.emplace_back(pair, it->second.median_ns / manual.median_ns - 1);
  }
  return out;
}

}  // namespace accelerator::tools
