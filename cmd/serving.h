// A trained model ready to score examples without a cluster: the model directory
// (or export) loaded, its job's data format, the model built from the MANIFEST's
// config, and the lookup of sparse rows. `tessera predict`, `recommend` and
// `train --init_from` (its before-training score) load models this way.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/format.h"
#include "io/model_file.h"
#include "model/metrics.h"
#include "model/model.h"
#include "ps/sparse_table.h"
#include "serve/recommender.h"

namespace tessera::cmd {

struct ServingModel {
  std::shared_ptr<const io::LoadedModel> loaded;
  std::unique_ptr<io::DataFormat> format;
  model::ModelSpec spec;
  std::unique_ptr<model::Model> model;
  // Rows of any keys: the model's own, else (a key the model never stored) the row's
  // initial value for a model or checkpoint directory, zeros for an export.
  serve::RowLookup rows;
};

// Loads `dir`. With `rank_scores` the model's predictions are left unclipped (an MSE
// model's [min, max] clipping would tie the best items), for ranking.
StatusOr<ServingModel> LoadServingModel(const std::string& dir, bool rank_scores = false);

// Scores every example of `files` (the model's data format) into `metrics`, and when
// `predictions` is not null writes one "label<TAB>prediction" line per example to it.
// Returns the number of malformed lines skipped.
StatusOr<int64_t> ScoreFiles(const ServingModel& serving, const std::vector<std::string>& files,
                             int batch_size, model::MetricsAccumulator* metrics,
                             std::ostream* predictions);

}  // namespace tessera::cmd
