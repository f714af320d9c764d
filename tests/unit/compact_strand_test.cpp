#include "accelerator/detail/compact_strand.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <thread>
#include <typeinfo>
#include <vector>

namespace accelerator::detail {
namespace {

using IoStrand = asio::strand<asio::io_context::executor_type>;

// Posts `n` handlers to `strand` and reports whether any two ran at the same time.
template <class Run>
bool handlers_overlap(const asio::any_io_executor& strand, int n, Run run_threads) {
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::atomic<int> done{0};
  for (int i = 0; i < n; ++i) {
    asio::post(strand, [&] {
      if (inside.fetch_add(1) != 0) overlapped = true;
      std::this_thread::yield();
      inside.fetch_sub(1);
      done.fetch_add(1);
    });
  }
  run_threads();
  EXPECT_EQ(done.load(), n);
  return overlapped.load();
}

TEST(CompactStrand, AnIoContextExecutorGetsAStrandOverTheConcreteExecutor) {
  asio::io_context io;
  const asio::any_io_executor plain = io.get_executor();
  const asio::any_io_executor tracked = asio::prefer(io.get_executor(), asio::execution::outstanding_work.tracked);
  for (const auto& executor : {plain, tracked}) {
    const asio::any_io_executor strand = make_compact_strand(executor);
    ASSERT_EQ(strand.target_type(), typeid(IoStrand)) << "a strand over the io_context's own executor (stored inline)";
    const IoStrand* concrete = strand.target<IoStrand>();
    EXPECT_EQ(&concrete->get_inner_executor().context(), &io);
  }
  EXPECT_NE(make_compact_strand(plain), make_compact_strand(plain)) << "a new strand each time";
}

TEST(CompactStrand, ItSerialisesHandlersOnAnIoContextRunByTwoThreads) {
  asio::io_context io;
  const auto strand = make_compact_strand(io.get_executor());
  EXPECT_FALSE(handlers_overlap(strand, 500, [&] {
    std::thread other([&] { io.run(); });
    io.run();
    other.join();
  }));
}

TEST(CompactStrand, OtherExecutorsGetTheGeneralStrand) {
  asio::thread_pool pool(2);
  const asio::any_io_executor strand = make_compact_strand(pool.get_executor());
  EXPECT_NE(strand.target_type(), typeid(IoStrand));
  EXPECT_FALSE(handlers_overlap(strand, 500, [&] { pool.join(); }));
}

TEST(CompactStrand, RunningInStrandIsTrueOnlyInsideItsOwnHandlers) {
  asio::io_context io;
  const auto strand = make_compact_strand(io.get_executor());
  const auto other = make_compact_strand(io.get_executor());
  std::vector<bool> seen;
  asio::post(strand, [&] {
    seen.push_back(running_in_strand(strand));
    seen.push_back(running_in_strand(other));
  });
  asio::post(io.get_executor(), [&] { seen.push_back(running_in_strand(strand)); });
  io.run();
  EXPECT_EQ(seen, (std::vector<bool>{true, false, false}));
  EXPECT_FALSE(running_in_strand(strand)) << "outside any handler";
  EXPECT_FALSE(running_in_strand(io.get_executor())) << "not a strand";
  EXPECT_FALSE(running_in_strand(asio::any_io_executor())) << "no executor";

  asio::thread_pool pool(1);
  const auto general = make_compact_strand(pool.get_executor());
  std::atomic<bool> inside{false};
  asio::post(general, [&] { inside = running_in_strand(general); });
  pool.join();
  EXPECT_TRUE(inside.load()) << "the general strand answers too";
}

}  // namespace
}  // namespace accelerator::detail
