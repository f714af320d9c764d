// tools/support/bench_gate.hpp — benchmark baselines and the regression gate.
//
// Input: Google Benchmark JSON (`--benchmark_format=json` / `--benchmark_out`), one file per run;
// a file may also hold several repetitions. Each "iteration" entry is one sample of its case:
// nanoseconds per iteration, wall time for names ending in /real_time, CPU time otherwise. The
// case id is the benchmark name without Google Benchmark's option suffixes (/real_time,
// /min_time:..., /iterations:..., /repeats:...), so "remote/batch/hit_manual/32/real_time" is
// "remote/batch/hit_manual/32".
//
// Baseline file (docs/benchmarks/cache_path_bench.json), pretty-printed, keys sorted:
//   {"version": 2, "unit": "ns",
//    "machine": {"cpu_model", "cores", "compiler", "build_type", "host"},
//    "benchmarks": {"<id>": {"median_ns", "mean_ns", "min_ns", "max_ns", "mad_ns", "spread_pct", "runs"}}}
// spread_pct = 100 * (max - min) / median over the runs.
//
// The gate compares MEDIANS. A case is a regression when current / baseline - 1 > threshold.
// A baseline case absent from the current run, or a baseline median that is not a positive
// finite number, fails the gate as well (a deleted or broken case must not pass silently).
// Cases only in the current run are reported as new and do not fail it.
// Thread-safety: none needed (single-threaded tools). Errors are returned as messages.
#pragma once

#include <cstddef>
#include <expected>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace accelerator::tools {

struct Fingerprint {
  std::string cpu_model;
  int cores = 0;
  std::string compiler;
  std::string build_type;
  std::string host;  // recorded, not compared (containers get a new name per start)
  bool same_machine(const Fingerprint& o) const {
    return cpu_model == o.cpu_model && cores == o.cores && compiler == o.compiler && build_type == o.build_type;
  }
};

struct CaseStats {
  double median_ns = 0;
  double mean_ns = 0;
  double min_ns = 0;
  double max_ns = 0;
  double mad_ns = 0;  // median absolute deviation
  double spread_pct = 0;
  std::size_t runs = 0;
};

using Samples = std::map<std::string, std::vector<double>>;  // id -> ns per iteration, one per run
using Cases = std::map<std::string, CaseStats>;

// Case id of a Google Benchmark name (see above).
std::string case_id(const std::string& name);

// Adds the samples of one Google Benchmark JSON document. Fails on a malformed document, an
// unknown time unit, a case that reported an error, or a document without any sample.
std::expected<Fingerprint, std::string> add_run(const nlohmann::json& doc, Samples& into);

// Reads and parses a JSON file.
std::expected<nlohmann::json, std::string> read_json(const std::string& path);

// Median, mean, extremes, MAD and spread of non-empty samples.
CaseStats summarize(std::vector<double> samples);
Cases summarize_all(const Samples& samples);

nlohmann::json baseline_json(const Fingerprint& machine, const Cases& cases);
struct Baseline {
  Fingerprint machine;
  Cases cases;
};
// Fails when the document is not a baseline or has no cases. Invalid medians are kept (the
// comparison reports them).
std::expected<Baseline, std::string> parse_baseline(const nlohmann::json& doc);

// True for documents in baseline format (an object of cases rather than a list of runs).
bool is_baseline(const nlohmann::json& doc);

enum class Verdict { Ok, Faster, Regression, Missing, InvalidBaseline, New };
const char* to_string(Verdict v);

struct Row {
  std::string id;
  double base_ns = 0;
  double base_spread_pct = 0;
  double current_ns = 0;
  double delta = 0;  // current / base - 1
  Verdict verdict = Verdict::Ok;
};

struct Comparison {
  std::vector<Row> rows;  // baseline ids in sorted order, then new ids
  int regressions = 0;
  int missing = 0;
  int invalid = 0;
  bool failed() const { return regressions + missing + invalid > 0; }
};

// "Faster" when current / base - 1 < -threshold.
Comparison compare(const Baseline& baseline, const Cases& current, double threshold);

// A fixed-width table of the comparison and a one-line verdict.
std::string render(const Comparison& comparison, double threshold);

// Decorator overhead: for every "<x>_manual<y>" (get + set by hand) with a matching
// "<x>_macro<y>", the pair name ("<x><y>") and macro / manual - 1 of the medians; for every
// "<x>_manual_load<y>" (get_or_load by hand) the same against "<x>_macro<y>", named
// "<x><y> vs get_or_load".
std::vector<std::pair<std::string, double>> macro_overhead(const Cases& cases);

}  // namespace accelerator::tools
