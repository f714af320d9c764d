#include "accelerator/key_codec.hpp"

#include <cstring>

namespace accelerator {

std::string escape_key_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size() + 2);
  for (char c : segment) {
    if (c == ':' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Every read and write encodes its key: one sized write, no capacity check per piece.
std::string join_key(std::string_view escaped_namespace, std::string_view key) {
  std::string out;
  out.resize_and_overwrite(escaped_namespace.size() + 1 + key.size(), [&](char* p, std::size_t size) {
    if (!escaped_namespace.empty()) std::memcpy(p, escaped_namespace.data(), escaped_namespace.size());
    p[escaped_namespace.size()] = ':';
    if (!key.empty()) std::memcpy(p + escaped_namespace.size() + 1, key.data(), key.size());
    return size;
  });
  return out;
}

}  // namespace accelerator
