// Security: TLS (rediss://) against a redis-server with a throwaway CA made by `openssl` here, and
// ACL users with passwords (AUTH user password), including the failure modes: wrong CA, wrong
// password.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/redis_fixture.hpp"
#include "support/test_certificates.hpp"

namespace accelerator::testing {
namespace {

using namespace std::chrono_literals;

class RedisTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("accelerator-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string d = dir_.string();
    if (!make_test_certificates(dir_)) {
      if (std::getenv("CI") != nullptr) FAIL() << "openssl could not make the test certificates";
      GTEST_SKIP() << "openssl could not make the test certificates";
    }
    RedisServerOptions o;
    o.tls = true;
    o.tls_cert_file = d + "/server.crt";
    o.tls_key_file = d + "/server.key";
    o.tls_ca_file = d + "/ca.crt";
    std::string why;
    server_ = RedisServer::start(o, &why);
    if (!server_) ACCELERATOR_REDIS_UNAVAILABLE("TLS redis-server: " + why);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    if (!std::getenv("ACCELERATOR_KEEP_TLS_DIR")) std::filesystem::remove_all(dir_, ec);
  }

  remote::RedisOptions tls_options(const std::string& ca) {
    remote::RedisOptions o;
    o.url = server_->url();
    o.key_prefix = "tls";
    o.command_timeout = 1000ms;
    o.connect_timeout = 1000ms;
    o.tls.ca_file = (dir_ / ca).string();
    return o;
  }

  IoThreads io{2};
  std::filesystem::path dir_;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisTlsTest, RoundTripAndPubSubOverTlsWithVerifiedCertificate) {
  auto redis = remote::RedisBackend::create(io.executor(), tls_options("ca.crt")).value();
  ASSERT_TRUE(io.run(redis.set("k", "over-tls", 60s))) << redis.health().last_error;
  EXPECT_EQ(io.run(redis.get("k")).value(), "over-tls");
  std::atomic<int> messages{0};
  InvalidationHandlers h;
  h.on_message = [&](std::string_view p) {
    if (p == "m") ++messages;
  };
  auto sub = redis.subscribe(redis.channel_for("a"), h).value();
  ASSERT_TRUE(eventually([&] { return sub->active(); }));
  ASSERT_TRUE(io.run(redis.publish(redis.channel_for("a"), "m")));
  EXPECT_TRUE(eventually([&] { return messages == 1; }, 2s));
  sub->stop();
}

TEST_F(RedisTlsTest, UnknownCertificateAuthorityIsRefused) {
  auto o = tls_options("other.crt");
  o.breaker_failure_threshold = 1000;
  auto redis = remote::RedisBackend::create(io.executor(), o).value();
  auto r = io.run(redis.get("k"));
  ASSERT_FALSE(r);
  EXPECT_NE(redis.health().last_error.find("TLS handshake failed"), std::string::npos) << redis.health().last_error;
  EXPECT_FALSE(redis.health().connected);
}

TEST_F(RedisTlsTest, VerificationCanBeTurnedOff) {
  auto o = tls_options("ca.crt");
  o.tls.ca_file.clear();
  o.tls.verify_peer = false;
  auto redis = remote::RedisBackend::create(io.executor(), o).value();
  ASSERT_TRUE(io.run(redis.set("k", "v", 60s))) << redis.health().last_error;
  EXPECT_EQ(io.run(redis.get("k")).value(), "v");
}

TEST(RedisTlsConfig, UnreadableCaFileIsInvalidConfig) {
  IoThreads io(1);
  remote::RedisOptions o;
  o.url = "rediss://127.0.0.1:1";
  o.tls.ca_file = "/nonexistent/ca.pem";
  auto r = remote::RedisBackend::create(io.executor(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::InvalidConfig);
}

TEST_F(RedisTest, AclUserWithPasswordAuthenticatesAndWrongPasswordIsRefused) {
  auto admin = backend();
  const std::string user = "acc-it-" + std::to_string(::getpid());
  auto made = raw(admin, {"ACL", "SETUSER", user, "on", ">s3cret:pw", "~*", "&*", "+@all"});
  ASSERT_EQ(made.str, "OK") << made.str;
  const std::string hostport = url_.substr(url_.find("://") + 3);
  const std::string scheme = url_.substr(0, url_.find("://"));

  auto good = backend(options(scheme + "://" + user + ":s3cret%3Apw@" + hostport));
  ASSERT_TRUE(io.run(good.set("acl", "yes", 60s))) << good.health().last_error;
  EXPECT_EQ(io.run(good.get("acl")).value(), "yes");
  auto who = raw(good, {"ACL", "WHOAMI"});
  EXPECT_EQ(who.str, user);

  auto o = options(scheme + "://" + user + ":wrong@" + hostport);
  o.breaker_failure_threshold = 1000;
  auto bad = backend(o);
  auto r = io.run(bad.get("acl"));
  ASSERT_FALSE(r);
  EXPECT_NE(bad.health().last_error.find("redis AUTH failed: WRONGPASS"), std::string::npos)
      << bad.health().last_error;
  raw(admin, {"ACL", "DELUSER", user});
}

}  // namespace
}  // namespace accelerator::testing
