#include "ps/shard_threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace tessera::ps {
namespace {

TEST(ShardThreadsTest, EveryShardRunsExactlyOnceACall) {
  ShardThreads threads(3);
  std::vector<int> runs(12, 0);  // each shard's counter is written by its claimer only
  for (int call = 0; call < 2000; ++call) {
    threads.RunShards(12, [&](int shard) { ++runs[shard]; });
  }
  EXPECT_EQ(runs, std::vector<int>(12, 2000));
}

TEST(ShardThreadsTest, TheThreadsShareTheShards) {
  ShardThreads threads(2);
  std::set<std::thread::id> seen;
  std::vector<std::thread::id> ran(8);
  // Shards that take a while, so that the second thread wakes while some are left.
  for (int call = 0; call < 200 && seen.size() < 2; ++call) {
    threads.RunShards(8, [&](int shard) {
      ran[shard] = std::this_thread::get_id();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    });
    seen.insert(ran.begin(), ran.end());
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.count(std::this_thread::get_id()), 1u);  // the caller takes part
}

TEST(ShardThreadsTest, ACallReturnsAfterEveryShardsWorkIsDone) {
  ShardThreads threads(3);
  std::vector<long> sums(6, 0);
  long expected = 0;
  for (int i = 0; i < 1000; ++i) expected += i % 7;
  for (int call = 0; call < 200; ++call) {
    threads.RunShards(6, [&](int shard) {
      for (int i = 0; i < 1000; ++i) sums[shard] += i % 7;
    });
    // Read right after the call: every shard's writes are visible.
    for (long s : sums) ASSERT_EQ(s, expected * (call + 1));
  }
}

TEST(ShardThreadsTest, OneThreadRunsEveryShardOnTheCaller) {
  ShardThreads threads(1);
  std::vector<std::thread::id> ran(3);
  threads.RunShards(3, [&](int shard) { ran[shard] = std::this_thread::get_id(); });
  EXPECT_EQ(ran, std::vector<std::thread::id>(3, std::this_thread::get_id()));
}

}  // namespace
}  // namespace tessera::ps
