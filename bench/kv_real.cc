#include "bench/kv_real.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>
#include <zmq.hpp>

#include "bench/kv_measure.h"
#include "bench/peer_process.h"
#include "common/clock.h"
#include "net/cluster.h"
#include "net/socket.h"
#include "ps/client/ps_client.h"
#include "ps/server.h"

namespace tessera::bench {
namespace {

constexpr int kSendTimeoutMs = 10000;
constexpr int kTimeoutMs = 10000;
constexpr int kKeySets = 64;
constexpr int kWorkerRank = 2;

struct RealCase {
  std::string name;
  int dim = 1;               // floats per key
  int keys = 0;              // keys per step
  int64_t dense_floats = 0;  // the whole dense vector, pulled and pushed every step
  bool push = true;          // pull+push per step, or pull only (at step 1)
  bool latency = false;      // report round-trip percentiles instead of throughput
};

std::vector<RealCase> RealCases() {
  return {{"real_4096x16_if1_pushpull", 16, 4096, 0, true},
          {"real_4096x16_if1_pull", 16, 4096, 0, false},
          {"real_4096x64_if1_pushpull", 64, 4096, 0, true},
          {"real_4096x64_if1_pull", 64, 4096, 0, false},
          {"real_dense1MiB_if1_pushpull", 1, 0, 1 << 18, true},
          {"real_dense1MiB_if1_pull", 1, 0, 1 << 18, false},
          {"real_lat_1x16_pull", 16, 1, 0, false, true},
          {"real_lat_1x16_pushpull", 16, 1, 0, true, true}};
}

// Scheduler rank 0 (never contacted), server rank 1, worker rank 2.
StatusOr<net::NodeTable> Nodes() {
  std::vector<pb::NodeInfo> nodes(3);
  const pb::Role roles[] = {pb::SCHEDULER, pb::SERVER, pb::WORKER};
  for (int r = 0; r < 3; ++r) {
    nodes[r].set_rank(r);
    nodes[r].set_role(roles[r]);
    nodes[r].set_host("localhost");
  }
  return net::NodeTable::Build(std::move(nodes));
}

ps::ServerOptions ServerOptionsFor(const RealCase& c, int threads) {
  ps::ServerOptions options;
  options.threads = threads;
  options.sparse.dim = c.dim;
  options.sparse.init = {{0, c.dim, ps::ColumnInit::Kind::kNormal, 0.01f}};
  options.dense_size = c.dense_floats;
  options.dense_block_floats = 1 << 18;
  options.initial_dense.assign(c.dense_floats, 0.0f);
  options.timeout_ms = kTimeoutMs;
  return options;
}

// The child: a real ps::Server until SHUTDOWN.
Status Serve(const RealCase& c, int threads, int endpoint_fd) {
  zmq::context_t context(1);
  ASSIGN_OR_RETURN(auto router, net::Router::Bind(&context, "127.0.0.1", kSendTimeoutMs));
  std::string line = router->endpoint() + "\n";
  if (write(endpoint_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return Status::IOError("cannot report the endpoint");
  }
  ASSIGN_OR_RETURN(net::NodeTable nodes, Nodes());
  ps::Server server(ServerOptionsFor(c, threads), router.get(), &nodes);
  return server.Run();
}

// The worker side of one case.
class RealWorker {
 public:
  RealWorker(const RealCase& c, std::unique_ptr<ps::PsClient> client, net::Dealer* dealer)
      : c_(c), client_(std::move(client)), dealer_(dealer) {
    key_sets_ = RandomKeySets(kKeySets, c.keys, 12345);
    grads_.assign(size_t(c.keys) * c.dim, 1e-3f);
    pulled_.resize(grads_.size());
    dense_.resize(c.dense_floats);
    dense_grads_.assign(c.dense_floats, 1e-3f);
  }

  // One step: pull, and push unless the case is pull-only (which stays at step 1).
  Status Step() {
    const auto& keys = key_sets_[calls_++ % kKeySets];
    RETURN_IF_ERROR(client_->Pull(0, step_, false, keys, pulled_, dense_));
    if (c_.push) {
      RETURN_IF_ERROR(client_->Push(0, step_, keys, grads_, dense_grads_));
      ++step_;
    }
    return Status::OK();
  }

  // The server's Run() returns on SHUTDOWN, after everything sent before it.
  Status Shutdown() {
    net::Message m;
    m.header.set_kind(pb::SHUTDOWN);
    m.header.set_sender(kWorkerRank);
    return dealer_->Send(std::move(m));
  }

 private:
  const RealCase& c_;
  std::unique_ptr<ps::PsClient> client_;
  net::Dealer* dealer_;  // owned by client_
  std::vector<std::vector<uint64_t>> key_sets_;
  std::vector<float> grads_, pulled_, dense_, dense_grads_;
  int64_t step_ = 1;    // BSP step: stays 1 in pull-only cases
  uint64_t calls_ = 0;  // picks the key set
};

Status Measure(const RealCase& c, RealWorker* worker, double seconds) {
  for (int i = 0; i < kKeySets; ++i) RETURN_IF_ERROR(worker->Step());  // creates the rows
  std::vector<double> us;
  const double start = NowSeconds();
  // Throughput: steps for `seconds`; latency: also at least 1000 samples.
  while (NowSeconds() - start < seconds || (c.latency && us.size() < 1000)) {
    double t0 = NowUs();
    RETURN_IF_ERROR(worker->Step());
    us.push_back(NowUs() - t0);
  }
  const double elapsed = NowSeconds() - start;
  if (c.latency) {
    PrintLatency(c.name, std::move(us));
  } else {
    const double bytes =
        (double(c.keys) * c.dim + double(c.dense_floats)) * sizeof(float) * (c.push ? 2 : 1);
    PrintThroughput(c.name, static_cast<double>(us.size()), bytes, c.keys, elapsed);
  }
  return Status::OK();
}

Status RunCase(const RealCase& c, double seconds, int threads) {
  pid_t child = 0;
  ASSIGN_OR_RETURN(std::string endpoint,
                   ForkPeer([&c, threads](int fd) { return Serve(c, threads, fd); }, &child));
  // The sockets close (lingering until SHUTDOWN is sent) before the server is reaped.
  Status run = [&]() -> Status {
    zmq::context_t context(1);
    ASSIGN_OR_RETURN(auto dealer,
                     net::Dealer::Connect(&context, endpoint, "worker-2",
                                          "ps::Server at " + endpoint, kSendTimeoutMs));
    net::Dealer* raw = dealer.get();
    ps::PsClientOptions options;
    options.rank = kWorkerRank;
    options.slot_to_server = ps::RoundRobinSlotTable(options.slot_bits, 1);
    options.sparse_dim = c.dim;
    options.dense_size = c.dense_floats;
    options.dense_block_floats = 1 << 18;
    options.timeout_ms = kTimeoutMs;
    std::vector<std::unique_ptr<net::Dealer>> servers;
    servers.push_back(std::move(dealer));
    auto client = std::make_unique<ps::PsClient>(options, std::move(servers));
    RETURN_IF_ERROR(client->Ping(kTimeoutMs));
    RealWorker worker(c, std::move(client), raw);
    RETURN_IF_ERROR(Measure(c, &worker, seconds));
    return worker.Shutdown();
  }();
  if (!run.ok()) {
    KillPeer(child);
    return run.WithContext(c.name);
  }
  return ReapPeer(child);
}

}  // namespace

Status RunRealCases(double seconds, const std::string& filter, int server_threads) {
  for (const RealCase& c : RealCases()) {
    if (c.name.find(filter) == std::string::npos) continue;
    RETURN_IF_ERROR(RunCase(c, seconds, server_threads));
  }
  return Status::OK();
}

}  // namespace tessera::bench
