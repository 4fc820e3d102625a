// Every CTR model as one parameterised model (DESIGN.md §6): a linear part, an FM
// pairwise part and a deep part (a Tower, model/tower.h), each present or not.
// Bags are gathered, logits summed and gradients scattered once, here, for all.
// Mirrors CTRModel of the PyTorch reference (shared/peers/torch_ctr.py).
//
// For example b, with bag sums w_bf (of the rows' weight column) and e_bf (of the
// k embedding columns) over field f's bag, and its dense features x_b [D]:
//   LR          logit = bias + sum_f w_bf + u . x_b
//   FM          LR + 0.5 * sum_k [(sum_i z_ik)^2 - sum_i z_ik^2],
//               z = {e_b1 .. e_bF, x_b1 q_1 .. x_bD q_D}
//   DeepFM      FM + MLP(c_b)             where c_b = concat(e_b1 .. e_bF, x_b)
//   MLP         MLP(c_b)
//   WIDE_DEEP   LR + MLP(c_b)
//   DLRM        DlrmTower(c_b)            (model/dlrm_tower.h)
//   DCN_V2      CrossTower(c_b)           (model/cross_tower.h)
// MLP is model/mlp.h over {F*k + D, mlp_hidden..., 1}, linear output layer.
// p = sigmoid(logit); the loss is the batch mean of binary cross-entropy on logits.
//
// Sparse row: [w] (LR), [w | v_1 .. v_k] (FM, DeepFM, WIDE_DEEP) or [v_1 .. v_k]
// (MLP, DLRM, DCN_V2). w starts at zero, v normal with standard deviation init_std.
// Dense vector, in this order, each group present only where the formula has it:
//   bias [1] | u [D] (the linear part) | q [D x k] row-major (FM, DeepFM) |
//   the tower's parameters (its header gives their layout; MLP: per layer
//   W [out x in] row-major then b [out]).
//
// The work is done in batch form on Eigen matrices: bag sums are gathered into a
// [B x (F*k + D)] matrix, the towers are matrix products. All scratch is held here
// and reused across calls, so a steady stream of batches allocates only inside
// Eigen's matrix products. No threads: the same inputs give bit-identical outputs.
// Not thread-safe (Model's contract): one CtrModel per compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/eigen.h"
#include "model/model.h"
#include "model/tower.h"

namespace tessera::model {

class CtrModel final : public Model {
 public:
  // `spec` must be valid: build through CreateModel, which checks it first.
  explicit CtrModel(const ModelSpec& spec);

  int sparse_dim() const override { return v_column_ + k_; }
  std::vector<ColumnInit> sparse_init() const override;
  int64_t dense_size() const override { return dense_size_; }
  std::vector<float> InitialDense(uint64_t seed) const override;

  void Predict(const BatchView& batch, const ParamsView& params,
               std::span<float> predictions) override;
  double TrainStep(const BatchView& batch, const ParamsView& params, std::span<float> predictions,
                   Gradients* grads) override;

 private:
  // CHECKs that the views fit this model (the caller built them: a bug otherwise).
  void CheckInputs(const BatchView& batch, const ParamsView& params,
                   std::span<float> predictions) const;
  // Fills logits_ [B], and features_ when the model has embeddings.
  void Forward(const BatchView& batch, const ParamsView& params);
  // logits_ = bias + sum_f w_bf (0 without a linear part);
  // features_ = [e_b1 .. e_bF | x_b (with a tower)].
  void GatherBags(const BatchView& batch, const ParamsView& params);
  // logits_ += the FM pairwise term; keeps the vector sums in sums_.
  void AddPairwise(ConstMatrixMap dense, std::span<const float> q);
  // grad_logits_ [B] from logits_; writes predictions, returns the mean loss.
  double LossAndGradient(std::span<const float> labels, std::span<float> predictions);
  // grad_embeddings_ = d loss / d e through the pairwise term, and grad_q.
  void BackwardPairwise(ConstMatrixMap dense, std::span<const float> q, std::span<float> grad_q);
  // Sums grad_logits_ and grad_embeddings_ into the gradient of every row used.
  void ScatterSparse(const BatchView& batch, std::span<float> grad_sparse) const;

  ConstStridedMatrixMap Embeddings() const;  // the [B x F*k] left part of features_

  int num_fields_;
  int num_dense_;
  int k_;  // 0 for LR: no embedding columns
  float init_std_;
  bool linear_;    // bias, w and u
  bool pairwise_;  // q and the FM term
  int v_column_;   // where the embedding starts in a sparse row: after w, if any
  // Offsets into the dense vector (see the layout above).
  int64_t u_offset_;
  int64_t q_offset_;
  int64_t tower_offset_;
  int64_t dense_size_;
  std::unique_ptr<Tower> tower_;  // the deep part; null for LR and FM

  ScratchMatrix logits_;           // [B x 1]
  ScratchMatrix grad_logits_;      // [B x 1]: d mean loss / d logit
  ScratchMatrix features_;         // [B x (F*k + D with a tower)]
  ScratchMatrix sums_;             // [B x k]: sum of the FM vectors, then scaled by grad
  ScratchMatrix q_norms_;          // [D x 1]: |q_d|^2
  ScratchMatrix grad_embeddings_;  // [B x F*k]
};

}  // namespace tessera::model
