#include "accelerator/remote/detail/pipeline.hpp"

namespace accelerator::remote::detail {

std::size_t Pipeline::take_writes(std::string& out) {
  const std::size_t taken = queue_.size() - written_;
  if (out.empty()) {
    out.swap(unwritten_);
  } else {
    out.append(unwritten_);
  }
  unwritten_.clear();
  written_ = queue_.size();
  return taken;
}

bool Pipeline::on_reply(RespValue&& reply) {
  if (written_ == 0) return false;
  auto& front = queue_.front();
  if (front.commands > 1) {
    partial_.push_back(std::move(reply));
    if (partial_.size() < front.commands) return true;
    reply = RespValue{};
    reply.type = RespValue::Type::Array;
    reply.elements = std::move(partial_);
    partial_.clear();
  }
  // Only the completion is needed: a written request's bytes were already released.
  Completion done = std::move(front.done);
  queue_.pop_front();
  --written_;
  done(std::move(reply));
  return true;
}

bool Pipeline::expire(TimePoint now) {
  std::vector<PendingRequest> expired;
  bool written_expired = false;
  std::size_t unwritten_bytes = 0;  // the expired unwritten requests' bytes: a prefix of unwritten_
  while (!queue_.empty() && queue_.front().deadline <= now) {
    if (written_ > 0) {
      written_expired = true;
      --written_;
      partial_.clear();
    } else {
      unwritten_bytes += queue_.front().bytes;
    }
    expired.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  unwritten_.erase(0, unwritten_bytes);
  for (auto& r : expired) r.done(fail(CacheError::timeout("redis " + std::string(r.what))));
  return written_expired;
}

void Pipeline::fail_written(const CacheError& error) {
  std::vector<PendingRequest> failed;
  for (; written_ > 0; --written_) {
    failed.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  partial_.clear();
  for (auto& r : failed)
    r.done(fail(CacheError::backend("redis " + std::string(r.what) + " failed: " + error.message())));
}

void Pipeline::fail_all(const CacheError& error) {
  fail_written(error);
  std::vector<PendingRequest> failed;
  failed.reserve(queue_.size());
  unwritten_.clear();
  while (!queue_.empty()) {
    failed.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (auto& r : failed)
    r.done(fail(CacheError::backend("redis " + std::string(r.what) + " failed: " + error.message())));
}

}  // namespace accelerator::remote::detail
