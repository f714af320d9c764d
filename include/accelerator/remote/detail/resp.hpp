// accelerator/remote/detail/resp.hpp — RESP2 values, the reply parser and the command encoder.
//
// Internal (sans-I/O, no sockets). RespParser wraps hiredis's redisReader: bytes go in with
// feed(), complete replies come out of next() in arrival order. The encoder writes a command as a
// RESP array of bulk strings, byte-identical to hiredis's redisFormatCommandArgv (the unit tests
// compare the two), but appends straight into the caller's buffer so a pipelined batch is built
// without one allocation per command.
// Thread-safety: none; a parser belongs to one connection and is used on its strand.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "accelerator/error.hpp"

namespace accelerator::remote::detail {

struct RespValue {
  enum class Type : unsigned char { Nil, String, Status, Error, Integer, Array };
  Type type = Type::Nil;
  std::string str;                  // String, Status, Error
  long long integer = 0;            // Integer
  std::vector<RespValue> elements;  // Array

  bool is_error() const noexcept { return type == Type::Error; }
  bool is_nil() const noexcept { return type == Type::Nil; }
};

// Appends `args` as one RESP command (`*<n>\r\n$<len>\r\n<arg>\r\n...`).
void append_command(std::string& out, std::span<const std::string_view> args);
// The same with `key_prefix` written in front of args[1] (a command's key), so a prefixed key
// needs no string of its own.
void append_command(std::string& out, std::string_view key_prefix, std::span<const std::string_view> args);
inline void append_command(std::string& out, std::string_view key_prefix,
                           std::initializer_list<std::string_view> args) {
  append_command(out, key_prefix, std::span<const std::string_view>(args.begin(), args.size()));
}
inline void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_command(out, std::span<const std::string_view>(args.begin(), args.size()));
}

class RespParser {
 public:
  RespParser();
  ~RespParser();
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  void feed(const char* data, std::size_t size);
  // The next complete reply; nullopt when more bytes are needed. A protocol error is returned as
  // an error and leaves the parser unusable (the connection must be dropped).
  std::optional<CacheResult<RespValue>> next();
  // The same without moving the reply out: it stays in the parser, and the caller may move from
  // it, until the next call of next() or next_in_place(). Null when more bytes are needed.
  CacheResult<RespValue*> next_in_place();

 private:
  struct Reader;
  std::unique_ptr<Reader> reader_;
};

}  // namespace accelerator::remote::detail
