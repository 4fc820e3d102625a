// The parameter server's loop (DESIGN.md §5): one ROUTER socket, one sparse table
// and this server's dense blocks, BSP consistency.
//
// BSP, precisely: every worker sends every server one PUSH per step (empty when it
// has no rows here) and, once out of data, one PUSH flagged EPOCH_DONE. Step s is
// applied when every worker has either pushed s or declared itself done at or before
// s; the gradients are summed per key in worker-rank order and divided by the number
// of the epoch's participants (live workers that did not declare themselves done
// from its first step), contributing to this step or not, so the result is
// bit-identical on any number of servers. Dividing by the participants, not by this
// step's contributors, keeps every example's weight at 1 / (participants x
// batch_size) through the steps at an epoch's end where one worker is already out of
// data (the worker scales a short batch the same way, worker/worker.h), as PyTorch
// DDP's uneven-input Join does by default; with the contributors' count those steps
// gave each of their examples twice the weight, and Adam's state remembered it. A
// worker given no data at all this epoch (fewer chunks than workers) does not count. A training PULL for step s waits until step s-1 is applied; an evaluation
// PULL waits until the epoch is complete. Every wait has a deadline naming the
// workers it waits for.
//
// Checkpoints inside an epoch: the scheduler sends SAVE_AT(epoch, step, dir) ahead
// of time; right after applying that step (before the next one, so every server
// writes the model after the same step) the server writes its weight and state
// shards there and answers CHECKPOINT_DONE with the workers' cursors, which each
// worker's PUSH of that step carried. A SAVE_AT for a step already applied, or one
// the epoch ends before, is answered CHECKPOINT_DONE with `skipped` set.
//
// A lost worker (the scheduler's WORKER_LOST, after its heartbeats stopped): it is done
// from the step after the last one this server received from it, in this epoch and
// every later one, and its later pushes are dropped. The answer (WORKER_LOST_DONE)
// carries that step and the push's cursor, from which the scheduler hands the rest of
// its data to the others. When every live worker is already out of data, REOPEN lets
// the listed workers push again in this epoch once every step so far is applied.
//
// Incremental checkpoints (io/checkpoint_chain.h): a checkpoint is written with only the
// rows changed since this server's previous one (SparseTable change tracking; every
// dense block, they are small) unless it is the full_every-th, the first, or the
// request says `full`; each file names its base for the scheduler to check.
//
// Threading: Run() owns every member. The sparse table is cut into
// ServerOptions::threads shards by slot, each updated and read by a thread of its own
// (ps/sharded_table.h): one step's update and one pull use every shard's thread at
// once, with bit-identical results for any number of threads.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/checkpoint_chain.h"
#include "io/model_file.h"
#include "net/cluster.h"
#include "net/socket.h"
#include "ps/dense_store.h"
#include "ps/sharded_table.h"
#include "ps/sparse_table.h"

namespace tessera::ps {

struct ServerOptions {
  int server_index = 0;
  int num_servers = 1;
  SparseTableOptions sparse;
  int64_t dense_size = 0;
  int dense_block_floats = 65536;
  std::vector<float> initial_dense;  // the whole dense vector; this server keeps its blocks
  OptimizerOptions dense_optimizer;
  int timeout_ms = 120000;  // longest a BSP step may wait for its slowest worker
  int slot_bits = 14;       // key -> slot -> server (slot mod num_servers)
  // Slot-owning threads of the sparse table (cluster.server_threads), the network
  // thread included: 1 runs the table on the network thread alone.
  int threads = 1;
  int full_every = 1;       // checkpoint.full_every: 1, every checkpoint is full
};

// Dense block b belongs to server b mod num_servers.
std::vector<uint64_t> OwnedDenseBlocks(int64_t dense_size, int block_floats, int server_index,
                                       int num_servers);

class Server {
 public:
  // `router`, `nodes` and `scheduler` (the Dealer to the scheduler, where
  // CHECKPOINT_DONE goes; may be null when no checkpoints are asked for) must
  // outlive the server.
  Server(ServerOptions options, net::Router* router, const net::NodeTable* nodes,
         net::Dealer* scheduler = nullptr);

  // Loads this server's part of a checkpoint directory: the rows whose slots it owns
  // and its dense blocks, weights and optimizer state, from every shard of the
  // checkpoint whatever the number of servers that wrote it (resharding), the
  // update count, and for a checkpoint inside an epoch the step to continue after.
  // Call before Run().
  // An incremental checkpoint is loaded with its chain, oldest link first (later rows
  // replace earlier ones), and the next checkpoint builds on it.
  // With `weights_only` (train --init_from: continue training a trained model on new
  // data), only the weights are taken: no optimizer state, and the job counts its
  // steps and epochs from zero. `dir` may then also be a model directory or an export.
  Status LoadCheckpoint(const std::string& dir, bool weights_only = false);

  // Serves requests until the scheduler sends SHUTDOWN. Returns the first error that
  // stops the server (a stalled step, a malformed request, a failed save).
  Status Run();

  // Ranks the job lost, as the scheduler's SHUTDOWN said.
  int ranks_lost() const { return ranks_lost_; }

 private:
  // One worker's PUSH of a step: its frames, checked on arrival and read in place
  // when the step is applied (copied only when a frame is not aligned).
  struct Push {
    bool present = false;
    net::Message msg;  // frames: keys, sparse grads, dense block ids, dense grads
    pb::WorkerCursor cursor;
  };
  // Views of a Push's arrays, and the copies behind those that needed one.
  struct PushArrays {
    std::span<const uint64_t> keys, block_ids;
    std::span<const float> grads, dense_grads;
    std::vector<uint64_t> keys_copy, block_ids_copy;
    std::vector<float> grads_copy, dense_grads_copy;
  };
  struct PendingPull {
    std::string peer;
    net::Message msg;
  };

  Status Handle(const std::string& peer, net::Message msg);
  Status HandlePush(net::Message msg);
  Status HandlePull(const std::string& peer, net::Message msg);
  Status ServePull(const std::string& peer, const net::Message& msg);
  Status HandleSave(const std::string& peer, const net::Message& msg);
  Status HandleSaveAt(const net::Message& msg);
  Status HandleWorkerLost(const net::Message& msg);
  Status HandleReopen(const net::Message& msg);
  // Applies the REOPEN received once the epoch's steps are all applied.
  Status MaybeReopen();
  // Sends a message to the scheduler's ROUTER.
  Status TellScheduler(pb::MessageKind kind, const google::protobuf::Message& body);
  // Writes the checkpoint armed for `step` of the current epoch, if any (after
  // ApplyStep(step), before its pushes are dropped).
  Status MaybeCheckpoint(int64_t step);
  // Answers every armed checkpoint that can no longer happen (its epoch or step is
  // past, or the epoch is complete) as skipped.
  Status SkipUnreachableCheckpoints();
  Status SendCheckpointDone(int epoch, int64_t step, const std::string& skipped,
                            std::vector<zmq::message_t> files);
  Status WriteShards(const pb::SaveRequest& request, pb::ShardFileInfo* weights_info,
                     pb::ShardFileInfo* state_info);
  // Imports what this server owns of every shard of one checkpoint directory (one link
  // of a chain), state too unless `weights_only`.
  Status ImportCheckpointFiles(const std::string& dir, const pb::ModelManifest& manifest,
                               bool weights_only);
  // Imports the rows and blocks of one checkpoint shard that this server owns.
  Status ImportOwned(const io::ShardContents& shard, const io::ShardContents* state);
  Status EnterEpoch(int epoch);
  bool StepReady(int64_t step) const;
  bool EpochComplete() const;
  bool PullReady(const net::Message& msg) const;
  Status ApplyReadySteps();
  Status ApplyStep(int64_t step);
  // Views of msg's PUSH arrays in *arrays; Corruption when their sizes disagree.
  Status ViewPush(const net::Message& msg, PushArrays* arrays) const;
  Status ServeReadyPulls();
  Status CheckStall();
  std::string MissingWorkers(int64_t step) const;
  int WorkerIndex(int rank) const;

  ServerOptions options_;
  net::Router* router_;
  const net::NodeTable* nodes_;
  net::Dealer* scheduler_;
  ShardedTable table_;
  DenseStore dense_;

  // BSP state of the current epoch.
  int epoch_ = 0;
  int64_t next_step_ = 1;          // the step applied next
  int64_t global_step_ = 0;        // steps applied since the start (optimizer time)
  std::vector<int64_t> done_from_; // per worker index: first step it will not push
  std::vector<pb::WorkerCursor> done_cursor_;  // per worker index: its EPOCH_DONE push's
  // Lost workers (for good), and per worker the last step received this epoch and
  // that push's cursor.
  std::vector<bool> lost_;
  std::vector<int64_t> last_step_;
  std::vector<pb::WorkerCursor> last_cursor_;
  std::vector<pb::Reopen> reopens_;  // received, not yet applied
  std::map<std::pair<int, int64_t>, pb::SaveAt> armed_;  // (epoch, step) -> request
  io::ChainTip chain_tip_;  // which checkpoint the next incremental one builds on
  std::map<int64_t, std::vector<Push>> pushes_;  // step -> per worker index
  std::deque<PendingPull> pending_pulls_;
  int64_t waiting_since_ms_ = -1;  // when the oldest unmet wait began

  // Scratch for applying a step: per worker, its push's arrays; the dense sum.
  std::vector<PushArrays> push_arrays_;
  std::vector<SparseGradient> sparse_grads_;
  std::vector<float> merged_dense_;
  bool shutdown_ = false;
  int ranks_lost_ = 0;
};

}  // namespace tessera::ps
