// accelerator-sim — replays a key trace against a cache policy and prints the hit ratio.
//
//   accelerator-sim --trace FILE --capacity N [--policy wtinylfu|lru|opt] [--curve OUT.svg]
//
// FILE holds one decimal key per line, gzip-compressed or plain. The last line printed is
// `hit_ratio=0.xxxx`. With --curve, the three policies are also run at capacities from N/8 to
// 4N and an SVG plot of hit ratio against capacity is written to OUT.svg.
// "wtinylfu" is the L1 engine's own policy class (TinyLfuPolicy), not a model of it.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "support/trace_sim.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: accelerator-sim --trace FILE --capacity N [--policy wtinylfu|lru|opt] [--curve OUT.svg]\n");
  return 2;
}

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

int main(int argc, char** argv) {
  std::string trace_path, policy = "wtinylfu", curve;
  std::size_t capacity = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--trace") {
      trace_path = value();
    } else if (arg == "--capacity") {
      capacity = std::strtoull(value().c_str(), nullptr, 10);
    } else if (arg == "--policy") {
      policy = value();
    } else if (arg == "--curve") {
      curve = value();
    } else {
      return usage();
    }
  }
  if (trace_path.empty() || capacity == 0 || (curve.empty() && policy.empty())) return usage();
  try {
    const auto trace = accelerator::tools::read_trace(trace_path);
    if (!curve.empty()) {
      std::vector<std::size_t> capacities;
      for (std::size_t c = std::max<std::size_t>(capacity / 8, 1); c <= capacity * 4; c *= 2) capacities.push_back(c);
      std::vector<accelerator::tools::Series> series;
      for (const char* p : {"wtinylfu", "lru", "opt"}) {
        accelerator::tools::Series s{p, {}};
        for (auto c : capacities) s.hit_ratios.push_back(accelerator::tools::simulate(trace, c, p));
        series.push_back(std::move(s));
      }
      std::ofstream out(curve);
      out << accelerator::tools::render_curve_svg("hit ratio: " + basename_of(trace_path), capacities, series);
      if (!out) throw std::runtime_error("cannot write " + curve);
      std::printf("curve=%s\n", curve.c_str());
    }
    const double ratio = accelerator::tools::simulate(trace, capacity, policy);
    std::printf("requests=%zu capacity=%zu policy=%s\n", trace.size(), capacity, policy.c_str());
    std::printf("hit_ratio=%.4f\n", ratio);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accelerator-sim: %s\n", e.what());
    return 1;
  }
  return 0;
}
