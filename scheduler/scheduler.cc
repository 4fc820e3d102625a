#include "scheduler/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <sys/stat.h>

#include "common/clock.h"
#include "common/hash.h"
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
  lost_.assign(num_workers_, false);
  retrain_.assign(num_workers_, false);
  eval_inflight_.assign(num_workers_, -1);
  worker_peers_.assign(num_workers_, "");
  said_bye_.assign(nodes_->size(), false);
  reported_examples_.assign(num_workers_, 0);
  reported_loss_.assign(num_workers_, 0.0);
  reported_bad_lines_.assign(num_workers_, 0);
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
      if (WorkerIndex(r) >= 0) worker_peers_[WorkerIndex(r)] = peer;
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
  Status s = RunLoop();
  if (!s.ok()) {
    StopJob(s);
    return s;
  }
  AwaitByes();
  return Status::OK();
}

Status Scheduler::RunLoop() {
  job_start_s_ = NowSeconds();
  RETURN_IF_ERROR(AwaitHellos());
  RETURN_IF_ERROR(PlanData());
  RETURN_IF_ERROR(io::CreateDirectories(options_.config.output().model_dir()));
  // A fresh job starts a fresh metrics file; a resumed one appends to it.
  if (options_.start_epoch == 0 && options_.start_step == 0) {
    std::remove((options_.config.output().model_dir() + "/metrics.jsonl").c_str());
  }
  epoch_ = options_.start_epoch;
  PlanStripes();
  worker_steps_.assign(num_workers_, options_.start_step);
  RETURN_IF_ERROR(ResumeCursors());
  steps_before_epoch_ = options_.start_global_step - options_.start_step;
  ReportReplay();
  epoch_start_s_ = last_progress_s_ = last_checkpoint_s_ = NowSeconds();
  RETURN_IF_ERROR(ArmStepCheckpoints(epoch_, options_.start_step));
  int64_t last_message_ms = NowMs();
  auto job_done = [this] {
    for (int w = 0; w < num_workers_; ++w) {
      if (Live(w) && !told_job_done_[w]) return false;
    }
    return true;
  };
  while (!job_done()) {
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
    RETURN_IF_ERROR(CheckHeartbeats());
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
    if (!done && Live(w)) {
      who += (who.empty() ? "" : ", ") + nodes_->Describe(nodes_->worker_ranks()[w]);
    }
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
      if (lost_[w]) {
        // Declared lost, yet alive (frozen for longer than the heartbeat timeout): its
        // data went to the others; it is told the job is done and exits.
        pb::Chunk chunk;
        chunk.set_status(pb::Chunk::JOB_DONE);
        chunk.set_ranks_lost(workers_lost_);
        return ReplyChunk(peer, chunk);
      }
      AddProgress(w, r);
      if (r.epoch() == epoch_ && !r.validation()) {
        worker_steps_[w] = std::max(worker_steps_[w], r.step());
      }
      if (r.validation()) eval_inflight_[w] = -1;  // its EVAL_RESULT came before
      return HandleChunkRequest(peer, w, r);
    }
    case pb::PROGRESS: {
      pb::ChunkRequest r;
      RETURN_IF_ERROR(net::ParseBody(msg, 0, &r));
      int w = WorkerIndex(rank);
      if (w < 0 || lost_[w]) return Status::OK();
      AddProgress(w, r);
      if (r.epoch() == epoch_) worker_steps_[w] = std::max(worker_steps_[w], r.step());
      return Status::OK();
    }
    case pb::WORKER_LOST_DONE:
      return HandleWorkerLostDone(rank, msg);
    case pb::REOPENED:
      return HandleReopened(rank, msg);
    case pb::BYE:
      if (rank >= 0 && rank < nodes_->size()) said_bye_[rank] = true;
      return Status::OK();
    case pb::CHECKPOINT_DONE:
      return HandleCheckpointDone(rank, msg);
    case pb::EVAL_RESULT: {
      const int w = WorkerIndex(rank);
      if (w < 0 || lost_[w]) return Status::OK();
      eval_inflight_[w] = -1;
      std::vector<float> predictions, labels;
      RETURN_IF_ERROR(net::ReadArray(msg, 0, &predictions));
      RETURN_IF_ERROR(net::ReadArray(msg, 1, &labels));
      if (predictions.size() != labels.size()) {
        return Status::Corruption("EVAL_RESULT with unequal predictions and labels");
      }
      eval_.Add(predictions, labels);
      return Status::OK();
    }
    case pb::FATAL: {
      const int w = WorkerIndex(rank);
      if (w >= 0 && lost_[w]) {
        // A worker declared lost that woke up and failed: its data is with the others.
        LOG(WARNING) << nodes_->Describe(rank) << ", declared lost earlier, failed: "
                     << msg.header.error();
        return Status::OK();
      }
      return Status::Aborted(nodes_->Describe(rank) + " failed: " + msg.header.error());
    }
    default:
      return Status::Corruption("the scheduler got an unexpected " +
                                pb::MessageKind_Name(msg.header.kind()) + " from " +
                                nodes_->Describe(rank));
  }
}

void Scheduler::AddProgress(int worker, const pb::ChunkRequest& r) {
  epoch_examples_ += r.examples();
  epoch_loss_sum_ += r.loss_sum();
  epoch_bad_lines_ += r.bad_lines();
  if (r.epoch() == epoch_ && !r.validation()) {
    reported_examples_[worker] += r.examples();
    reported_loss_[worker] += r.loss_sum();
    reported_bad_lines_[worker] += r.bad_lines();
  }
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
  Status sent = router_->Send(peer, std::move(m));
  if (sent.code() == Status::Code::kUnavailable) {
    // The worker is gone since it asked; its heartbeats will say so, and what it was
    // given goes back to the others then.
    LOG(WARNING) << "the answer to a chunk request was dropped: " << sent.ToString();
    return Status::OK();
  }
  return sent;
}

StatusOr<bool> Scheduler::TryServe(const HeldRequest& held) {
  const pb::ChunkRequest& r = held.request;
  const int w = held.worker;
  pb::Chunk chunk;
  chunk.set_epoch(r.epoch());
  if (phase_ == Phase::kDone || r.epoch() >= epochs_) {
    if (phase_ != Phase::kDone) return false;
    chunk.set_status(pb::Chunk::JOB_DONE);
    chunk.set_ranks_lost(workers_lost_);
    told_job_done_[w] = true;
    RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
    return true;
  }
  if (r.epoch() != epoch_) return false;
  auto hand_out = [&](const Assignment& a) {
    const io::ChunkSpec& c = train_chunks_[a.chunk_id];
    chunk.set_status(pb::Chunk::DATA);
    chunk.set_path(c.path);
    chunk.set_offset(c.offset);
    chunk.set_length(c.length);
    chunk.set_first_line(c.first_line);
    chunk.set_chunk_id(a.chunk_id);
    chunk.set_skip_batches(a.skip_batches);
    current_[w] = a;
  };
  if (r.validation() && retrain_[w] && phase_ == Phase::kTrain) {
    // Reopened: this worker trains a lost worker's data before any validation.
    retrain_[w] = false;
    if (!queues_[w].empty()) {
      hand_out(queues_[w].front());
      queues_[w].pop_front();
      chunk.set_retrain(true);
      chunk.set_resume_step(reopen_step_);
      RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
      return true;
    }
    train_done_[w] = true;
    RETURN_IF_ERROR(MaybeEndTraining());
    return phase_ == Phase::kEval ? TryServe(held) : false;
  }
  if (!r.validation()) {
    if (phase_ != Phase::kTrain) return false;
    if (!queues_[w].empty()) {
      hand_out(queues_[w].front());
      queues_[w].pop_front();
    } else if (!pending_losses_.empty()) {
      // A lost worker's data may come to this one: wait for the servers' answers,
      // which do not depend on any worker.
      return false;
    } else {
      chunk.set_status(pb::Chunk::EPOCH_DONE);
      train_done_[w] = true;
      current_[w] = Assignment();
    }
    RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
    RETURN_IF_ERROR(MaybeEndTraining());
    return true;
  }
  if (phase_ != Phase::kEval) return false;
  size_t index = validation_chunks_.size();
  if (!requeued_validation_.empty()) {
    index = requeued_validation_.front();
    requeued_validation_.pop_front();
  } else if (next_validation_chunk_ < validation_chunks_.size()) {
    index = next_validation_chunk_++;
  }
  if (index < validation_chunks_.size()) {
    const io::ChunkSpec& c = validation_chunks_[index];
    chunk.set_status(pb::Chunk::DATA);
    chunk.set_path(c.path);
    chunk.set_offset(c.offset);
    chunk.set_length(c.length);
    chunk.set_first_line(c.first_line);
    eval_inflight_[w] = static_cast<int64_t>(index);
  } else {
    chunk.set_status(pb::Chunk::EPOCH_DONE);
    eval_done_[w] = true;
  }
  RETURN_IF_ERROR(ReplyChunk(held.peer, chunk));
  bool all_done = true;
  for (int v = 0; v < num_workers_; ++v) all_done = all_done && (eval_done_[v] || !Live(v));
  if (all_done) RETURN_IF_ERROR(FinishEpoch());
  return true;
}

bool Scheduler::TrainingComplete() const {
  if (!pending_losses_.empty() || !orphans_.empty() || reopen_pending_) return false;
  for (int w = 0; w < num_workers_; ++w) {
    if (Live(w) && (!train_done_[w] || retrain_[w])) return false;
  }
  return true;
}

Status Scheduler::MaybeEndTraining() {
  if (phase_ != Phase::kTrain || !TrainingComplete()) return Status::OK();
  phase_ = Phase::kEval;
  train_end_s_ = NowSeconds();
  return ReleaseHeld();
}

void Scheduler::PlanStripes() {
  queues_.assign(num_workers_, {});
  current_.assign(num_workers_, Assignment());
  std::vector<int> live;
  for (int w = 0; w < num_workers_; ++w) {
    if (Live(w)) live.push_back(w);
  }
  size_t dealt = 0;
  const std::vector<int64_t> order = ChunkOrder();
  for (size_t i = 0; i < order.size(); ++i) {
    const int w = static_cast<int>(i % num_workers_);
    const int to = Live(w) ? w : live[dealt++ % live.size()];
    queues_[to].push_back({order[i], 0});
  }
}

std::vector<int64_t> Scheduler::ChunkOrder() const {
  std::vector<int64_t> order(train_chunks_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  if (!options_.config.data().shuffle_chunks()) return order;
  // Fisher-Yates on our own generator: the same permutation on any standard library.
  uint64_t state = Mix64(options_.config.training().seed() ^ Mix64(0x5c4u + epoch_));
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[SplitMix64Next(&state) % i]);
  }
  return order;
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
  PlanStripes();
  std::fill(reported_examples_.begin(), reported_examples_.end(), 0);
  std::fill(reported_loss_.begin(), reported_loss_.end(), 0.0);
  std::fill(reported_bad_lines_.begin(), reported_bad_lines_.end(), 0);
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
  RETURN_IF_ERROR(SendToServers(Header(pb::SAVE), &request));
  pb::ModelManifest manifest;
  manifest.set_format_version(1);
  *manifest.mutable_config() = options_.config;
  manifest.set_epochs_done(epoch_);
  manifest.set_dense_size(options_.dense_size);
  manifest.set_sparse_dim(options_.sparse_dim);
  manifest.set_is_checkpoint(with_state);
  manifest.set_num_workers(num_workers_);
  manifest.set_created_by("tessera train, job " + options_.job_id);
  for (size_t i = 0; i < servers_.size(); ++i) {
    auto& server = servers_[i];
    net::Message reply;
    RETURN_IF_ERROR(AwaitServerReply(i, &reply, "a request to save the model"));
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
      queues_[w].clear();
    } else {
      std::deque<Assignment>& queue = queues_[w];
      auto at = std::find_if(queue.begin(), queue.end(),
                             [&](const Assignment& a) { return a.chunk_id == c.chunk_id(); });
      if (at == queue.end()) {
        return Status::InvalidArgument(
            "the checkpoint's cursor of worker " + std::to_string(w) + " (chunk " +
            std::to_string(c.chunk_id()) + ") does not fit this job's " +
            std::to_string(train_chunks_.size()) + " training chunks as this epoch deals "
            "them: were data.train, data.chunk_bytes, data.shuffle_chunks or training.seed "
            "changed?");
      }
      queue.erase(queue.begin(), at);  // the chunks before it were trained
      queue.front().skip_batches = std::max<int64_t>(0, c.batches_done());
    }
    epoch_examples_ += c.examples();
    epoch_loss_sum_ += c.loss_sum();
    epoch_bad_lines_ += c.bad_lines();
    reported_examples_[w] = c.examples();
    reported_loss_[w] = c.loss_sum();
    reported_bad_lines_[w] = c.bad_lines();
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
  // After a lost worker the data cursors no longer follow the stripes a resume rebuilds.
  if (workers_lost_ > 0) return Status::OK();
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
  return SendToServers(Header(pb::SAVE_AT), &request);
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
  if (p->skipped.empty() && workers_lost_ > 0) {
    p->skipped = "a worker was lost: the data cursors no longer follow the stripes";
  }
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
                "worker(s)%s.\nValidation: %s (%lld "
                "examples).\nModel: %s (MANIFEST + %d shard file(s), %.1f MB); metrics: "
                "%s/metrics.jsonl",
                epoch_ - options_.start_epoch, static_cast<long long>(examples), total_s,
                static_cast<int>(servers_.size()), num_workers_,
                workers_lost_ > 0 ? (" (" + std::to_string(workers_lost_) + " lost)").c_str() : "",
                last.validation_summary.c_str(),
                static_cast<long long>(last.validation_examples), dir.c_str(),
                static_cast<int>(servers_.size()), total_bytes / 1e6, dir.c_str());
  *out_ << line << std::endl;
  return Status::OK();
}

Status Scheduler::ShutdownServers() {
  pb::Header shutdown = Header(pb::SHUTDOWN);
  shutdown.set_count(static_cast<uint64_t>(workers_lost_));
  return SendToServers(shutdown, nullptr);
}

pb::Header Scheduler::Header(pb::MessageKind kind) const {
  pb::Header h;
  h.set_kind(kind);
  h.set_sender(nodes_->scheduler_rank());
  return h;
}

Status Scheduler::SendToServers(const pb::Header& header, const google::protobuf::Message* body) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    net::Message m;
    m.header = header;
    if (body != nullptr) m.frames.push_back(net::FrameFromProto(*body));
    Status sent = servers_[i]->Send(std::move(m));
    if (!sent.ok()) {
      // Most likely the server is gone: say so when its heartbeats agree.
      const int rank = nodes_->server_ranks()[i];
      const int64_t silent = options_.heartbeats ? options_.heartbeats->SilentMs(rank) : 0;
      return silent > options_.config.cluster().heartbeat_interval_ms() * 2
                 ? ServerGone(rank, silent)
                 : sent;
    }
  }
  return Status::OK();
}

Status Scheduler::AwaitServerReply(size_t index, net::Message* reply, const std::string& what) {
  // In slices, so that a server that dies while saving is reported after the heartbeat
  // timeout rather than after the whole cluster.timeout_ms.
  const int64_t deadline = NowMs() + timeout_ms_;
  const int rank = nodes_->server_ranks()[index];
  const int heartbeat_timeout = options_.config.cluster().heartbeat_timeout_ms();
  while (true) {
    const int64_t left = deadline - NowMs();
    if (left <= 0) {
      return Status::DeadlineExceeded(servers_[index]->peer_description() + " did not answer " +
                                      what + " within " + std::to_string(timeout_ms_) +
                                      " ms (cluster.timeout_ms)");
    }
    ASSIGN_OR_RETURN(bool got, servers_[index]->Receive(reply, static_cast<int>(
                                                                    std::min<int64_t>(left, kTickMs))));
    if (got) return Status::OK();
    if (options_.heartbeats != nullptr && options_.heartbeats->SilentMs(rank) > heartbeat_timeout) {
      return ServerGone(rank, options_.heartbeats->SilentMs(rank));
    }
  }
}

Status Scheduler::ServerGone(int rank, int64_t silent_ms) const {
  char why[200];
  std::snprintf(why, sizeof(why), " sent no heartbeat for %.1f s (cluster.heartbeat_timeout_ms = "
                "%d): it is gone, and its shard of the model with it. Stopping the job; ",
                silent_ms / 1e3, options_.config.cluster().heartbeat_timeout_ms());
  return Status::Unavailable(nodes_->Describe(rank) + why +
                             "launch/tessera-run --max-restarts N resumes it from the newest "
                             "checkpoint");
}

void Scheduler::StopJob(const Status& why) {
  auto shutdown = [&] {
    net::Message m;
    m.header = Header(pb::SHUTDOWN);
    m.header.set_error(why.ToString());
    return m;
  };
  // Best effort, with short deadlines: a rank that is gone must not hold the others.
  for (auto& server : servers_) {
    server->SetSendTimeout(200);
    (void)server->Send(shutdown());
  }
  for (int w = 0; w < num_workers_; ++w) {
    if (Live(w) && !worker_peers_[w].empty()) (void)router_->Send(worker_peers_[w], shutdown());
  }
}

void Scheduler::AwaitByes() {
  auto missing = [this] {
    std::string who;
    for (int r = 0; r < nodes_->size(); ++r) {
      const int w = WorkerIndex(r);
      if (r == nodes_->scheduler_rank() || said_bye_[r] || (w >= 0 && lost_[w])) continue;
      who += (who.empty() ? "" : ", ") + nodes_->Describe(r);
    }
    return who;
  };
  const int64_t deadline = NowMs() + timeout_ms_;
  while (!missing().empty() && NowMs() < deadline) {
    net::Message msg;
    std::string peer;
    StatusOr<bool> got = router_->Receive(&msg, &peer, kTickMs);
    if (!got.ok()) break;
    const int r = msg.header.sender();
    if (*got && msg.header.kind() == pb::BYE && r >= 0 && r < nodes_->size()) said_bye_[r] = true;
    // A rank that exits without its BYE reaching us (killed at the very end).
    if (options_.heartbeats != nullptr) {
      const int timeout = options_.config.cluster().heartbeat_timeout_ms();
      for (int q = 0; q < nodes_->size(); ++q) {
        const int w = WorkerIndex(q);
        if (q != nodes_->scheduler_rank() && !said_bye_[q] && !(w >= 0 && lost_[w]) &&
            options_.heartbeats->SilentMs(q) > timeout) {
          LOG(WARNING) << nodes_->Describe(q) << " exited without saying BYE";
          said_bye_[q] = true;
        }
      }
    }
  }
  if (!missing().empty()) {
    LOG(WARNING) << "the scheduler waited " << timeout_ms_ << " ms (cluster.timeout_ms) for the "
                 << "last BYE of " << missing() << "; exiting without it (the model is saved)";
  }
}

Status Scheduler::CheckHeartbeats() {
  if (options_.heartbeats == nullptr) return Status::OK();
  const int timeout = options_.config.cluster().heartbeat_timeout_ms();
  for (int r : nodes_->server_ranks()) {
    const int64_t silent = options_.heartbeats->SilentMs(r);
    if (silent > timeout) return ServerGone(r, silent);
  }
  for (int w = 0; w < num_workers_; ++w) {
    if (!Live(w) || told_job_done_[w]) continue;
    const int64_t silent = options_.heartbeats->SilentMs(nodes_->worker_ranks()[w]);
    if (silent > timeout) RETURN_IF_ERROR(DeclareLost(w, silent));
  }
  return Status::OK();
}

Status Scheduler::DeclareLost(int w, int64_t silent_ms) {
  lost_[w] = true;
  ++workers_lost_;
  int live = 0;
  for (int v = 0; v < num_workers_; ++v) live += Live(v) ? 1 : 0;
  const std::string who = nodes_->Describe(nodes_->worker_ranks()[w]);
  char line[256];
  std::snprintf(line, sizeof(line), ": no heartbeat for %.1f s (cluster.heartbeat_timeout_ms = %d); "
                "declared lost. Epoch %d goes on with %d worker(s)",
                silent_ms / 1e3, options_.config.cluster().heartbeat_timeout_ms(), epoch_ + 1,
                live);
  *log_ << who << line
        << (phase_ == Phase::kTrain ? "; its unfinished training data goes to them" : "")
        << (workers_lost_ == 1 ? "; no more checkpoints inside an epoch in this job" : "")
        << std::endl;
  if (live == 0) return Status::Unavailable("every worker is lost; the last: " + who);
  // Its requests that wait, and the validation chunk it was scoring.
  held_.erase(std::remove_if(held_.begin(), held_.end(),
                             [w](const HeldRequest& h) { return h.worker == w; }),
              held_.end());
  if (eval_inflight_[w] >= 0) {
    requeued_validation_.push_back(static_cast<size_t>(eval_inflight_[w]));
    eval_inflight_[w] = -1;
  }
  retrain_[w] = false;
  pending_losses_[w] = PendingLoss();
  pb::Header lost = Header(pb::WORKER_LOST);
  lost.set_epoch(epoch_);
  lost.set_count(static_cast<uint64_t>(w));
  RETURN_IF_ERROR(SendToServers(lost, nullptr));
  if (phase_ == Phase::kEval) {
    // Its training was complete. Validation may now be complete without it; when every
    // live worker has already finished validating, the chunk it was scoring is lost.
    pending_losses_.erase(w);
    bool all_done = true;
    for (int v = 0; v < num_workers_; ++v) all_done = all_done && (eval_done_[v] || !Live(v));
    if (all_done) {
      if (!requeued_validation_.empty()) {
        *log_ << "validation of epoch " << epoch_ + 1 << " misses " << requeued_validation_.size()
              << " chunk(s) the lost worker was scoring: every other worker had finished"
              << std::endl;
        requeued_validation_.clear();
      }
      return FinishEpoch();
    }
  }
  return ReleaseHeld();
}

Status Scheduler::HandleWorkerLostDone(int rank, const net::Message& msg) {
  pb::LostWorker answer;
  RETURN_IF_ERROR(net::ParseBody(msg, 0, &answer));
  auto it = pending_losses_.find(answer.worker());
  if (it == pending_losses_.end()) return Status::OK();  // settled already (see DeclareLost)
  PendingLoss& p = it->second;
  if (p.replies == 0 || answer.last_step() > p.furthest.last_step()) p.furthest = answer;
  VLOG(1) << nodes_->Describe(rank) << " last had step " << answer.last_step() << " of worker "
          << answer.worker();
  if (++p.replies < static_cast<int>(servers_.size())) return Status::OK();
  const pb::LostWorker furthest = p.furthest;
  pending_losses_.erase(it);
  return FinishLoss(answer.worker(), furthest);
}

Status Scheduler::FinishLoss(int w, const pb::LostWorker& furthest) {
  if (phase_ != Phase::kTrain || train_done_[w] || furthest.epoch() != epoch_) {
    // It had trained all it was given this epoch, and reported it with its last request.
    queues_[w].clear();
    RETURN_IF_ERROR(MaybeEndTraining());
    return ReleaseHeld();
  }
  // The servers' record of what it trained is the truth: its reports may have run
  // ahead of its last push, or behind it.
  const int64_t step = furthest.last_step();
  const pb::WorkerCursor& cursor = furthest.cursor();
  if (step > 0) {
    epoch_examples_ += cursor.examples() - reported_examples_[w];
    epoch_loss_sum_ += cursor.loss_sum() - reported_loss_[w];
    epoch_bad_lines_ += cursor.bad_lines() - reported_bad_lines_[w];
    worker_steps_[w] = std::max(worker_steps_[w], step);
  }
  std::deque<Assignment> left;
  const Assignment& current = current_[w];
  int64_t trained_in_current = 0;
  if (current.chunk_id >= 0) {
    const bool started = step > 0 && cursor.chunk_id() == current.chunk_id &&
                         cursor.batches_done() >= current.skip_batches;
    trained_in_current = started ? cursor.batches_done() - current.skip_batches : 0;
    left.push_back({current.chunk_id, started ? cursor.batches_done() : current.skip_batches});
  }
  for (const Assignment& a : queues_[w]) left.push_back(a);
  queues_[w].clear();
  current_[w] = Assignment();
  char line[256];
  std::snprintf(line, sizeof(line),
                "the servers last applied step %lld of the lost worker %d (%lld examples this "
                "epoch); %zu chunk(s) of its data go to the others%s",
                static_cast<long long>(step), w, static_cast<long long>(cursor.examples()),
                left.size(),
                trained_in_current > 0 ? ", the first after the batches it trained" : "");
  *log_ << line << std::endl;
  for (Assignment& a : left) orphans_.push_back(a);
  return PlaceOrphans();
}

Status Scheduler::PlaceOrphans() {
  if (orphans_.empty() || reopen_pending_ || !pending_losses_.empty()) {
    RETURN_IF_ERROR(MaybeEndTraining());
    return ReleaseHeld();
  }
  std::vector<int> training, live;
  for (int w = 0; w < num_workers_; ++w) {
    if (!Live(w)) continue;
    live.push_back(w);
    if (!train_done_[w]) training.push_back(w);
  }
  if (!training.empty()) {
    for (size_t i = 0; !orphans_.empty(); ++i) {
      queues_[training[i % training.size()]].push_back(orphans_.front());
      orphans_.pop_front();
    }
    return ReleaseHeld();
  }
  // Every live worker is out of data: the epoch reopens on the servers once its steps
  // so far are applied, after the furthest step any worker reached.
  const size_t n = std::min(live.size(), orphans_.size());
  pb::Reopen reopen;
  reopen.set_epoch(epoch_);
  reopen_step_ = *std::max_element(worker_steps_.begin(), worker_steps_.end());
  reopen.set_step(reopen_step_);
  for (size_t i = 0; i < n; ++i) reopen.add_workers(live[i]);
  for (size_t i = 0; !orphans_.empty(); ++i) {
    queues_[live[i % n]].push_back(orphans_.front());
    orphans_.pop_front();
  }
  for (size_t i = 0; i < n; ++i) train_done_[live[i]] = false;
  reopen_pending_ = true;
  reopen_replies_ = 0;
  *log_ << "every live worker had finished its data: epoch " << epoch_ + 1 << " reopens after "
        << "step " << reopen_step_ << " for " << n << " worker(s)" << std::endl;
  return SendToServers(Header(pb::REOPEN), &reopen);
}

Status Scheduler::HandleReopened(int rank, const net::Message& msg) {
  pb::Reopen reopen;
  RETURN_IF_ERROR(net::ParseBody(msg, 0, &reopen));
  if (!reopen_pending_) {
    return Status::Corruption(nodes_->Describe(rank) + " answered a REOPEN nobody sent");
  }
  if (++reopen_replies_ < static_cast<int>(servers_.size())) return Status::OK();
  reopen_pending_ = false;
  for (int w : reopen.workers()) {
    if (Live(w)) retrain_[w] = true;
  }
  RETURN_IF_ERROR(ReleaseHeld());
  return PlaceOrphans();  // a loss while reopening left more data
}

}  // namespace tessera::scheduler
