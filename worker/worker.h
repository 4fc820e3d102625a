// A worker (DESIGN.md §6): asks the scheduler for data chunks, parses them into
// batches, and for each batch pulls the rows it needs, runs the model forward and
// backward, and pushes one aggregated gradient per unique key. After each epoch it
// scores its share of the validation chunks and sends the predictions to the
// scheduler. Single-threaded: Run() owns everything; the model and the sockets are
// borrowed and must outlive the worker.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/batch.h"
#include "io/batch_reader.h"
#include "model/model.h"
#include "net/socket.h"
#include "worker/negative_sampler.h"
#include "proto/messages.pb.h"
#include "ps/client/ps_client.h"

namespace tessera::worker {

struct WorkerOptions {
  int rank = 0;
  int batch_size = 1024;
  // Abort when more than this fraction of lines are malformed (after 1000 lines).
  double max_bad_line_ratio = 0.01;
  int timeout_ms = 120000;       // deadline of every wait on the scheduler
  double progress_interval_s = 0.25;
  // Implicit feedback: negatives added to every training batch (count 0: none).
  // Validation data is scored as it is.
  NegativeSamplingOptions negatives;
  // Tests only: append "epoch chunk_id batch_index examples" for every batch, before its push
  // ("" : none), so that a test can check each example was trained once.
  std::string trace_path;
};

// Makes a parser for the job's data format (one per reader).
using ParserFactory = std::function<std::unique_ptr<io::LineParser>()>;

class Worker {
 public:
  Worker(WorkerOptions options, model::Model* model, ps::PsClient* client,
         net::Dealer* scheduler, ParserFactory parser_factory);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Trains from `start_epoch` (0, or the epochs a resumed checkpoint holds) until the
  // scheduler says the job is done.
  Status Run(int start_epoch = 0);

  // Resuming from a checkpoint taken inside an epoch: the first epoch Run() trains
  // continues after `step` from `cursor` (this worker's, from the manifest; the
  // scheduler gives the cursor's chunk again with the trained batches to skip).
  void ResumeAt(int64_t step, const pb::WorkerCursor& cursor);

  // Ranks the job lost, as the scheduler's JOB_DONE said.
  int ranks_lost() const { return ranks_lost_; }

 private:
  StatusOr<pb::Chunk> RequestChunk(int epoch, bool validation);
  Status TrainChunk(const pb::Chunk& chunk, int epoch);
  Status EvalChunk(const pb::Chunk& chunk, int epoch);
  // Trains on batch_, which holds `examples` examples read from the data (and maybe
  // sampled negatives after them).
  Status TrainBatch(int epoch, int64_t examples);
  // Scales the gradients of a batch of fewer than batch_size examples (a chunk's last)
  // so that each of its examples weighs as one of a full batch.
  void WeighShortBatch(int64_t examples);
  Status ReportProgress(bool force);
  Status CountBadLines(const io::BatchReader& reader);
  void FillProgress(pb::ChunkRequest* request);

  WorkerOptions options_;
  model::Model* model_;
  ps::PsClient* client_;
  net::Dealer* scheduler_;
  ParserFactory parser_factory_;
  NegativeSampler sampler_;

  int64_t step_ = 0;  // BSP step within the epoch
  // Where this worker's data stands after step_, and its totals this epoch: sent with
  // every push, so that a checkpoint after any step records it.
  pb::WorkerCursor cursor_;
  bool resumed_ = false;  // step_ and cursor_ were set by ResumeAt
  int epoch_ = 0;         // the epoch being trained (for progress reports)
  io::Batch batch_;
  std::vector<float> sparse_rows_;
  std::vector<float> dense_params_;
  std::vector<float> predictions_;
  model::Gradients grads_;

  // Progress since the last report to the scheduler.
  int64_t unreported_examples_ = 0;
  double unreported_loss_ = 0.0;
  int64_t unreported_bad_lines_ = 0;
  int64_t unreported_steps_ = 0;
  double last_report_s_ = 0.0;
  // Totals for the bad-line cap.
  int64_t total_lines_ = 0;
  int64_t total_bad_lines_ = 0;
  std::string first_bad_line_;
  uint64_t next_request_id_ = 1;
  std::FILE* trace_ = nullptr;
  int ranks_lost_ = 0;
};

}  // namespace tessera::worker
