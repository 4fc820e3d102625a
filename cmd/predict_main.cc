// `tessera predict`: loads a trained model directory (no cluster needed), scores a
// file in the data format of its job config, and prints AUC, logloss, accuracy and
// calibration (RMSE and MAE for a value model).
#include <fstream>
#include <iostream>

#include <gflags/gflags.h>

#include "cmd/commands.h"
#include "cmd/serving.h"
#include "model/metrics.h"

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
  // Rows never trained are absent from the model: they keep their initial value (in
  // an export for serving: zero). See cmd/serving.h.
  ASSIGN_OR_RETURN(ServingModel serving, LoadServingModel(FLAGS_model));
  std::ofstream predictions_file;
  if (!FLAGS_predictions_out.empty()) {
    predictions_file.open(FLAGS_predictions_out);
    if (!predictions_file) return Status::IOError("cannot write " + FLAGS_predictions_out);
  }
  model::MetricsAccumulator metrics;
  ASSIGN_OR_RETURN(int64_t bad_lines,
                   ScoreFiles(serving, {FLAGS_data}, FLAGS_predict_batch_size, &metrics,
                              predictions_file.is_open() ? &predictions_file : nullptr));
  const bool values = serving.spec.loss == model::LossKind::kSquaredError;
  out << metrics.count() << " examples (" << bad_lines
      << " malformed lines skipped): " << metrics.Describe(values) << std::endl;
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
