// Loading and checking the job config (proto/config.proto), and turning it into the
// plain option structs each component takes (STYLE.md §4: configuration flows down
// as structs built once; only cmd/ sees the Protobuf config and the flags).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "io/format.h"
#include "model/model.h"
#include "proto/config.pb.h"
#include "ps/optimizer.h"
#include "ps/sparse_table.h"

namespace tessera::cmd {

// Parses a text-format job config. Errors name the file, line, column and field:
//   "job.pbtxt:3:5: Message type "tessera.pb.DataConfig" has no field named "batchsize"."
StatusOr<pb::JobConfig> LoadJobConfig(const std::string& path);

// Parses config text (`source` names it in errors).
StatusOr<pb::JobConfig> ParseJobConfig(const std::string& text, const std::string& source);

// Checks values the schema cannot: ranges, required fields. Errors name the field
// ("training.epochs must be at least 1, got 0").
Status ValidateJobConfig(const pb::JobConfig& config);

// The data format of config.data(), reading labels as the model's loss needs them
// (MSE: values, BCE: 0/1). Errors name the config field or side file (io/format.h).
StatusOr<std::unique_ptr<io::DataFormat>> CreateDataFormat(const pb::JobConfig& config);

// The model of config.model() over examples shaped as `layout` says: num_fields and
// num_dense from the layout; user_fields from model.user_fields, else the layout's,
// else 1; MSE's prediction range from the config, else (both 0) the layout's label
// range; tower_hidden empty -> {64}.
model::ModelSpec ToModelSpec(const pb::JobConfig& config, const io::FeatureLayout& layout);
// The checks that need the data's layout: the model `config` describes over it is valid
// (model/model.h's rules), and negative sampling has item fields to draw from. Errors
// name the config field.
Status ValidateForLayout(const pb::JobConfig& config, const io::FeatureLayout& layout);

ps::OptimizerOptions ToOptimizerOptions(const pb::OptimizerConfig& config);
// The sparse table of `model` under `config` (seed, optimizer, initial values).
ps::SparseTableOptions ToSparseTableOptions(const pb::JobConfig& config, const model::Model& model);

}  // namespace tessera::cmd
