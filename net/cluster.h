// Bootstrap (DESIGN.md §2): MPI is used once, to all-gather every rank's role, host
// and endpoint into a NodeTable; after that all traffic is ZeroMQ, and MPI returns
// only at shutdown (MPI_Finalize) or to abort on a fatal error (the whole job under a
// plain mpirun; only this rank under --enable-recovery: see cmd/train_main.cc).
// MpiRuntime is created once in main() and passed down; NodeTable is immutable and
// safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/messages.pb.h"

namespace tessera::net {

class NodeTable {
 public:
  // Validates the gathered table: ranks 0..n-1 in order, exactly one scheduler, at
  // least one server and one worker. Fills each node's role_index.
  static StatusOr<NodeTable> Build(std::vector<pb::NodeInfo> nodes);

  int size() const { return static_cast<int>(nodes_.size()); }
  const pb::NodeInfo& node(int rank) const { return nodes_[rank]; }
  int scheduler_rank() const { return scheduler_rank_; }
  // Ranks of the servers and workers, in rank order: server i is server_ranks()[i].
  const std::vector<int>& server_ranks() const { return server_ranks_; }
  const std::vector<int>& worker_ranks() const { return worker_ranks_; }
  // "server 1 (rank 2 on host vm, tcp://127.0.0.1:41233)": how errors name a peer.
  std::string Describe(int rank) const;

 private:
  std::vector<pb::NodeInfo> nodes_;
  int scheduler_rank_ = -1;
  std::vector<int> server_ranks_;
  std::vector<int> worker_ranks_;
};

const char* RoleName(pb::Role role);

// The MPI side of a process. Not thread-safe; used by main()'s thread only.
class MpiRuntime {
 public:
  // MPI_Init_thread. Call once per process.
  static StatusOr<std::unique_ptr<MpiRuntime>> Init(int* argc, char*** argv);
  ~MpiRuntime();

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Every rank contributes `mine`; returns all ranks' infos in rank order.
  StatusOr<std::vector<pb::NodeInfo>> AllGather(const pb::NodeInfo& mine);
  // Ends MPI cleanly (all ranks must call it).
  void Finalize();
  // Ends the whole job at once: every rank is killed, mpirun exits non-zero.
  [[noreturn]] void Abort(int exit_code);

 private:
  MpiRuntime(int rank, int size) : rank_(rank), size_(size) {}
  int rank_;
  int size_;
  bool finalized_ = false;
};

}  // namespace tessera::net
