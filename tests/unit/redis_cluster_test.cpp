// The sans-I/O parts of the Redis Cluster client: CRC16 and key slots (with hash tags), the slot
// map built from CLUSTER SLOTS, MOVED/ASK parsing, and cluster URL parsing.
#include <gtest/gtest.h>

#include "accelerator/remote/detail/cluster.hpp"
#include "accelerator/remote/redis_options.hpp"

namespace accelerator::remote {
namespace {

using detail::RespValue;
using detail::SlotMap;

TEST(RedisCluster, Crc16MatchesKnownVectors) {
  EXPECT_EQ(detail::crc16("123456789"), 0x31C3);  // CRC16-CCITT/XModem check value
  EXPECT_EQ(detail::crc16(""), 0);
  EXPECT_EQ(detail::crc16("A"), 0x58E5);
}

TEST(RedisCluster, KeySlotMatchesRedis) {
  // Values from redis-cli CLUSTER KEYSLOT.
  EXPECT_EQ(detail::key_slot("foo"), 12182);
  EXPECT_EQ(detail::key_slot("bar"), 5061);
  EXPECT_EQ(detail::key_slot("hello"), 866);
  EXPECT_EQ(detail::key_slot("123456789"), 0x31C3 % 16384);
  EXPECT_EQ(detail::key_slot(""), 0);
}

TEST(RedisCluster, HashTagsFollowTheRedisRules) {
  EXPECT_EQ(detail::key_slot("{user1000}.following"), detail::key_slot("user1000"));
  EXPECT_EQ(detail::key_slot("{user1000}.followers"), detail::key_slot("{user1000}.following"));
  EXPECT_EQ(detail::key_slot("shop:{42}:name"), detail::key_slot("42"));
  // Only the first '{' counts, up to the first '}' after it.
  EXPECT_EQ(detail::key_slot("foo{{bar}}zap"), detail::key_slot("{bar"));
  EXPECT_EQ(detail::key_slot("foo{bar}{zap}"), detail::key_slot("bar"));
  // An empty tag or a missing '}' hashes the whole key.
  EXPECT_EQ(detail::key_slot("foo{}{bar}"), detail::crc16("foo{}{bar}") % 16384);
  EXPECT_EQ(detail::key_slot("foo{bar"), detail::crc16("foo{bar") % 16384);
}

TEST(RedisCluster, KeySlotOfPrefixAndKeyMatchesTheConcatenation) {
  // Every split point, so a tag may open and close in the prefix, the key, or across both.
  const std::vector<std::string> keys = {"",           "foo",         "app:user:1", "{user1000}.following",
                                         "shop:{42}:", "foo{{bar}}z", "foo{}{bar}", "foo{bar",
                                         "{}",         "a{b}c{d}",    "}{x}",       "pre{:}"};
  for (const auto& whole : keys) {
    for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
      const std::string_view w(whole);
      EXPECT_EQ(detail::key_slot(w.substr(0, cut), w.substr(cut)), detail::key_slot(w)) << whole << " at " << cut;
    }
  }
  EXPECT_EQ(detail::crc16(detail::crc16("1234"), "56789"), detail::crc16("123456789"));
}

RespValue integer(long long v) {
  RespValue r;
  r.type = RespValue::Type::Integer;
  r.integer = v;
  return r;
}
RespValue bulk(std::string s) {
  RespValue r;
  r.type = RespValue::Type::String;
  r.str = std::move(s);
  return r;
}
RespValue array(std::vector<RespValue> e) {
  RespValue r;
  r.type = RespValue::Type::Array;
  r.elements = std::move(e);
  return r;
}
RespValue range(long long lo, long long hi, std::string host, long long port) {
  std::vector<RespValue> master{bulk(std::move(host)), integer(port), bulk("id")};
  std::vector<RespValue> replica{bulk("10.0.0.9"), integer(7000), bulk("rid")};
  std::vector<RespValue> items{integer(lo), integer(hi), array(std::move(master)), array(std::move(replica))};
  return array(std::move(items));
}

TEST(RedisCluster, SlotMapFromClusterSlots) {
  std::vector<RespValue> ranges{range(0, 5460, "127.0.0.1", 7001), range(5461, 10922, "127.0.0.1", 7002),
                                range(10923, 16383, "", 7003), range(12000, 12000, "127.0.0.1", 7001)};
  auto map = SlotMap::from_cluster_slots(array(std::move(ranges)), "10.1.1.1");
  ASSERT_TRUE(map) << map.error().to_string();
  ASSERT_EQ(map->nodes().size(), 3u);  // replicas are not nodes we route to
  EXPECT_EQ(map->nodes()[0], "127.0.0.1:7001");
  EXPECT_EQ(map->nodes()[2], "10.1.1.1:7003");  // empty host = the node that answered
  EXPECT_EQ(map->owner(0), 0u);
  EXPECT_EQ(map->owner(5460), 0u);
  EXPECT_EQ(map->owner(5461), 1u);
  EXPECT_EQ(map->owner(16383), 2u);
  EXPECT_EQ(map->owner(12000), 0u);  // a later range wins (single-slot split)
  EXPECT_EQ(map->covered(), 16384u);
}

TEST(RedisCluster, SlotMapPartialCoverageAndAssign) {
  std::vector<RespValue> ranges{range(0, 99, "h", 1)};
  auto map = SlotMap::from_cluster_slots(array(std::move(ranges)), "x");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered(), 100u);
  EXPECT_EQ(map->owner(100), SlotMap::kNoNode);
  map->assign(100, "h:2");
  EXPECT_EQ(map->owner(100), 1u);
  map->assign(5, "h:2");
  EXPECT_EQ(map->owner(5), 1u);
  EXPECT_EQ(map->nodes().size(), 2u);
  EXPECT_EQ(map->covered(), 101u);
}

TEST(RedisCluster, SlotMapRejectsMalformedReplies) {
  RespValue err;
  err.type = RespValue::Type::Error;
  err.str = "ERR This instance has cluster support disabled";
  auto e = SlotMap::from_cluster_slots(err, "h");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("cluster support disabled"), std::string::npos);
  EXPECT_FALSE(SlotMap::from_cluster_slots(bulk("x"), "h"));
  std::vector<RespValue> bad_bounds{range(10, 5, "h", 1)};
  EXPECT_FALSE(SlotMap::from_cluster_slots(array(std::move(bad_bounds)), "h"));
  std::vector<RespValue> out_of_range{range(0, 16384, "h", 1)};
  EXPECT_FALSE(SlotMap::from_cluster_slots(array(std::move(out_of_range)), "h"));
  std::vector<RespValue> bad_port{range(0, 1, "h", 0)};
  EXPECT_FALSE(SlotMap::from_cluster_slots(array(std::move(bad_port)), "h"));
  EXPECT_TRUE(SlotMap::from_cluster_slots(array({}), "h"));  // a cluster with no slots yet
}

TEST(RedisCluster, ParsesRedirects) {
  auto moved = detail::parse_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, detail::Redirect::Kind::Moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->host, "127.0.0.1");
  EXPECT_EQ(moved->port, 6381);
  auto ask = detail::parse_redirect("ASK 16383 [::1]:7000");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, detail::Redirect::Kind::Ask);
  EXPECT_EQ(ask->slot, 16383);
  EXPECT_EQ(ask->host, "::1");
  EXPECT_EQ(ask->port, 7000);
  auto unknown_host = detail::parse_redirect("MOVED 1 :6380");
  ASSERT_TRUE(unknown_host);
  EXPECT_EQ(unknown_host->host, "");
  EXPECT_FALSE(detail::parse_redirect("ERR wrong number of arguments"));
  EXPECT_FALSE(detail::parse_redirect("MOVED 16384 h:1"));
  EXPECT_FALSE(detail::parse_redirect("MOVED x h:1"));
  EXPECT_FALSE(detail::parse_redirect("MOVED 1 h"));
  EXPECT_FALSE(detail::parse_redirect("ASK 1 h:0"));
  EXPECT_TRUE(detail::is_transient_cluster_error("TRYAGAIN Multiple keys request during rehashing of slot"));
  EXPECT_TRUE(detail::is_transient_cluster_error("CLUSTERDOWN The cluster is down"));
  EXPECT_FALSE(detail::is_transient_cluster_error("WRONGTYPE Operation against a key"));
  EXPECT_EQ(detail::node_address("::1", 7000), "[::1]:7000");
  EXPECT_EQ(detail::node_address("10.0.0.1", 7000), "10.0.0.1:7000");
}

TEST(RedisCluster, ParsesClusterUrls) {
  EXPECT_TRUE(is_redis_cluster_url("redis-cluster://h:1"));
  EXPECT_TRUE(is_redis_cluster_url("rediss-cluster://h:1"));
  EXPECT_FALSE(is_redis_cluster_url("redis://h:1"));
  auto seeds = parse_redis_cluster_url("rediss-cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002");
  ASSERT_TRUE(seeds) << seeds.error().to_string();
  ASSERT_EQ(seeds->size(), 3u);
  for (const auto& s : *seeds) {
    EXPECT_TRUE(s.tls);
    EXPECT_EQ(s.user, "app");
    EXPECT_EQ(s.password, "s@cret");
  }
  EXPECT_EQ((*seeds)[0].host, "10.0.0.1");
  EXPECT_EQ((*seeds)[0].port, 7000);
  EXPECT_EQ((*seeds)[1].port, 6379);
  EXPECT_EQ((*seeds)[2].host, "::1");
  auto plain = parse_redis_cluster_url("redis://127.0.0.1:7000/0");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->front().tls);
  EXPECT_FALSE(parse_redis_cluster_url("redis-cluster://h:1/2"));  // only db 0
  EXPECT_FALSE(parse_redis_cluster_url("redis-cluster://h:1,,h:2"));
  EXPECT_FALSE(parse_redis_cluster_url("redis-cluster://"));
  EXPECT_FALSE(parse_redis_cluster_url("http://h:1"));
  EXPECT_FALSE(parse_redis_cluster_url("redis-cluster://h:99999"));
  // A node list is a cluster URL only; a plain URL names one server (IPv6 in brackets).
  EXPECT_FALSE(parse_redis_url("redis://h1:7000,h2:7001"));
  EXPECT_FALSE(parse_redis_url("redis://::1:7000"));
  EXPECT_TRUE(parse_redis_url("redis://[::1]:7000"));
}

}  // namespace
}  // namespace accelerator::remote
