#include "accelerator/observability/tracing.hpp"

#include <mutex>
#include <random>

namespace accelerator {

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> random_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::array<std::uint8_t, N> id{};
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t r = engine();
      for (std::size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
  } while (id == std::array<std::uint8_t, N>{});  // all-zero ids are invalid in OTel
  return id;
}

}  // namespace

bool SpanContext::valid() const noexcept { return trace_id != std::array<std::uint8_t, 16>{}; }

void Span::start(std::string_view name, const SpanContext& parent) {
  data_ = std::make_unique<SpanData>();
  data_->name = std::string(name);
  data_->context.trace_id = parent.valid() ? parent.trace_id : random_id<16>();
  data_->context.span_id = random_id<8>();
  if (parent.valid()) data_->parent_span_id = parent.span_id;
  data_->attributes.emplace_back("area", std::string(area_));
  data_->start = std::chrono::system_clock::now();
}

Span::Span(Span&& other) noexcept
    : tracer_(std::exchange(other.tracer_, nullptr)), area_(other.area_), data_(std::move(other.data_)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    tracer_ = std::exchange(other.tracer_, nullptr);
    area_ = other.area_;
    data_ = std::move(other.data_);
  }
  return *this;
}

SpanContext Span::context() const noexcept { return data_ ? data_->context : SpanContext{}; }

Span Span::child(std::string_view name) const {
  if (!data_) return Span();
  return Span(tracer_, name, area_, data_->context);
}

void Span::set_attribute(std::string_view key, std::string_view value) {
  if (data_) data_->attributes.emplace_back(std::string(key), std::string(value));
}

void Span::set_attribute(std::string_view key, std::uint64_t value) {
  if (data_) data_->attributes.emplace_back(std::string(key), std::to_string(value));
}

void Span::set_ok() noexcept {
  if (data_) data_->status = SpanStatus::Ok;
}

void Span::set_error(const CacheError& error) {
  if (!data_) return;
  data_->status = SpanStatus::Error;
  data_->status_message = error.to_string();
  data_->attributes.emplace_back("error.kind", std::string(error.tag()));
}

void Span::finish() noexcept {
  data_->end = std::chrono::system_clock::now();
  auto data = std::move(data_);
  try {
    tracer_->on_end(std::move(*data));
  } catch (...) {
    // A tracer failure must never fail a cache call.
  }
}

std::string to_hex(const std::uint8_t* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xf];
  }
  return out;
}

struct InMemoryTracer::Impl {
  mutable std::mutex mutex;
  std::vector<SpanData> spans;
};

std::shared_ptr<InMemoryTracer::Impl> InMemoryTracer::make_impl() { return std::make_shared<Impl>(); }

void InMemoryTracer::on_end(SpanData span) {
  std::lock_guard lock(impl_->mutex);
  impl_->spans.push_back(std::move(span));
}

std::vector<SpanData> InMemoryTracer::spans() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->spans;
}

}  // namespace accelerator
