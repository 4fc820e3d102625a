#include "ps/client/ps_client.h"

#include <cstring>

#include "common/clock.h"
#include "common/hash.h"

namespace tessera::ps {

std::vector<int> RoundRobinSlotTable(int slot_bits, int num_servers) {
  std::vector<int> table(size_t{1} << slot_bits);
  for (size_t s = 0; s < table.size(); ++s) table[s] = static_cast<int>(s % num_servers);
  return table;
}

PsClient::PsClient(PsClientOptions options, std::vector<std::unique_ptr<net::Dealer>> servers)
    : options_(std::move(options)), servers_(std::move(servers)) {
  const int n = num_servers();
  owned_blocks_.resize(n);
  int64_t blocks = (options_.dense_size + options_.dense_block_floats - 1) /
                   options_.dense_block_floats;
  for (int64_t b = 0; b < blocks; ++b) owned_blocks_[b % n].push_back(b);
  positions_.resize(n);
}

net::Message PsClient::NewMessage(pb::MessageKind kind, int epoch, int64_t step) {
  net::Message m;
  m.header.set_kind(kind);
  m.header.set_request_id(next_request_id_++);
  m.header.set_sender(options_.rank);
  m.header.set_epoch(epoch);
  m.header.set_step(step);
  m.header.set_dim(options_.sparse_dim);
  return m;
}

Status PsClient::Ping(int timeout_ms) {
  std::vector<int> all;
  Status st;
  for (int s = 0; s < num_servers() && st.ok(); ++s) {
    servers_[s]->SetSendTimeout(timeout_ms);
    st = servers_[s]->Send(NewMessage(pb::PING, 0, 0));
    all.push_back(s);
  }
  const int saved = options_.timeout_ms;
  if (st.ok()) {
    std::vector<net::Message> replies;
    options_.timeout_ms = timeout_ms;
    st = AwaitReplies(all, "a reachability check (PING)", &replies);
    options_.timeout_ms = saved;
  }
  for (auto& server : servers_) server->SetSendTimeout(saved);
  return st;
}

void PsClient::Partition(std::span<const uint64_t> keys) {
  for (auto& p : positions_) p.clear();
  // One server: it owns every key, and the arrays go out whole.
  if (num_servers() == 1) return;
  for (size_t i = 0; i < keys.size(); ++i) {
    int server = options_.slot_to_server[SlotOf(keys[i], options_.slot_bits)];
    positions_[server].push_back(static_cast<int32_t>(i));
  }
}

size_t PsClient::KeysOf(int server, size_t total) const {
  return num_servers() == 1 ? total : positions_[server].size();
}

template <typename T>
zmq::message_t PsClient::GatherRows(int server, std::span<const T> rows, size_t width) const {
  if (num_servers() == 1) return net::FrameFromSpan(rows);
  const auto& pos = positions_[server];
  zmq::message_t frame = net::UninitializedFrame<T>(pos.size() * width);
  T* out = static_cast<T*>(frame.data());
  for (size_t i = 0; i < pos.size(); ++i) {
    std::memcpy(out + i * width, rows.data() + static_cast<size_t>(pos[i]) * width,
                width * sizeof(T));
  }
  return frame;
}

void PsClient::ScatterRows(int server, const float* rows, std::span<float> out,
                           size_t width) const {
  if (num_servers() == 1) {
    if (!out.empty()) std::memcpy(out.data(), rows, out.size_bytes());
    return;
  }
  const auto& pos = positions_[server];
  for (size_t i = 0; i < pos.size(); ++i) {
    std::memcpy(&out[static_cast<size_t>(pos[i]) * width], rows + i * width, width * sizeof(float));
  }
}

Status PsClient::AwaitReplies(const std::vector<int>& servers, const std::string& what,
                              std::vector<net::Message>* replies) {
  replies->clear();
  replies->resize(num_servers());
  std::vector<bool> pending(num_servers(), false);
  size_t left = 0;
  for (int s : servers) {
    pending[s] = true;
    ++left;
  }
  const int64_t deadline = NowMs() + options_.timeout_ms;
  std::vector<zmq::pollitem_t> items(num_servers());
  while (left > 0) {
    for (int s = 0; s < num_servers(); ++s) {
      items[s] = {servers_[s]->socket().handle(), 0, static_cast<short>(pending[s] ? ZMQ_POLLIN : 0), 0};
    }
    int64_t wait = deadline - NowMs();
    if (wait <= 0) {
      for (int s = 0; s < num_servers(); ++s) {
        if (pending[s]) {
          return Status::DeadlineExceeded("no reply from " + servers_[s]->peer_description() +
                                          " to " + what + " within " +
                                          std::to_string(options_.timeout_ms) + " ms");
        }
      }
    }
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(std::max<int64_t>(wait, 0)));
    } catch (const zmq::error_t& e) {
      return Status::IOError(std::string("poll failed: ") + e.what());
    }
    for (int s = 0; s < num_servers(); ++s) {
      if (!pending[s] || !(items[s].revents & ZMQ_POLLIN)) continue;
      net::Message reply;
      ASSIGN_OR_RETURN(bool got, servers_[s]->Receive(&reply, 0));
      if (!got) continue;
      if (reply.header.kind() == pb::ERROR_REPLY) {
        return Status::Aborted(servers_[s]->peer_description() + " refused " + what + ": " +
                               reply.header.error());
      }
      (*replies)[s] = std::move(reply);
      pending[s] = false;
      --left;
    }
  }
  return Status::OK();
}

Status PsClient::Pull(int epoch, int64_t step, bool eval, std::span<const uint64_t> keys,
                      std::span<float> sparse_out, std::span<float> dense_out) {
  const int dim = options_.sparse_dim;
  Partition(keys);
  std::vector<int> asked;
  for (int s = 0; s < num_servers(); ++s) {
    if (KeysOf(s, keys.size()) == 0 && owned_blocks_[s].empty()) continue;
    net::Message m = NewMessage(pb::PULL, epoch, step);
    if (eval) m.header.set_flags(pb::FLAG_EVAL);
    m.header.set_count(KeysOf(s, keys.size()));
    m.frames.push_back(GatherRows(s, keys, 1));
    m.frames.push_back(net::FrameFromSpan<uint64_t>(owned_blocks_[s]));
    RETURN_IF_ERROR(servers_[s]->Send(std::move(m)));
    asked.push_back(s);
  }
  std::vector<net::Message> replies;
  RETURN_IF_ERROR(AwaitReplies(asked, "a pull of step " + std::to_string(step), &replies));
  for (int s : asked) {
    const net::Message& r = replies[s];
    if (net::ArraySize<float>(r, 0) != KeysOf(s, keys.size()) * dim) {
      return Status::Corruption(servers_[s]->peer_description() + " sent a pull reply of the wrong size");
    }
    // (memcpy reads the frame whatever its alignment.)
    ScatterRows(s, static_cast<const float*>(r.frames[0].data()), sparse_out, dim);
    size_t offset = 0;
    const size_t dense_floats = net::ArraySize<float>(r, 1);
    const float* dense = dense_floats ? static_cast<const float*>(r.frames[1].data()) : nullptr;
    for (uint64_t b : owned_blocks_[s]) {
      size_t begin = b * options_.dense_block_floats;
      size_t len = std::min<size_t>(options_.dense_block_floats, options_.dense_size - begin);
      if (offset + len > dense_floats) {
        return Status::Corruption(servers_[s]->peer_description() + " sent too few dense values");
      }
      std::memcpy(&dense_out[begin], dense + offset, len * sizeof(float));
      offset += len;
    }
  }
  return Status::OK();
}

Status PsClient::Push(int epoch, int64_t step, std::span<const uint64_t> keys,
                      std::span<const float> sparse_grads, std::span<const float> dense_grads,
                      const pb::WorkerCursor* cursor) {
  const int dim = options_.sparse_dim;
  Partition(keys);
  for (int s = 0; s < num_servers(); ++s) {
    std::vector<float> dense;
    for (uint64_t b : owned_blocks_[s]) {
      size_t begin = b * options_.dense_block_floats;
      size_t len = std::min<size_t>(options_.dense_block_floats, options_.dense_size - begin);
      dense.insert(dense.end(), dense_grads.begin() + begin, dense_grads.begin() + begin + len);
    }
    net::Message m = NewMessage(pb::PUSH, epoch, step);
    if (cursor != nullptr) *m.header.mutable_cursor() = *cursor;
    m.header.set_count(KeysOf(s, keys.size()));
    m.frames.push_back(GatherRows(s, keys, 1));
    m.frames.push_back(GatherRows(s, sparse_grads, dim));
    m.frames.push_back(net::FrameFromSpan<uint64_t>(owned_blocks_[s]));
    m.frames.push_back(net::FrameFromVector(std::move(dense)));
    RETURN_IF_ERROR(servers_[s]->Send(std::move(m)));
  }
  return Status::OK();
}

Status PsClient::PushEpochDone(int epoch, int64_t step, const pb::WorkerCursor* cursor) {
  for (int s = 0; s < num_servers(); ++s) {
    net::Message m = NewMessage(pb::PUSH, epoch, step);
    m.header.set_flags(pb::FLAG_EPOCH_DONE);
    if (cursor != nullptr) *m.header.mutable_cursor() = *cursor;
    RETURN_IF_ERROR(servers_[s]->Send(std::move(m)));
  }
  return Status::OK();
}

}  // namespace tessera::ps
