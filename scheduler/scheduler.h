// The scheduler (DESIGN.md §7): rank 0 of the job. It admits every rank (HELLO),
// hands out data chunks, runs the epochs and the evaluation after each, prints
// progress for the whole job, writes metrics.jsonl, and at the end has every server
// write its shard of the model before writing the manifest last.
//
// Chunks under BSP are striped: worker w gets training chunks w, w+W, w+2W, ... of
// the planned list, so the examples of each step do not depend on timing and a run is
// reproducible (a dynamic queue would let timing choose who reads what). Validation
// chunks go to whoever asks first: the metrics do not depend on the order.
//
// Lost workers (DESIGN.md §7, "surviving failures"): every rank beats to the
// scheduler's HeartbeatMonitor; a worker silent for cluster.heartbeat_timeout_ms is
// declared lost. The servers are told (WORKER_LOST) and answer where its training
// stands: the last step each received from it, with that push's data cursor. From the
// most advanced cursor the scheduler takes the rest of its current chunk (skipping the
// batches trained) and its chunks not yet handed out, and queues them on the live
// workers still training; when every live worker is already out of data, it REOPENs
// the epoch on the servers and hands the chunks out in answer to the workers'
// validation requests. Its example count is corrected to the cursor, so every example
// is trained once. Later epochs stripe over the live workers. Mid-epoch checkpoints
// stop (their cursors assume every worker's stripe); end-of-epoch ones go on. A lost
// server stops the job: its shard is gone, and a restart resumes from a checkpoint.
//
// Single-threaded: Run() owns all state. The sockets are borrowed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/chunk.h"
#include "proto/files.pb.h"
#include "model/metrics.h"
#include "net/cluster.h"
#include "net/heartbeat.h"
#include "net/socket.h"
#include "proto/config.pb.h"
#include "proto/messages.pb.h"
#include "scheduler/checkpoint.h"

namespace tessera::scheduler {

struct SchedulerOptions {
  pb::JobConfig config;     // the whole job (recorded in the manifest)
  int64_t dense_size = 0;   // of the model, for the manifest
  int sparse_dim = 0;
  std::string job_id;
  int start_epoch = 0;      // > 0 when resuming from a checkpoint of that many epochs
  // Resuming from a checkpoint inside epoch start_epoch + 1: after step start_step,
  // with each worker's cursor (in worker order).
  int64_t start_step = 0;
  std::vector<pb::WorkerCursor> start_cursors;
  std::string resume_dir;         // the checkpoint resumed ("" for a fresh start)
  int64_t start_global_step = 0;  // the steps that checkpoint holds in all
  // Predictions are values (ratings, MSE loss): validation reports RMSE and MAE
  // rather than AUC, log loss and calibration.
  bool value_predictions = false;
  // Liveness of the other ranks (may be null: no lost-rank detection).
  const net::HeartbeatMonitor* heartbeats = nullptr;
};


// What one epoch produced (also written as one JSON line of metrics.jsonl).
struct EpochMetrics {
  int epoch = 0;  // 1-based
  int64_t train_examples = 0;
  double train_loss = 0.0;
  int64_t bad_lines = 0;
  double train_seconds = 0.0;  // first chunk handed out to the last worker done
  double seconds = 0.0;        // the whole epoch, evaluation included
  int64_t validation_examples = 0;
  double auc = 0.0;
  double logloss = 0.0;
  double calibration = 0.0;
  double accuracy = 0.0;
  double rmse = 0.0;
  double mae = 0.0;
  // The validation figures as printed: MetricsAccumulator::Describe.
  std::string validation_summary;
  std::string ToJson() const;
};

class Scheduler {
 public:
  // `servers[i]` is connected to server i. `out` receives the final summary, `log`
  // the progress lines.
  Scheduler(SchedulerOptions options, net::Router* router,
            std::vector<std::unique_ptr<net::Dealer>> servers, const net::NodeTable* nodes,
            std::ostream* out, std::ostream* log);

  // Runs the whole job. Returns when every worker has been told the job is done and
  // every server to shut down, and each live one said BYE. On an error, first tells
  // every rank to stop (SHUTDOWN with the reason).
  Status Run();

  const std::vector<EpochMetrics>& metrics() const { return metrics_; }
  // Workers lost during the job (their ranks are dead or were declared so).
  int workers_lost() const { return workers_lost_; }

 private:
  // A training chunk to hand out, with the batches of it already trained.
  struct Assignment {
    int64_t chunk_id = -1;
    int64_t skip_batches = 0;
  };
  // A lost worker whose servers have not all answered WORKER_LOST yet.
  struct PendingLoss {
    int replies = 0;
    pb::LostWorker furthest;  // the answer with the latest step
  };
  struct HeldRequest {
    std::string peer;
    int worker = 0;
    pb::ChunkRequest request;
  };
  enum class Phase { kTrain, kEval, kDone };
  // A checkpoint inside an epoch, asked of every server (SAVE_AT) and not yet
  // answered by all of them.
  struct PendingCheckpoint {
    std::string dir;
    int replies = 0;
    std::string skipped;  // why not, when a server could not take it
    bool timed = false;   // asked for by checkpoint.every_seconds
    double start_s = 0.0;
    pb::ModelManifest manifest;
  };

  Status RunLoop();
  Status AwaitHellos();
  // Heartbeats: declares silent workers lost; a silent server is an error.
  Status CheckHeartbeats();
  // Waits for server `index`'s answer to `what` for up to cluster.timeout_ms, or until
  // its heartbeats say it is gone.
  Status AwaitServerReply(size_t index, net::Message* reply, const std::string& what);
  // The error that stops the job when server `rank` has been silent for `silent_ms`.
  Status ServerGone(int rank, int64_t silent_ms) const;
  Status DeclareLost(int worker, int64_t silent_ms);
  Status HandleWorkerLostDone(int rank, const net::Message& msg);
  // The servers all answered for `worker`: requeue its data, fix the counts.
  Status FinishLoss(int worker, const pb::LostWorker& furthest);
  // Gives orphaned chunks to live workers still training, or reopens the epoch.
  Status PlaceOrphans();
  Status HandleReopened(int rank, const net::Message& msg);
  // Every live worker out of training data (and no lost one's data waiting).
  bool TrainingComplete() const;
  Status MaybeEndTraining();
  bool Live(int worker) const { return !lost_[worker]; }
  // The epoch's stripes, over the live workers (a lost one's stripe dealt round-robin):
  // the chunks in ChunkOrder(), the i-th to worker i mod workers.
  void PlanStripes();
  // Chunk ids in the order this epoch deals them: file order, or with
  // data.shuffle_chunks a permutation that depends only on (training.seed, epoch).
  std::vector<int64_t> ChunkOrder() const;
  // SHUTDOWN with `why` to every server and live worker (best effort).
  void StopJob(const Status& why);
  // Waits for the BYE of every live rank (best effort: a deadline only warns).
  void AwaitByes();
  Status PlanData();
  Status Dispatch(const std::string& peer, net::Message msg);
  Status HandleChunkRequest(const std::string& peer, int worker, const pb::ChunkRequest& r);
  // Serves the request now (true) or leaves it to be served later (false).
  StatusOr<bool> TryServe(const HeldRequest& held);
  Status ReplyChunk(const std::string& peer, const pb::Chunk& chunk);
  Status ReleaseHeld();
  Status FinishEpoch();
  // Has every server write its shard(s) into `dir`, then writes the MANIFEST.
  StatusOr<pb::ModelManifest> SaveShards(const std::string& dir, bool with_state);
  Status SaveModel();
  Status SaveCheckpoint();
  // Mid-epoch checkpoints: asks every server to save after `step` of `epoch`.
  Status RequestCheckpoint(int epoch, int64_t step, bool timed);
  // checkpoint.every_steps: asks for the next two multiples after `after_step`.
  Status ArmStepCheckpoints(int epoch, int64_t after_step);
  // checkpoint.every_seconds: asks for one a few steps ahead once it is time.
  Status MaybeRequestTimedCheckpoint();
  Status HandleCheckpointDone(int rank, const net::Message& msg);
  Status FinishCheckpoint(int epoch, int64_t step, PendingCheckpoint* pending);
  // Resuming inside an epoch: each worker's stripe position, skip and totals.
  Status ResumeCursors();
  // checkpoint.dir/PROGRESS: how far this run got (epoch, step, steps in all, time),
  // rewritten four times a second and removed when the job completes, so that a run resumed
  // after a failure can say how many steps it trains again and how much time was lost.
  void WriteProgressFile();
  void ReportReplay();
  Status ShutdownServers();
  // A header of `kind` from the scheduler.
  pb::Header Header(pb::MessageKind kind) const;
  // Sends every server `header` and `body` (null: none) as its one frame.
  Status SendToServers(const pb::Header& header, const google::protobuf::Message* body);
  void AddProgress(int worker, const pb::ChunkRequest& r);
  void MaybePrintProgress(bool force);
  std::string Outstanding() const;
  int WorkerIndex(int rank) const;

  SchedulerOptions options_;
  net::Router* router_;
  std::vector<std::unique_ptr<net::Dealer>> servers_;
  const net::NodeTable* nodes_;
  std::ostream* out_;
  std::ostream* log_;
  int num_workers_ = 0;
  int epochs_ = 1;
  int timeout_ms_ = 120000;

  std::vector<io::ChunkSpec> train_chunks_;
  std::vector<io::ChunkSpec> validation_chunks_;
  int64_t train_bytes_ = 0;   // uncompressed, estimated for .gz
  double bytes_per_line_ = 0;  // sampled, for the ETA

  int epoch_ = 0;
  Phase phase_ = Phase::kTrain;
  std::vector<std::deque<Assignment>> queues_;  // per worker: training chunks to hand out
  std::vector<Assignment> current_;  // per worker: the training chunk it reads now
  size_t next_validation_chunk_ = 0;
  std::deque<size_t> requeued_validation_;  // a lost worker's validation chunks
  std::vector<int64_t> eval_inflight_;      // per worker: validation chunk scored now, or -1
  std::vector<std::string> worker_peers_;   // routing ids, for SHUTDOWN
  // Lost workers.
  std::vector<bool> lost_;
  int workers_lost_ = 0;
  std::map<int, PendingLoss> pending_losses_;
  std::deque<Assignment> orphans_;  // data of lost workers with nobody to train it yet
  bool reopen_pending_ = false;     // REOPEN sent, not yet answered by every server
  int reopen_replies_ = 0;
  int64_t reopen_step_ = 0;
  std::vector<bool> retrain_;       // per worker: answer its validation request with data
  std::vector<bool> said_bye_;      // per rank
  std::vector<bool> train_done_;
  std::vector<bool> eval_done_;
  std::vector<bool> told_job_done_;
  std::vector<HeldRequest> held_;
  // Per worker, this epoch: progress reported (for correcting a lost worker's).
  std::vector<int64_t> reported_examples_;
  std::vector<double> reported_loss_;
  std::vector<int64_t> reported_bad_lines_;
  std::vector<int64_t> worker_steps_;  // per worker, steps it reported this epoch
  std::map<std::pair<int, int64_t>, PendingCheckpoint> pending_checkpoints_;
  double last_checkpoint_s_ = 0.0;
  // Where a server stood when it answered a timed checkpoint as skipped: the retry
  // aims just past it rather than at the workers' (older) reports.
  std::pair<int, int64_t> timed_hint_{-1, 0};
  // (epochs done, step) of the newest checkpoint written: none is asked for at or
  // before it again.
  std::pair<int, int64_t> last_written_{-1, 0};
  // (epoch, step) some server reported applied (it wrote a checkpoint there).
  std::pair<int, int64_t> applied_hint_{-1, 0};
  // Incremental checkpoints: the bases the servers may build on.
  CheckpointChain chain_;
  double last_progress_file_s_ = 0.0;
  int64_t steps_before_epoch_ = 0;  // BSP steps of the epochs before this one

  // Current epoch's counters.
  double epoch_start_s_ = 0.0;
  double train_end_s_ = 0.0;
  double job_start_s_ = 0.0;
  double last_progress_s_ = 0.0;
  int64_t epoch_examples_ = 0;
  double epoch_loss_sum_ = 0.0;
  int64_t epoch_bad_lines_ = 0;
  model::MetricsAccumulator eval_;
  std::vector<EpochMetrics> metrics_;
  uint64_t next_request_id_ = 1;
};

}  // namespace tessera::scheduler
