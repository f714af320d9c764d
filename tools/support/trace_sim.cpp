#include "trace_sim.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <list>
#include <memory>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "accelerator/local/hashing.hpp"
#include "accelerator/local/tiny_lfu_policy.hpp"

namespace accelerator::tools {
namespace {

// Replaces keys by dense indices 0..n-1 so the policies can use flat arrays.
std::vector<std::uint32_t> densify(const std::vector<std::uint64_t>& trace, std::size_t& distinct) {
  std::unordered_map<std::uint64_t, std::uint32_t> ids;
  ids.reserve(trace.size() / 4 + 16);
  std::vector<std::uint32_t> out;
  out.reserve(trace.size());
  for (auto key : trace) out.push_back(ids.emplace(key, static_cast<std::uint32_t>(ids.size())).first->second);
  distinct = ids.size();
  return out;
}

double lru(const std::vector<std::uint32_t>& trace, std::size_t distinct, std::size_t capacity) {
  std::list<std::uint32_t> order;  // front = most recent
  std::vector<std::list<std::uint32_t>::iterator> where(distinct, order.end());
  std::vector<bool> resident(distinct, false);
  std::size_t hits = 0;
  for (auto key : trace) {
    if (resident[key]) {
      ++hits;
      order.splice(order.begin(), order, where[key]);
      continue;
    }
    order.push_front(key);
    where[key] = order.begin();
    resident[key] = true;
    if (order.size() > capacity) {
      resident[order.back()] = false;
      order.pop_back();
    }
  }
  return trace.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(trace.size());
}

double opt(const std::vector<std::uint32_t>& trace, std::size_t distinct, std::size_t capacity) {
  constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> next_use(trace.size());
  std::vector<std::size_t> upcoming(distinct, kNever);
  for (std::size_t i = trace.size(); i-- > 0;) {
    next_use[i] = upcoming[trace[i]];
    upcoming[trace[i]] = i;
  }
  // Max-heap of (next use, key) with lazy deletion: an item is current iff it matches due[key].
  std::priority_queue<std::pair<std::size_t, std::uint32_t>> heap;
  std::vector<std::size_t> due(distinct, 0);
  std::vector<bool> resident(distinct, false);
  std::size_t size = 0, hits = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const auto key = trace[i];
    if (resident[key]) {
      ++hits;
    } else {
      if (size == capacity) {
        while (!resident[heap.top().second] || due[heap.top().second] != heap.top().first) heap.pop();
        // Bypass: if the newcomer is needed later than every resident, do not cache it.
        if (heap.top().first <= next_use[i]) continue;
        resident[heap.top().second] = false;
        heap.pop();
        --size;
      }
      resident[key] = true;
      ++size;
    }
    due[key] = next_use[i];
    heap.emplace(next_use[i], key);
  }
  return trace.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(trace.size());
}

double wtinylfu(const std::vector<std::uint64_t>& keys, const std::vector<std::uint32_t>& trace,
                std::size_t distinct, std::size_t capacity) {
  using local::TinyLfuPolicy;
  local::TinyLfuOptions options;
  options.maximum = capacity;
  TinyLfuPolicy policy(options);
  std::vector<TinyLfuPolicy::Id> id_of(distinct, TinyLfuPolicy::kNil);
  std::vector<std::uint32_t> key_of;
  std::vector<TinyLfuPolicy::Id> victims;
  std::size_t hits = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const auto key = trace[i];
    if (id_of[key] != TinyLfuPolicy::kNil) {
      ++hits;
      policy.access(id_of[key]);
      continue;
    }
    // Same hash as the engine applies to a u64 key (std::hash is the identity for integers).
    const auto id = policy.add(static_cast<std::uint32_t>(local::spread_hash(keys[i])), 1);
    if (id >= key_of.size()) key_of.resize(id + 1);
    key_of[id] = key;
    id_of[key] = id;
    victims.clear();
    policy.evict(victims);
    for (auto victim : victims) id_of[key_of[victim]] = TinyLfuPolicy::kNil;
  }
  return trace.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(trace.size());
}

}  // namespace

std::vector<std::uint64_t> read_trace(const std::string& path) {
  // gzip -dc also passes plain text through (-f), so both forms are accepted.
  std::string quoted = "'";
  for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const std::string command = "gzip -dcf " + quoted;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::vector<std::uint64_t> keys;
  char line[128];
  while (std::fgets(line, sizeof line, pipe.get())) {
    char* end = nullptr;
    const auto key = std::strtoull(line, &end, 10);
    if (end != line) keys.push_back(key);
  }
  if (pclose(pipe.release()) != 0 || keys.empty()) throw std::runtime_error("cannot read trace: " + path);
  return keys;
}

double simulate(const std::vector<std::uint64_t>& trace, std::size_t capacity, const std::string& policy) {
  std::size_t distinct = 0;
  const auto dense = densify(trace, distinct);
  capacity = std::max<std::size_t>(capacity, 1);
  if (policy == "lru") return lru(dense, distinct, capacity);
  if (policy == "opt") return opt(dense, distinct, capacity);
  if (policy == "wtinylfu") return wtinylfu(trace, dense, distinct, capacity);
  throw std::invalid_argument("unknown policy: " + policy + " (expected wtinylfu, lru or opt)");
}

std::string render_curve_svg(const std::string& title, const std::vector<std::size_t>& capacities,
                             const std::vector<Series>& series) {
  constexpr double kWidth = 720, kHeight = 440, kLeft = 60, kRight = 150, kTop = 40, kBottom = 50;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const char* colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"};
  const std::size_t n = capacities.size();
  auto x_at = [&](std::size_t i) { return kLeft + (n > 1 ? plot_w * static_cast<double>(i) / (n - 1) : 0.0); };
  auto y_at = [&](double ratio) { return kTop + plot_h * (1.0 - ratio); };
  std::ostringstream svg;
  svg.setf(std::ios::fixed);
  svg.precision(1);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"24\" font-size=\"15\">" << title << "</text>\n";
  for (int tick = 0; tick <= 10; tick += 2) {
    const double y = y_at(tick / 10.0);
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << y << "\" x2=\"" << kLeft + plot_w << "\" y2=\"" << y
        << "\" stroke=\"#ddd\"/>\n<text x=\"" << kLeft - 8 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">0."
        << tick << "</text>\n";
  }
  for (std::size_t i = 0; i < n; ++i) {
    svg << "<text x=\"" << x_at(i) << "\" y=\"" << kTop + plot_h + 18 << "\" text-anchor=\"middle\">"
        << capacities[i] << "</text>\n";
  }
  svg << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kHeight - 10
      << "\" text-anchor=\"middle\">capacity (entries)</text>\n"
      << "<text transform=\"translate(16," << kTop + plot_h / 2 << ") rotate(-90)\" text-anchor=\"middle\">hit ratio</text>\n";
  for (std::size_t s = 0; s < series.size(); ++s) {
    const char* color = colors[s % 5];
    svg << "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" << color << "\" points=\"";
    for (std::size_t i = 0; i < n && i < series[s].hit_ratios.size(); ++i) {
      svg << x_at(i) << "," << y_at(series[s].hit_ratios[i]) << " ";
    }
    svg << "\"/>\n";
    const double ly = kTop + 20.0 * static_cast<double>(s) + 10;
    svg << "<line x1=\"" << kLeft + plot_w + 15 << "\" y1=\"" << ly << "\" x2=\"" << kLeft + plot_w + 40 << "\" y2=\""
        << ly << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n<text x=\"" << kLeft + plot_w + 46
        << "\" y=\"" << ly + 4 << "\">" << series[s].name << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace accelerator::tools
