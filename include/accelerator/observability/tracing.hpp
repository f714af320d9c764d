// accelerator/observability/tracing.hpp — a pluggable tracer and the spans the cache opens.
//
// Span names are the seed's (spec §11.4): cache.get, cache.mget, cache.set, cache.mset,
// cache.del, cache.mdel, cache.warmup, cache.load. Attributes: area (always), size for batch
// calls; never key or value data. Status: Ok, or Error with the CacheError's kind and text.
//
// Cost model: a Span built from a null Tracer* is empty (two pointers); every member then returns
// after one null check, with no allocation, no clock read. That is the default (no tracer), so
// tracing costs nothing measurable until a Tracer is installed. With a tracer, a span is one
// allocation (SpanData) and two clock reads, handed to Tracer::on_end when it ends.
//
// Context: coroutines hop threads, so there is no thread-local "current span". A child is made
// explicitly: Span load = span.child("cache.load") or Span(tracer, "cache.load", area,
// parent.context()) from another strand.
// Thread-safety: a Span belongs to one coroutine at a time; Tracer::on_end must be thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accelerator/error.hpp"

namespace accelerator {

enum class SpanStatus { Unset, Ok, Error };

struct SpanContext {
  std::array<std::uint8_t, 16> trace_id{};  // all zero: no parent
  std::array<std::uint8_t, 8> span_id{};
  bool valid() const noexcept;
};

// Everything a tracer receives about one finished span.
struct SpanData {
  std::string name;
  SpanContext context;
  std::array<std::uint8_t, 8> parent_span_id{};  // all zero for a root span
  std::vector<std::pair<std::string, std::string>> attributes;
  SpanStatus status = SpanStatus::Unset;
  std::string status_message;
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point end;
};

class Tracer {
 public:
  virtual ~Tracer() = default;
  // Receives each span once, when it ends. REQUIRES: thread-safe and quick (queue, don't send).
  virtual void on_end(SpanData span) = 0;
};

class Span {
 public:
  Span() noexcept = default;  // a no-op span
  // A root span, or a child of `parent` when parent.valid(). No-op when tracer is null (inline:
  // every cache call opens one, and without a tracer it must cost no call).
  Span(Tracer* tracer, std::string_view name, std::string_view area, const SpanContext& parent = {})
      : tracer_(tracer), area_(area) {
    if (tracer_) start(name, parent);
  }
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { end(); }

  bool recording() const noexcept { return data_ != nullptr; }
  SpanContext context() const noexcept;
  Span child(std::string_view name) const;

  void set_attribute(std::string_view key, std::string_view value);
  void set_attribute(std::string_view key, std::uint64_t value);
  void set_ok() noexcept;
  void set_error(const CacheError& error);
  // Records the outcome of a CacheResult: Ok, or Error with its error.
  template <class T>
  void set_result(const CacheResult<T>& result) {
    if (!data_) return;
    if (result) {
      set_ok();
    } else {
      set_error(result.error());
    }
  }
  // Ends the span now (idempotent; the destructor calls it).
  void end() noexcept {
    if (data_) finish();
  }

 private:
  void start(std::string_view name, const SpanContext& parent);
  void finish() noexcept;

  Tracer* tracer_ = nullptr;
  std::string_view area_;  // only read while data_ is set (child() copies it into the child)
  std::unique_ptr<SpanData> data_;
};

// Lower-case hex of an id, as OTLP/JSON encodes trace and span ids.
std::string to_hex(const std::uint8_t* bytes, std::size_t n);

// A tracer that keeps every span in memory (tests, debugging). Thread-safe.
class InMemoryTracer : public Tracer {
 public:
  void on_end(SpanData span) override;
  std::vector<SpanData> spans() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_ = make_impl();
  static std::shared_ptr<Impl> make_impl();
};

}  // namespace accelerator
