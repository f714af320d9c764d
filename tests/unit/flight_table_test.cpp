// Unit tests for FlightTable, the singleflight registry: one leader per key, release and forget,
// the settled-since tickets, and the count over its shards, also with two threads at once.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "accelerator/detail/flight.hpp"

namespace accelerator::detail {
namespace {

using Table = FlightTable<int>;

TEST(FlightTable, TheFirstCallerLeadsAndLaterOnesJoinItsFlight) {
  Table table;
  auto [first, leads] = table.join_or_lead("k");
  auto [second, joins_as_leader] = table.join_or_lead("k");
  EXPECT_TRUE(leads);
  EXPECT_FALSE(joins_as_leader);
  EXPECT_EQ(first, second);
  EXPECT_EQ(table.find("k"), first);
  EXPECT_EQ(table.find("other"), nullptr);
}

TEST(FlightTable, ReleaseUnregistersOnlyTheFlightItWasGiven) {
  Table table;
  auto [old_flight, leads] = table.join_or_lead("k");
  ASSERT_TRUE(leads);
  table.forget("k");  // a write detached it; the next caller leads a new load
  auto [new_flight, leads_again] = table.join_or_lead("k");
  ASSERT_TRUE(leads_again);
  ASSERT_NE(old_flight, new_flight);
  table.release("k", old_flight);  // the old load ends: must not drop the new one
  EXPECT_EQ(table.find("k"), new_flight);
  table.release("k", new_flight);
  EXPECT_EQ(table.find("k"), nullptr);
  EXPECT_TRUE(table.join_or_lead("k").second);
}

TEST(FlightTable, ATicketGoesStaleWhenAFlightOfItsKeyIsReleased) {
  Table table;
  const auto before = table.ticket("k");
  EXPECT_FALSE(table.settled_since("k", before));
  auto [flight, leads] = table.join_or_lead("k");
  ASSERT_TRUE(leads);
  table.forget("k");
  EXPECT_FALSE(table.settled_since("k", before)) << "forget() ends no flight";
  auto [again, leads_again] = table.join_or_lead("k");
  ASSERT_TRUE(leads_again);
  table.release("k", again);
  EXPECT_TRUE(table.settled_since("k", before));
  EXPECT_FALSE(table.settled_since("k", table.ticket("k")));
}

// 500 keys spread over every shard: size() must count them all, and forget/release remove them.
TEST(FlightTable, SizeCountsFlightsInEveryShard) {
  Table table;
  std::vector<Table::FlightPtr> flights;
  for (int i = 0; i < 500; ++i) flights.push_back(table.join_or_lead("key-" + std::to_string(i)).first);
  EXPECT_EQ(table.size(), 500u);
  for (int i = 0; i < 500; i += 2) table.forget("key-" + std::to_string(i));
  EXPECT_EQ(table.size(), 250u);
  for (int i = 1; i < 500; i += 2) table.release("key-" + std::to_string(i), flights[static_cast<std::size_t>(i)]);
  EXPECT_EQ(table.size(), 0u);
}

// Two threads race for the same 2000 keys: each key has exactly one leader, and both threads end
// up holding that leader's flight.
TEST(FlightTable, ConcurrentCallersGetOneLeaderPerKey) {
  Table table;
  constexpr int kKeys = 2000;
  std::vector<Table::FlightPtr> seen[2];
  std::atomic<int> leaders{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      seen[t].reserve(kKeys);
      for (int i = 0; i < kKeys; ++i) {
        auto [flight, leads] = table.join_or_lead("key-" + std::to_string(i));
        if (leads) ++leaders;
        seen[t].push_back(std::move(flight));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(leaders.load(), kKeys);
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ(seen[0][static_cast<std::size_t>(i)], seen[1][static_cast<std::size_t>(i)]);
  EXPECT_EQ(table.size(), static_cast<std::size_t>(kKeys));
}

}  // namespace
}  // namespace accelerator::detail
