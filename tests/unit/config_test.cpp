#include <gtest/gtest.h>

#include "test_support.hpp"

namespace accelerator {
namespace {

using namespace std::chrono_literals;
using Builder = LevelCacheBuilder<std::uint64_t, std::string>;

local::SimpleLocalCache<std::string> small_l1() { return local::SimpleLocalCache<std::string>(100); }

std::string build_error(const Builder& builder) {
  auto built = builder.local(small_l1()).build();
  return built ? std::string() : built.error().to_string();
}

TEST(ConfigDefaults, MatchTheSeed) {
  CacheConfig c;
  EXPECT_EQ(c.area, "default");
  EXPECT_EQ(c.mode, CacheMode::Both);
  EXPECT_EQ(c.local_ttl, 60s);
  EXPECT_EQ(c.remote_ttl, 300s);
  EXPECT_EQ(c.null_ttl, 30s);
  EXPECT_EQ(c.ttl_jitter_ratio, 0.1);
  EXPECT_TRUE(c.cache_null_value);
  EXPECT_TRUE(c.penetration_protect);
  EXPECT_EQ(c.loader_timeout, std::chrono::milliseconds(300));
  EXPECT_FALSE(c.warmup_enabled);
  EXPECT_EQ(c.warmup_batch_size, 256u);
  EXPECT_FALSE(c.refresh_ahead);
  EXPECT_EQ(c.refresh_ahead_window, 3s);
  EXPECT_FALSE(c.stale_on_error);
  EXPECT_FALSE(c.broadcast_invalidation);
  EXPECT_EQ(c.remote_failure_policy, RemoteFailurePolicy::FailOpen);
}

TEST(ConfigValidation, MinimalLocalConfigBuilds) {
  auto built = Builder().mode(CacheMode::Local).local(small_l1()).build();
  ASSERT_TRUE(built) << built.error().to_string();
  EXPECT_EQ(built->config().area, "default");
}

TEST(ConfigValidation, EachBadFieldIsRejectedByName) {
  auto local = Builder().mode(CacheMode::Local);
  EXPECT_EQ(build_error(Builder(local).area("   ")), "invalid config: area must not be empty");
  EXPECT_EQ(build_error(Builder(local).local_ttl(0ms)), "invalid config: local_ttl must be > 0");
  EXPECT_EQ(build_error(Builder(local).null_ttl(0ms)), "invalid config: null_ttl must be > 0");
  EXPECT_EQ(build_error(Builder(local).warmup_batch_size(0)), "invalid config: warmup_batch_size must be > 0");
  EXPECT_EQ(build_error(Builder(local).ttl_jitter_ratio(1.5)),
            "invalid config: ttl_jitter_ratio must be in [0.0, 1.0]");
  EXPECT_EQ(build_error(Builder(local).ttl_jitter_ratio(std::nan(""))),
            "invalid config: ttl_jitter_ratio must be in [0.0, 1.0]");
  EXPECT_NE(build_error(Builder(local).loader_timeout(0ms)).find("loader_timeout"), std::string::npos);
  EXPECT_NE(build_error(Builder(local).refresh_ahead(true).refresh_ahead_window(60s)).find("refresh_ahead_window"),
            std::string::npos);
  EXPECT_NE(build_error(Builder(local).stale_on_error(true).stale_grace(0ms)).find("stale_grace"), std::string::npos);
  EXPECT_NE(build_error(Builder(local).max_key_bytes(0)).find("max_key_bytes"), std::string::npos);
  EXPECT_NE(build_error(Builder(local).area("a\nb")).find("area"), std::string::npos);
}

TEST(ConfigValidation, UnusedLayerTtlIsNotRequired) {
  // The seed demanded remote_ttl > 0 even in Local mode (spec 18.18); we check only used layers.
  EXPECT_EQ(build_error(Builder().mode(CacheMode::Local).remote_ttl(0ms)), "");
}

TEST(ConfigValidation, AreaIsTrimmed) {
  auto built = Builder().mode(CacheMode::Local).area("  user ").local(small_l1()).build();
  ASSERT_TRUE(built);
  EXPECT_EQ(built->config().area, "user");
}

TEST(ConfigValidation, MissingBackendsAreNamed) {
  auto local_missing = Builder().mode(CacheMode::Local).build();
  ASSERT_FALSE(local_missing);
  EXPECT_EQ(local_missing.error().message(), "local backend is required when mode=Local");
  auto both_missing = Builder().local(small_l1()).build();  // default mode is Both
  ASSERT_FALSE(both_missing);
  EXPECT_NE(both_missing.error().message().find("both local and remote backends"), std::string::npos);
  auto remote_missing = Builder().mode(CacheMode::Remote).build();
  ASSERT_FALSE(remote_missing);
  EXPECT_EQ(remote_missing.error().message(), "remote backend is required when mode=Remote");
  EXPECT_EQ(remote_missing.error().kind(), ErrorKind::InvalidConfig);
}

TEST(Errors, KindTagsAreStable) {
  EXPECT_EQ(CacheError::invalid_config("x").tag(), "invalid_config");
  EXPECT_EQ(CacheError::backend("x").tag(), "backend");
  EXPECT_EQ(CacheError::loader("x").tag(), "loader");
  EXPECT_EQ(CacheError::timeout("loader").tag(), "timeout");
  EXPECT_EQ(CacheError::serialization("x").tag(), "serialization");
  EXPECT_EQ(CacheError::invalid_key("x").tag(), "invalid_key");
  EXPECT_EQ(CacheError::timeout("loader").to_string(), "timeout while executing loader");
  EXPECT_EQ(CacheError::loader("db down"), CacheError::loader("db down"));
  EXPECT_FALSE(CacheError::loader("a") == CacheError::backend("a"));
}

TEST(Errors, ALoaderErrorCarriesItsCauseByType) {
  struct DbError {
    int code;
  };
  const CacheError plain = CacheError::loader("db down");
  EXPECT_EQ(plain.cause<DbError>(), nullptr);
  const CacheError with = plain.with_cause(DbError{17});
  ASSERT_NE(with.cause<DbError>(), nullptr);
  EXPECT_EQ(with.cause<DbError>()->code, 17);
  EXPECT_EQ(with.cause<std::string>(), nullptr) << "another type is not the cause";
  const CacheError copy = with;
  EXPECT_EQ(copy.cause<DbError>(), with.cause<DbError>()) << "copies share one cause";
  EXPECT_EQ(with, plain) << "equality is kind and message";
  EXPECT_EQ(plain.cause<DbError>(), nullptr) << "with_cause leaves the original alone";
}

}  // namespace
}  // namespace accelerator
