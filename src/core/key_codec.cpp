#include "accelerator/key_codec.hpp"

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

std::string join_key(std::string_view escaped_namespace, std::string_view key) {
  std::string out;
  out.reserve(escaped_namespace.size() + 1 + key.size());
  out.append(escaped_namespace);
  out.push_back(':');
  out.append(key);
  return out;
}

}  // namespace accelerator
