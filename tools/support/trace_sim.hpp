// tools/support/trace_sim.hpp — trace replay for accelerator-sim.
//
// A trace is a sequence of integer keys; replay looks each key up and inserts it on a miss.
// Policies: "wtinylfu" (the engine's TinyLfuPolicy, the very class the L1 cache runs), "lru"
// (plain LRU) and "opt" (Belady's clairvoyant policy: on a miss with a full cache, drop the
// resident — or the newcomer — whose next use is farthest away).
// Thread-safety: none needed (single-threaded tool).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace accelerator::tools {

// Keys of a gzip (or plain) text trace, one decimal key per line. Throws std::runtime_error.
std::vector<std::uint64_t> read_trace(const std::string& path);

// Hit ratio (hits / requests) of `policy` with room for `capacity` entries.
// Throws std::invalid_argument for an unknown policy.
double simulate(const std::vector<std::uint64_t>& trace, std::size_t capacity, const std::string& policy);

// An SVG line chart of hit ratio against capacity, one line per named series.
struct Series {
  std::string name;
  std::vector<double> hit_ratios;  // one per capacity
};
std::string render_curve_svg(const std::string& title, const std::vector<std::size_t>& capacities,
                             const std::vector<Series>& series);

}  // namespace accelerator::tools
