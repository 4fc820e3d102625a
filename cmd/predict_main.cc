// `tessera predict`: loads a trained model directory (no cluster needed), scores a
// file in the data format of its job config, and prints AUC, logloss and calibration.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <gflags/gflags.h>

#include "cmd/commands.h"
#include "cmd/job_config.h"
#include "io/batch_reader.h"
#include "io/chunk.h"
#include "io/format.h"
#include "io/model_file.h"
#include "model/metrics.h"
#include "ps/sparse_table.h"
#include "worker/batch_view.h"

DEFINE_string(model, "", "Trained model directory (holds MANIFEST). Required.");
DEFINE_string(data, "",
              "File to score (plain or .gz), in the data format of the model's job config "
              "(data.format; MovieLens side files as the config names them). Required.");
DEFINE_string(predictions_out, "", "Optional: write one 'label<TAB>probability' line per example.");
DEFINE_int32(predict_batch_size, 4096, "Examples per batch.");

namespace tessera::cmd {
namespace {

Status Predict(std::ostream& out) {
  if (FLAGS_model.empty() || FLAGS_data.empty()) {
    return Status::InvalidArgument("--model DIR and --data FILE are required");
  }
  ASSIGN_OR_RETURN(io::LoadedModel loaded, io::LoadModel(FLAGS_model));
  const pb::JobConfig& config = loaded.manifest().config();
  // The training job's data format: its parser and the model's shape.
  StatusOr<std::unique_ptr<io::DataFormat>> format = CreateDataFormat(config);
  if (!format.ok()) return format.status().WithContext(FLAGS_model + "/MANIFEST");
  ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model,
                   model::CreateModel(ToModelSpec(config, (*format)->layout())));
  if (model->sparse_dim() != loaded.sparse_dim() ||
      model->dense_size() != static_cast<int64_t>(loaded.dense().size())) {
    return Status::Corruption(FLAGS_model + ": the shards do not match the model in MANIFEST");
  }
  // Rows never trained are absent from the model: they keep their initial value,
  // which the table computes without storing anything (in an export: zero).
  ps::SparseTable initial(ToSparseTableOptions(config, *model));
  std::ofstream predictions_file;
  if (!FLAGS_predictions_out.empty()) {
    predictions_file.open(FLAGS_predictions_out);
    if (!predictions_file) return Status::IOError("cannot write " + FLAGS_predictions_out);
  }
  ASSIGN_OR_RETURN(std::vector<io::ChunkSpec> chunks, io::PlanChunks({FLAGS_data}, int64_t{1} << 40));
  const int dim = model->sparse_dim();
  model::MetricsAccumulator metrics;
  io::Batch batch;
  std::vector<float> rows, predictions;
  int64_t bad_lines = 0;
  for (const io::ChunkSpec& chunk : chunks) {
    std::unique_ptr<io::LineParser> parser = (*format)->NewParser();
    ASSIGN_OR_RETURN(auto reader,
                     io::BatchReader::Open(chunk, parser.get(), FLAGS_predict_batch_size));
    while (true) {
      ASSIGN_OR_RETURN(bool more, reader->NextBatch(&batch));
      if (!more) break;
      rows.resize(batch.unique_keys.size() * dim);
      for (size_t i = 0; i < batch.unique_keys.size(); ++i) {
        const float* row = loaded.FindSparseRow(batch.unique_keys[i]);
        std::span<float> dst(rows.data() + i * dim, dim);
        if (row != nullptr) {
          std::copy(row, row + dim, dst.begin());
        } else if (loaded.missing_rows_are_zero()) {  // an export for serving
          std::fill(dst.begin(), dst.end(), 0.0f);
        } else {
          initial.Peek(std::span<const uint64_t>(&batch.unique_keys[i], 1), dst);
        }
      }
      const model::BatchView view = worker::ViewOf(batch);
      predictions.resize(batch.size());
      model->Predict(view, model::ParamsView{rows, loaded.dense()}, predictions);
      metrics.Add(predictions, batch.labels);
      if (predictions_file.is_open()) {
        for (int64_t i = 0; i < batch.size(); ++i) {
          predictions_file << batch.labels[i] << '\t' << predictions[i] << '\n';
        }
      }
    }
    bad_lines += reader->bad_lines();
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "%lld examples (%lld malformed lines skipped): AUC %.6f, logloss %.6f, "
                "calibration %.4f",
                static_cast<long long>(metrics.count()), static_cast<long long>(bad_lines),
                metrics.Auc(), metrics.LogLoss(), metrics.Calibration());
  out << line << std::endl;
  return Status::OK();
}

}  // namespace

int RunPredict() {
  Status s = Predict(std::cout);
  if (!s.ok()) {
    std::cerr << "tessera predict: " << s.ToString() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace tessera::cmd
