#include "cmd/serving.h"

#include <algorithm>

#include "cmd/job_config.h"
#include "io/batch_reader.h"
#include "io/chunk.h"
#include "worker/batch_view.h"

namespace tessera::cmd {

StatusOr<ServingModel> LoadServingModel(const std::string& dir, bool rank_scores) {
  ServingModel s;
  ASSIGN_OR_RETURN(io::LoadedModel loaded, io::LoadModel(dir));
  s.loaded = std::make_shared<const io::LoadedModel>(std::move(loaded));
  const pb::JobConfig& config = s.loaded->manifest().config();
  StatusOr<std::unique_ptr<io::DataFormat>> format = CreateDataFormat(config);
  if (!format.ok()) return format.status().WithContext(dir + "/MANIFEST");
  s.format = std::move(*format);
  s.spec = ToModelSpec(config, s.format->layout());
  if (rank_scores) s.spec.min_prediction = s.spec.max_prediction = 0.0f;
  ASSIGN_OR_RETURN(s.model, model::CreateModel(s.spec));
  if (s.model->sparse_dim() != s.loaded->sparse_dim() ||
      s.model->dense_size() != static_cast<int64_t>(s.loaded->dense().size())) {
    return Status::Corruption(dir + ": the shards do not match the model in MANIFEST");
  }
  // Computes initial rows; stores nothing.
  auto initial = std::make_shared<const ps::SparseTable>(ToSparseTableOptions(config, *s.model));
  const int dim = s.model->sparse_dim();
  const bool zero = s.loaded->missing_rows_are_zero();
  std::shared_ptr<const io::LoadedModel> model_rows = s.loaded;
  s.rows = [model_rows, initial, zero, dim](std::span<const uint64_t> keys,
                                            std::span<float> rows) {
    for (size_t i = 0; i < keys.size(); ++i) {
      std::span<float> dst = rows.subspan(i * dim, dim);
      if (const float* row = model_rows->FindSparseRow(keys[i])) {
        std::copy(row, row + dim, dst.begin());
      } else if (zero) {
        std::fill(dst.begin(), dst.end(), 0.0f);
      } else {
        initial->Peek(keys.subspan(i, 1), dst);
      }
    }
  };
  return s;
}

StatusOr<int64_t> ScoreFiles(const ServingModel& serving, const std::vector<std::string>& files,
                             int batch_size, model::MetricsAccumulator* metrics,
                             std::ostream* predictions_out) {
  ASSIGN_OR_RETURN(std::vector<io::ChunkSpec> chunks, io::PlanChunks(files, int64_t{1} << 40));
  const int dim = serving.model->sparse_dim();
  io::Batch batch;
  std::vector<float> rows, predictions;
  int64_t bad_lines = 0;
  for (const io::ChunkSpec& chunk : chunks) {
    std::unique_ptr<io::LineParser> parser = serving.format->NewParser();
    ASSIGN_OR_RETURN(auto reader, io::BatchReader::Open(chunk, parser.get(), batch_size));
    while (true) {
      ASSIGN_OR_RETURN(bool more, reader->NextBatch(&batch));
      if (!more) break;
      rows.resize(batch.unique_keys.size() * dim);
      serving.rows(batch.unique_keys, rows);
      predictions.resize(batch.size());
      serving.model->Predict(worker::ViewOf(batch),
                             model::ParamsView{rows, serving.loaded->dense()}, predictions);
      metrics->Add(predictions, batch.labels);
      if (predictions_out != nullptr) {
        for (int64_t i = 0; i < batch.size(); ++i) {
          *predictions_out << batch.labels[i] << '\t' << predictions[i] << '\n';
        }
      }
    }
    bad_lines += reader->bad_lines();
  }
  return bad_lines;
}

}  // namespace tessera::cmd
