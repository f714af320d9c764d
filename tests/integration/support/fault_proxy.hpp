// Integration-test harness: an in-process TCP proxy that injects faults between a client and
// Redis. Modes apply to data moving in both directions, on existing and new connections:
//   Pass       forward bytes as they come (optionally delayed by `latency`)
//   Blackhole  accept and read, but forward nothing (a hung server: no error, no reply)
// reset_all() aborts every open connection with a TCP RST, as a crashed peer would.
// Thread-safety: every member may be called from any thread; the proxy runs its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace accelerator::testing {

class FaultProxy {
 public:
  enum class Mode { Pass, Blackhole };

  // Listens on a free 127.0.0.1 port and forwards to 127.0.0.1:upstream_port.
  explicit FaultProxy(std::uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const;
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port()); }

  void set_mode(Mode mode);
  void set_latency(std::chrono::milliseconds latency);
  void reset_all();
  std::uint64_t accepted() const;  // connections accepted so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accelerator::testing
