#include "accelerator/codec.hpp"

namespace accelerator {

namespace {
constexpr unsigned char kMagic = 0xAC;
constexpr unsigned char kVersion = 1;
constexpr unsigned char kNullFlag = 0x01;
constexpr unsigned char kKnownFlags = kNullFlag;
}  // namespace

void begin_envelope(std::string& out, bool is_null, UnixTime expire_at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(expire_at.time_since_epoch()).count();
  const auto expiry = static_cast<std::uint64_t>(ms < 0 ? 0 : ms);
  out.clear();
  out.reserve(kEnvelopeHeaderBytes + 16);
  out.push_back(static_cast<char>(kMagic));
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(is_null ? kNullFlag : 0));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((expiry >> (8 * i)) & 0xFF));
}

CacheResult<EnvelopeView> decode_envelope(std::string_view bytes) {
  if (bytes.size() < kEnvelopeHeaderBytes) {
    return fail(CacheError::serialization("stored value is " + std::to_string(bytes.size()) +
                                          " bytes, shorter than the envelope header"));
  }
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (b[0] != kMagic) return fail(CacheError::serialization("stored value is not an accelerator envelope"));
  if (b[1] != kVersion) {
    return fail(CacheError::serialization("unsupported envelope version " + std::to_string(b[1])));
  }
  if ((b[2] & ~kKnownFlags) != 0) return fail(CacheError::serialization("unknown envelope flags"));
  std::uint64_t expiry = 0;
  for (int i = 0; i < 8; ++i) expiry |= static_cast<std::uint64_t>(b[3 + i]) << (8 * i);
  EnvelopeView view;
  view.is_null = (b[2] & kNullFlag) != 0;
  view.expire_at = UnixTime(std::chrono::duration_cast<UnixTime::duration>(
      std::chrono::milliseconds(static_cast<std::int64_t>(expiry))));
  view.payload = bytes.substr(kEnvelopeHeaderBytes);
  if (view.is_null && !view.payload.empty()) {
    return fail(CacheError::serialization("a not-found marker must carry no payload"));
  }
  return view;
}

}  // namespace accelerator
