// RESP2 parsing through hiredis's redisReader, building RespValues directly.
#include "accelerator/remote/detail/resp.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace accelerator::remote::detail {

namespace {

// Lengths and argument counts are nearly always below 100: those take no division loop.
std::size_t digits(std::size_t n) noexcept {
  if (n < 10) return 1;
  if (n < 100) return 2;
  std::size_t d = 3;
  for (n /= 1000; n != 0; n /= 10) ++d;
  return d;
}

// Writes "<tag><n>\r\n" at `p` (digits(n) + 3 bytes) and returns the end.
char* put_length(char* p, char tag, std::size_t n) noexcept {
  *p++ = tag;
  if (n < 10) {
    *p++ = static_cast<char>('0' + n);
  } else if (n < 100) {
    *p++ = static_cast<char>('0' + n / 10);
    *p++ = static_cast<char>('0' + n % 10);
  } else {
    const std::size_t d = digits(n);
    for (char* q = p + d; q != p; n /= 10) *--q = static_cast<char>('0' + n % 10);
    p += d;
  }
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

char* put(char* p, std::string_view s) noexcept {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) { append_command(out, {}, args); }

// The exact size first, then plain stores into the grown string: no capacity check per piece,
// and no zero fill of bytes that are overwritten anyway (resize_and_overwrite). The capacity is
// grown geometrically first, since resize_and_overwrite alone would reserve the exact size and a
// buffer that many commands are appended to would reallocate on every one.
void append_command(std::string& out, std::string_view key_prefix, std::span<const std::string_view> args) {
  std::size_t total = digits(args.size()) + 3;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::size_t n = args[i].size() + (i == 1 ? key_prefix.size() : 0);
    total += digits(n) + 3 + n + 2;
  }
  const std::size_t start = out.size();
  if (out.capacity() < start + total) out.reserve(std::max(start + total, 2 * out.capacity()));
  out.resize_and_overwrite(start + total, [&](char* buffer, std::size_t size) {
    char* p = put_length(buffer + start, '*', args.size());
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string_view prefix = i == 1 ? key_prefix : std::string_view();
      p = put_length(p, '$', prefix.size() + args[i].size());
      p = put(p, prefix);
      p = put(p, args[i]);
      *p++ = '\r';
      *p++ = '\n';
    }
    return size;
  });
}

// hiredis builds the reply through these callbacks straight into RespValues: the root is the
// reader's own `root` and every element lives in its parent's `elements`, sized when the array
// header is read, so an element's address is stable until the reply is taken. Nothing is
// allocated but the strings themselves, and there is nothing to free: `freeObject` is a no-op.
struct RespParser::Reader {
  redisReader* reader = nullptr;
  RespValue root;

  static RespValue* slot(const redisReadTask* task) {
    if (task->parent == nullptr) {
      // The previous reply was moved out or is no longer wanted: reset it in place (cheaper than
      // assigning a fresh RespValue), keeping the string's buffer if it still has one.
      auto* self = static_cast<Reader*>(task->privdata);
      self->root.type = RespValue::Type::Nil;
      self->root.str.clear();
      self->root.integer = 0;
      self->root.elements.clear();
      return &self->root;
    }
    auto* parent = static_cast<RespValue*>(task->parent->obj);
    return &parent->elements[static_cast<std::size_t>(task->idx)];
  }
  static void* create_string(const redisReadTask* task, char* str, std::size_t len) {
    RespValue* v = slot(task);
    switch (task->type) {
      case REDIS_REPLY_ERROR:
        v->type = RespValue::Type::Error;
        break;
      case REDIS_REPLY_STATUS:
        v->type = RespValue::Type::Status;
        break;
      default:
        v->type = RespValue::Type::String;
        break;
    }
    v->str.assign(str, len);
    return v;
  }
  static void* create_array(const redisReadTask* task, int elements) {
    RespValue* v = slot(task);
    v->type = RespValue::Type::Array;
    v->elements.resize(static_cast<std::size_t>(elements));
    return v;
  }
  static void* create_integer(const redisReadTask* task, long long value) {
    RespValue* v = slot(task);
    v->type = RespValue::Type::Integer;
    v->integer = value;
    return v;
  }
  static void* create_nil(const redisReadTask* task) { return slot(task); }
  static void free_object(void*) {}

  static inline redisReplyObjectFunctions functions{create_string, create_array, create_integer, create_nil,
                                                    free_object};

  Reader() : reader(redisReaderCreateWithFunctions(&functions)) { reader->privdata = this; }
  ~Reader() { redisReaderFree(reader); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
};

RespParser::RespParser() : reader_(std::make_unique<Reader>()) {}
RespParser::~RespParser() = default;

void RespParser::feed(const char* data, std::size_t size) { redisReaderFeed(reader_->reader, data, size); }

std::optional<CacheResult<RespValue>> RespParser::next() {
  auto reply = next_in_place();
  if (!reply) return fail(std::move(reply.error()));
  if (*reply == nullptr) return std::nullopt;
  return std::move(**reply);
}

CacheResult<RespValue*> RespParser::next_in_place() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_->reader, &raw) != REDIS_OK) {
    return fail(CacheError::backend(std::string("redis protocol error: ") + reader_->reader->errstr));
  }
  if (raw == nullptr) return nullptr;
  return &reader_->root;
}

}  // namespace accelerator::remote::detail
