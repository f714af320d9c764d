#include "accelerator/config.hpp"

#include <cctype>
#include <cmath>

namespace accelerator {

std::string_view to_string(CacheMode mode) noexcept {
  switch (mode) {
    case CacheMode::Local: return "Local";
    case CacheMode::Remote: return "Remote";
    case CacheMode::Both: return "Both";
  }
  return "unknown";
}

namespace {

std::string trim(const std::string& s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  return s.substr(begin, end - begin);
}

std::optional<CacheError> reject(std::string message) { return CacheError::invalid_config(std::move(message)); }

}  // namespace

std::optional<CacheError> validate(CacheConfig& c) {
  using std::chrono::milliseconds;
  c.area = trim(c.area);
  if (c.area.empty()) return reject("area must not be empty");
  for (unsigned char ch : c.area) {
    if (std::iscntrl(ch)) return reject("area must not contain control characters");
  }
  // A TTL is only required for a layer the mode uses (the seed demanded all three, §18.18).
  if (c.uses_local() && c.local_ttl <= milliseconds::zero()) return reject("local_ttl must be > 0");
  if (c.uses_remote() && c.remote_ttl <= milliseconds::zero()) return reject("remote_ttl must be > 0");
  if (c.null_ttl <= milliseconds::zero()) return reject("null_ttl must be > 0");
  if (c.warmup_batch_size == 0) return reject("warmup_batch_size must be > 0");
  if (c.ttl_jitter_ratio) {
    const double r = *c.ttl_jitter_ratio;
    if (std::isnan(r) || r < 0.0 || r > 1.0) return reject("ttl_jitter_ratio must be in [0.0, 1.0]");
  }
  if (c.loader_timeout && *c.loader_timeout <= milliseconds::zero()) {
    return reject("loader_timeout must be > 0 (use disable_loader_timeout() for no limit)");
  }
  if (c.refresh_ahead) {
    if (c.refresh_ahead_window <= milliseconds::zero()) return reject("refresh_ahead_window must be > 0");
    if (c.uses_local() && c.refresh_ahead_window >= c.local_ttl) {
      return reject("refresh_ahead_window must be < local_ttl (otherwise every hit reloads)");
    }
  }
  if (c.stale_on_error && c.stale_grace <= milliseconds::zero()) {
    return reject("stale_grace must be > 0 when stale_on_error is on");
  }
  if (c.max_key_bytes == 0) return reject("max_key_bytes must be > 0");
  if (c.invalidation_batch_max_keys == 0) return reject("invalidation_batch_max_keys must be > 0");
  return std::nullopt;
}

}  // namespace accelerator
