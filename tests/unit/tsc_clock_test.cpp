// Unit tests for the TSC-backed steady clock: the calibration rule (TscCalibrator, driven with
// made-up clock pairs) and the clock itself against std::chrono::steady_clock.
#include "accelerator/detail/tsc_clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace accelerator::detail {
namespace {

using namespace std::chrono_literals;

TscCalibrator::Options calibration(std::chrono::nanoseconds after, std::chrono::nanoseconds rebase,
                                   std::chrono::nanoseconds max_error) {
  TscCalibrator::Options o;
  o.calibrate_after = after;
  o.rebase_every = rebase;
  o.max_error = max_error;
  return o;
}

// Where a mapping puts a tick count.
double mapped_ns(const TscMapping& m, std::uint64_t ticks) {
  return static_cast<double>(m.base_ns) +
         static_cast<double>(static_cast<std::int64_t>(ticks - m.base_ticks)) * m.ns_per_tick;
}

// A 2.5 GHz counter: 0.4 ns per tick.
constexpr std::uint64_t kTicksPerMs = 2'500'000;

TEST(TscCalibrator, PublishesNothingUntilTheSpanIsLongEnough) {
  TscCalibrator c(calibration(20ms, 1s, 1ms));
  EXPECT_FALSE(c.observe(1'000, 5'000'000));  // the anchor
  EXPECT_EQ(c.uncalibrated_until_ns(), 25'000'000);
  EXPECT_FALSE(c.observe(1'000 + 19 * kTicksPerMs, 5'000'000 + 19'000'000));
  const auto m = c.observe(1'000 + 20 * kTicksPerMs, 5'000'000 + 20'000'000);
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->ns_per_tick, 0.4);
  EXPECT_EQ(m->base_ticks, 1'000 + 20 * kTicksPerMs);
  EXPECT_EQ(m->base_ns, 25'000'000);
  EXPECT_EQ(m->valid_for_ticks, 1000 * kTicksPerMs);  // one second of ticks
  EXPECT_DOUBLE_EQ(mapped_ns(*m, m->base_ticks + kTicksPerMs), 26'000'000.0);
}

// Each re-base measures the slope over the span since the previous pair, so the mapping follows
// a steady clock that runs 300 ppm slow against the counter (NTP slewing it).
TEST(TscCalibrator, ReBasingFollowsTheSteadyClocksRate) {
  TscCalibrator c(calibration(20ms, 1s, 1ms));
  ASSERT_FALSE(c.observe(0, 0));
  auto m = c.observe(20 * kTicksPerMs, 20'000'000);
  ASSERT_TRUE(m);
  // From here one second of ticks is 999.7 ms of steady time.
  std::uint64_t ticks = 20 * kTicksPerMs;
  std::int64_t ns = 20'000'000;
  for (int second = 0; second < 3; ++second) {
    ticks += 1000 * kTicksPerMs;
    ns += 999'700'000;
    const double error = static_cast<double>(ns) - mapped_ns(*m, ticks);
    EXPECT_NEAR(error, second == 0 ? -300'000.0 : 0.0, 1.0) << second;  // within max_error: kept
    m = c.observe(ticks, ns);
    ASSERT_TRUE(m) << second;
    EXPECT_EQ(m->base_ns, ns);
    EXPECT_NEAR(m->ns_per_tick, 0.4 * 0.9997, 1e-12);
  }
}

// The counter jumped (a suspended virtual machine): the mapping is withdrawn and calibration
// starts over from the pair that showed it.
TEST(TscCalibrator, APairFarFromTheMappingRestartsCalibration) {
  TscCalibrator c(calibration(20ms, 1s, 1ms));
  ASSERT_FALSE(c.observe(0, 0));
  ASSERT_TRUE(c.observe(20 * kTicksPerMs, 20'000'000));
  const std::uint64_t jumped = 20 * kTicksPerMs + 1000 * kTicksPerMs + 5 * kTicksPerMs;  // 5 ms too far
  EXPECT_FALSE(c.observe(jumped, 1'020'000'000));
  EXPECT_EQ(c.uncalibrated_until_ns(), 1'040'000'000);
  EXPECT_FALSE(c.observe(jumped + 10 * kTicksPerMs, 1'030'000'000));
  const auto m = c.observe(jumped + 20 * kTicksPerMs, 1'040'000'000);
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->ns_per_tick, 0.4);
}

TEST(TscCalibrator, ASlopeNoCounterHasIsRejected) {
  TscCalibrator c(calibration(20ms, 1s, 1ms));
  ASSERT_FALSE(c.observe(0, 0));
  EXPECT_FALSE(c.observe(100, 20'000'000));  // 200 000 ns per tick
  EXPECT_FALSE(c.observe(100, 40'000'000));  // the counter stood still
  EXPECT_TRUE(c.observe(100 + 20 * kTicksPerMs, 60'000'000));
}

// Pairs taken close together keep the slope measured over the longer span.
TEST(TscCalibrator, AShortSpanKeepsTheMeasuredSlope) {
  TscCalibrator c(calibration(20ms, 1s, 1ms));
  ASSERT_FALSE(c.observe(0, 0));
  ASSERT_TRUE(c.observe(20 * kTicksPerMs, 20'000'000));
  const auto m = c.observe(20 * kTicksPerMs + 2'500, 20'001'100);  // 1 us later, 100 ns of jitter
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->ns_per_tick, 0.4);
  EXPECT_EQ(m->base_ns, 20'001'100);
}

// The clock itself, calibrating quickly (2 ms) and re-basing often (5 ms) so a short test sees
// many re-bases: every reading must lie between steady_clock readings taken around it, within
// the mapping's allowance, from two threads at once.
TEST(TscClockConcurrency, ReadingsStayWithSteadyClockWhileItReBases) {
  TscClock clock(TscClock::Options{calibration(2ms, 5ms, 1ms), true});
  constexpr auto kTolerance = 50us;
  std::atomic<int> out_of_bounds{0};
  std::atomic<std::uint64_t> readings{0};
  auto reader = [&] {
    const auto until = std::chrono::steady_clock::now() + 150ms;
    std::uint64_t n = 0;
    while (std::chrono::steady_clock::now() < until) {
      const auto before = std::chrono::steady_clock::now();
      const auto reading = clock.now();
      const auto after = std::chrono::steady_clock::now();
      if (reading < before - kTolerance || reading > after + kTolerance) out_of_bounds.fetch_add(1);
      ++n;
    }
    readings.fetch_add(n);
  };
  std::thread a(reader), b(reader);
  a.join();
  b.join();
  EXPECT_GT(readings.load(), 1000u);
  EXPECT_EQ(out_of_bounds.load(), 0);
  EXPECT_EQ(clock.calibrated(), TscClock::hardware_supported());
}

// Durations measured with the clock agree with steady_clock's.
TEST(TscClock, MeasuresASleepAsSteadyClockDoes) {
  TscClock clock(TscClock::Options{calibration(2ms, 1s, 1ms), true});
  const auto warm_until = std::chrono::steady_clock::now() + 5ms;
  while (std::chrono::steady_clock::now() < warm_until) clock.now();
  const auto steady_start = std::chrono::steady_clock::now();
  const auto start = clock.now();
  std::this_thread::sleep_for(30ms);
  const auto end = clock.now();
  const auto steady_end = std::chrono::steady_clock::now();
  const auto measured = std::chrono::duration_cast<std::chrono::microseconds>(end - start);
  const auto expected = std::chrono::duration_cast<std::chrono::microseconds>(steady_end - steady_start);
  EXPECT_GE(measured.count(), 30'000);
  EXPECT_NEAR(static_cast<double>(measured.count()), static_cast<double>(expected.count()), 100.0);
  EXPECT_EQ(clock.calibrated(), TscClock::hardware_supported());
}

TEST(TscClock, WithoutTheCounterEveryReadingIsTheSteadyClock) {
  TscClock clock(TscClock::Options{calibration(1ms, 1s, 1ms), false});
  const auto until = std::chrono::steady_clock::now() + 5ms;
  while (std::chrono::steady_clock::now() < until) {
    const auto before = std::chrono::steady_clock::now();
    const auto reading = clock.now();
    ASSERT_GE(reading, before);
    ASSERT_LE(reading, std::chrono::steady_clock::now());
  }
  EXPECT_FALSE(clock.calibrated());
}

}  // namespace
}  // namespace accelerator::detail
