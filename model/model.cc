#include "model/model.h"

#include <cmath>
#include <string>
#include <vector>

#include "model/ctr_model.h"

namespace tessera::model {
namespace {

// Caps that keep every size product far inside int32 (matrix columns) and int64.
constexpr int kMaxFields = 1 << 16;
constexpr int kMaxDense = 1 << 16;
constexpr int kMaxEmbeddingDim = 1 << 12;
constexpr int kMaxLayerWidth = 1 << 16;
constexpr int kMaxLayers = 64;
constexpr int64_t kMaxCrossFloats = int64_t{1} << 30;  // 4 GiB of DCN-v2 cross weights

Status CheckRange(const char* field, int value, int min, int max) {
  if (value >= min && value <= max) return Status::OK();
  return Status::InvalidArgument("model spec: " + std::string(field) + " = " +
                                 std::to_string(value) + " is outside [" + std::to_string(min) +
                                 ", " + std::to_string(max) + "]");
}

bool IsKnownKind(ModelKind kind) {
  return kind == ModelKind::kLogisticRegression || kind == ModelKind::kFactorizationMachine ||
         kind == ModelKind::kDeepFM || kind == ModelKind::kMlp || kind == ModelKind::kWideDeep ||
         kind == ModelKind::kDlrm || kind == ModelKind::kDcnV2 || kind == ModelKind::kMf ||
         kind == ModelKind::kTwoTower;
}

bool IsKnownActivation(ActivationKind kind) {
  return kind == ActivationKind::kRelu || kind == ActivationKind::kTanh ||
         kind == ActivationKind::kSigmoid;
}

// The fields every kind but LR reads.
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

// Hidden layer sizes `sizes`, called `field` in messages.
Status CheckHidden(const char* field, const std::vector<int>& sizes) {
  if (sizes.size() > kMaxLayers) {
    return Status::InvalidArgument("model spec: " + std::string(field) + " has " +
                                   std::to_string(sizes.size()) + " layers, more than " +
                                   std::to_string(kMaxLayers));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(CheckRange(name.c_str(), sizes[i], 1, kMaxLayerWidth));
  }
  return Status::OK();
}

Status CheckActivation(const ModelSpec& spec) {
  if (IsKnownActivation(spec.activation)) return Status::OK();
  return Status::InvalidArgument(
      "model spec: activation = " + std::to_string(static_cast<int>(spec.activation)) +
      " is not relu, tanh or sigmoid");
}

// The fields DLRM reads beyond the embeddings.
Status CheckDlrm(const ModelSpec& spec) {
  if (spec.num_dense < 1) {
    return Status::InvalidArgument(
        "model spec: num_dense = 0, but DLRM's bottom MLP needs dense features");
  }
  RETURN_IF_ERROR(CheckHidden("dlrm_bottom_mlp", spec.dlrm_bottom_mlp));
  RETURN_IF_ERROR(CheckHidden("dlrm_top_mlp", spec.dlrm_top_mlp));
  const int64_t vectors = int64_t{spec.num_fields} + 1;
  if (spec.embedding_dim + vectors * (vectors - 1) / 2 > kMaxLayerWidth) {
    return Status::InvalidArgument(
        "model spec: embedding_dim + (num_fields + 1) * num_fields / 2 (the top MLP's input) "
        "exceeds " +
        std::to_string(kMaxLayerWidth));
  }
  return CheckActivation(spec);
}

// The fields DCN-v2 reads beyond the embeddings and the MLP.
Status CheckCross(const ModelSpec& spec) {
  RETURN_IF_ERROR(CheckRange("cross_layers", spec.cross_layers, 0, kMaxLayers));
  const int64_t width = int64_t{spec.num_fields} * spec.embedding_dim + spec.num_dense;
  if (width * width * spec.cross_layers > kMaxCrossFloats) {
    return Status::InvalidArgument(
        "model spec: cross_layers * (num_fields * embedding_dim + num_dense)^2 = " +
        std::to_string(width * width * spec.cross_layers) + " cross weights exceed " +
        std::to_string(kMaxCrossFloats));
  }
  return Status::OK();
}

// The fields MF and two-tower read beyond the embeddings.
Status CheckUserItem(const ModelSpec& spec) {
  if (spec.num_fields < 2) {
    return Status::InvalidArgument("model spec: num_fields = " + std::to_string(spec.num_fields) +
                                   ", but MF and two-tower need a user field and an item field");
  }
  RETURN_IF_ERROR(CheckRange("user_fields", spec.user_fields, 1, spec.num_fields - 1));
  if (spec.num_dense != 0) {
    return Status::InvalidArgument("model spec: num_dense = " + std::to_string(spec.num_dense) +
                                   ", but MF and two-tower read no dense features (set it to 0)");
  }
  return Status::OK();
}

Status CheckFinite(const char* field, float value) {
  if (std::isfinite(value)) return Status::OK();
  return Status::InvalidArgument("model spec: " + std::string(field) + " = " +
                                 std::to_string(value) + " is not a finite number");
}

// The loss, and for squared error its offset and clipping range (binary
// cross-entropy reads neither).
Status CheckLoss(const ModelSpec& spec) {
  if (spec.loss == LossKind::kBinaryCrossEntropy) return Status::OK();
  if (spec.loss != LossKind::kSquaredError) {
    return Status::InvalidArgument(
        "model spec: loss = " + std::to_string(static_cast<int>(spec.loss)) +
        " is not binary cross-entropy or squared error");
  }
  RETURN_IF_ERROR(CheckFinite("label_offset", spec.label_offset));
  RETURN_IF_ERROR(CheckFinite("min_prediction", spec.min_prediction));
  RETURN_IF_ERROR(CheckFinite("max_prediction", spec.max_prediction));
  if (spec.min_prediction > spec.max_prediction) {
    return Status::InvalidArgument(
        "model spec: min_prediction = " + std::to_string(spec.min_prediction) +
        " exceeds max_prediction = " + std::to_string(spec.max_prediction) +
        " (equal values turn clipping off)");
  }
  return Status::OK();
}

Status CheckSpec(const ModelSpec& spec) {
  if (!IsKnownKind(spec.kind)) {
    return Status::InvalidArgument(
        "model spec: kind = " + std::to_string(static_cast<int>(spec.kind)) +
        " is not LR, FM, DeepFM, MLP, Wide & Deep, DLRM, DCN-v2, MF or two-tower");
  }
  RETURN_IF_ERROR(CheckRange("num_fields", spec.num_fields, 1, kMaxFields));
  RETURN_IF_ERROR(CheckRange("num_dense", spec.num_dense, 0, kMaxDense));
  RETURN_IF_ERROR(CheckLoss(spec));
  if (!(spec.dropout >= 0.0f && spec.dropout < 1.0f)) {
    return Status::InvalidArgument("model spec: dropout = " + std::to_string(spec.dropout) +
                                   " must be in [0, 1)");
  }
  switch (spec.kind) {
    case ModelKind::kLogisticRegression:
      return Status::OK();
    case ModelKind::kFactorizationMachine:
      return CheckEmbeddings(spec);
    case ModelKind::kDlrm:
      RETURN_IF_ERROR(CheckEmbeddings(spec));
      return CheckDlrm(spec);
    case ModelKind::kDcnV2:
      RETURN_IF_ERROR(CheckEmbeddings(spec));
      RETURN_IF_ERROR(CheckCross(spec));
      break;
    case ModelKind::kMf:
      RETURN_IF_ERROR(CheckUserItem(spec));
      return CheckEmbeddings(spec);
    case ModelKind::kTwoTower:
      RETURN_IF_ERROR(CheckUserItem(spec));
      RETURN_IF_ERROR(CheckEmbeddings(spec));
      RETURN_IF_ERROR(CheckHidden("tower_hidden", spec.tower_hidden));
      return CheckActivation(spec);
    case ModelKind::kDeepFM:
    case ModelKind::kMlp:
    case ModelKind::kWideDeep:
      RETURN_IF_ERROR(CheckEmbeddings(spec));
      break;
  }
  RETURN_IF_ERROR(CheckHidden("mlp_hidden", spec.mlp_hidden));
  return CheckActivation(spec);
}

}  // namespace

Status ValidateModelSpec(const ModelSpec& spec) { return CheckSpec(spec); }

StatusOr<std::unique_ptr<Model>> CreateModel(const ModelSpec& spec) {
  RETURN_IF_ERROR(CheckSpec(spec));
  return std::unique_ptr<Model>(std::make_unique<CtrModel>(spec));
}

}  // namespace tessera::model
