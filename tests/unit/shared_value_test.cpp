// Large values as std::shared_ptr<const T>: the recipe README's "Large values" points to.
//
// An L1 hit returns a copy of the cached value; for a value of kilobytes that copy (an allocation
// and a memcpy per hit) costs more than the rest of the hit. Caching std::shared_ptr<const T>
// makes the hit copy a pointer. The library has no codec for shared_ptr of its own (a null
// pointer has no encoding that a cache of T could read), so a service writes one, as below:
// the payload is T's own, so a service caching T by value reads the same Redis keys.
// Store "not found" as an absent value (std::nullopt), never as a null pointer.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "accelerator/accelerator.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace shared_value_test {

struct Document {
  std::string id;
  std::string body;
  friend bool operator==(const Document&, const Document&) = default;
};
void to_json(nlohmann::json& j, const Document& d) { j = nlohmann::json{{"id", d.id}, {"body", d.body}}; }
void from_json(const nlohmann::json& j, Document& d) {
  j.at("id").get_to(d.id);
  j.at("body").get_to(d.body);
}

}  // namespace shared_value_test

// The recipe. REQUIRES a non-null pointer (see the top of the file).
template <>
struct ValueCodec<std::shared_ptr<const shared_value_test::Document>> {
  using Document = shared_value_test::Document;
  static void encode(const std::shared_ptr<const Document>& value, std::string& out) {
    ValueCodec<Document>::encode(*value, out);
  }
  static CacheResult<std::shared_ptr<const Document>> decode(std::string_view payload) {
    auto value = ValueCodec<Document>::decode(payload);
    if (!value) return fail(value.error());
    return std::make_shared<const Document>(std::move(*value));
  }
};

namespace shared_value_test {
namespace {

using namespace std::chrono_literals;
using SharedDocument = std::shared_ptr<const Document>;

TEST(SharedValue, AnL1HitSharesTheCachedDocumentInsteadOfCopyingIt) {
  auto cache = LevelCacheBuilder<std::uint64_t, SharedDocument>()
                   .area("docs")
                   .mode(CacheMode::Local)
                   .local_ttl(60s)
                   .local(local::DefaultLocalBackend<SharedDocument>(100))
                   .build()
                   .value();
  auto document = std::make_shared<const Document>(Document{"d-1", std::string(4096, 'x')});
  ASSERT_TRUE(testing::run(cache.set(1, document)));
  auto first = testing::run(cache.get(1));
  auto second = testing::run(cache.get(1));
  ASSERT_TRUE(first && first->has_value());
  ASSERT_TRUE(second && second->has_value());
  EXPECT_EQ(first->value().get(), document.get());  // the same object: no copy of the 4 KiB body
  EXPECT_EQ(second->value().get(), document.get());
  EXPECT_EQ(cache.metrics_snapshot().local_hit, 2u);
}

TEST(SharedValue, ThePayloadIsTheDocumentsOwnSoCachesOfEitherTypeShareKeys) {
  const Document document{"d-2", "body"};
  std::string shared_payload;
  ValueCodec<SharedDocument>::encode(std::make_shared<const Document>(document), shared_payload);
  std::string plain_payload;
  ValueCodec<Document>::encode(document, plain_payload);
  EXPECT_EQ(shared_payload, plain_payload);

  auto decoded = ValueCodec<SharedDocument>::decode(plain_payload);
  ASSERT_TRUE(decoded);
  ASSERT_NE(decoded->get(), nullptr);
  EXPECT_EQ(**decoded, document);

  auto corrupt = ValueCodec<SharedDocument>::decode("\xc1");  // never valid MessagePack
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().kind(), ErrorKind::Serialization);
}

}  // namespace
}  // namespace shared_value_test
}  // namespace accelerator
