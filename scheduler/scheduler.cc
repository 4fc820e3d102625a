#include "scheduler/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <sys/stat.h>

#include "common/clock.h"
#include "io/file_util.h"
#include "io/line_reader.h"
#include "io/model_file.h"
#include "scheduler/checkpoint.h"

namespace tessera::scheduler {
namespace {

// How long Run() sleeps in a receive before it looks at the clock again.
constexpr int kTickMs = 200;

// Seconds since the Unix epoch: what the PROGRESS file records, comparable across runs
// and with file times.
double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

std::string FormatRate(double per_s) {
  char buf[32];
  if (per_s >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", per_s / 1e6);
  } else if (per_s >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fk", per_s / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", per_s);
  }
  return buf;
}

// Uncompressed size of a file: its size, or for gzip the ISIZE trailer (mod 2^32:
// an estimate only, used for the ETA).
int64_t UncompressedBytes(const io::ChunkSpec& chunk) {
  if (chunk.length >= 0) return chunk.length;
  std::ifstream in(chunk.path, std::ios::binary | std::ios::ate);
  if (!in) return 0;
  std::streamoff size = in.tellg();
  if (size < 4) return 0;
  unsigned char trailer[4];
  in.seekg(size - 4);
  in.read(reinterpret_cast<char*>(trailer), 4);
  return static_cast<int64_t>(trailer[0] | (trailer[1] << 8) | (trailer[2] << 16) |
                              (static_cast<uint32_t>(trailer[3]) << 24));
}

// Average bytes per line over the first lines of a chunk (for the ETA).
double SampleBytesPerLine(const io::ChunkSpec& chunk) {
  auto reader = io::LineReader::Open(chunk);
  if (!reader.ok()) return 0.0;
  std::string_view line;
  int64_t lines = 0, bytes = 0;
  while (lines < 2000 && (*reader)->Next(&line)) {
    ++lines;
    bytes += static_cast<int64_t>(line.size()) + 1;
  }
  return lines ? static_cast<double>(bytes) / lines : 0.0;
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

std::string EpochMetrics::ToJson() const {
  return "{\"epoch\": " + std::to_string(epoch) +
         ", \"train_examples\": " + std::to_string(train_examples) +
         ", \"train_loss\": " + JsonNumber(train_loss) +
         ", \"bad_lines\": " + std::to_string(bad_lines) +
         ", \"train_seconds\": " + JsonNumber(train_seconds) +
         ", \"seconds\": " + JsonNumber(seconds) + ", \"examples_per_second\": " +
         JsonNumber(train_seconds > 0 ? train_examples / train_seconds : 0) +
         ", \"validation_examples\": " + std::to_string(validation_examples) +
         ", \"auc\": " + JsonNumber(auc) + ", \"logloss\": " + JsonNumber(logloss) +
         ", \"calibration\": " + JsonNumber(calibration) +
         ", \"accuracy\": " + JsonNumber(accuracy) + ", \"rmse\": " + JsonNumber(rmse) +
         ", \"mae\": " + JsonNumber(mae) + "}";
}

Scheduler::Scheduler(SchedulerOptions options, net::Router* router,
                     std::vector<std::unique_ptr<net::Dealer>> servers,
                     const net::NodeTable* nodes, std::ostream* out, std::ostream* log)
    : options_(std::move(options)),
      router_(router),
      servers_(std::move(servers)),
      nodes_(nodes),
      out_(out),
      log_(log),
      chain_(options_.config.checkpoint().dir(), options_.resume_dir) {
  num_workers_ = static_cast<int>(nodes_->worker_ranks().size());
  epochs_ = options_.config.training().epochs();
  timeout_ms_ = options_.config.cluster().timeout_ms();
  train_done_.assign(num_workers_, false);
  eval_done_.assign(num_workers_, false);
  told_job_done_.assign(num_workers_, false);
}

int Scheduler::WorkerIndex(int rank) const {
  const auto& w = nodes_->worker_ranks();
  auto it = std::find(w.begin(), w.end(), rank);
  return it == w.end() ? -1 : static_cast<int>(it - w.begin());
}

Status Scheduler::AwaitHellos() {
  const int timeout = options_.config.cluster().connect_timeout_ms();
  const int64_t deadline = NowMs() + timeout;
  std::vector<bool> seen(nodes_->size(), false);
  std::vector<std::string> peers(nodes_->size());
  seen[nodes_->scheduler_rank()] = true;
  int missing = nodes_->size() - 1;
  while (missing > 0) {
    int64_t wait = deadline - NowMs();
    net::Message msg;
    std::string peer;
    bool got = false;
    if (wait > 0) {
      ASSIGN_OR_RETURN(got, router_->Receive(&msg, &peer, static_cast<int>(wait)));
    }
    if (!got) {
      std::string who;
      for (int r = 0; r < nodes_->size(); ++r) {
        if (!seen[r]) who += (who.empty() ? "" : ", ") + nodes_->Describe(r);
      }
      return Status::DeadlineExceeded("the scheduler waited " + std::to_string(timeout) +
                                      " ms (cluster.connect_timeout_ms) for a HELLO from " + who);
    }
    if (msg.header.kind() == pb::FATAL) {
      return Status::Aborted(nodes_->Describe(msg.header.sender()) + " failed: " +
                             msg.header.error());
    }
    int r = msg.header.sender();
    if (msg.header.kind() != pb::HELLO || r < 0 || r >= nodes_->size()) {
      return Status::Corruption("unexpected " + pb::MessageKind_Name(msg.header.kind()) +
                                " during start-up from " + nodes_->Describe(r));
    }
    if (!seen[r]) {
      seen[r] = true;
      peers[r] = peer;
      --missing;
    }
  }
  pb::Welcome welcome;
  welcome.set_job_id(options_.job_id);
  welcome.set_num_servers(static_cast<int>(nodes_->server_ranks().size()));
  welcome.set_num_workers(num_workers_);
  welcome.set_start_epoch(options_.start_epoch);
  welcome.set_start_step(options_.start_step);
  for (int r = 0; r < nodes_->size(); ++r) {
    if (r == nodes_->scheduler_rank()) continue;
    const int w = WorkerIndex(r);
    if (w >= 0 && w < static_cast<int>(options_.start_cursors.size())) {
      *welcome.mutable_cursor() = options_.start_cursors[w];
    } else {
      welcome.clear_cursor();
    }
    net::Message m;
    m.header.set_kind(pb::WELCOME);
    m.frames.push_back(net::FrameFromProto(welcome));
    Status s = router_->Send(peers[r], std::move(m));
    if (!s.ok()) return s.WithContext("welcoming " + nodes_->Describe(r));
  }
  return Status::OK();
}

Status Scheduler::PlanData() {
  const pb::DataConfig& data = options_.config.data();
  std::vector<std::string> train(data.train().begin(), data.train().end());
  ASSIGN_OR_RETURN(train_chunks_, io::PlanChunks(train, data.chunk_bytes()));
  if (train_chunks_.empty()) {
    return Status::InvalidArgument("data.train: the training files hold no data");
  }
  if (data.has_validation() && !data.validation().empty()) {
    ASSIGN_OR_RETURN(validation_chunks_, io::PlanChunks({data.validation()}, data.chunk_bytes()));
  }
  for (const auto& c : train_chunks_) train_bytes_ += UncompressedBytes(c);
  bytes_per_line_ = SampleBytesPerLine(train_chunks_.front());
  return Status::OK();
}

Status Scheduler::Run() {
  job_start_s_ = NowSeconds();
  RETURN_IF_ERROR(AwaitHellos());
  RETURN_IF_ERROR(PlanData());
  RETURN_IF_ERROR(io::CreateDirectories(options_.config.output().model_dir()));
  // A fresh job starts a fresh metrics file; a resumed one appends to it.
  if (options_.start_epoch == 0 && options_.start_step == 0) {
    std::remove((options_.config.output().model_dir() + "/metrics.jsonl").c_str());
  }
  epoch_ = options_.start_epoch;
  next_train_chunk_.resize(num_workers_);
  for (int w = 0; w < num_workers_; ++w) next_train_chunk_[w] = w;
  skip_batches_.assign(num_workers_, 0);
  worker_steps_.assign(num_workers_, options_.start_step);
  RETURN_IF_ERROR(ResumeCursors());
  steps_before_epoch_ = options_.start_global_step - options_.start_step;
  ReportReplay();
  epoch_start_s_ = last_progress_s_ = last_checkpoint_s_ = NowSeconds();
  RETURN_IF_ERROR(ArmStepCheckpoints(epoch_, options_.start_step));
  int64_t last_message_ms = NowMs();
  while (!std::all_of(told_job_done_.begin(), told_job_done_.end(), [](bool b) { return b; })) {
    net::Message msg;
    std::string peer;
    ASSIGN_OR_RETURN(bool got, router_->Receive(&msg, &peer, kTickMs));
    if (got) {
      last_message_ms = NowMs();
      RETURN_IF_ERROR(Dispatch(peer, std::move(msg)));
    } else if (NowMs() - last_message_ms > timeout_ms_) {
      return Status::DeadlineExceeded("the scheduler heard nothing for " +
                                      std::to_string(timeout_ms_) +
                                      " ms (cluster.timeout_ms); waiting for " + Outstanding());
    }
    MaybePrintProgress(/*force=*/false);
    RETURN_IF_ERROR(MaybeRequestTimedCheckpoint());
    WriteProgressFile();
  }
  if (!options_.config.checkpoint().dir().empty()) {
    std::remove((options_.config.checkpoint().dir() + "/PROGRESS").c_str());
  }
  return ShutdownServers();
}

std::string Scheduler::Outstanding() const {
  std::string who;
  for (int w = 0; w < num_workers_; ++w) {
    bool done = phase_ == Phase::kTrain ? train_done_[w]
                : phase_ == Phase::kEval ? eval_done_[w]
                                         : told_job_done_[w];
    if (!done) who += (who.empty() ? "" : ", ") + nodes_->Describe(nodes_->worker_ranks()[w]);
  }
  return who.empty() ? "nobody" : who;
}

Status Scheduler::Dispatch(const std::string& peer, net::Message msg) {
  const int rank = msg.header.sender();
  switch (msg.header.kind()) {
    case pb::CHUNK_REQUEST: {
      int w = WorkerIndex(rank);
      if (w < 0) return Status::Corruption("CHUNK_REQUEST from non-worker rank " + std::to_string(rank));
      pb::ChunkRequest r;
      RETURN_IF_ERROR(net::ParseBody(msg, 0, &r));
      AddProgress(r);
      if (r.epoch() == epoch_ && !r.validation()) {
        worker_steps_[w] = std::max(worker_steps_[w], r.step());
      }
      return HandleChunkRequest(peer, w, r);
    }
    case pb::PROGRESS: {
      pb::ChunkRequest r;
      RETURN_IF_ERROR(net::ParseBody(msg, 0, &r));
      AddProgress(r);
      int w = WorkerIndex(rank);
      if (w >= 0 && r.epoch() == epoch_) worker_steps_[w] = std::max(worker_steps_[w], r.step());
      return Status::OK();
    }
    case pb::CHECKPOINT_DONE:
      return HandleCheckpointDone(rank, msg);
    case pb::EVAL_RESULT: {
      std::vector<float> predictions, labels;
      RETURN_IF_ERROR(net::ReadArray(msg, 0, &predictions));
      RETURN_IF_ERROR(net::ReadArray(msg, 1, &labels));
      if (predictions.size() != labels.size()) {
        return Status::Corruption("EVAL_RESULT with unequal predictions and labels");
      }
      eval_.Add(predictions, labels);
      return Status::OK();
    }
    case pb::FATAL:
      return Status::Aborted(nodes_->Describe(rank) + " failed: " + msg.header.error());
    default:
      return Status::Corruption("the scheduler got an unexpected " +
                                pb::MessageKind_Name(msg.header.kind()) + " from " +
                                nodes_->Describe(rank));
  }
}

void Scheduler::AddProgress(const pb::ChunkRequest& r) {
  epoch_examples_ += r.examples();
  epoch_loss_sum_ += r.loss_sum();
  epoch_bad_lines_ += r.bad_lines();
}

Status Scheduler::HandleChunkRequest(const std::string& peer, int worker,
                                     const pb::ChunkRequest& r) {
  VLOG(1) << "from " << peer << ": request epoch " << r.epoch()
          << (r.validation() ? " validation" : " training") << "; scheduler epoch " << epoch_
          << " phase " << static_cast<int>(phase_);
  HeldRequest held{peer, worker, r};
  ASSIGN_OR_RETURN(bool served, TryServe(held));
  if (!served) held_.push_back(std::move(held));
  return Status::OK();
}

Status Scheduler::ReplyChunk(const std::string& peer, const pb::Chunk& chunk) {
  VLOG(1) << "to " << peer << ": " << pb::Chunk::Status_Name(chunk.status()) << " epoch "
          << chunk.epoch() << " " << chunk.path() << "@" << chunk.offset();
  net::Message m;
  m.header.set_kind(pb::CHUNK);
  m.header.set_request_id(next_request_id_++);
  m.frames.push_back(net::FrameFromProto(chunk));
  return router_->Send(peer, std::move(m));
}

StatusOr<bool> Scheduler::TryServe(const HeldRequest& held) {
  const pb::ChunkRequest& r = held.request;
  const int w = held.worker;
  pb::Chunk chunk;
  chunk.set_epoch(r.epoch());
  if (phase_ == Phase::kDone || r.epoch() >= epochs_) {
    if (phase_ != Phase::kDone) return false;
    chunk.set_status(pb::Chunk::JOB_DONE);
    told_job_done_[w] = true;
    RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
    return true;
  }
  if (r.epoch() != epoch_) return false;
  if (!r.validation()) {
    if (phase_ != Phase::kTrain) return false;
    size_t& next = next_train_chunk_[w];
    if (next < train_chunks_.size()) {
      const io::ChunkSpec& c = train_chunks_[next];
      chunk.set_status(pb::Chunk::DATA);
      chunk.set_path(c.path);
      chunk.set_offset(c.offset);
      chunk.set_length(c.length);
      chunk.set_first_line(c.first_line);
      chunk.set_chunk_id(static_cast<int64_t>(next));
      chunk.set_skip_batches(skip_batches_[w]);
      skip_batches_[w] = 0;
      next += num_workers_;
    } else {
      chunk.set_status(pb::Chunk::EPOCH_DONE);
      train_done_[w] = true;
    }
    RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
    if (std::all_of(train_done_.begin(), train_done_.end(), [](bool b) { return b; })) {
      phase_ = Phase::kEval;
      train_end_s_ = NowSeconds();
      RETURN_IF_ERROR(ReleaseHeld());
    }
    return true;
  }
  if (phase_ != Phase::kEval) return false;
  if (next_validation_chunk_ < validation_chunks_.size()) {
    const io::ChunkSpec& c = validation_chunks_[next_validation_chunk_++];
    chunk.set_status(pb::Chunk::DATA);
    chunk.set_path(c.path);
    chunk.set_offset(c.offset);
    chunk.set_length(c.length);
    chunk.set_first_line(c.first_line);
  } else {
    chunk.set_status(pb::Chunk::EPOCH_DONE);
    eval_done_[w] = true;
  }
  RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
  if (std::all_of(eval_done_.begin(), eval_done_.end(), [](bool b) { return b; })) {
    RETURN_IF_ERROR(FinishEpoch());
  }
  return true;
}

Status Scheduler::ReleaseHeld() {
  std::vector<HeldRequest> held;
  held.swap(held_);
  for (auto& h : held) {
    ASSIGN_OR_RETURN(bool served, TryServe(h));
    if (!served) held_.push_back(std::move(h));
  }
  return Status::OK();
}

void Scheduler::MaybePrintProgress(bool force) {
  const double interval = options_.config.cluster().progress_interval_s();
  const double now = NowSeconds();
  if (!force && (interval <= 0 || now - last_progress_s_ < interval)) return;
  if (phase_ != Phase::kTrain) return;
  last_progress_s_ = now;
  const double elapsed = now - epoch_start_s_;
  const double rate = elapsed > 0 ? epoch_examples_ / elapsed : 0.0;
  char line[256];
  std::string eta = "?";
  double pct = -1;
  if (bytes_per_line_ > 0 && train_bytes_ > 0) {
    double total = train_bytes_ / bytes_per_line_;
    pct = std::min(99.9, 100.0 * epoch_examples_ / total);
    if (rate > 0) eta = FormatDuration((total - epoch_examples_) / rate);
  }
  std::snprintf(line, sizeof(line),
                "epoch %d/%d  %s%lld examples  %s ex/s  train loss %.5f  bad lines %lld  "
                "elapsed %s  ETA %s",
                epoch_ + 1, epochs_,
                pct >= 0 ? (std::to_string(static_cast<int>(pct)) + "%  ").c_str() : "",
                static_cast<long long>(epoch_examples_), FormatRate(rate).c_str(),
                epoch_examples_ ? epoch_loss_sum_ / epoch_examples_ : 0.0,
                static_cast<long long>(epoch_bad_lines_), FormatDuration(elapsed).c_str(),
                eta.c_str());
  *log_ << line << std::endl;
}

Status Scheduler::FinishEpoch() {
  EpochMetrics m;
  m.epoch = epoch_ + 1;
  m.train_examples = epoch_examples_;
  m.train_loss = epoch_examples_ ? epoch_loss_sum_ / epoch_examples_ : 0.0;
  m.bad_lines = epoch_bad_lines_;
  m.seconds = NowSeconds() - epoch_start_s_;
  m.train_seconds = train_end_s_ - epoch_start_s_;
  m.validation_examples = eval_.count();
  m.auc = eval_.Auc();
  m.logloss = eval_.LogLoss();
  m.calibration = eval_.Calibration();
  m.accuracy = eval_.Accuracy();
  m.rmse = eval_.Rmse();
  m.mae = eval_.Mae();
  m.validation_summary = eval_.Describe(options_.value_predictions);
  metrics_.push_back(m);
  char line[320];
  std::snprintf(line, sizeof(line),
                "epoch %d/%d done in %.1f s: %lld examples in %.1f s (%s ex/s), train loss "
                "%.5f, bad lines %lld; validation: %lld examples, %s",
                m.epoch, epochs_, m.seconds, static_cast<long long>(m.train_examples),
                m.train_seconds,
                FormatRate(m.train_seconds > 0 ? m.train_examples / m.train_seconds : 0).c_str(),
                m.train_loss, static_cast<long long>(m.bad_lines),
                static_cast<long long>(m.validation_examples),
                m.validation_summary.c_str());
  *log_ << line << std::endl;
  std::ofstream jsonl(options_.config.output().model_dir() + "/metrics.jsonl", std::ios::app);
  jsonl << m.ToJson() << "\n";
  if (!jsonl) {
    return Status::IOError("cannot append to " + options_.config.output().model_dir() +
                           "/metrics.jsonl");
  }
  // Next epoch.
  ++epoch_;
  eval_ = model::MetricsAccumulator();
  epoch_examples_ = 0;
  epoch_loss_sum_ = 0.0;
  epoch_bad_lines_ = 0;
  std::fill(train_done_.begin(), train_done_.end(), false);
  std::fill(eval_done_.begin(), eval_done_.end(), false);
  for (int w = 0; w < num_workers_; ++w) next_train_chunk_[w] = w;
  steps_before_epoch_ += *std::max_element(worker_steps_.begin(), worker_steps_.end());
  std::fill(worker_steps_.begin(), worker_steps_.end(), 0);
  next_validation_chunk_ = 0;
  const pb::CheckpointConfig& checkpoint = options_.config.checkpoint();
  if (!checkpoint.dir().empty() &&
      (epoch_ % checkpoint.every_epochs() == 0 || epoch_ >= epochs_)) {
    RETURN_IF_ERROR(SaveCheckpoint());
  }
  epoch_start_s_ = last_progress_s_ = NowSeconds();
  if (epoch_ >= epochs_) {
    RETURN_IF_ERROR(SaveModel());
    phase_ = Phase::kDone;
  } else {
    phase_ = Phase::kTrain;
    // Before any worker gets a chunk of the new epoch, so the servers hear first.
    RETURN_IF_ERROR(ArmStepCheckpoints(epoch_, 0));
  }
  return ReleaseHeld();
}

StatusOr<pb::ModelManifest> Scheduler::SaveShards(const std::string& dir, bool with_state) {
  RETURN_IF_ERROR(io::CreateDirectories(dir));
  // An old MANIFEST must not vouch for files about to be overwritten.
  std::remove((dir + "/MANIFEST").c_str());
  pb::SaveRequest request;
  request.set_dir(dir);
  request.set_epoch(epoch_);
  request.set_with_state(with_state);
  request.set_full(with_state && chain_.full_needed());
  for (auto& server : servers_) {
    net::Message m;
    m.header.set_kind(pb::SAVE);
    m.header.set_sender(nodes_->scheduler_rank());
    m.frames.push_back(net::FrameFromProto(request));
    RETURN_IF_ERROR(server->Send(std::move(m)));
  }
  pb::ModelManifest manifest;
  manifest.set_format_version(1);
  *manifest.mutable_config() = options_.config;
  manifest.set_epochs_done(epoch_);
  manifest.set_dense_size(options_.dense_size);
  manifest.set_sparse_dim(options_.sparse_dim);
  manifest.set_is_checkpoint(with_state);
  manifest.set_num_workers(num_workers_);
  manifest.set_created_by("tessera train, job " + options_.job_id);
  for (auto& server : servers_) {
    net::Message reply;
    RETURN_IF_ERROR(server->ReceiveOrTimeout(&reply, timeout_ms_, "a request to save the model"));
    if (reply.header.kind() != pb::SAVE_DONE) {
      return Status::IOError(server->peer_description() + " could not save its shard: " +
                             reply.header.error());
    }
    RETURN_IF_ERROR(net::ParseBody(reply, 0, manifest.add_shards()));
    if (with_state && reply.frames.size() > 1) {
      RETURN_IF_ERROR(net::ParseBody(reply, 1, manifest.add_state_shards()));
    }
    manifest.set_global_step(reply.header.step());
  }
  if (with_state) {
    Status linked = chain_.Link(&manifest);
    if (!linked.ok()) {  // now chain_.full_needed(): the servers write every row
      *log_ << "checkpoint " << dir << ": " << linked.message() << "; writing it in full"
            << std::endl;
      return SaveShards(dir, with_state);
    }
  }
  // Written last and atomically: a directory without a MANIFEST holds no model.
  RETURN_IF_ERROR(io::WriteManifest(dir, manifest));
  if (with_state) chain_.Completed(dir, manifest);
  return manifest;
}

Status Scheduler::SaveCheckpoint() {
  const pb::CheckpointConfig& c = options_.config.checkpoint();
  const std::string dir = c.dir() + "/" + CheckpointName(epoch_, 0);
  const double start = NowSeconds();
  ASSIGN_OR_RETURN(pb::ModelManifest manifest, SaveShards(dir, /*with_state=*/true));
  uint64_t bytes = 0;
  for (const auto& f : manifest.shards()) bytes += f.bytes();
  for (const auto& f : manifest.state_shards()) bytes += f.bytes();
  char line[256];
  std::snprintf(line, sizeof(line), "checkpoint %s: %.1f MB in %.2f s", dir.c_str(), bytes / 1e6,
                NowSeconds() - start);
  *log_ << line << DescribeLink(manifest) << std::endl;
  last_checkpoint_s_ = NowSeconds();
  last_written_ = std::max(last_written_, std::make_pair(epoch_, int64_t{0}));
  return PruneCheckpoints(c.dir(), c.keep(), CheckpointName(epoch_, 0));
}

Status Scheduler::ResumeCursors() {
  if (options_.start_step == 0) return Status::OK();
  if (static_cast<int>(options_.start_cursors.size()) != num_workers_) {
    return Status::InvalidArgument("the checkpoint holds the data cursors of " +
                                   std::to_string(options_.start_cursors.size()) +
                                   " worker(s); this job has " + std::to_string(num_workers_));
  }
  for (int w = 0; w < num_workers_; ++w) {
    const pb::WorkerCursor& c = options_.start_cursors[w];
    if (c.done()) {
      next_train_chunk_[w] = train_chunks_.size();
    } else {
      if (c.chunk_id() < 0 || c.chunk_id() >= static_cast<int64_t>(train_chunks_.size()) ||
          c.chunk_id() % num_workers_ != w) {
        return Status::InvalidArgument(
            "the checkpoint's cursor of worker " + std::to_string(w) + " (chunk " +
            std::to_string(c.chunk_id()) + ") does not fit this job's " +
            std::to_string(train_chunks_.size()) + " training chunks: were data.train or "
            "data.chunk_bytes changed?");
      }
      next_train_chunk_[w] = c.chunk_id();
      skip_batches_[w] = std::max<int64_t>(0, c.batches_done());
    }
    epoch_examples_ += c.examples();
    epoch_loss_sum_ += c.loss_sum();
    epoch_bad_lines_ += c.bad_lines();
  }
  return Status::OK();
}

void Scheduler::WriteProgressFile() {
  const std::string& root = options_.config.checkpoint().dir();
  const double now = NowSeconds();
  if (root.empty() || now - last_progress_file_s_ < 0.25) return;
  last_progress_file_s_ = now;
  int64_t step = *std::max_element(worker_steps_.begin(), worker_steps_.end());
  // A server that answered a checkpoint has applied its step: fresher than the reports.
  if (timed_hint_.first == epoch_) step = std::max(step, timed_hint_.second - 1);
  if (applied_hint_.first == epoch_) step = std::max(step, applied_hint_.second);
  const std::string path = root + "/PROGRESS";
  {
    std::ofstream out(path + ".tmp");
    out << "epoch " << epoch_ << " step " << step << " global_step " << steps_before_epoch_ + step
        << " unix_time " << std::fixed << WallSeconds() << "\n";
    if (!out) return;  // best effort: it only feeds a report
  }
  std::rename((path + ".tmp").c_str(), path.c_str());
}

void Scheduler::ReportReplay() {
  if (options_.resume_dir.empty()) return;
  std::ifstream in(options_.config.checkpoint().dir() + "/PROGRESS");
  std::string k1, k2, k3, k4;
  int epoch = 0;
  int64_t step = 0, global_step = 0;
  double unix_time = 0;
  if (!(in >> k1 >> epoch >> k2 >> step >> k3 >> global_step >> k4 >> unix_time)) return;
  struct stat st;
  if (stat((options_.resume_dir + "/MANIFEST").c_str(), &st) != 0) return;
  const double trained_after = std::max(0.0, unix_time - static_cast<double>(st.st_mtime));
  const double down = std::max(0.0, WallSeconds() - unix_time);
  char line[512];
  std::snprintf(line, sizeof(line),
                "resumed after an interrupted run, which had reached epoch %d, step %lld (%lld "
                "steps in all): %lld step(s) trained after the checkpoint are replayed; time "
                "lost: %.1f s of training after the checkpoint + %.1f s from its last progress "
                "record to this start",
                epoch + 1, static_cast<long long>(step), static_cast<long long>(global_step),
                static_cast<long long>(std::max<int64_t>(0, global_step - options_.start_global_step)),
                trained_after, down);
  *log_ << line << std::endl;
}

Status Scheduler::RequestCheckpoint(int epoch, int64_t step, bool timed) {
  const auto key = std::make_pair(epoch, step);
  if (pending_checkpoints_.count(key) || key <= last_written_) return Status::OK();
  PendingCheckpoint& p = pending_checkpoints_[key];
  p.dir = options_.config.checkpoint().dir() + "/" + CheckpointName(epoch, step);
  p.timed = timed;
  p.start_s = NowSeconds();
  pb::SaveAt request;
  request.set_epoch(epoch);
  request.set_step(step);
  request.set_dir(p.dir);
  request.set_full(chain_.full_needed());
  for (auto& server : servers_) {
    net::Message m;
    m.header.set_kind(pb::SAVE_AT);
    m.header.set_sender(nodes_->scheduler_rank());
    m.frames.push_back(net::FrameFromProto(request));
    RETURN_IF_ERROR(server->Send(std::move(m)));
  }
  return Status::OK();
}

Status Scheduler::ArmStepCheckpoints(int epoch, int64_t after_step) {
  const int64_t every = options_.config.checkpoint().every_steps();
  if (options_.config.checkpoint().dir().empty() || every <= 0) return Status::OK();
  const int64_t next = (after_step / every + 1) * every;
  RETURN_IF_ERROR(RequestCheckpoint(epoch, next, /*timed=*/false));
  return RequestCheckpoint(epoch, next + every, /*timed=*/false);
}

Status Scheduler::MaybeRequestTimedCheckpoint() {
  const pb::CheckpointConfig& c = options_.config.checkpoint();
  if (c.dir().empty() || c.every_seconds() <= 0 || phase_ != Phase::kTrain) return Status::OK();
  const double now = NowSeconds();
  if (now - last_checkpoint_s_ < c.every_seconds()) return Status::OK();
  for (const auto& [key, p] : pending_checkpoints_) {
    if (p.timed) return Status::OK();  // one at a time
  }
  // Aim just past the furthest step known: the workers' reports (up to a second
  // old), or better where a server stood when it answered the last try as skipped
  // because the step had passed (a round trip old); the next tick then tries again.
  int64_t known = *std::max_element(worker_steps_.begin(), worker_steps_.end());
  const double elapsed = std::max(1e-3, now - epoch_start_s_);
  const int64_t base = epoch_ == options_.start_epoch ? options_.start_step : 0;
  const double steps_per_s = static_cast<double>(known - base) / elapsed;
  if (timed_hint_.first == epoch_) known = std::max(known, timed_hint_.second);
  if (last_written_.first == epoch_) known = std::max(known, last_written_.second);
  const int64_t ahead = 2 + static_cast<int64_t>(steps_per_s * 0.05);
  return RequestCheckpoint(epoch_, known + ahead, /*timed=*/true);
}

Status Scheduler::HandleCheckpointDone(int rank, const net::Message& msg) {
  pb::CheckpointDone done;
  RETURN_IF_ERROR(net::ParseBody(msg, 0, &done));
  auto it = pending_checkpoints_.find({done.epoch(), done.step()});
  if (it == pending_checkpoints_.end()) {
    return Status::Corruption(nodes_->Describe(rank) + " reported a checkpoint nobody asked for");
  }
  PendingCheckpoint& p = it->second;
  ++p.replies;
  if (!done.skipped().empty()) {
    p.skipped = nodes_->Describe(rank) + ": " + done.skipped();
    if (p.timed && done.epoch() == epoch_) {
      timed_hint_ = {epoch_, std::max(timed_hint_.first == epoch_ ? timed_hint_.second : 0,
                                      done.next_step())};
    }
  } else {
    applied_hint_ = std::max(applied_hint_, std::make_pair(done.epoch(), done.step()));
    RETURN_IF_ERROR(net::ParseBody(msg, 1, p.manifest.add_shards()));
    RETURN_IF_ERROR(net::ParseBody(msg, 2, p.manifest.add_state_shards()));
    p.manifest.set_global_step(done.global_step());
    if (p.manifest.cursors_size() == 0) {
      *p.manifest.mutable_cursors() = done.cursors();
    }
  }
  if (p.replies < static_cast<int>(servers_.size())) return Status::OK();
  PendingCheckpoint finished = std::move(p);
  pending_checkpoints_.erase(it);
  return FinishCheckpoint(done.epoch(), done.step(), &finished);
}

Status Scheduler::FinishCheckpoint(int epoch, int64_t step, PendingCheckpoint* p) {
  const pb::CheckpointConfig& c = options_.config.checkpoint();
  if (!p->skipped.empty()) {
    VLOG(1) << "checkpoint " << p->dir << " not taken: " << p->skipped;
    // Files some server wrote for it, unless a MANIFEST shows nobody did (a server
    // removes it before writing): that is an older, complete checkpoint.
    struct stat st;
    if (stat((p->dir + "/MANIFEST").c_str(), &st) != 0) RemoveCheckpoint(p->dir);
    // every_steps: ask for the next multiples past where the workers are now.
    if (!p->timed && epoch == epoch_ && phase_ == Phase::kTrain) {
      const int64_t reported = *std::max_element(worker_steps_.begin(), worker_steps_.end());
      RETURN_IF_ERROR(ArmStepCheckpoints(epoch, std::max(step, reported)));
    }
    return Status::OK();
  }
  pb::ModelManifest& manifest = p->manifest;
  manifest.set_format_version(1);
  *manifest.mutable_config() = options_.config;
  manifest.set_epochs_done(epoch);
  manifest.set_step_in_epoch(step);
  manifest.set_dense_size(options_.dense_size);
  manifest.set_sparse_dim(options_.sparse_dim);
  manifest.set_is_checkpoint(true);
  manifest.set_num_workers(num_workers_);
  manifest.set_created_by("tessera train, job " + options_.job_id);
  Status linked = chain_.Link(&manifest);
  if (!linked.ok()) {  // dropped like a skipped one; the next ones are full
    *log_ << "checkpoint " << p->dir << " dropped: " << linked.message() << std::endl;
    p->skipped = linked.message();
    return FinishCheckpoint(epoch, step, p);
  }
  // Written last and atomically: a directory without a MANIFEST is no checkpoint.
  RETURN_IF_ERROR(io::WriteManifest(p->dir, manifest));
  chain_.Completed(p->dir, manifest);
  uint64_t bytes = 0;
  for (const auto& f : manifest.shards()) bytes += f.bytes();
  for (const auto& f : manifest.state_shards()) bytes += f.bytes();
  char line[256];
  std::snprintf(line, sizeof(line), "checkpoint %s (epoch %d, step %lld): %.1f MB in %.2f s",
                p->dir.c_str(), epoch + 1, static_cast<long long>(step), bytes / 1e6,
                NowSeconds() - p->start_s);
  *log_ << line << DescribeLink(manifest) << std::endl;
  last_checkpoint_s_ = NowSeconds();
  last_written_ = std::max(last_written_, std::make_pair(epoch, step));
  if (!p->timed && epoch == epoch_ && phase_ == Phase::kTrain) {
    RETURN_IF_ERROR(ArmStepCheckpoints(epoch, step));
  }
  return PruneCheckpoints(c.dir(), c.keep(), CheckpointName(epoch, step));
}

Status Scheduler::SaveModel() {
  const std::string dir = options_.config.output().model_dir();
  ASSIGN_OR_RETURN(pb::ModelManifest manifest, SaveShards(dir, /*with_state=*/false));
  uint64_t total_bytes = 0;
  for (const auto& f : manifest.shards()) total_bytes += f.bytes();
  const double total_s = NowSeconds() - job_start_s_;
  int64_t examples = 0;
  for (const auto& m : metrics_) examples += m.train_examples;
  char line[512];
  const EpochMetrics& last = metrics_.back();
  std::snprintf(line, sizeof(line),
                "Trained for %d epoch(s), %lld examples, in %.1f s on %d server(s) and %d "
                "worker(s).\nValidation: %s (%lld "
                "examples).\nModel: %s (MANIFEST + %d shard file(s), %.1f MB); metrics: "
                "%s/metrics.jsonl",
                epoch_ - options_.start_epoch, static_cast<long long>(examples), total_s,
                static_cast<int>(servers_.size()), num_workers_,
                last.validation_summary.c_str(),
                static_cast<long long>(last.validation_examples), dir.c_str(),
                static_cast<int>(servers_.size()), total_bytes / 1e6, dir.c_str());
  *out_ << line << std::endl;
  return Status::OK();
}

Status Scheduler::ShutdownServers() {
  for (auto& server : servers_) {
    net::Message m;
    m.header.set_kind(pb::SHUTDOWN);
    m.header.set_sender(nodes_->scheduler_rank());
    RETURN_IF_ERROR(server->Send(std::move(m)));
  }
  return Status::OK();
}

}  // namespace tessera::scheduler
