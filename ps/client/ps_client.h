// The worker's half of push/pull (DESIGN.md §3, §6): splits a batch's unique keys by
// owning server (slot table), sends one PULL or PUSH per server, gathers the replies
// in the caller's order. Dense parameters travel as blocks owned round-robin.
// One PsClient per worker thread; it owns its sockets and is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/socket.h"

namespace tessera::ps {

struct PsClientOptions {
  int rank = 0;               // this worker's MPI rank (the header's sender)
  int slot_bits = 14;
  std::vector<int> slot_to_server;  // size 2^slot_bits
  int sparse_dim = 1;
  int64_t dense_size = 0;
  int dense_block_floats = 65536;
  int timeout_ms = 120000;
};

// The default slot table: slot s belongs to server s mod num_servers.
std::vector<int> RoundRobinSlotTable(int slot_bits, int num_servers);

class PsClient {
 public:
  // servers[i] is connected to server i.
  PsClient(PsClientOptions options, std::vector<std::unique_ptr<net::Dealer>> servers);

  // Checks that every server takes and answers a PING within timeout_ms.
  Status Ping(int timeout_ms);

  // Pulls the rows of `keys` into sparse_out [keys.size() x sparse_dim] and the whole
  // dense vector into dense_out [dense_size], as of BSP step `step` of `epoch`
  // (eval: read-only, after the epoch's last step).
  Status Pull(int epoch, int64_t step, bool eval, std::span<const uint64_t> keys,
              std::span<float> sparse_out, std::span<float> dense_out);

  // Pushes one step's gradients: one per key (grads [keys.size() x sparse_dim]) and
  // the dense gradient [dense_size]. Every server gets a PUSH, empty or not (BSP).
  // `cursor`, when given, travels in every PUSH header (a checkpoint records it).
  Status Push(int epoch, int64_t step, std::span<const uint64_t> keys,
              std::span<const float> sparse_grads, std::span<const float> dense_grads,
              const pb::WorkerCursor* cursor = nullptr);

  // Tells every server this worker has no more steps in `epoch` from `step` on.
  Status PushEpochDone(int epoch, int64_t step, const pb::WorkerCursor* cursor = nullptr);

  int num_servers() const { return static_cast<int>(servers_.size()); }

 private:
  // Fills positions_ with each server's keys (left empty with one server, who owns all).
  void Partition(std::span<const uint64_t> keys);
  // How many of a request's `total` keys go to `server`.
  size_t KeysOf(int server, size_t total) const;
  // A frame of the rows (`width` values each, one per key of the request) of the keys
  // `server` owns, in a buffer the frame owns.
  template <typename T>
  zmq::message_t GatherRows(int server, std::span<const T> rows, size_t width) const;
  // Copies the rows of `server`'s reply to its keys' places in out.
  void ScatterRows(int server, const float* rows, std::span<float> out, size_t width) const;
  net::Message NewMessage(pb::MessageKind kind, int epoch, int64_t step);
  Status AwaitReplies(const std::vector<int>& servers, const std::string& what,
                      std::vector<net::Message>* replies);

  PsClientOptions options_;
  std::vector<std::unique_ptr<net::Dealer>> servers_;
  std::vector<std::vector<uint64_t>> owned_blocks_;  // per server
  uint64_t next_request_id_ = 1;
  // Per server: positions in the caller's key array (filled by Partition; empty with
  // one server).
  std::vector<std::vector<int32_t>> positions_;
};

}  // namespace tessera::ps
