#include "accelerator/remote/detail/pipeline.hpp"

namespace accelerator::remote::detail {

std::size_t Pipeline::take_writes(std::string& out) {
  const std::size_t before = written_;
  for (; written_ < queue_.size(); ++written_) {
    auto& r = queue_[written_];
    out.append(r.bytes);
    std::string().swap(r.bytes);  // the bytes are on their way; free them now
  }
  return written_ - before;
}

bool Pipeline::on_reply(RespValue reply) {
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
  std::vector<PipelineRequest> expired;
  bool written_expired = false;
  while (!queue_.empty() && queue_.front().deadline <= now) {
    if (written_ > 0) {
      written_expired = true;
      --written_;
      partial_.clear();
    }
    expired.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (auto& r : expired) r.done(fail(CacheError::timeout("redis " + std::string(r.what))));
  return written_expired;
}

void Pipeline::fail_written(const CacheError& error) {
  std::vector<PipelineRequest> failed;
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
  std::vector<PipelineRequest> failed;
  failed.reserve(queue_.size());
  while (!queue_.empty()) {
    failed.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (auto& r : failed)
    r.done(fail(CacheError::backend("redis " + std::string(r.what) + " failed: " + error.message())));
}

}  // namespace accelerator::remote::detail
