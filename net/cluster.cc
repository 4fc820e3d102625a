#include "net/cluster.h"

#include <mpi.h>

#include <cstdlib>

namespace tessera::net {

const char* RoleName(pb::Role role) {
  switch (role) {
    case pb::SCHEDULER: return "scheduler";
    case pb::SERVER: return "server";
    case pb::WORKER: return "worker";
    default: return "unknown";
  }
}

StatusOr<NodeTable> NodeTable::Build(std::vector<pb::NodeInfo> nodes) {
  NodeTable table;
  for (size_t rank = 0; rank < nodes.size(); ++rank) {
    pb::NodeInfo& n = nodes[rank];
    if (n.rank() != static_cast<int>(rank)) {
      return Status::Internal("node table out of rank order at " + std::to_string(rank));
    }
    switch (n.role()) {
      case pb::SCHEDULER:
        if (table.scheduler_rank_ >= 0) {
          return Status::InvalidArgument("two schedulers: ranks " +
                                         std::to_string(table.scheduler_rank_) + " and " +
                                         std::to_string(rank));
        }
        table.scheduler_rank_ = static_cast<int>(rank);
        n.set_role_index(0);
        break;
      case pb::SERVER:
        n.set_role_index(static_cast<int>(table.server_ranks_.size()));
        table.server_ranks_.push_back(static_cast<int>(rank));
        break;
      case pb::WORKER:
        n.set_role_index(static_cast<int>(table.worker_ranks_.size()));
        table.worker_ranks_.push_back(static_cast<int>(rank));
        break;
      default:
        return Status::InvalidArgument("rank " + std::to_string(rank) + " has no role");
    }
  }
  if (table.scheduler_rank_ < 0) return Status::InvalidArgument("the job has no scheduler rank");
  if (table.server_ranks_.empty()) return Status::InvalidArgument("the job has no server rank");
  if (table.worker_ranks_.empty()) return Status::InvalidArgument("the job has no worker rank");
  table.nodes_ = std::move(nodes);
  return table;
}

std::string NodeTable::Describe(int rank) const {
  if (rank < 0 || rank >= size()) return "rank " + std::to_string(rank) + " (unknown)";
  const pb::NodeInfo& n = nodes_[rank];
  std::string who = RoleName(n.role());
  if (n.role() != pb::SCHEDULER) who += " " + std::to_string(n.role_index());
  return who + " (rank " + std::to_string(rank) + " on host " + n.host() +
         (n.endpoint().empty() ? "" : ", " + n.endpoint()) + ")";
}

StatusOr<std::unique_ptr<MpiRuntime>> MpiRuntime::Init(int* argc, char*** argv) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    return Status::Unavailable("MPI_Init_thread failed");
  }
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::unique_ptr<MpiRuntime>(new MpiRuntime(rank, size));
}

MpiRuntime::~MpiRuntime() { Finalize(); }

StatusOr<std::vector<pb::NodeInfo>> MpiRuntime::AllGather(const pb::NodeInfo& mine) {
  std::string bytes = mine.SerializeAsString();
  int my_size = static_cast<int>(bytes.size());
  std::vector<int> sizes(size_);
  if (MPI_Allgather(&my_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD) !=
      MPI_SUCCESS) {
    return Status::Unavailable("MPI_Allgather of node info sizes failed");
  }
  std::vector<int> displs(size_);
  int total = 0;
  for (int i = 0; i < size_; ++i) {
    displs[i] = total;
    total += sizes[i];
  }
  std::string all(total, '\0');
  if (MPI_Allgatherv(bytes.data(), my_size, MPI_CHAR, all.data(), sizes.data(), displs.data(),
                     MPI_CHAR, MPI_COMM_WORLD) != MPI_SUCCESS) {
    return Status::Unavailable("MPI_Allgatherv of node infos failed");
  }
  std::vector<pb::NodeInfo> nodes(size_);
  for (int i = 0; i < size_; ++i) {
    if (!nodes[i].ParseFromArray(all.data() + displs[i], sizes[i])) {
      return Status::Corruption("cannot parse the node info of rank " + std::to_string(i));
    }
  }
  return nodes;
}

void MpiRuntime::Finalize() {
  if (finalized_) return;
  finalized_ = true;
  MPI_Finalize();
}

void MpiRuntime::Abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

}  // namespace tessera::net
