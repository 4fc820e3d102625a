#include "worker/worker.h"

#include "common/clock.h"
#include "worker/batch_view.h"

namespace tessera::worker {
namespace {

// The cap on malformed lines applies once a worker has read this many lines.
constexpr int64_t kMinLinesForBadLineCap = 1000;

io::ChunkSpec ToSpec(const pb::Chunk& chunk) {
  io::ChunkSpec spec;
  spec.path = chunk.path();
  spec.offset = chunk.offset();
  spec.length = chunk.length();
  spec.first_line = chunk.first_line();
  return spec;
}

}  // namespace

Worker::Worker(WorkerOptions options, model::Model* model, ps::PsClient* client,
               net::Dealer* scheduler, ParserFactory parser_factory)
    : options_(std::move(options)),
      model_(model),
      client_(client),
      scheduler_(scheduler),
      parser_factory_(std::move(parser_factory)),
      sampler_(options_.negatives) {
  dense_params_.resize(model_->dense_size());
  last_report_s_ = NowSeconds();
  if (!options_.trace_path.empty()) trace_ = std::fopen(options_.trace_path.c_str(), "a");
}

Worker::~Worker() {
  if (trace_ != nullptr) std::fclose(trace_);
}

void Worker::ResumeAt(int64_t step, const pb::WorkerCursor& cursor) {
  step_ = step;
  cursor_ = cursor;
  resumed_ = true;
}

Status Worker::Run(int start_epoch) {
  for (int epoch = start_epoch;; ++epoch) {
    if (!resumed_) {
      step_ = 0;
      cursor_ = pb::WorkerCursor();
      cursor_.set_batches_done(-1);
    }
    resumed_ = false;
    epoch_ = epoch;
    bool training = true;
    while (training) {
      while (true) {
        ASSIGN_OR_RETURN(pb::Chunk chunk, RequestChunk(epoch, /*validation=*/false));
        if (chunk.status() == pb::Chunk::JOB_DONE) {
          ranks_lost_ = chunk.ranks_lost();
          return Status::OK();
        }
        if (chunk.status() == pb::Chunk::EPOCH_DONE) break;
        RETURN_IF_ERROR(TrainChunk(chunk, epoch));
      }
      cursor_.set_done(true);
      RETURN_IF_ERROR(client_->PushEpochDone(epoch, step_ + 1, &cursor_));
      training = false;
      while (true) {
        ASSIGN_OR_RETURN(pb::Chunk chunk, RequestChunk(epoch, /*validation=*/true));
        if (chunk.status() != pb::Chunk::DATA) break;
        if (chunk.retrain()) {
          // A lost worker's data, after every step so far (the servers reopened the
          // epoch at resume_step); then back to asking for training chunks.
          step_ = chunk.resume_step();
          cursor_.set_done(false);
          RETURN_IF_ERROR(TrainChunk(chunk, epoch));
          training = true;
          break;
        }
        RETURN_IF_ERROR(EvalChunk(chunk, epoch));
      }
    }
  }
}

void Worker::FillProgress(pb::ChunkRequest* request) {
  request->set_examples(unreported_examples_);
  request->set_loss_sum(unreported_loss_);
  request->set_bad_lines(unreported_bad_lines_);
  request->set_steps(unreported_steps_);
  request->set_step(step_);
  unreported_examples_ = 0;
  unreported_loss_ = 0.0;
  unreported_bad_lines_ = 0;
  unreported_steps_ = 0;
  last_report_s_ = NowSeconds();
}

StatusOr<pb::Chunk> Worker::RequestChunk(int epoch, bool validation) {
  pb::ChunkRequest request;
  request.set_epoch(epoch);
  request.set_validation(validation);
  FillProgress(&request);
  net::Message m;
  m.header.set_kind(pb::CHUNK_REQUEST);
  m.header.set_sender(options_.rank);
  m.header.set_epoch(epoch);
  m.header.set_request_id(next_request_id_++);
  m.frames.push_back(net::FrameFromProto(request));
  RETURN_IF_ERROR(scheduler_->Send(std::move(m)));
  VLOG(1) << "rank " << options_.rank << " asks epoch " << epoch << (validation ? " val" : " train");
  net::Message reply;
  RETURN_IF_ERROR(scheduler_->ReceiveOrTimeout(&reply, options_.timeout_ms,
                                               std::string("a request for a ") +
                                                   (validation ? "validation" : "training") +
                                                   " chunk"));
  if (reply.header.kind() == pb::SHUTDOWN) {
    return Status::Aborted("the scheduler stopped the job: " + reply.header.error());
  }
  if (reply.header.kind() != pb::CHUNK) {
    return Status::Corruption("expected a CHUNK from the scheduler, got " +
                              pb::MessageKind_Name(reply.header.kind()));
  }
  pb::Chunk chunk;
  RETURN_IF_ERROR(net::ParseBody(reply, 0, &chunk));
  VLOG(1) << "rank " << options_.rank << " got " << pb::Chunk::Status_Name(chunk.status())
          << " epoch " << chunk.epoch();
  return chunk;
}

Status Worker::ReportProgress(bool force) {
  if (!force && NowSeconds() - last_report_s_ < options_.progress_interval_s) return Status::OK();
  pb::ChunkRequest progress;
  progress.set_epoch(epoch_);
  FillProgress(&progress);
  net::Message m;
  m.header.set_kind(pb::PROGRESS);
  m.header.set_sender(options_.rank);
  m.frames.push_back(net::FrameFromProto(progress));
  return scheduler_->Send(std::move(m));
}

Status Worker::CountBadLines(const io::BatchReader& reader) {
  if (first_bad_line_.empty() && !reader.bad_line_messages().empty()) {
    first_bad_line_ = reader.bad_line_messages().front();
  }
  if (total_lines_ >= kMinLinesForBadLineCap &&
      static_cast<double>(total_bad_lines_) > options_.max_bad_line_ratio * total_lines_) {
    return Status::Aborted(std::to_string(total_bad_lines_) + " of " +
                           std::to_string(total_lines_) +
                           " lines read by this worker are malformed, above "
                           "data.max_bad_line_ratio = " +
                           std::to_string(options_.max_bad_line_ratio) +
                           "; the first: " + first_bad_line_);
  }
  return Status::OK();
}

Status Worker::TrainChunk(const pb::Chunk& chunk, int epoch) {
  std::unique_ptr<io::LineParser> parser = parser_factory_();
  ASSIGN_OR_RETURN(auto reader, io::BatchReader::Open(ToSpec(chunk), parser.get(),
                                                      options_.batch_size));
  int64_t seen_examples = 0, seen_bad = 0;
  // Resuming inside this chunk: its first batches were trained before the checkpoint
  // (and their bad lines counted then).
  for (int64_t b = 0; b < chunk.skip_batches(); ++b) {
    ASSIGN_OR_RETURN(bool more, reader->NextBatch(&batch_));
    if (!more) break;
  }
  seen_examples = reader->examples();
  seen_bad = reader->bad_lines();
  cursor_.set_chunk_id(chunk.chunk_id());
  cursor_.set_batches_done(chunk.skip_batches());
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->NextBatch(&batch_));
    total_lines_ += (reader->examples() - seen_examples) + (reader->bad_lines() - seen_bad);
    total_bad_lines_ += reader->bad_lines() - seen_bad;
    unreported_bad_lines_ += reader->bad_lines() - seen_bad;
    cursor_.set_bad_lines(cursor_.bad_lines() + reader->bad_lines() - seen_bad);
    seen_examples = reader->examples();
    seen_bad = reader->bad_lines();
    RETURN_IF_ERROR(CountBadLines(*reader));
    if (!more) break;
    if (batch_.size() == 0) continue;
    const int64_t examples = batch_.size();
    sampler_.Augment(&batch_);
    RETURN_IF_ERROR(TrainBatch(epoch, examples));
    RETURN_IF_ERROR(ReportProgress(/*force=*/false));
  }
  return Status::OK();
}

Status Worker::TrainBatch(int epoch, int64_t examples) {
  ++step_;
  const int dim = model_->sparse_dim();
  sparse_rows_.resize(batch_.unique_keys.size() * dim);
  RETURN_IF_ERROR(client_->Pull(epoch, step_, /*eval=*/false, batch_.unique_keys, sparse_rows_,
                                dense_params_));
  predictions_.resize(batch_.size());
  model::ParamsView params{sparse_rows_, dense_params_};
  // Dropout masks keyed by (epoch, step): what a resumed run reaches again.
  model_->SetDropoutStep((static_cast<uint64_t>(epoch) << 40) | static_cast<uint64_t>(step_));
  double loss = model_->TrainStep(ViewOf(batch_), params, predictions_, &grads_);
  WeighShortBatch(examples);
  cursor_.set_batches_done(cursor_.batches_done() + 1);
  cursor_.set_examples(cursor_.examples() + examples);
  cursor_.set_loss_sum(cursor_.loss_sum() + loss * static_cast<double>(examples));
  // Traced before the push: a batch the servers may have applied is always in the trace.
  if (trace_ != nullptr) {
    std::fprintf(trace_, "%d %lld %lld %lld\n", epoch, static_cast<long long>(cursor_.chunk_id()),
                 static_cast<long long>(cursor_.batches_done() - 1),
                 static_cast<long long>(examples));
    std::fflush(trace_);
  }
  RETURN_IF_ERROR(client_->Push(epoch, step_, batch_.unique_keys, grads_.sparse, grads_.dense,
                                &cursor_));
  // Examples count data lines; the loss is the mean over the batch, negatives included.
  unreported_examples_ += examples;
  unreported_loss_ += loss * static_cast<double>(examples);
  ++unreported_steps_;
  return Status::OK();
}

void Worker::WeighShortBatch(int64_t examples) {
  // TrainStep's gradients are of the batch's mean loss, so each example of a batch of
  // b weighs 1/b. A chunk's last batch is short (a 4 MiB chunk of Criteo lines ends
  // in a batch of ~100 every ~17 batches): taken as it is, its few examples would
  // weigh up to 10x more than others, and the large gradients they give inflate
  // Adam's and Adagrad's squared-gradient state, slowing every later step of those
  // rows (measured: -0.002 AUC on FM over 1M lines, predictions 4% low). Scaled by
  // b / batch_size, every example weighs 1 / batch_size wherever its batch was cut,
  // as in a trainer that reads the data as one stream.
  if (examples >= options_.batch_size) return;
  const float weight = static_cast<float>(examples) / static_cast<float>(options_.batch_size);
  for (float& g : grads_.sparse) g *= weight;
  for (float& g : grads_.dense) g *= weight;
}

Status Worker::EvalChunk(const pb::Chunk& chunk, int epoch) {
  std::unique_ptr<io::LineParser> parser = parser_factory_();
  ASSIGN_OR_RETURN(auto reader, io::BatchReader::Open(ToSpec(chunk), parser.get(),
                                                      options_.batch_size));
  const int dim = model_->sparse_dim();
  std::vector<float> predictions, labels;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->NextBatch(&batch_));
    if (!more) break;
    if (batch_.size() == 0) continue;
    sparse_rows_.resize(batch_.unique_keys.size() * dim);
    RETURN_IF_ERROR(client_->Pull(epoch, step_ + 1, /*eval=*/true, batch_.unique_keys,
                                  sparse_rows_, dense_params_));
    predictions_.resize(batch_.size());
    model_->Predict(ViewOf(batch_), model::ParamsView{sparse_rows_, dense_params_}, predictions_);
    predictions.insert(predictions.end(), predictions_.begin(), predictions_.end());
    labels.insert(labels.end(), batch_.labels.begin(), batch_.labels.end());
  }
  net::Message m;
  m.header.set_kind(pb::EVAL_RESULT);
  m.header.set_sender(options_.rank);
  m.header.set_epoch(epoch);
  m.header.set_count(predictions.size());
  unreported_bad_lines_ += reader->bad_lines();  // reported with the next chunk request
  m.frames.push_back(net::FrameFromVector(std::move(predictions)));
  m.frames.push_back(net::FrameFromVector(std::move(labels)));
  return scheduler_->Send(std::move(m));
}

}  // namespace tessera::worker
