// LR, FM and DeepFM as one parameterised model (DESIGN.md §6): FM is LR plus a
// pairwise term over the field embeddings, DeepFM is FM plus an MLP over them.
// Mirrors CTRModel of the PyTorch reference (shared/peers/torch_ctr.py).
//
// For example b, with bag sums w_bf (of the rows' column 0) and e_bf (of columns
// 1..k) over field f's bag, and its dense features x_b [D]:
//   LR      logit = bias + sum_f w_bf + u . x_b
//   FM      LR + 0.5 * sum_k [(sum_i z_ik)^2 - sum_i z_ik^2],
//           z = {e_b1 .. e_bF, x_b1 q_1 .. x_bD q_D}
//   DeepFM  FM + MLP(concat(e_b1 .. e_bF, x_b))
// p = sigmoid(logit); the loss is the batch mean of binary cross-entropy on logits.
//
// Sparse row: [w] (LR) or [w | v_1 .. v_k] (FM, DeepFM).
// Dense vector, in this order:
//   bias [1] | u [D] | q [D x k] row-major (FM, DeepFM) | MLP (DeepFM): per layer
//   W [out x in] row-major then b [out], layers {F*k + D, mlp_hidden..., 1}.
//
// The work is done in batch form on Eigen matrices: bag sums are gathered into a
// [B x (F*k + D)] matrix, the MLP is matrix products. All scratch is held here and
// reused across calls, so a steady stream of batches allocates only inside Eigen's
// matrix products. No threads: the same inputs give bit-identical outputs.
// Not thread-safe (Model's contract): one CtrModel per compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/eigen.h"
#include "model/mlp.h"
#include "model/model.h"

namespace tessera::model {

class CtrModel final : public Model {
 public:
  // `spec` must be valid: build through CreateModel, which checks it first.
  explicit CtrModel(const ModelSpec& spec);

  int sparse_dim() const override { return 1 + k_; }
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
  // logits_ = bias + sum_f w_bf; features_ = [e_b1 .. e_bF | x_b (DeepFM)].
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
  bool pairwise_;
  // Offsets into the dense vector (see the layout above).
  int64_t u_offset_;
  int64_t q_offset_;
  int64_t mlp_offset_;
  int64_t dense_size_;
  std::unique_ptr<Mlp> mlp_;  // DeepFM only

  ScratchMatrix logits_;           // [B x 1]
  ScratchMatrix grad_logits_;      // [B x 1]: d mean loss / d logit
  ScratchMatrix features_;         // [B x (F*k + D if DeepFM)]
  ScratchMatrix sums_;             // [B x k]: sum of the FM vectors, then scaled by grad
  ScratchMatrix q_norms_;          // [D x 1]: |q_d|^2
  ScratchMatrix grad_embeddings_;  // [B x F*k]
};

}  // namespace tessera::model
