// accelerator/error.hpp — the one error type every operation returns.
//
// CacheError is a value type: cheap to copy (one shared message string), comparable, and safe to
// hand to many waiters at once (singleflight shares one outcome between all callers of a key).
// No function of the library throws across its API; every fallible call returns CacheResult<T>.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

namespace accelerator {

enum class ErrorKind {
  InvalidConfig,  // rejected at build(): a field is out of range or a required part is missing
  InvalidKey,     // the key encodes to nothing or to more than CacheConfig::max_key_bytes
  Backend,        // L1 or L2 failed (I/O, protocol, circuit open)
  Loader,         // the user's loader returned an error or threw
  Timeout,        // a loader or a remote call ran past its deadline
  Serialization,  // a value could not be encoded, or stored bytes could not be decoded
};

// Stable lower-case tag for logs and metric attributes ("invalid_config", "timeout", ...).
std::string_view kind_tag(ErrorKind kind) noexcept;

class CacheError {
 public:
  CacheError(ErrorKind kind, std::string message);

  static CacheError invalid_config(std::string message);
  static CacheError invalid_key(std::string message);
  static CacheError backend(std::string message);
  static CacheError loader(std::string message);
  // `what` names the operation that ran out of time, e.g. "loader" or "redis GET".
  static CacheError timeout(std::string what);
  static CacheError serialization(std::string message);

  ErrorKind kind() const noexcept { return kind_; }
  std::string_view tag() const noexcept { return kind_tag(kind_); }
  // The detail without the kind prefix.
  const std::string& message() const noexcept { return *message_; }
  // Human-readable text with the kind prefix, e.g. "timeout while executing loader".
  std::string to_string() const;

  // The loader's own error object, when the loader attached one with with_cause(): lets a caller
  // that knows its type get it back from a Loader error (the decorators hand a body's error back
  // unchanged this way). Every caller that shared the load sees the same cause. nullptr when there
  // is none or it is not an E.
  template <class E>
  const E* cause() const noexcept {
    return cause_type_ && *cause_type_ == typeid(E) ? static_cast<const E*>(cause_.get()) : nullptr;
  }
  // This error with `cause` attached (one allocation; copies of the error share it).
  template <class E>
  CacheError with_cause(E cause) const {
    CacheError out = *this;
    out.cause_ = std::make_shared<const E>(std::move(cause));
    out.cause_type_ = &typeid(E);
    return out;
  }

  // Kind and message; an attached cause is not compared.
  friend bool operator==(const CacheError& a, const CacheError& b) noexcept {
    return a.kind_ == b.kind_ && *a.message_ == *b.message_;
  }

 private:
  ErrorKind kind_;
  std::shared_ptr<const std::string> message_;
  std::shared_ptr<const void> cause_;  // see cause()
  const std::type_info* cause_type_ = nullptr;
};

template <class T>
using CacheResult = std::expected<T, CacheError>;

// Shorthand for returning an error from a function whose type is CacheResult<T>.
inline std::unexpected<CacheError> fail(CacheError error) { return std::unexpected(std::move(error)); }

}  // namespace accelerator
