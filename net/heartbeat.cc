#include "net/heartbeat.h"

#include <algorithm>

#include "common/clock.h"
#include "net/message.h"
#include "net/socket.h"
#include "proto/messages.pb.h"

namespace tessera::net {
namespace {

// How long the monitor's thread sleeps in a receive before it looks at its stop flag.
constexpr int kMonitorPollMs = 100;

Message Beat(int sender) {
  Message m;
  m.header.set_kind(pb::HEARTBEAT);
  m.header.set_sender(sender);
  return m;
}

}  // namespace

HeartbeatMonitor::HeartbeatMonitor(std::unique_ptr<Router> router, int num_ranks)
    : router_(std::move(router)),
      endpoint_(router_->endpoint()),
      last_seen_ms_(new std::atomic<int64_t>[static_cast<size_t>(std::max(num_ranks, 0))]),
      num_ranks_(num_ranks) {
  const int64_t now = NowMs();
  for (int r = 0; r < num_ranks_; ++r) last_seen_ms_[r].store(now);
}

StatusOr<std::unique_ptr<HeartbeatMonitor>> HeartbeatMonitor::Start(
    zmq::context_t* context, const std::string& advertise_host, int num_ranks) {
  // A short send deadline: an answer to a rank that is gone must not hold the others'.
  ASSIGN_OR_RETURN(std::unique_ptr<Router> router,
                   Router::Bind(context, advertise_host, /*send_timeout_ms=*/100));
  std::unique_ptr<HeartbeatMonitor> monitor(new HeartbeatMonitor(std::move(router), num_ranks));
  monitor->thread_ = std::thread([m = monitor.get()] { m->Loop(); });
  return monitor;
}

HeartbeatMonitor::~HeartbeatMonitor() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

int64_t HeartbeatMonitor::SilentMs(int rank) const {
  if (rank < 0 || rank >= num_ranks_) return 0;
  return NowMs() - last_seen_ms_[rank].load();
}

void HeartbeatMonitor::Loop() {
  while (!stop_.load()) {
    Message msg;
    std::string peer;
    StatusOr<bool> got = router_->Receive(&msg, &peer, kMonitorPollMs);
    if (!got.ok() || !*got) continue;
    const int rank = msg.header.sender();
    if (msg.header.kind() != pb::HEARTBEAT || rank < 0 || rank >= num_ranks_) continue;
    last_seen_ms_[rank].store(NowMs());
    // Best effort: a sender that missed an answer beats again within its interval.
    (void)router_->Send(peer, Beat(/*sender=*/-1));
  }
}

HeartbeatSender::HeartbeatSender(std::unique_ptr<Dealer> dealer, int rank, int interval_ms,
                                 int timeout_ms, OnSilence on_silence)
    : dealer_(std::move(dealer)),
      rank_(rank),
      interval_ms_(interval_ms),
      timeout_ms_(timeout_ms),
      on_silence_(std::move(on_silence)) {}

StatusOr<std::unique_ptr<HeartbeatSender>> HeartbeatSender::Start(
    zmq::context_t* context, const std::string& endpoint, int rank, int interval_ms,
    int timeout_ms, OnSilence on_silence) {
  ASSIGN_OR_RETURN(std::unique_ptr<Dealer> dealer,
                   Dealer::Connect(context, endpoint, "heartbeat-" + std::to_string(rank),
                                   "the scheduler's heartbeat monitor (" + endpoint + ")",
                                   /*send_timeout_ms=*/std::max(1, interval_ms)));
  std::unique_ptr<HeartbeatSender> sender(new HeartbeatSender(
      std::move(dealer), rank, std::max(1, interval_ms), timeout_ms, std::move(on_silence)));
  sender->thread_ = std::thread([s = sender.get()] { s->Loop(); });
  return sender;
}

HeartbeatSender::~HeartbeatSender() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void HeartbeatSender::Loop() {
  int64_t last_answer = NowMs();
  int64_t last_tick = last_answer;
  int64_t next_beat = 0;
  bool reported = false;
  while (!stop_.load()) {
    const int64_t now = NowMs();
    // This loop wakes at least every 100 ms; a much longer gap means this process was
    // frozen (SIGSTOP, swapped out): the silence is its own, not the scheduler's.
    if (now - last_tick > std::max<int64_t>(1000, 3 * interval_ms_)) last_answer = now;
    last_tick = now;
    if (now >= next_beat) {
      // A send that times out (the monitor unreachable) is one more beat unanswered.
      (void)dealer_->Send(Beat(rank_));
      next_beat = now + interval_ms_;
    }
    Message reply;
    const int wait = static_cast<int>(std::clamp<int64_t>(next_beat - NowMs(), 1, 100));
    StatusOr<bool> got = dealer_->Receive(&reply, wait);
    if (got.ok() && *got && reply.header.kind() == pb::HEARTBEAT) last_answer = NowMs();
    const int64_t silent = NowMs() - last_answer;
    if (!reported && silent > timeout_ms_) {
      reported = true;
      on_silence_(silent);
    }
  }
}

}  // namespace tessera::net
