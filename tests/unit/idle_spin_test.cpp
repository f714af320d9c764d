// Unit tests for IdleSpin, the maintenance thread's rule for spinning before it sleeps.
#include "accelerator/local/idle_spin.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace accelerator::local {
namespace {

using namespace std::chrono_literals;

TEST(IdleSpin, ANewThreadSpins) {
  const IdleSpin spin(50us);
  EXPECT_EQ(spin.budget(), 50us);
}

TEST(IdleSpin, TasksCloserThanTheSpinKeepItSpinning) {
  IdleSpin spin(50us);
  for (int i = 0; i < 100; ++i) {
    spin.record_gap(i % 2 == 0 ? 0us : 30us);
    EXPECT_EQ(spin.budget(), 50us) << i;
  }
}

// A drain every ~128 us (1 M hits/s): every 50 us spin would end in a sleep anyway.
TEST(IdleSpin, TasksFurtherApartThanTheSpinStopIt) {
  IdleSpin spin(50us);
  int spinning = 0;
  for (int i = 0; i < 100; ++i) {
    spin.record_gap(128us);
    if (spin.budget() != 0us) ++spinning;
  }
  EXPECT_EQ(spin.budget(), 0us);
  EXPECT_EQ(spinning, 1);  // the average crosses 50 us at the second gap: 32, then 56 us
}

// The decision follows the stream: sparse, then dense again (a read burst after a quiet spell).
TEST(IdleSpin, TheDecisionFollowsTheStream) {
  IdleSpin spin(50us);
  for (int i = 0; i < 20; ++i) spin.record_gap(60us);
  EXPECT_EQ(spin.budget(), 0us);
  for (int i = 0; i < 20; ++i) spin.record_gap(40us);
  EXPECT_EQ(spin.budget(), 50us);
}

TEST(IdleSpin, OneLongIdleSpellIsForgottenAfterAFewCloseTasks) {
  IdleSpin spin(50us);
  spin.record_gap(10s);  // counts as 200 us
  EXPECT_EQ(spin.average_gap(), 50us);
  spin.record_gap(10s);
  EXPECT_EQ(spin.budget(), 0us);
  int gaps = 0;
  while (spin.budget() == 0us) {
    spin.record_gap(4us);
    ++gaps;
  }
  // From 87.5 us: 66.6, 50.9, 39.2 us.
  EXPECT_EQ(gaps, 3);
}

// A single short gap in a sparse stream does not restart the spin, nor one long gap in a dense
// stream stop it: each gap moves the average a quarter of the way.
TEST(IdleSpin, OneOddGapDoesNotFlipTheDecision) {
  IdleSpin sparse(50us);
  for (int i = 0; i < 20; ++i) sparse.record_gap(150us);
  sparse.record_gap(0us);
  EXPECT_EQ(sparse.budget(), 0us);

  IdleSpin dense(50us);
  for (int i = 0; i < 20; ++i) dense.record_gap(5us);
  dense.record_gap(150us);
  EXPECT_EQ(dense.budget(), 50us);
}

}  // namespace
}  // namespace accelerator::local
