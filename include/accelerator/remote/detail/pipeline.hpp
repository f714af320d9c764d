// accelerator/remote/detail/pipeline.hpp — the request multiplexer of one Redis connection.
//
// Internal (sans-I/O). Requests are queued in issue order; the writer takes every queued request
// at once (one socket write for all of them: auto-pipelining) and replies are matched FIFO, since
// Redis answers a connection's commands in order. A request may carry several commands (mset is
// N SETs); it completes after its last reply, with an Array of the replies.
// Deadlines: every request gets `now + timeout` when pushed with the connection's single timeout,
// so deadlines never decrease along the queue and the front always expires first. That lets a
// connection use ONE timer for all of its requests.
// Invariants: the first `written()` requests are on the wire (awaiting replies), the rest are
// not. A written request that expires can no longer be matched safely (its reply may still
// come), so expire() reports it and the connection must be reset.
// Bytes: the unwritten requests' commands live in one buffer, in queue order, each request
// knowing its share; a command can be encoded straight into it (push with an encoder), and the
// writer takes the whole buffer at once. So an unwritten request that expires drops a prefix of
// it (the expired requests are the oldest).
// Reentrancy: completions run after the request left the queue, so a completion may push new
// requests into the same pipeline.
// Thread-safety: none; one pipeline belongs to one connection strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accelerator/error.hpp"
#include "accelerator/remote/detail/resp.hpp"

namespace accelerator::remote::detail {

using Completion = std::move_only_function<void(CacheResult<RespValue>)>;
using TimePoint = std::chrono::steady_clock::time_point;

// A request as handed to push(): its commands already encoded.
struct PipelineRequest {
  std::string bytes;         // encoded commands
  std::size_t commands = 1;  // replies expected
  std::string_view what;     // for error texts, e.g. "GET" (static storage)
  TimePoint deadline{};
  Completion done;
};

// A queued request; its bytes are in the pipeline's buffer until written.
struct PendingRequest {
  std::size_t commands = 1;
  std::string_view what;
  TimePoint deadline{};
  Completion done;
  std::size_t bytes = 0;  // its share of the unwritten bytes (meaningless once written)
};

// A FIFO of requests in one power-of-two array that only grows. std::deque allocates and frees a
// block every few requests as the queue slides through memory; a connection's queue stays about
// as long as its concurrency, so after warm-up this one never allocates.
class RequestRing {
 public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  PendingRequest& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const PendingRequest& operator[](std::size_t i) const noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  PendingRequest& front() noexcept { return slots_[head_]; }
  const PendingRequest& front() const noexcept { return slots_[head_]; }
  void push_back(PendingRequest&& request) {
    if (size_ == slots_.size()) grow();
    (*this)[size_] = std::move(request);
    ++size_;
  }
  // The front slot's completion is reset (a no-op when it was moved out), so nothing it held
  // outlives its request; its other members are plain values, overwritten by the next push.
  void pop_front() noexcept {
    slots_[head_].done = nullptr;
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }

 private:
  void grow() {
    std::vector<PendingRequest> next(slots_.empty() ? 16 : 2 * slots_.size());
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
    slots_ = std::move(next);
    head_ = 0;
  }

  std::vector<PendingRequest> slots_;  // size 0 or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

class Pipeline {
 public:
  void push(PipelineRequest&& request) {
    push([&](std::string& out) { out.append(request.bytes); }, request.commands, request.what, request.deadline,
         std::move(request.done));
  }
  // Queues a request whose commands `encode(std::string& out)` appends to the unwritten bytes.
  template <class Encode>
  void push(Encode&& encode, std::size_t commands, std::string_view what, TimePoint deadline, Completion&& done) {
    const std::size_t before = unwritten_.size();
    encode(unwritten_);
    queue_.push_back(PendingRequest{commands, what, deadline, std::move(done), unwritten_.size() - before});
  }

  std::size_t size() const noexcept { return queue_.size(); }
  std::size_t written() const noexcept { return written_; }
  bool has_unwritten() const noexcept { return written_ < queue_.size(); }

  // Appends the bytes of every unwritten request to `out`, marks them written, returns how many.
  // When `out` is empty the two buffers just trade places, so neither allocates once warm.
  std::size_t take_writes(std::string& out);

  // Routes one reply to the oldest written request. Returns false when no request awaits a reply
  // (a protocol violation: the connection must be reset).
  bool on_reply(RespValue&& reply);

  std::optional<TimePoint> next_deadline() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.front().deadline;
  }

  // Fails every request whose deadline is <= now with Timeout("redis <what>"). Returns true when
  // one of them had been written (the connection must then be reset with fail_written()).
  bool expire(TimePoint now);

  // Fails the written requests (connection lost); unwritten ones stay for the next connection.
  void fail_written(const CacheError& error);
  // Fails everything.
  void fail_all(const CacheError& error);

 private:
  RequestRing queue_;
  std::size_t written_ = 0;
  std::string unwritten_;           // the commands of requests [written_, size()), in order
  std::vector<RespValue> partial_;  // replies gathered so far for the front request
};

}  // namespace accelerator::remote::detail
