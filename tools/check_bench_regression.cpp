// check_bench_regression — the benchmark regression gate.
//
//   check_bench_regression [--baseline FILE] [--threshold R] CURRENT.json [CURRENT.json ...]
//
// CURRENT files are Google Benchmark JSON runs (the median over them is compared) or one file in
// baseline format. Compares the median of every baseline case with the current median and prints
// a table. Exit 1 when a case is slower than baseline * (1 + R), when a baseline case is missing
// from the current run, when a baseline value is not a positive number, or on unreadable input;
// exit 2 on bad arguments; 0 otherwise. R is a fraction (0.15 = 15 %, the default), any finite
// value >= 0. A different machine fingerprint is reported, not failed: medians from another
// machine are still compared, but read them with care.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/bench_gate.hpp"

namespace {

constexpr const char* kUsage =
    "usage: check_bench_regression [--baseline FILE] [--threshold R] CURRENT.json [CURRENT.json ...]\n"
    "  --baseline FILE  default docs/benchmarks/cache_path_bench.json\n"
    "  --threshold R    allowed slow-down of a median, as a fraction (default 0.15)\n"
    "  CURRENT.json     Google Benchmark JSON runs (medians over them), or a baseline-format file\n"
    "exit: 0 pass, 1 regression / missing case / bad input, 2 bad arguments\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int input_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

std::string describe(const accelerator::tools::Fingerprint& f) {
  return f.cpu_model + ", " + std::to_string(f.cores) + " cores, " + f.compiler + ", " + f.build_type;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace accelerator::tools;
  std::string baseline_path = "docs/benchmarks/cache_path_bench.json";
  double threshold = 0.15;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& name) -> const char* {
      if (arg.rfind(name + "=", 0) == 0) return argv[i] + name.size() + 1;
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--baseline" || arg.rfind("--baseline=", 0) == 0) {
      const char* v = value("--baseline");
      if (v == nullptr || *v == '\0') return usage_error("--baseline needs a file");
      baseline_path = v;
    } else if (arg == "--threshold" || arg.rfind("--threshold=", 0) == 0) {
      const char* v = value("--threshold");
      if (v == nullptr) return usage_error("--threshold needs a value");
      char* end = nullptr;
      errno = 0;
      threshold = std::strtod(v, &end);
      if (*v == '\0' || *end != '\0' || errno != 0 || !std::isfinite(threshold)) {
        return usage_error(std::string("invalid --threshold value: ") + v);
      }
      if (threshold < 0) return usage_error(std::string("--threshold must be >= 0: ") + v);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) return usage_error("no current results given");

  auto base_doc = read_json(baseline_path);
  if (!base_doc) return input_error(base_doc.error());
  auto baseline = parse_baseline(*base_doc);
  if (!baseline) return input_error(baseline_path + ": " + baseline.error());

  Cases current;
  Fingerprint machine;
  if (inputs.size() == 1) {
    auto doc = read_json(inputs[0]);
    if (!doc) return input_error(doc.error());
    if (is_baseline(*doc)) {
      auto parsed = parse_baseline(*doc);
      if (!parsed) return input_error(inputs[0] + ": " + parsed.error());
      current = parsed->cases;
      machine = parsed->machine;
    } else {
      Samples samples;
      auto fp = add_run(*doc, samples);
      if (!fp) return input_error(inputs[0] + ": " + fp.error());
      current = summarize_all(samples);
      machine = *fp;
    }
  } else {
    Samples samples;
    for (const auto& path : inputs) {
      auto doc = read_json(path);
      if (!doc) return input_error(doc.error());
      auto fp = add_run(*doc, samples);
      if (!fp) return input_error(path + ": " + fp.error());
      machine = *fp;
    }
    current = summarize_all(samples);
  }

  std::printf("baseline: %s (%s)\n", baseline_path.c_str(), describe(baseline->machine).c_str());
  std::printf("current:  %zu run file(s) (%s)\n", inputs.size(), describe(machine).c_str());
  if (!machine.same_machine(baseline->machine)) {
    std::printf("[WARN] the machine or build differs from the baseline's: compare with care\n");
  }
  const Comparison comparison = compare(*baseline, current, threshold);
  std::fputs(render(comparison, threshold).c_str(), stdout);
  for (const auto& [pair, overhead] : macro_overhead(current)) {
    std::printf("decorator overhead %-28s %+6.1f%%\n", pair.c_str(), 100 * overhead);
  }
  return comparison.failed() ? 1 : 0;
}
