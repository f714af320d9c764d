// accelerator/detail/key_buffer.hpp — a namespaced key ("<namespace>:<encoded key>") built
// without a heap allocation when it is short.
//
// A single-key read needs its key only to look it up in L1 when it hits, the common case. A
// std::string past 15 bytes (most "area:entity:id" keys) costs a malloc and a free per call,
// about a tenth of an L1 hit. KeyBuffer keeps up to kInlineBytes in place; a longer key, or a
// miss (whose L2 read and load need a std::string), uses the string inside it, so the read's
// coroutine frame holds one key object, not two.
//
// Size matters: LevelCache's get() frame lives in asio's per-thread frame cache only while it is
// at most 1020 bytes; past that every call pays a malloc and a free (see level_cache.hpp).
// Invariant: view() points into this object, so it is neither copyable nor movable.
// Thread-safety: none needed (one call's local).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace accelerator::detail {

class KeyBuffer {
 public:
  // Covers "<area>:<20-digit integer>" for areas up to 18 bytes.
  static constexpr std::uint32_t kInlineBytes = 40;

  KeyBuffer() = default;
  KeyBuffer(const KeyBuffer&) = delete;
  KeyBuffer& operator=(const KeyBuffer&) = delete;

  // Replaces the content with `prefix` + ':' + `rest`.
  void assign(std::string_view prefix, std::string_view rest) {
    const std::size_t size = prefix.size() + 1 + rest.size();
    if (size > kInlineBytes) {
      string_.clear();
      string_.reserve(size);
      string_.append(prefix).append(1, ':').append(rest);
      in_string_ = true;
      return;
    }
    if (!prefix.empty()) std::memcpy(inline_, prefix.data(), prefix.size());
    inline_[prefix.size()] = ':';
    if (!rest.empty()) std::memcpy(inline_ + prefix.size() + 1, rest.data(), rest.size());
    inline_size_ = static_cast<std::uint32_t>(size);
    in_string_ = false;
  }

  std::string_view view() const noexcept {
    return in_string_ ? std::string_view(string_) : std::string_view(inline_, inline_size_);
  }

  // The key as a std::string held by this buffer (copied out of the inline bytes on the first
  // call); the caller may move from it, after which the buffer is empty.
  std::string& string() {
    if (!in_string_) {
      string_.assign(inline_, inline_size_);
      in_string_ = true;
    }
    return string_;
  }

 private:
  std::string string_;
  char inline_[kInlineBytes];
  std::uint32_t inline_size_ = 0;
  bool in_string_ = false;
};

// The same join into a std::string (one allocation, sized up front), so key encoding can be
// written once for both destinations.
inline void join_key(std::string& out, std::string_view prefix, std::string_view rest) {
  out.clear();
  out.reserve(prefix.size() + 1 + rest.size());
  out.append(prefix).append(1, ':').append(rest);
}
inline void join_key(KeyBuffer& out, std::string_view prefix, std::string_view rest) { out.assign(prefix, rest); }

}  // namespace accelerator::detail
