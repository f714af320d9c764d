// RESP2 parsing through hiredis's redisReader (default reply objects, converted to RespValue).
#include "accelerator/remote/detail/resp.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace accelerator::remote::detail {

namespace {

void append_length(std::string& out, char tag, std::size_t n) {
  char buf[24];
  buf[0] = tag;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf, n);
  (void)ec;  // 23 digits hold any size_t
  out.append(buf, end);
  out.append("\r\n", 2);
}

RespValue convert(const redisReply* r) {
  RespValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      v.type = RespValue::Type::String;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RespValue::Type::Status;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = RespValue::Type::Error;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = RespValue::Type::Integer;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RespValue::Type::Array;
      v.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
      break;
    default:
      v.type = RespValue::Type::Nil;
      break;
  }
  return v;
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  std::size_t total = 16;
  for (auto a : args) total += a.size() + 16;
  out.reserve(out.size() + total);
  append_length(out, '*', args.size());
  for (auto a : args) {
    append_length(out, '$', a.size());
    out.append(a);
    out.append("\r\n", 2);
  }
}

struct RespParser::Reader {
  redisReader* reader = redisReaderCreate();
  ~Reader() { redisReaderFree(reader); }
};

RespParser::RespParser() : reader_(std::make_unique<Reader>()) {}
RespParser::~RespParser() = default;

void RespParser::feed(const char* data, std::size_t size) { redisReaderFeed(reader_->reader, data, size); }

std::optional<CacheResult<RespValue>> RespParser::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_->reader, &raw) != REDIS_OK) {
    return fail(CacheError::backend(std::string("redis protocol error: ") + reader_->reader->errstr));
  }
  if (raw == nullptr) return std::nullopt;
  auto* reply = static_cast<redisReply*>(raw);
  RespValue value = convert(reply);
  freeReplyObject(reply);
  return value;
}

}  // namespace accelerator::remote::detail
