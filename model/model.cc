#include "model/model.h"

#include <cmath>
#include <string>

#include "model/ctr_model.h"

namespace tessera::model {
namespace {

// Caps that keep every size product far inside int32 (matrix columns) and int64.
constexpr int kMaxFields = 1 << 16;
constexpr int kMaxDense = 1 << 16;
constexpr int kMaxEmbeddingDim = 1 << 12;
constexpr int kMaxLayerWidth = 1 << 16;
constexpr int kMaxLayers = 64;

Status CheckRange(const char* field, int value, int min, int max) {
  if (value >= min && value <= max) return Status::OK();
  return Status::InvalidArgument("model spec: " + std::string(field) + " = " +
                                 std::to_string(value) + " is outside [" + std::to_string(min) +
                                 ", " + std::to_string(max) + "]");
}

bool IsKnownKind(ModelKind kind) {
  return kind == ModelKind::kLogisticRegression || kind == ModelKind::kFactorizationMachine ||
         kind == ModelKind::kDeepFM;
}

bool IsKnownActivation(ActivationKind kind) {
  return kind == ActivationKind::kRelu || kind == ActivationKind::kTanh ||
         kind == ActivationKind::kSigmoid;
}

// The fields only FM and DeepFM read.
Status CheckEmbeddings(const ModelSpec& spec) {
  RETURN_IF_ERROR(CheckRange("embedding_dim", spec.embedding_dim, 1, kMaxEmbeddingDim));
  if (!std::isfinite(spec.init_std) || spec.init_std < 0.0f) {
    return Status::InvalidArgument("model spec: init_std = " + std::to_string(spec.init_std) +
                                   " must be a finite number >= 0");
  }
  if (int64_t{spec.num_fields} * spec.embedding_dim + spec.num_dense > kMaxLayerWidth) {
    return Status::InvalidArgument(
        "model spec: num_fields * embedding_dim + num_dense = " +
        std::to_string(int64_t{spec.num_fields} * spec.embedding_dim + spec.num_dense) +
        " (floats gathered per example) exceeds " + std::to_string(kMaxLayerWidth));
  }
  return Status::OK();
}

// The fields only DeepFM reads.
Status CheckMlp(const ModelSpec& spec) {
  if (spec.mlp_hidden.size() > kMaxLayers) {
    return Status::InvalidArgument("model spec: mlp_hidden has " +
                                   std::to_string(spec.mlp_hidden.size()) + " layers, more than " +
                                   std::to_string(kMaxLayers));
  }
  for (size_t i = 0; i < spec.mlp_hidden.size(); ++i) {
    std::string field = "mlp_hidden[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(CheckRange(field.c_str(), spec.mlp_hidden[i], 1, kMaxLayerWidth));
  }
  if (!IsKnownActivation(spec.activation)) {
    return Status::InvalidArgument(
        "model spec: activation = " + std::to_string(static_cast<int>(spec.activation)) +
        " is not relu, tanh or sigmoid");
  }
  return Status::OK();
}

Status CheckSpec(const ModelSpec& spec) {
  if (!IsKnownKind(spec.kind)) {
    return Status::InvalidArgument(
        "model spec: kind = " + std::to_string(static_cast<int>(spec.kind)) +
        " is not LR, FM or DeepFM");
  }
  RETURN_IF_ERROR(CheckRange("num_fields", spec.num_fields, 1, kMaxFields));
  RETURN_IF_ERROR(CheckRange("num_dense", spec.num_dense, 0, kMaxDense));
  if (spec.kind == ModelKind::kLogisticRegression) return Status::OK();
  RETURN_IF_ERROR(CheckEmbeddings(spec));
  if (spec.kind == ModelKind::kFactorizationMachine) return Status::OK();
  return CheckMlp(spec);
}

}  // namespace

StatusOr<std::unique_ptr<Model>> CreateModel(const ModelSpec& spec) {
  RETURN_IF_ERROR(CheckSpec(spec));
  return std::unique_ptr<Model>(std::make_unique<CtrModel>(spec));
}

}  // namespace tessera::model
