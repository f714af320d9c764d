#include "accelerator/error.hpp"

namespace accelerator {

std::string_view kind_tag(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidConfig: return "invalid_config";
    case ErrorKind::InvalidKey: return "invalid_key";
    case ErrorKind::Backend: return "backend";
    case ErrorKind::Loader: return "loader";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Serialization: return "serialization";
  }
  return "unknown";
}

CacheError::CacheError(ErrorKind kind, std::string message)
    : kind_(kind), message_(std::make_shared<const std::string>(std::move(message))) {}

CacheError CacheError::invalid_config(std::string m) { return {ErrorKind::InvalidConfig, std::move(m)}; }
CacheError CacheError::invalid_key(std::string m) { return {ErrorKind::InvalidKey, std::move(m)}; }
CacheError CacheError::backend(std::string m) { return {ErrorKind::Backend, std::move(m)}; }
CacheError CacheError::loader(std::string m) { return {ErrorKind::Loader, std::move(m)}; }
CacheError CacheError::timeout(std::string what) { return {ErrorKind::Timeout, std::move(what)}; }
CacheError CacheError::serialization(std::string m) { return {ErrorKind::Serialization, std::move(m)}; }

std::string CacheError::to_string() const {
  switch (kind_) {
    case ErrorKind::InvalidConfig: return "invalid config: " + *message_;
    case ErrorKind::InvalidKey: return "invalid key: " + *message_;
    case ErrorKind::Backend: return "backend error: " + *message_;
    case ErrorKind::Loader: return "loader error: " + *message_;
    case ErrorKind::Timeout: return "timeout while executing " + *message_;
    case ErrorKind::Serialization: return "serialization error: " + *message_;
  }
  return *message_;
}

}  // namespace accelerator
