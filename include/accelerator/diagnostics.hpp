// accelerator/diagnostics.hpp — a read-only view of a cache's state for operators.
#pragma once

#include <optional>
#include <string>

#include "accelerator/backend.hpp"
#include "accelerator/config.hpp"
#include "accelerator/metrics.hpp"

namespace accelerator {

struct CacheDiagnosticSnapshot {
  CacheConfig config;                 // the effective (validated, normalised) configuration
  CacheMetricsSnapshot metrics;
  bool local_backend_ready = false;   // an L1 was supplied and the mode uses it
  bool remote_backend_ready = false;  // an L2 was supplied and the mode uses it
  bool loader_configured = false;
  bool invalidation_listener_started = false;
  bool invalidation_listener_active = false;  // subscription confirmed right now
  std::optional<std::string> invalidation_channel;
  std::string instance_id;            // the origin id this instance stamps on its messages
  std::size_t inflight_loads = 0;     // keys with a load or refresh running now
  std::optional<LocalStats> local;    // L1 occupancy, when the mode uses L1
  std::optional<RemoteHealth> remote;  // when the remote backend reports health
};

}  // namespace accelerator
