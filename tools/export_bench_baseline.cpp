// export_bench_baseline — turns Google Benchmark runs into the committed baseline.
//
//   export_bench_baseline [--output FILE] RUN.json [RUN.json ...]
//
// Each RUN.json is the --benchmark_format=json output of one run (of cache_path_bench, say).
// Per case it records the median over the runs, with mean, min, max, MAD and spread, and the
// machine fingerprint from the runs' context (all runs must come from the same machine and
// build). Format: tools/support/bench_gate.hpp. Default output:
// docs/benchmarks/cache_path_bench.json. Exit 0 written, 1 bad input, 2 bad arguments.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/bench_gate.hpp"

namespace {

constexpr const char* kUsage =
    "usage: export_bench_baseline [--output FILE] RUN.json [RUN.json ...]\n"
    "  RUN.json      Google Benchmark JSON of one run (--benchmark_format=json)\n"
    "  --output FILE baseline to write (default docs/benchmarks/cache_path_bench.json)\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace accelerator::tools;
  std::string output = "docs/benchmarks/cache_path_bench.json";
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--output" || arg == "-o") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      output = argv[++i];
    } else if (arg.rfind("--output=", 0) == 0) {
      output = arg.substr(9);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) return usage_error("no run files given");
  if (output.empty()) return usage_error("--output is empty");

  Samples samples;
  Fingerprint machine;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto doc = read_json(inputs[i]);
    if (!doc) {
      std::fprintf(stderr, "error: %s\n", doc.error().c_str());
      return 1;
    }
    auto fp = add_run(*doc, samples);
    if (!fp) {
      std::fprintf(stderr, "error: %s: %s\n", inputs[i].c_str(), fp.error().c_str());
      return 1;
    }
    if (i == 0) {
      machine = *fp;
    } else if (!fp->same_machine(machine)) {
      std::fprintf(stderr, "error: %s comes from another machine or build than %s\n", inputs[i].c_str(),
                   inputs[0].c_str());
      return 1;
    }
  }
  const Cases cases = summarize_all(samples);
  for (const auto& [id, s] : cases) {
    if (s.runs != inputs.size()) {
      std::fprintf(stderr, "error: case %s is in %zu of %zu runs\n", id.c_str(), s.runs, inputs.size());
      return 1;
    }
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(output).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(output);
  out << baseline_json(machine, cases).dump(2) << "\n";
  out.close();
  if (!out) {
    std::fprintf(stderr, "error: cannot write %s\n", output.c_str());
    return 1;
  }
  std::printf("wrote baseline: %s (%zu cases, %zu runs, %s, %d cores, %s, %s)\n", output.c_str(), cases.size(),
              inputs.size(), machine.cpu_model.c_str(), machine.cores, machine.compiler.c_str(),
              machine.build_type.c_str());
  for (const auto& [pair, overhead] : macro_overhead(cases)) {
    std::printf("  decorator overhead %-28s %+6.1f%%\n", pair.c_str(), 100 * overhead);
  }
  return 0;
}
