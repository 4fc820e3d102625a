// kv_bench: KV push/pull throughput and latency over loopback through Tessera's wire
// path (net::Message framing on a ROUTER/DEALER pair, ps::SparseTable and
// ps::DenseStore behind it), and the raw ZeroMQ ceiling for the same bytes (issue 5).
//
// Two processes, as in a job: by default this process forks a server child and drives
// it as the client (fork before any ZeroMQ context; the endpoint comes back on a pipe).
// The default server is a minimal loop of our own, not ps::Server: that one runs the
// BSP protocol (a pull waits for the previous step, pushes are not acknowledged), so
// it cannot time a push alone nor keep 8 requests in flight. This loop does what
// ps::Server does per request (copy the frames out, look up or update the table,
// reply with a zero-copy frame) and acknowledges pushes. --role=real measures the
// production pair, ps::PsClient and ps::Server, in the worker's pull-then-push steps.
// Both servers work their tables with --server_threads slot-owning threads (default 1,
// cluster.server_threads' default) through ps::ShardedTable, as ps::Server does.
// --role=wire is the default pair with the table work taken out (cases "wire_..."):
// the server acknowledges a push without reading its values and answers a pull with
// a preallocated block of the right size, sent zero-copy. That is what ps-lite's own
// benchmark server does (tests/test_benchmark.cc: the push handler's sum returns at
// once, a pull replies with the stored blob), so wire_ is the like-for-like figure
// beside ps-lite's, and kv_ minus wire_ is the cost of the table.
//
//   kv_bench [--seconds=S] [--filter=SUB] [--server_threads=N]
//                                          server child + client, every case (or those
//                                          whose name contains SUB)
//   kv_bench --role=server                 serve; prints the endpoint on stdout
//   kv_bench --role=client --server=EP     drive a server started by hand
//   kv_bench --role=raw [--seconds=S]      raw ZeroMQ: PAIR sender -> forked receiver
//   kv_bench --role=real [--seconds=S]     ps::PsClient against a forked ps::Server
//                                          (bench/kv_real.h)
//   kv_bench --role=wire [--seconds=S]     the default pair, the server without table work
//
// Output: one line per case, "RESULT case=<name> key=value ...". MB = 10^6 bytes of
// values (push+pull counts both directions); keys/s counts keys per op.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "bench/kv_measure.h"
#include "bench/kv_real.h"
#include "bench/peer_process.h"
#include "bench/raw_zmq.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/message.h"
#include "net/socket.h"
#include "ps/dense_store.h"
#include "ps/sharded_table.h"

namespace tessera::bench {
namespace {

constexpr int kSendTimeoutMs = 10000;
constexpr int kReplyTimeoutMs = 10000;
constexpr int kServerIdleLimitMs = 120000;  // a server with no client for this long exits
constexpr int kKeysPerRequest = 4096;
constexpr int kKeySets = 64;                // distinct requests cycled through: 256k rows per table
constexpr int kDenseBlockFloats = 1 << 18;  // 1 MiB blocks
constexpr int kDenseBlocks = 8;             // 8 MiB in all
// Sparse tables by header.table: table 0 has 16 floats a row, table 1 has 64.
constexpr int kTableDims[] = {16, 64};
constexpr int kSlotBits = 14;  // cluster.slot_bits' default

// ---------------------------------------------------------------------------------
// The server: one ROUTER, two Adam sparse tables, one Adam dense store.

class KvServer {
 public:
  // table_work false: no table or dense-store work at all (--role=wire).
  KvServer(net::Router* router, int threads, bool table_work)
      : router_(router),
        table_work_(table_work),
        dense_(int64_t{kDenseBlockFloats} * kDenseBlocks, kDenseBlockFloats, AllBlocks(),
               std::vector<float>(size_t{kDenseBlockFloats} * kDenseBlocks, 0.0f),
               ps::OptimizerOptions{}) {
    for (int dim : kTableDims) {
      ps::SparseTableOptions options;
      options.table_id = static_cast<uint32_t>(tables_.size());
      options.dim = dim;
      options.init = {{0, dim, ps::ColumnInit::Kind::kNormal, 0.01f}};
      tables_.push_back(std::make_unique<ps::ShardedTable>(options, threads, kSlotBits, 1));
      steps_.push_back(0);
    }
  }

  Status Run() {
    int64_t idle_since = NowMs();
    while (!shutdown_) {
      net::Message msg;
      std::string peer;
      ASSIGN_OR_RETURN(bool got, router_->Receive(&msg, &peer, 1000));
      if (!got) {
        if (NowMs() - idle_since > kServerIdleLimitMs) {
          return Status::DeadlineExceeded("kv_bench server: no request for " +
                                          std::to_string(kServerIdleLimitMs) + " ms");
        }
        continue;
      }
      idle_since = NowMs();
      RETURN_IF_ERROR(Handle(peer, std::move(msg)));
    }
    return Status::OK();
  }

 private:
  static std::vector<uint64_t> AllBlocks() {
    std::vector<uint64_t> ids(kDenseBlocks);
    for (int b = 0; b < kDenseBlocks; ++b) ids[b] = b;
    return ids;
  }

  Status Reply(const std::string& peer, const net::Message& request, pb::MessageKind kind) {
    net::Message reply;
    reply.header.set_kind(kind);
    reply.header.set_request_id(request.header.request_id());
    return router_->Send(peer, std::move(reply));
  }

  Status Handle(const std::string& peer, net::Message msg) {
    switch (msg.header.kind()) {
      case pb::PING:
        return Reply(peer, msg, pb::PONG);
      case pb::SHUTDOWN:
        shutdown_ = true;
        return Reply(peer, msg, pb::PONG);
      case pb::PULL:
        return Pull(peer, msg);
      case pb::PUSH:
        RETURN_IF_ERROR(Push(msg));
        return Reply(peer, msg, pb::PUSH_ACK);
      default:
        return Status::Corruption("kv_bench server got a " +
                                  pb::MessageKind_Name(msg.header.kind()));
    }
  }

  StatusOr<ps::ShardedTable*> Table(const net::Message& msg) {
    int t = msg.header.table();
    if (t == net::kDenseTable) return static_cast<ps::ShardedTable*>(nullptr);
    if (t < 0 || t >= static_cast<int>(tables_.size())) {
      return Status::Corruption("no table " + std::to_string(t));
    }
    return tables_[t].get();
  }

  Status DenseFloats(std::span<const uint64_t> block_ids, size_t* floats) const {
    *floats = 0;
    for (uint64_t b : block_ids) {
      if (!dense_.Owns(b)) return Status::Corruption("no dense block " + std::to_string(b));
      *floats += dense_.BlockFloats(b);
    }
    return Status::OK();
  }

  // As ps::Server::ServePull: frames [keys, block ids] -> [values, dense values],
  // read in place and written straight into the reply's frames.
  Status Pull(const std::string& peer, const net::Message& msg) {
    ASSIGN_OR_RETURN(ps::ShardedTable * table, Table(msg));
    std::vector<uint64_t> keys_copy, block_ids_copy;
    ASSIGN_OR_RETURN(std::span<const uint64_t> keys, net::ViewArray(msg, 0, &keys_copy));
    ASSIGN_OR_RETURN(std::span<const uint64_t> block_ids, net::ViewArray(msg, 1, &block_ids_copy));
    const size_t floats = table != nullptr ? keys.size() * table->dim() : 0;
    size_t dense_floats = 0;
    RETURN_IF_ERROR(DenseFloats(block_ids, &dense_floats));
    net::Message reply;
    if (!table_work_) {
      reply.frames.push_back(StoredFrame(0, floats));
      reply.frames.push_back(StoredFrame(1, dense_floats));
    } else {
      zmq::message_t values = net::UninitializedFrame<float>(floats);
      if (table != nullptr) {
        table->Pull(keys, std::span(static_cast<float*>(values.data()), floats));
      }
      zmq::message_t dense = net::UninitializedFrame<float>(dense_floats);
      RETURN_IF_ERROR(
          dense_.Pull(block_ids, std::span(static_cast<float*>(dense.data()), dense_floats)));
      reply.frames.push_back(std::move(values));
      reply.frames.push_back(std::move(dense));
    }
    reply.header.set_kind(pb::PULL_REPLY);
    reply.header.set_request_id(msg.header.request_id());
    reply.header.set_count(keys.size());
    return router_->Send(peer, std::move(reply));
  }

  // A zero-copy frame of the first `floats` of stored block `which` (0: sparse values,
  // 1: dense), allocated once at the largest size a case asks for.
  zmq::message_t StoredFrame(int which, size_t floats) {
    std::vector<float>& block = stored_[which];
    CHECK_LE(floats, block.size());
    return zmq::message_t(block.data(), floats * sizeof(float), nullptr, nullptr);
  }

  // As ps::Server::HandlePush + ApplyStep for one worker: frames [keys, grads, block
  // ids, dense grads], applied at once.
  Status Push(const net::Message& msg) {
    ASSIGN_OR_RETURN(ps::ShardedTable * table, Table(msg));
    std::vector<uint64_t> keys_copy, block_ids_copy;
    std::vector<float> grads_copy, dense_grads_copy;
    ASSIGN_OR_RETURN(std::span<const uint64_t> keys, net::ViewArray(msg, 0, &keys_copy));
    ASSIGN_OR_RETURN(std::span<const float> grads, net::ViewArray(msg, 1, &grads_copy));
    ASSIGN_OR_RETURN(std::span<const uint64_t> block_ids, net::ViewArray(msg, 2, &block_ids_copy));
    ASSIGN_OR_RETURN(std::span<const float> dense_grads, net::ViewArray(msg, 3, &dense_grads_copy));
    if (!table_work_) return Status::OK();
    if (table != nullptr && !keys.empty()) {
      if (grads.size() != keys.size() * table->dim()) {
        return Status::Corruption("PUSH with " + std::to_string(keys.size()) + " keys but " +
                                  std::to_string(grads.size()) + " values");
      }
      const ps::SparseGradient gradient{keys, grads};
      table->ApplySum(std::span(&gradient, 1), 1.0f, ++steps_[msg.header.table()]);
    }
    if (!block_ids.empty()) {
      RETURN_IF_ERROR(dense_.ApplyGradients(block_ids, dense_grads, ++dense_step_));
    }
    return Status::OK();
  }

  net::Router* router_;
  const bool table_work_;
  // !table_work_: what pulls answer (sparse values, dense), never reallocated.
  std::vector<float> stored_[2] = {
      std::vector<float>(size_t{kKeysPerRequest} * kTableDims[1], 0.5f),
      std::vector<float>(size_t{kDenseBlockFloats} * kDenseBlocks, 0.5f)};
  std::vector<std::unique_ptr<ps::ShardedTable>> tables_;
  std::vector<int64_t> steps_;
  ps::DenseStore dense_;
  int64_t dense_step_ = 0;
  bool shutdown_ = false;
};

// ---------------------------------------------------------------------------------
// The client.

enum class Op { kPush, kPull, kPushPull };

const char* OpName(Op op) {
  switch (op) {
    case Op::kPush:
      return "push";
    case Op::kPull:
      return "pull";
    case Op::kPushPull:
      return "pushpull";
  }
  return "?";
}

struct Case {
  std::string name;
  int table = 0;         // sparse table, or net::kDenseTable
  int dim = 0;           // floats per key (sparse)
  int keys = 0;          // keys per request (sparse)
  int dense_blocks = 0;  // 1 MiB blocks per request (dense)
  Op op = Op::kPull;
  int in_flight = 1;  // ops outstanding at once
};

class KvClient {
 public:
  explicit KvClient(net::Dealer* dealer) : dealer_(dealer) {
    key_sets_ = RandomKeySets(kKeySets, kKeysPerRequest, 12345);
    grads_.assign(size_t{kKeysPerRequest} * 64, 1e-3f);
    dense_grads_.assign(size_t{kDenseBlockFloats} * kDenseBlocks, 1e-3f);
    pulled_.resize(std::max(grads_.size(), dense_grads_.size()));
  }

  // Waits until the server answers a PING (it may still be starting).
  Status WaitForServer() {
    net::Message ping;
    ping.header.set_kind(pb::PING);
    RETURN_IF_ERROR(dealer_->Send(std::move(ping)));
    net::Message pong;
    return dealer_->ReceiveOrTimeout(&pong, kReplyTimeoutMs, "PING");
  }

  Status Shutdown() {
    net::Message m;
    m.header.set_kind(pb::SHUTDOWN);
    RETURN_IF_ERROR(dealer_->Send(std::move(m)));
    net::Message reply;
    return dealer_->ReceiveOrTimeout(&reply, kReplyTimeoutMs, "SHUTDOWN");
  }

  // Runs `c` for about `seconds` and prints its RESULT line.
  Status Throughput(const Case& c, double seconds) {
    // Warm-up: every key set once (creates the rows), not timed.
    for (int i = 0; i < kKeySets; ++i) RETURN_IF_ERROR(RunOps(c, 1));
    const double start = NowSeconds();
    ASSIGN_OR_RETURN(int64_t ops, RunOpsFor(c, seconds));
    const double elapsed = NowSeconds() - start;
    const double bytes_per_op =
        (static_cast<double>(c.keys) * c.dim + double{kDenseBlockFloats} * c.dense_blocks) *
        sizeof(float) * (c.op == Op::kPushPull ? 2 : 1);
    PrintThroughput(c.name, static_cast<double>(ops), bytes_per_op, c.keys, elapsed);
    return Status::OK();
  }

  // Round trips of one-key requests, one at a time: p50 and p99 in microseconds.
  Status Latency(const std::string& name, Op op, double seconds) {
    Case c{name, 0, kTableDims[0], 1, 0, op, 1};
    for (int i = 0; i < 200; ++i) RETURN_IF_ERROR(RunOps(c, 1));
    std::vector<double> us;
    const double end = NowSeconds() + seconds;
    while (NowSeconds() < end || us.size() < 1000) {
      double t0 = NowUs();
      RETURN_IF_ERROR(RunOps(c, 1));
      us.push_back(NowUs() - t0);
    }
    PrintLatency(name, std::move(us));
    return Status::OK();
  }

 private:
  // Keeps c.in_flight ops outstanding until `seconds` pass, then drains. Returns the
  // number of ops completed.
  StatusOr<int64_t> RunOpsFor(const Case& c, double seconds) {
    const double end = NowSeconds() + seconds;
    int64_t done = 0;
    int outstanding = 0;
    while (outstanding < c.in_flight) {
      RETURN_IF_ERROR(SendOp(c));
      ++outstanding;
    }
    while (outstanding > 0) {
      ASSIGN_OR_RETURN(bool op_done, ReceiveReply(c));
      if (!op_done) continue;
      ++done;
      --outstanding;
      if (NowSeconds() < end) {
        RETURN_IF_ERROR(SendOp(c));
        ++outstanding;
      }
    }
    return done;
  }

  // Runs `count` ops one after another (no timing).
  Status RunOps(const Case& c, int count) {
    for (int i = 0; i < count; ++i) {
      RETURN_IF_ERROR(SendOp(c));
      while (true) {
        ASSIGN_OR_RETURN(bool op_done, ReceiveReply(c));
        if (op_done) break;
      }
    }
    return Status::OK();
  }

  net::Message NewRequest(pb::MessageKind kind, const Case& c) {
    net::Message m;
    m.header.set_kind(kind);
    m.header.set_request_id(next_request_id_++);
    m.header.set_table(c.table);
    m.header.set_count(c.keys);
    m.header.set_dim(c.dim);
    return m;
  }

  // The request's keys, copied into a buffer the message owns (as ps::PsClient does
  // when it partitions a batch's keys by server).
  std::vector<uint64_t> Keys(const Case& c) {
    return Prefix(key_sets_[next_set_ % kKeySets], size_t(c.keys));
  }

  // The first n values of v, in a buffer the message will own (the gradient a worker
  // hands over).
  // (memcpy, not the iterator constructor: g++ 12 warns falsely on that at -O3.)
  template <typename T>
  static std::vector<T> Prefix(const std::vector<T>& v, size_t n) {
    std::vector<T> out(n);
    if (n > 0) std::memcpy(out.data(), v.data(), n * sizeof(T));
    return out;
  }

  std::vector<uint64_t> Blocks(const Case& c) {
    std::vector<uint64_t> ids(c.dense_blocks);
    for (int b = 0; b < c.dense_blocks; ++b) ids[b] = b;
    return ids;
  }

  Status SendOp(const Case& c) {
    if (c.op != Op::kPull) {
      net::Message push = NewRequest(pb::PUSH, c);
      push.frames.push_back(net::FrameFromVector(Keys(c)));
      push.frames.push_back(net::FrameFromVector(Prefix(grads_, size_t(c.keys) * c.dim)));
      push.frames.push_back(net::FrameFromVector(Blocks(c)));
      push.frames.push_back(
          net::FrameFromVector(Prefix(dense_grads_, size_t{kDenseBlockFloats} * c.dense_blocks)));
      RETURN_IF_ERROR(dealer_->Send(std::move(push)));
    }
    if (c.op != Op::kPush) {
      net::Message pull = NewRequest(pb::PULL, c);
      pull.frames.push_back(net::FrameFromVector(Keys(c)));
      pull.frames.push_back(net::FrameFromVector(Blocks(c)));
      RETURN_IF_ERROR(dealer_->Send(std::move(pull)));
    }
    ++next_set_;
    return Status::OK();
  }

  // Receives one reply; true when it completes an op (a push's ACK, or a PULL_REPLY,
  // which a push+pull's server sends after the ACK). Pulled values are copied into the
  // caller's buffer, as ps::PsClient does.
  StatusOr<bool> ReceiveReply(const Case& c) {
    net::Message reply;
    RETURN_IF_ERROR(dealer_->ReceiveOrTimeout(&reply, kReplyTimeoutMs, OpName(c.op)));
    switch (reply.header.kind()) {
      case pb::PUSH_ACK:
        return c.op == Op::kPush;
      case pb::PULL_REPLY: {
        size_t sparse = size_t(c.keys) * c.dim;
        size_t dense = size_t{kDenseBlockFloats} * c.dense_blocks;
        RETURN_IF_ERROR(net::ReadArrayInto(reply, 0, std::span(pulled_).first(sparse)));
        RETURN_IF_ERROR(net::ReadArrayInto(reply, 1, std::span(pulled_).first(dense)));
        return true;
      }
      default:
        return Status::Corruption("unexpected reply " + pb::MessageKind_Name(reply.header.kind()) +
                                  ": " + reply.header.error());
    }
  }

  net::Dealer* dealer_;
  std::vector<std::vector<uint64_t>> key_sets_;
  std::vector<float> grads_, dense_grads_, pulled_;
  uint64_t next_request_id_ = 1;
  uint64_t next_set_ = 0;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (int t = 0; t < 2; ++t) {
    for (int in_flight : {1, 8}) {
      for (Op op : {Op::kPush, Op::kPull, Op::kPushPull}) {
        int dim = kTableDims[t];
        cases.push_back({"kv_4096x" + std::to_string(dim) + "_if" + std::to_string(in_flight) +
                             "_" + OpName(op),
                         t, dim, kKeysPerRequest, 0, op, in_flight});
      }
    }
  }
  for (int blocks : {1, 8}) {
    for (Op op : {Op::kPush, Op::kPull, Op::kPushPull}) {
      cases.push_back({"kv_dense" + std::to_string(blocks) + "MiB_if1_" + OpName(op),
                       net::kDenseTable, 0, 0, blocks, op, 1});
    }
  }
  return cases;
}

// Runs every case whose name contains `filter` (all when empty). A non-empty `prefix`
// replaces the cases' "kv_" and goes before the latency cases' names.
Status RunClient(const std::string& endpoint, double seconds, const std::string& filter,
                 const std::string& prefix) {
  zmq::context_t context(1);
  ASSIGN_OR_RETURN(auto dealer,
                   net::Dealer::Connect(&context, endpoint, "kv_bench_client",
                                        "kv_bench server at " + endpoint, kSendTimeoutMs));
  KvClient client(dealer.get());
  RETURN_IF_ERROR(client.WaitForServer());
  auto wanted = [&](const std::string& name) { return name.find(filter) != std::string::npos; };
  for (Case c : AllCases()) {
    if (!prefix.empty()) c.name = prefix + c.name.substr(3);  // "kv_..." -> prefix + "..."
    if (wanted(c.name)) RETURN_IF_ERROR(client.Throughput(c, seconds));
  }
  for (Op op : {Op::kPull, Op::kPush, Op::kPushPull}) {
    std::string name = prefix + "lat_1x16_" + OpName(op);
    if (wanted(name)) RETURN_IF_ERROR(client.Latency(name, op, seconds));
  }
  return client.Shutdown();
}

// Binds, reports the endpoint on `endpoint_fd`, serves until SHUTDOWN with `threads`
// slot-owning threads (with no table work at all when !table_work).
Status RunServer(int endpoint_fd, int threads, bool table_work) {
  zmq::context_t context(1);
  ASSIGN_OR_RETURN(auto router, net::Router::Bind(&context, "127.0.0.1", kSendTimeoutMs));
  std::string line = router->endpoint() + "\n";
  if (write(endpoint_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return Status::IOError("cannot report the endpoint");
  }
  KvServer server(router.get(), threads, table_work);
  return server.Run();
}

// ---------------------------------------------------------------------------------
// Process plumbing.

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return argv[i] + prefix.size();
    }
  }
  return fallback;
}

Status Main(int argc, char** argv) {
  const std::string role = Flag(argc, argv, "role", "both");
  const double seconds = std::atof(Flag(argc, argv, "seconds", "1.0").c_str());
  const std::string filter = Flag(argc, argv, "filter", "");
  const int threads = std::atoi(Flag(argc, argv, "server_threads", "1").c_str());
  if (seconds <= 0) return Status::InvalidArgument("--seconds must be positive");
  if (threads < 1) return Status::InvalidArgument("--server_threads must be at least 1");
  if (role == "server") {
    return RunServer(STDOUT_FILENO, threads, /*table_work=*/true);
  }
  if (role == "client") {
    std::string endpoint = Flag(argc, argv, "server", "");
    if (endpoint.empty()) return Status::InvalidArgument("--role=client needs --server=EP");
    return RunClient(endpoint, seconds, filter, "");
  }
  if (role == "real") return RunRealCases(seconds, filter, threads);
  if (role != "both" && role != "raw" && role != "wire") {
    return Status::InvalidArgument("--role is server, client, both, raw, real or wire, not " +
                                   role);
  }
  const bool table_work = role != "wire";
  pid_t child = 0;
  auto serve = [threads, table_work](int fd) { return RunServer(fd, threads, table_work); };
  ASSIGN_OR_RETURN(std::string endpoint,
                   role == "raw" ? ForkPeer(&RunRawReceiver, &child) : ForkPeer(serve, &child));
  Status run = role == "raw" ? RunRawSender(endpoint, seconds)
                             : RunClient(endpoint, seconds, filter, table_work ? "" : "wire_");
  if (!run.ok()) {
    KillPeer(child);
    return run;
  }
  return ReapPeer(child);
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  tessera::Status s = tessera::bench::Main(argc, argv);
  if (!s.ok()) {
    std::fprintf(stderr, "kv_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
