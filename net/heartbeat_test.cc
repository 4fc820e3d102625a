// Heartbeats over real loopback sockets: a beating rank stays heard, a stopped one
// goes silent on the monitor's clock, and a sender whose monitor is gone calls back.
#include "net/heartbeat.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/clock.h"

namespace tessera::net {
namespace {

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST(HeartbeatTest, MonitorHearsSendersAndNoticesOneThatStops) {
  zmq::context_t context(1);
  auto monitor = HeartbeatMonitor::Start(&context, "127.0.0.1", 3);
  ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();
  std::atomic<int> silences{0};
  auto on_silence = [&](int64_t) { ++silences; };
  auto one = HeartbeatSender::Start(&context, (*monitor)->endpoint(), 1, 20, 5000, on_silence);
  auto two = HeartbeatSender::Start(&context, (*monitor)->endpoint(), 2, 20, 5000, on_silence);
  ASSERT_TRUE(one.ok() && two.ok());
  SleepMs(300);
  EXPECT_LT((*monitor)->SilentMs(1), 200);
  EXPECT_LT((*monitor)->SilentMs(2), 200);
  two->reset();  // rank 2 stops beating, as a killed process would
  SleepMs(400);
  EXPECT_LT((*monitor)->SilentMs(1), 200);
  EXPECT_GE((*monitor)->SilentMs(2), 350);
  // Rank 0 (the scheduler itself) never beats: silent since Start.
  EXPECT_GE((*monitor)->SilentMs(0), 700);
  EXPECT_EQ(silences.load(), 0) << "the monitor answered every beat";
}

TEST(HeartbeatTest, SenderCallsBackOnceWhenTheMonitorIsGone) {
  zmq::context_t context(1);
  auto monitor = HeartbeatMonitor::Start(&context, "127.0.0.1", 2);
  ASSERT_TRUE(monitor.ok());
  std::atomic<int> silences{0};
  std::atomic<int64_t> silent_for{0};
  auto sender = HeartbeatSender::Start(&context, (*monitor)->endpoint(), 1, 20, 300,
                                       [&](int64_t ms) {
                                         silent_for = ms;
                                         ++silences;
                                       });
  ASSERT_TRUE(sender.ok());
  SleepMs(200);
  EXPECT_EQ(silences.load(), 0);
  monitor->reset();  // the scheduler is gone
  const int64_t deadline = NowMs() + 5000;
  while (silences.load() == 0 && NowMs() < deadline) SleepMs(10);
  SleepMs(200);
  EXPECT_EQ(silences.load(), 1);
  EXPECT_GT(silent_for.load(), 300);
}

}  // namespace
}  // namespace tessera::net
