// The model interface: pure math on Eigen over one batch (DESIGN.md §6).
// A Model owns scratch buffers only: parameters arrive in ParamsView and leave as
// Gradients, so one Model serves any cluster shape. Not thread-safe: one Model per
// compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/input.h"

namespace tessera::model {

// The formulas of each kind are in model/ctr_model.h.
enum class ModelKind {
  kLogisticRegression,
  kFactorizationMachine,
  kDeepFM,
  kMlp,       // MLP over the embeddings and dense features, nothing else
  kWideDeep,  // LR's linear term + that MLP
  kDlrm,      // DLRM: bottom MLP, pairwise dot products, top MLP (model/dlrm_tower.h)
  kDcnV2,     // DCN-v2: cross network in parallel with an MLP (model/cross_tower.h)
  kMf,        // biased matrix factorization: user fields' vectors . item fields' vectors
  kTwoTower,  // two-tower retrieval: user MLP output . item MLP output
};
enum class LossKind {
  kBinaryCrossEntropy,  // predictions are probabilities (sigmoid of the logit)
  kSquaredError,        // predictions are values: label_offset + the model's output;
                        // the loss is (prediction - label)^2, without a 1/2
};
enum class ActivationKind { kRelu, kTanh, kSigmoid };

// Everything needed to build a model; validated by CreateModel.
struct ModelSpec {
  ModelKind kind = ModelKind::kDeepFM;
  int num_fields = 26;     // sparse fields F
  int num_dense = 13;      // dense features D (MF and two-tower: 0)
  int embedding_dim = 16;  // k (every kind but LR)
  // Hidden sizes of the MLP of DeepFM, MLP, Wide & Deep and DCN-v2's deep part.
  std::vector<int> mlp_hidden = {400, 400, 400};
  // DLRM: hidden sizes of the bottom MLP (its output is embedding_dim wide) and of
  // the top MLP (its output is the logit): torch_ctr.py's --bot 512-256-64-16 --top 512-256.
  std::vector<int> dlrm_bottom_mlp = {512, 256, 64};
  std::vector<int> dlrm_top_mlp = {512, 256};
  int cross_layers = 3;                               // DCN-v2: number of cross layers L
  ActivationKind activation = ActivationKind::kRelu;  // of every hidden layer
  float init_std = 0.01f;                             // normal init of embedding vectors
  LossKind loss = LossKind::kBinaryCrossEntropy;
  // MF and two-tower: fields [0, user_fields) describe the user, the rest the item.
  int user_fields = 1;
  // Squared error: added to every output (the mean training label).
  float label_offset = 0.0f;
  // Squared error: Predict clips to [min_prediction, max_prediction] when
  // min_prediction < max_prediction (TrainStep never clips).
  float min_prediction = 0.0f;
  float max_prediction = 0.0f;
  // Two-tower: hidden sizes of each tower's MLP (output embedding_dim wide).
  std::vector<int> tower_hidden = {64};
  // Inverted dropout in training, in [0, 1): after every activation of an Mlp (the
  // hidden layers of every kind with one; DLRM's bottom output too), each output is
  // zeroed with probability `dropout` and otherwise scaled by 1/(1-dropout). Predict
  // never drops. The mask is a pure function of (dropout_seed, the model's TrainStep
  // count, example index in the batch, layer, unit): model/mlp.h. 0: off, and the
  // results are those of a model without dropout, bit for bit.
  float dropout = 0.0f;
  uint64_t dropout_seed = 0;
};

// How the columns of a fresh sparse row start: columns [begin, end) are zero, or
// normal with standard deviation `scale`. The server applies it (ps/ knows no models).
struct ColumnInit {
  enum class Kind { kZero, kNormal };
  int begin = 0;
  int end = 0;
  Kind kind = Kind::kZero;
  float scale = 0.0f;
};

class Model {
 public:
  virtual ~Model() = default;

  // Floats per sparse row. LR: 1 (the weight); FM, DeepFM, Wide & Deep, MF: 1 + k
  // ([w | v]); MLP, DLRM, DCN-v2, two-tower: k (the embedding only).
  virtual int sparse_dim() const = 0;
  // How a fresh sparse row is initialised, column range by column range.
  virtual std::vector<ColumnInit> sparse_init() const = 0;
  // Number of dense parameters.
  virtual int64_t dense_size() const = 0;
  // Initial dense parameters: a pure function of the seed.
  virtual std::vector<float> InitialDense(uint64_t seed) const = 0;

  // Predictions [B] of the batch: click probabilities (binary cross-entropy) or
  // values, clipped to [min_prediction, max_prediction] when that range is set
  // (squared error).
  virtual void Predict(const BatchView& batch, const ParamsView& params,
                       std::span<float> predictions) = 0;

  // Forward and backward: fills predictions [B] (never clipped) and grads (resized
  // here) with the gradient of the batch's mean loss (spec.loss); returns that loss.
  virtual double TrainStep(const BatchView& batch, const ParamsView& params,
                           std::span<float> predictions, Gradients* grads) = 0;

  // Keys the next TrainStep's dropout masks (ModelSpec::dropout) by `step` instead of
  // the count of TrainStep calls so far: a trainer passes its global step so that a run
  // resumed from a checkpoint draws the masks the uninterrupted run drew.
  virtual void SetDropoutStep(uint64_t step) = 0;
};

// Builds the model `spec` describes, or says which field of the spec is wrong
// (InvalidArgument). Every kind is a CtrModel: model/ctr_model.h documents the
// formulas and the sparse-row and dense-vector layouts.
StatusOr<std::unique_ptr<Model>> CreateModel(const ModelSpec& spec);

// What CreateModel checks: OK, or InvalidArgument naming the spec field that is wrong.
Status ValidateModelSpec(const ModelSpec& spec);

}  // namespace tessera::model
