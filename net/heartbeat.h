// Liveness between the ranks of a job (DESIGN.md §7). The scheduler runs a
// HeartbeatMonitor: a ROUTER socket of its own, served by a thread of its own, that
// answers every heartbeat and records when each rank was last heard. Every other rank
// runs a HeartbeatSender: a thread that beats every interval and calls back when the
// scheduler has not answered for the timeout.
//
// Why threads and sockets apart from the training loops: a rank's main loop may wait
// for seconds (a BSP step held by a slow worker, a checkpoint being written), and that
// must not read as death; only a process that is gone (or frozen whole) stops beating.
// A socket belongs to one thread (ZeroMQ), so each side's thread owns its socket from
// the start to the end; the only shared state is atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"

namespace tessera::net {

class Router;
class Dealer;

class HeartbeatMonitor {
 public:
  // Binds tcp://*:<ephemeral> (advertised as `advertise_host`) and starts answering
  // heartbeats of ranks 0..num_ranks-1.
  static StatusOr<std::unique_ptr<HeartbeatMonitor>> Start(zmq::context_t* context,
                                                           const std::string& advertise_host,
                                                           int num_ranks);
  ~HeartbeatMonitor();  // stops and joins the thread
  HeartbeatMonitor(const HeartbeatMonitor&) = delete;
  HeartbeatMonitor& operator=(const HeartbeatMonitor&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  // Milliseconds since rank `rank` last beat (since Start when it never did).
  // Thread-safe.
  int64_t SilentMs(int rank) const;

 private:
  HeartbeatMonitor(std::unique_ptr<Router> router, int num_ranks);
  void Loop();

  std::unique_ptr<Router> router_;  // used by the thread only
  std::string endpoint_;
  std::unique_ptr<std::atomic<int64_t>[]> last_seen_ms_;
  int num_ranks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class HeartbeatSender {
 public:
  // Called once, from the sender's thread, when the scheduler has not answered for
  // timeout_ms; its argument is how long it has been silent.
  using OnSilence = std::function<void(int64_t silent_ms)>;

  // Connects to the monitor at `endpoint` as rank `rank` and beats every
  // interval_ms until destroyed.
  static StatusOr<std::unique_ptr<HeartbeatSender>> Start(zmq::context_t* context,
                                                          const std::string& endpoint,
                                                          int rank, int interval_ms,
                                                          int timeout_ms, OnSilence on_silence);
  ~HeartbeatSender();  // stops and joins the thread
  HeartbeatSender(const HeartbeatSender&) = delete;
  HeartbeatSender& operator=(const HeartbeatSender&) = delete;

 private:
  HeartbeatSender(std::unique_ptr<Dealer> dealer, int rank, int interval_ms, int timeout_ms,
                  OnSilence on_silence);
  void Loop();

  std::unique_ptr<Dealer> dealer_;  // used by the thread only
  int rank_;
  int interval_ms_;
  int timeout_ms_;
  OnSilence on_silence_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tessera::net
