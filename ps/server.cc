#include "ps/server.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "common/clock.h"
#include "common/hash.h"
#include "io/model_file.h"

namespace tessera::ps {
namespace {

constexpr int64_t kNotDone = std::numeric_limits<int64_t>::max();
// How often Run() wakes to check for a stalled step when no message arrives.
constexpr int kPollMs = 500;

std::string ShardFileName(const char* kind, int index, int count) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s-%05d-of-%05d.tsr", kind, index, count);
  return name;
}

}  // namespace

std::vector<uint64_t> OwnedDenseBlocks(int64_t dense_size, int block_floats, int server_index,
                                       int num_servers) {
  std::vector<uint64_t> owned;
  int64_t blocks = (dense_size + block_floats - 1) / block_floats;
  for (int64_t b = server_index; b < blocks; b += num_servers) owned.push_back(b);
  return owned;
}

Server::Server(ServerOptions options, net::Router* router, const net::NodeTable* nodes,
               net::Dealer* scheduler)
    : options_(std::move(options)),
      router_(router),
      nodes_(nodes),
      scheduler_(scheduler),
      table_(options_.sparse, options_.threads, options_.slot_bits, options_.num_servers),
      dense_(options_.dense_size, options_.dense_block_floats,
             OwnedDenseBlocks(options_.dense_size, options_.dense_block_floats,
                              options_.server_index, options_.num_servers),
             options_.initial_dense, options_.dense_optimizer),
      done_from_(nodes->worker_ranks().size(), kNotDone),
      done_cursor_(nodes->worker_ranks().size()),
      lost_(nodes->worker_ranks().size(), false),
      last_step_(nodes->worker_ranks().size(), 0),
      last_cursor_(nodes->worker_ranks().size()),
      chain_tip_(options_.full_every) {
  // The full initial vector is only needed to seed this server's blocks.
  options_.initial_dense.clear();
  options_.initial_dense.shrink_to_fit();
}

Status Server::Run() {
  while (!shutdown_) {
    net::Message msg;
    std::string peer;
    ASSIGN_OR_RETURN(bool got, router_->Receive(&msg, &peer, kPollMs));
    if (got) RETURN_IF_ERROR(Handle(peer, std::move(msg)));
    RETURN_IF_ERROR(CheckStall());
  }
  return Status::OK();
}

Status Server::Handle(const std::string& peer, net::Message msg) {
  switch (msg.header.kind()) {
    case pb::PING: {
      net::Message pong;
      pong.header.set_kind(pb::PONG);
      pong.header.set_request_id(msg.header.request_id());
      return router_->Send(peer, std::move(pong));
    }
    case pb::PULL:
      return HandlePull(peer, std::move(msg));
    case pb::PUSH:
      return HandlePush(std::move(msg));
    case pb::SAVE:
      return HandleSave(peer, msg);
    case pb::SAVE_AT:
      return HandleSaveAt(msg);
    case pb::WORKER_LOST:
      return HandleWorkerLost(msg);
    case pb::REOPEN:
      return HandleReopen(msg);
    case pb::SHUTDOWN:
      shutdown_ = true;
      ranks_lost_ = static_cast<int>(msg.header.count());
      if (!msg.header.error().empty()) {
        return Status::Aborted("the scheduler stopped the job: " + msg.header.error());
      }
      return Status::OK();
    default:
      return Status::Corruption("server " + std::to_string(options_.server_index) +
                                " got an unexpected " + pb::MessageKind_Name(msg.header.kind()) +
                                " from " + nodes_->Describe(msg.header.sender()));
  }
}

int Server::WorkerIndex(int rank) const {
  const auto& workers = nodes_->worker_ranks();
  auto it = std::find(workers.begin(), workers.end(), rank);
  return it == workers.end() ? -1 : static_cast<int>(it - workers.begin());
}

Status Server::EnterEpoch(int epoch) {
  if (epoch == epoch_) return Status::OK();
  if (epoch < epoch_ || !EpochComplete()) {
    return Status::Corruption("a message for epoch " + std::to_string(epoch) +
                              " arrived while epoch " + std::to_string(epoch_) +
                              " is not complete");
  }
  epoch_ = epoch;
  next_step_ = 1;
  for (size_t w = 0; w < done_from_.size(); ++w) done_from_[w] = lost_[w] ? 1 : kNotDone;
  std::fill(last_step_.begin(), last_step_.end(), 0);
  std::fill(last_cursor_.begin(), last_cursor_.end(), pb::WorkerCursor());
  pushes_.clear();
  return SkipUnreachableCheckpoints();
}

Status Server::HandlePush(net::Message msg) {
  const pb::Header& h = msg.header;
  int w = WorkerIndex(h.sender());
  if (w < 0) return Status::Corruption("PUSH from a rank that is not a worker: " +
                                       std::to_string(h.sender()));
  if (lost_[w]) {
    // Declared lost (its heartbeats stopped) yet alive: its data went to the others.
    LOG_FIRST_N(WARNING, 1) << "server " << options_.server_index << " drops the pushes of "
                            << nodes_->Describe(h.sender()) << ", declared lost earlier";
    return Status::OK();
  }
  RETURN_IF_ERROR(EnterEpoch(h.epoch()));
  if (h.step() < next_step_) {
    return Status::Corruption("PUSH for step " + std::to_string(h.step()) + " already applied, from " +
                              nodes_->Describe(h.sender()));
  }
  if (h.flags() & pb::FLAG_EPOCH_DONE) {
    done_from_[w] = h.step();
    done_cursor_[w] = h.cursor();
  } else {
    auto& slots = pushes_[h.step()];
    if (slots.empty()) slots.resize(done_from_.size());
    Push& p = slots[w];
    if (p.present) return Status::Corruption("two PUSHes for one step from " +
                                             nodes_->Describe(h.sender()));
    PushArrays checked;
    RETURN_IF_ERROR(ViewPush(msg, &checked));
    p.present = true;
    p.cursor = h.cursor();
    if (h.step() > last_step_[w]) {
      last_step_[w] = h.step();
      last_cursor_[w] = h.cursor();
    }
    p.msg = std::move(msg);
  }
  if (waiting_since_ms_ < 0) waiting_since_ms_ = NowMs();
  return ApplyReadySteps();
}

bool Server::StepReady(int64_t step) const {
  auto it = pushes_.find(step);
  for (size_t w = 0; w < done_from_.size(); ++w) {
    if (done_from_[w] <= step) continue;
    if (it == pushes_.end() || !it->second[w].present) return false;
  }
  return true;
}

bool Server::EpochComplete() const {
  for (int64_t d : done_from_) {
    if (d == kNotDone || d > next_step_) return false;
  }
  return true;
}

Status Server::ApplyReadySteps() {
  while (!EpochComplete() && StepReady(next_step_)) {
    RETURN_IF_ERROR(ApplyStep(next_step_));
    RETURN_IF_ERROR(MaybeCheckpoint(next_step_));
    pushes_.erase(next_step_);
    ++next_step_;
  }
  if (EpochComplete()) {
    RETURN_IF_ERROR(SkipUnreachableCheckpoints());
    RETURN_IF_ERROR(MaybeReopen());
  }
  waiting_since_ms_ = pushes_.empty() && pending_pulls_.empty() ? -1 : NowMs();
  return ServeReadyPulls();
}

Status Server::ViewPush(const net::Message& msg, PushArrays* a) const {
  ASSIGN_OR_RETURN(a->keys, net::ViewArray(msg, 0, &a->keys_copy));
  ASSIGN_OR_RETURN(a->grads, net::ViewArray(msg, 1, &a->grads_copy));
  ASSIGN_OR_RETURN(a->block_ids, net::ViewArray(msg, 2, &a->block_ids_copy));
  ASSIGN_OR_RETURN(a->dense_grads, net::ViewArray(msg, 3, &a->dense_grads_copy));
  if (a->grads.size() != a->keys.size() * static_cast<size_t>(table_.dim())) {
    return Status::Corruption("PUSH with " + std::to_string(a->keys.size()) + " keys but " +
                              std::to_string(a->grads.size()) + " gradient values");
  }
  return Status::OK();
}

Status Server::ApplyStep(int64_t step) {
  auto it = pushes_.find(step);
  if (it == pushes_.end()) return Status::OK();  // every worker was done: nothing to apply
  push_arrays_.resize(it->second.size());
  sparse_grads_.clear();
  // Every worker pushes the same dense blocks (all this server owns): the first one's
  // ids stand for all.
  std::span<const uint64_t> dense_ids;
  merged_dense_.clear();
  int contributors = 0;
  for (size_t w = 0; w < it->second.size(); ++w) {  // worker-rank order: the sum is reproducible
    const Push& p = it->second[w];
    if (!p.present) continue;
    ++contributors;
    PushArrays& a = push_arrays_[w];
    RETURN_IF_ERROR(ViewPush(p.msg, &a));
    sparse_grads_.push_back({a.keys, a.grads});
    if (!a.block_ids.empty()) {
      if (dense_ids.empty()) {
        dense_ids = a.block_ids;
        merged_dense_.assign(a.dense_grads.size(), 0.0f);
      }
      if (!std::equal(a.block_ids.begin(), a.block_ids.end(), dense_ids.begin(), dense_ids.end()) ||
          a.dense_grads.size() != merged_dense_.size()) {
        return Status::Corruption("workers pushed different dense blocks in step " +
                                  std::to_string(step));
      }
      for (size_t j = 0; j < merged_dense_.size(); ++j) merged_dense_[j] += a.dense_grads[j];
    }
  }
  if (contributors == 0) return Status::OK();
  ++global_step_;
  // The epoch's participants: live workers that did not start it out of data.
  int participants = 0;
  for (size_t w = 0; w < lost_.size(); ++w) participants += !lost_[w] && done_from_[w] > 1;
  const float scale = 1.0f / static_cast<float>(std::max(participants, contributors));
  for (float& g : merged_dense_) g *= scale;
  table_.ApplySum(sparse_grads_, scale, global_step_);
  if (!dense_ids.empty()) {
    RETURN_IF_ERROR(dense_.ApplyGradients(dense_ids, merged_dense_, global_step_));
  }
  return Status::OK();
}

bool Server::PullReady(const net::Message& msg) const {
  const pb::Header& h = msg.header;
  if (h.epoch() > epoch_) return EpochComplete();  // the first pull of a new epoch
  if (h.flags() & pb::FLAG_EVAL) return EpochComplete();
  return next_step_ >= h.step() || EpochComplete();
}

Status Server::HandlePull(const std::string& peer, net::Message msg) {
  if (msg.header.epoch() > epoch_ && EpochComplete()) RETURN_IF_ERROR(EnterEpoch(msg.header.epoch()));
  if (PullReady(msg)) return ServePull(peer, msg);
  if (waiting_since_ms_ < 0) waiting_since_ms_ = NowMs();
  pending_pulls_.push_back({peer, std::move(msg)});
  return Status::OK();
}

Status Server::ServeReadyPulls() {
  size_t n = pending_pulls_.size();
  for (size_t i = 0; i < n; ++i) {
    PendingPull p = std::move(pending_pulls_.front());
    pending_pulls_.pop_front();
    if (p.msg.header.epoch() > epoch_ && EpochComplete()) {
      RETURN_IF_ERROR(EnterEpoch(p.msg.header.epoch()));
    }
    if (PullReady(p.msg)) {
      RETURN_IF_ERROR(ServePull(p.peer, p.msg));
    } else {
      pending_pulls_.push_back(std::move(p));
    }
  }
  return Status::OK();
}

Status Server::ServePull(const std::string& peer, const net::Message& msg) {
  std::vector<uint64_t> keys_copy, block_ids_copy;
  ASSIGN_OR_RETURN(std::span<const uint64_t> keys, net::ViewArray(msg, 0, &keys_copy));
  ASSIGN_OR_RETURN(std::span<const uint64_t> block_ids, net::ViewArray(msg, 1, &block_ids_copy));
  // The rows go straight into the reply's frame.
  const size_t floats = keys.size() * table_.dim();
  zmq::message_t values = net::UninitializedFrame<float>(floats);
  std::span<float> out(static_cast<float*>(values.data()), floats);
  if (msg.header.flags() & pb::FLAG_EVAL) {
    table_.Peek(keys, out);
  } else {
    table_.Pull(keys, out);
  }
  size_t dense_floats = 0;
  // BlockFloats is 0 past the end; DenseStore::Pull rejects ids this server does not own.
  for (uint64_t b : block_ids) dense_floats += dense_.BlockFloats(b);
  zmq::message_t dense = net::UninitializedFrame<float>(dense_floats);
  RETURN_IF_ERROR(
      dense_.Pull(block_ids, std::span<float>(static_cast<float*>(dense.data()), dense_floats)));
  net::Message reply;
  reply.header.set_kind(pb::PULL_REPLY);
  reply.header.set_request_id(msg.header.request_id());
  reply.header.set_count(keys.size());
  reply.header.set_dim(table_.dim());
  reply.frames.push_back(std::move(values));
  reply.frames.push_back(std::move(dense));
  Status sent = router_->Send(peer, std::move(reply));
  if (sent.code() == Status::Code::kUnavailable) {
    // The worker is gone (killed while its pull waited): the scheduler declares it lost
    // through its heartbeats; the other workers must not lose this server over it.
    LOG(WARNING) << "server " << options_.server_index << ": dropped the answer to a pull of "
                 << nodes_->Describe(msg.header.sender()) << ": " << sent.ToString();
    return Status::OK();
  }
  return sent;
}

Status Server::HandleSave(const std::string& peer, const net::Message& msg) {
  pb::SaveRequest request;
  RETURN_IF_ERROR(net::ParseBody(msg, 0, &request));
  net::Message reply;
  reply.header.set_request_id(msg.header.request_id());
  reply.header.set_step(global_step_);
  pb::ShardFileInfo weights_info, state_info;
  Status written = WriteShards(request, &weights_info, &state_info);
  if (!written.ok()) {
    reply.header.set_kind(pb::ERROR_REPLY);
    reply.header.set_error(written.ToString());
  } else {
    reply.header.set_kind(pb::SAVE_DONE);
    reply.frames.push_back(net::FrameFromProto(weights_info));
    if (request.with_state()) reply.frames.push_back(net::FrameFromProto(state_info));
  }
  return router_->Send(peer, std::move(reply));
}

Status Server::WriteShards(const pb::SaveRequest& request, pb::ShardFileInfo* weights_info,
                           pb::ShardFileInfo* state_info) {
  const bool with_state = request.with_state();
  io::ShardContents shard, state;
  shard.server_index = state.server_index = options_.server_index;
  shard.num_servers = state.num_servers = options_.num_servers;
  shard.sparse_dim = table_.dim();
  // Checkpoints may be incremental: then only the rows changed since the base.
  const std::string base = with_state ? chain_tip_.BaseFor(request.dir(), request.full()) : "";
  table_.Export(&shard.keys, &shard.weights, with_state ? &state.weights : nullptr,
                base.empty() ? SparseTable::Rows::kAll : SparseTable::Rows::kChanged);
  shard.dense_block_floats = options_.dense_block_floats;
  shard.dense_size = options_.dense_size;
  dense_.Export(&shard.block_ids, &shard.dense_values, with_state ? &state.dense_values : nullptr);
  const std::string name = ShardFileName("shard", options_.server_index, options_.num_servers);
  RETURN_IF_ERROR(io::WriteShard(request.dir() + "/" + name, shard, weights_info));
  weights_info->set_file(name);
  if (!with_state) return Status::OK();
  // The state file reuses the shard layout: a row's "weights" are its optimizer state,
  // and each dense block's state is k times its weights (k = 0, 1 or 2 floats each).
  const int k = dense_.StateFloatsPerWeight();
  state.sparse_dim = table_.state_floats();
  state.keys = std::move(shard.keys);
  state.dense_block_floats = options_.dense_block_floats * std::max(k, 1);
  state.dense_size = options_.dense_size * k;
  state.block_ids = k > 0 ? std::move(shard.block_ids) : std::vector<uint64_t>();
  const std::string state_name = ShardFileName("state", options_.server_index, options_.num_servers);
  RETURN_IF_ERROR(io::WriteShard(request.dir() + "/" + state_name, state, state_info));
  state_info->set_file(state_name);
  weights_info->set_base(base);
  state_info->set_base(base);
  table_.ClearChanged();
  chain_tip_.Advance(request.dir(), base);
  return Status::OK();
}

Status Server::LoadCheckpoint(const std::string& dir, bool weights_only) {
  ASSIGN_OR_RETURN(std::vector<io::ChainLink> chain, io::ReadChain(dir));
  for (const io::ChainLink& link : chain) {
    RETURN_IF_ERROR(ImportCheckpointFiles(link.dir, link.manifest, weights_only));
  }
  table_.ClearChanged();  // the next checkpoint holds what changes after this one
  if (weights_only) return Status::OK();
  chain_tip_.ResumeAt(dir, chain.size());
  const pb::ModelManifest& manifest = chain.back().manifest;
  global_step_ = manifest.global_step();
  epoch_ = manifest.epochs_done();  // the workers start there
  next_step_ = manifest.step_in_epoch() + 1;
  return Status::OK();
}

Status Server::ImportCheckpointFiles(const std::string& dir, const pb::ModelManifest& manifest,
                                     bool weights_only) {
  if (manifest.sparse_dim() != table_.dim() || manifest.dense_size() != options_.dense_size) {
    return Status::InvalidArgument(dir + ": the checkpoint holds a model of another shape (sparse "
                                   "dim " + std::to_string(manifest.sparse_dim()) + ", dense size " +
                                   std::to_string(manifest.dense_size()) + ") than the config's");
  }
  const bool has_state = !weights_only && manifest.state_shards_size() > 0;
  if (has_state && manifest.state_shards_size() != manifest.shards_size()) {
    return Status::Corruption(dir + "/MANIFEST lists unequal numbers of shard and state files");
  }
  for (int i = 0; i < manifest.shards_size(); ++i) {
    ASSIGN_OR_RETURN(io::ShardContents shard, io::ReadShard(dir + "/" + manifest.shards(i).file()));
    io::ShardContents state;
    if (has_state) {
      ASSIGN_OR_RETURN(state, io::ReadShard(dir + "/" + manifest.state_shards(i).file()));
      if (state.keys != shard.keys) {
        return Status::Corruption(dir + "/" + manifest.state_shards(i).file() +
                                  " does not hold the rows of " + manifest.shards(i).file());
      }
    }
    RETURN_IF_ERROR(ImportOwned(shard, has_state ? &state : nullptr));
  }
  return Status::OK();
}

Status Server::ImportOwned(const io::ShardContents& shard, const io::ShardContents* state) {
  const int dim = table_.dim();
  const int sf = table_.state_floats();
  std::vector<uint64_t> keys;
  std::vector<float> weights, row_state;
  for (size_t i = 0; i < shard.keys.size(); ++i) {
    uint32_t slot = SlotOf(shard.keys[i], options_.slot_bits);
    if (static_cast<int>(slot % options_.num_servers) != options_.server_index) continue;
    keys.push_back(shard.keys[i]);
    weights.insert(weights.end(), shard.weights.begin() + i * dim,
                   shard.weights.begin() + (i + 1) * dim);
    if (state != nullptr) {
      row_state.insert(row_state.end(), state->weights.begin() + i * sf,
                       state->weights.begin() + (i + 1) * sf);
    }
  }
  RETURN_IF_ERROR(table_.Import(keys, weights, row_state));
  const int k = dense_.StateFloatsPerWeight();
  size_t offset = 0, state_offset = 0;
  for (uint64_t b : shard.block_ids) {
    const size_t len = dense_.BlockFloats(b);
    if (dense_.Owns(b)) {
      std::span<const float> w(shard.dense_values.data() + offset, len);
      std::span<const float> st;
      if (state != nullptr && k > 0) st = {state->dense_values.data() + state_offset, len * k};
      RETURN_IF_ERROR(dense_.Import(std::span<const uint64_t>(&b, 1), w, st));
    }
    offset += len;
    state_offset += len * k;
  }
  return Status::OK();
}

Status Server::HandleSaveAt(const net::Message& msg) {
  pb::SaveAt request;
  RETURN_IF_ERROR(net::ParseBody(msg, 0, &request));
  if (scheduler_ == nullptr) return Status::Internal("SAVE_AT reached a server without a scheduler");
  armed_[{request.epoch(), request.step()}] = request;
  return SkipUnreachableCheckpoints();
}

Status Server::SkipUnreachableCheckpoints() {
  for (auto it = armed_.begin(); it != armed_.end();) {
    const auto [epoch, step] = it->first;
    std::string why;
    if (epoch < epoch_ || (epoch == epoch_ && step < next_step_)) {
      why = "step " + std::to_string(step) + " of epoch " + std::to_string(epoch + 1) +
            " had already been applied";
    } else if (epoch == epoch_ && EpochComplete()) {
      why = "epoch " + std::to_string(epoch + 1) + " ended at step " +
            std::to_string(next_step_ - 1);
    }
    if (why.empty()) {
      ++it;
      continue;
    }
    it = armed_.erase(it);
    RETURN_IF_ERROR(SendCheckpointDone(epoch, step, why, {}));
  }
  return Status::OK();
}

Status Server::MaybeCheckpoint(int64_t step) {
  auto it = armed_.find({epoch_, step});
  if (it == armed_.end()) return Status::OK();
  pb::SaveRequest request;
  request.set_dir(it->second.dir());
  request.set_epoch(epoch_);
  request.set_with_state(true);
  request.set_full(it->second.full());
  armed_.erase(it);
  // An old MANIFEST (a run this one resumed) must not vouch for files being replaced.
  std::remove((request.dir() + "/" + io::kManifestName).c_str());
  pb::ShardFileInfo weights_info, state_info;
  RETURN_IF_ERROR(WriteShards(request, &weights_info, &state_info));
  std::vector<zmq::message_t> files;
  files.push_back(net::FrameFromProto(weights_info));
  files.push_back(net::FrameFromProto(state_info));
  return SendCheckpointDone(epoch_, step, "", std::move(files));
}

Status Server::SendCheckpointDone(int epoch, int64_t step, const std::string& skipped,
                                  std::vector<zmq::message_t> files) {
  pb::CheckpointDone done;
  done.set_epoch(epoch);
  done.set_step(step);
  done.set_global_step(global_step_);
  done.set_skipped(skipped);
  done.set_next_step(next_step_);
  if (skipped.empty()) {
    auto it = pushes_.find(step);
    for (size_t w = 0; w < done_from_.size(); ++w) {
      const bool pushed = it != pushes_.end() && it->second[w].present;
      pb::WorkerCursor* cursor = done.add_cursors();
      *cursor = pushed ? it->second[w].cursor : done_cursor_[w];
      cursor->set_worker(static_cast<int>(w));
    }
  }
  net::Message m;
  m.header.set_kind(pb::CHECKPOINT_DONE);
  m.header.set_sender(nodes_->server_ranks()[options_.server_index]);
  m.frames.push_back(net::FrameFromProto(done));
  for (auto& f : files) m.frames.push_back(std::move(f));
  return scheduler_->Send(std::move(m));
}

Status Server::TellScheduler(pb::MessageKind kind, const google::protobuf::Message& body) {
  if (scheduler_ == nullptr) return Status::Internal("a server without a scheduler got a request");
  net::Message m;
  m.header.set_kind(kind);
  m.header.set_sender(nodes_->server_ranks()[options_.server_index]);
  m.frames.push_back(net::FrameFromProto(body));
  return scheduler_->Send(std::move(m));
}

Status Server::HandleWorkerLost(const net::Message& msg) {
  const int w = static_cast<int>(msg.header.count());
  if (w < 0 || w >= static_cast<int>(lost_.size())) {
    return Status::Corruption("WORKER_LOST for worker " + std::to_string(w) + " of " +
                              std::to_string(lost_.size()));
  }
  if (msg.header.epoch() > epoch_ && EpochComplete()) RETURN_IF_ERROR(EnterEpoch(msg.header.epoch()));
  lost_[w] = true;
  pb::LostWorker answer;
  answer.set_worker(w);
  answer.set_epoch(epoch_);
  answer.set_last_step(last_step_[w]);
  if (last_step_[w] > 0) *answer.mutable_cursor() = last_cursor_[w];
  answer.set_was_done(done_from_[w] != kNotDone);
  // Done after the last push received here. Another server may hold one push more
  // (the worker died between its sends of one step): that step is then applied with
  // it there and without it here, and the scheduler counts the step as trained.
  if (done_from_[w] == kNotDone) done_from_[w] = std::max(next_step_, last_step_[w] + 1);
  LOG(WARNING) << "server " << options_.server_index << ": "
               << nodes_->Describe(nodes_->worker_ranks()[w]) << " is lost; epoch " << epoch_ + 1
               << " goes on without it after step " << last_step_[w];
  RETURN_IF_ERROR(TellScheduler(pb::WORKER_LOST_DONE, answer));
  return ApplyReadySteps();
}

Status Server::HandleReopen(const net::Message& msg) {
  pb::Reopen reopen;
  RETURN_IF_ERROR(net::ParseBody(msg, 0, &reopen));
  for (int w : reopen.workers()) {
    if (w < 0 || w >= static_cast<int>(lost_.size()) || lost_[w]) {
      return Status::Corruption("REOPEN for worker " + std::to_string(w) + ", not a live one");
    }
  }
  reopens_.push_back(std::move(reopen));
  return ApplyReadySteps();
}

Status Server::MaybeReopen() {
  while (!reopens_.empty() && reopens_.front().epoch() == epoch_ && EpochComplete()) {
    const pb::Reopen reopen = std::move(reopens_.front());
    reopens_.erase(reopens_.begin());
    if (next_step_ > reopen.step() + 1) {
      return Status::Corruption("REOPEN after step " + std::to_string(reopen.step()) +
                                " of epoch " + std::to_string(epoch_ + 1) + ", but step " +
                                std::to_string(next_step_ - 1) + " was applied here");
    }
    next_step_ = reopen.step() + 1;
    for (int w : reopen.workers()) done_from_[w] = kNotDone;
    RETURN_IF_ERROR(TellScheduler(pb::REOPENED, reopen));
  }
  return Status::OK();
}

std::string Server::MissingWorkers(int64_t step) const {
  auto it = pushes_.find(step);
  std::string missing;
  for (size_t w = 0; w < done_from_.size(); ++w) {
    if (done_from_[w] <= step) continue;
    if (it != pushes_.end() && it->second[w].present) continue;
    if (!missing.empty()) missing += ", ";
    missing += nodes_->Describe(nodes_->worker_ranks()[w]);
  }
  return missing;
}

Status Server::CheckStall() {
  if (waiting_since_ms_ < 0 || NowMs() - waiting_since_ms_ < options_.timeout_ms) {
    return Status::OK();
  }
  return Status::DeadlineExceeded(
      "server " + std::to_string(options_.server_index) + ": step " + std::to_string(next_step_) +
      " of epoch " + std::to_string(epoch_ + 1) + " waited more than " +
      std::to_string(options_.timeout_ms) + " ms for " + MissingWorkers(next_step_));
}

}  // namespace tessera::ps
