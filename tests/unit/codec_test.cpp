// Value envelope and codecs (spec §5 with the §18.11 fix: bad bytes are a per-key error).
#include <gtest/gtest.h>

#include "accelerator/codec.hpp"
#include "accelerator/key_codec.hpp"

namespace accelerator {
namespace {

struct Profile {
  int id = 0;
  std::string name;
  std::vector<std::string> tags;
  friend bool operator==(const Profile&, const Profile&) = default;
};
void to_json(nlohmann::json& j, const Profile& p) { j = {{"id", p.id}, {"name", p.name}, {"tags", p.tags}}; }
void from_json(const nlohmann::json& j, Profile& p) {
  j.at("id").get_to(p.id);
  j.at("name").get_to(p.name);
  j.at("tags").get_to(p.tags);
}

const UnixTime kExpiry = UnixTime(std::chrono::milliseconds(1'700'000'000'123));

template <class V>
V roundtrip(const V& value) {
  auto bytes = encode_envelope<V>(value, kExpiry);
  auto view = decode_envelope(bytes);
  EXPECT_TRUE(view);
  EXPECT_FALSE(view->is_null);
  EXPECT_EQ(view->expire_at, kExpiry);
  auto decoded = ValueCodec<V>::decode(view->payload);
  EXPECT_TRUE(decoded);
  return *decoded;
}

TEST(Codec, StringIsStoredAsRawBytes) {
  const std::string binary("a\0b\xff", 4);
  EXPECT_EQ(roundtrip(binary), binary);
  auto bytes = encode_envelope<std::string>(std::string("hello"), kExpiry);
  EXPECT_EQ(bytes.size(), kEnvelopeHeaderBytes + 5);
  EXPECT_EQ(bytes.substr(kEnvelopeHeaderBytes), "hello");
}

TEST(Codec, ArithmeticTypesUseFixedWidth) {
  EXPECT_EQ(roundtrip<std::int64_t>(-42), -42);
  EXPECT_EQ(roundtrip<double>(3.25), 3.25);
  EXPECT_EQ(roundtrip<std::uint8_t>(200), 200);
  EXPECT_EQ(encode_envelope<std::int32_t>(7, kExpiry).size(), kEnvelopeHeaderBytes + 4);
  auto wrong = ValueCodec<std::int64_t>::decode("abc");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind(), ErrorKind::Serialization);
}

TEST(Codec, JsonTypesUseMessagePack) {
  Profile p{7, "ann", {"a", "b"}};
  EXPECT_EQ(roundtrip(p), p);
  auto bad = ValueCodec<Profile>::decode("\xc1");  // 0xc1 is never valid MessagePack
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), ErrorKind::Serialization);
}

TEST(Codec, NullMarkerHasNoPayload) {
  auto bytes = encode_envelope<std::string>(std::nullopt, kExpiry);
  EXPECT_EQ(bytes.size(), kEnvelopeHeaderBytes);
  auto view = decode_envelope(bytes);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->is_null);
}

TEST(Codec, CorruptEnvelopesAreSerializationErrors) {
  for (std::string bad : {std::string(), std::string("{\"kind\":\"Value\"}"), std::string("\xAC\x02", 2) + std::string(9, '\0'),
                          std::string("\xAC\x01\x80", 3) + std::string(8, '\0'),
                          std::string("\xAC\x01\x01", 3) + std::string(8, '\0') + "payload"}) {
    auto view = decode_envelope(bad);
    ASSERT_FALSE(view) << "accepted: " << bad;
    EXPECT_EQ(view.error().kind(), ErrorKind::Serialization);
  }
}

TEST(KeyCodec, IntegersAndStrings) {
  EXPECT_EQ(KeyCodec<std::uint64_t>::encode(18446744073709551615ull), "18446744073709551615");
  EXPECT_EQ(KeyCodec<int>::encode(-5), "-5");
  EXPECT_EQ(KeyCodec<std::string>::encode("a:b"), "a:b");
}

// Short keys stay in std::string's small buffer; longer ones are where a sized-write
// implementation once returned the allocation's capacity as the size (garbage tail).
TEST(KeyCodec, JoinedKeyIsExactlyNamespaceColonKey) {
  EXPECT_EQ(join_key("user", "42"), "user:42");
  const std::string joined = join_key("stack-user", "91001");
  EXPECT_EQ(joined, "stack-user:91001");
  EXPECT_EQ(joined.size(), 16u);
  const std::string long_key(100, 'k');
  EXPECT_EQ(join_key("area", long_key), "area:" + long_key);
  EXPECT_EQ(join_key("", "k"), ":k");
}

TEST(KeyCodec, NamespaceEscapingIsUnambiguous) {
  EXPECT_EQ(escape_key_segment("user"), "user");
  EXPECT_EQ(escape_key_segment("a:b"), "a\\:b");
  EXPECT_EQ(escape_key_segment("a\\"), "a\\\\");
  // "a\" + ":" + "b" must differ from "a" + ":" + "\:b"-ish inputs.
  EXPECT_NE(join_key(escape_key_segment("a\\"), "b"), join_key(escape_key_segment("a"), "\\:b"));
  EXPECT_NE(join_key(escape_key_segment("a:b"), "c"), join_key(escape_key_segment("a"), "b:c"));
}

}  // namespace
}  // namespace accelerator
