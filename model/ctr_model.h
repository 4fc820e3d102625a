// Every model as one parameterised model (DESIGN.md §6): a linear part, an FM
// pairwise part and a deep part (a Tower, model/tower.h), each present or not.
// Bags are gathered, outputs summed and gradients scattered once, here, for all.
// Mirrors CTRModel of the PyTorch reference (shared/peers/torch_ctr.py); MF mirrors
// BiasedMF of shared/peers/torch_mf.py.
//
// Bags. Entry i of a bag names a sparse row [w_i | v_i] and has a weight x_i
// (BatchView::values; 1 when the batch has none). A bag sums its weighted rows:
// w_bf = sum_i x_i w_i and e_bf = sum_i x_i v_i over field f's bag of example b; an
// empty bag is 0. x_b [D] are the example's dense features.
//
// The output z of example b (the logit, for binary cross-entropy):
//   LR          z = bias + sum_f w_bf + u . x_b
//   FM          LR + 0.5 * sum_k [(sum_i y_ik)^2 - sum_i y_ik^2]
//               where y runs over every weighted feature of the example: x_i v_i for
//               every entry i of every bag, then x_bd q_d for every dense feature d
//               (the FM of Rendle 2010 over individual features: two entries of one
//               multi-hot bag interact too, an entry does not interact with itself)
//   DeepFM      FM + MLP(c_b)             where c_b = concat(e_b1 .. e_bF, x_b)
//   MLP         MLP(c_b)
//   WIDE_DEEP   LR + MLP(c_b)
//   DLRM        DlrmTower(c_b)            (model/dlrm_tower.h)
//   DCN_V2      CrossTower(c_b)           (model/cross_tower.h)
//   MF          bias + sum_f w_bf + (e_b1 + .. + e_bU) . (e_bU+1 + .. + e_bF)
//   TWO_TOWER   bias + MLP_user(e_b1 .. e_bU) . MLP_item(e_bU+1 .. e_bF)
// MLP is model/mlp.h over {F*k + D, mlp_hidden..., 1}, linear output layer. MF and
// TWO_TOWER are DotTower (model/dot_tower.h) with U = user_fields, and take no dense
// features (CreateModel requires num_dense = 0). With one user-id and one item-id
// field, label_offset = mu and the bias at 0, MF is torch_mf.py's
// mu + b_u + b_i + <p_u, q_i>.
//
// Loss (ModelSpec::loss), any kind:
//   binary cross-entropy  p = sigmoid(z); loss = batch mean of -y log p - (1-y) log(1-p)
//   squared error         p = label_offset + z; loss = batch mean of (p - y)^2, no 1/2
//                         (torch_mf.py's MSE); Predict clips p to [min_prediction,
//                         max_prediction] when min_prediction < max_prediction,
//                         TrainStep never does.
//
// Dropout (ModelSpec::dropout = p > 0): in TrainStep only, every activation of every
// Mlp (MLP, the deep part of DeepFM, WIDE_DEEP and DCN_V2, DLRM's two MLPs with the
// bottom output, TWO_TOWER's towers) is followed by inverted dropout: each output is
// zeroed with probability p, else scaled by 1/(1-p), and its gradient likewise. The
// masks of the n-th TrainStep call (counting from 0, empty batches too) are those of
// DropoutKey{dropout_seed, n} (model/mlp.h gives the formula): a pure function of
// (seed, n, example row in the batch, layer, unit), so equal models fed equal batches
// give equal bits. Predict and EncodeSide never drop. LR, FM and MF have no Mlp.
//
// Sparse row: [w] (LR), [w | v_1 .. v_k] (FM, DeepFM, WIDE_DEEP, MF) or [v_1 .. v_k]
// (MLP, DLRM, DCN_V2, TWO_TOWER). w starts at zero, v normal with standard deviation
// init_std.
// Dense vector, in this order, each group present only where the formula has it:
//   bias [1] | u [D] (the linear part) | q [D x k] row-major (FM, DeepFM) |
//   the tower's parameters (its header gives their layout; MLP: per layer
//   W [out x in] row-major then b [out]).
//
// The work is done in batch form on Eigen matrices: bag sums are gathered into a
// [B x (F*k + D)] matrix, the towers are matrix products. The FM term is computed
// from the bag sums, |sum of all y|^2 - sum_f |e_bf|^2 - sum_d |x_bd q_d|^2, then
// corrected to the per-feature self-interactions for bags of two or more entries
// only, so one-hot data pays nothing for it. Weighted and unweighted batches take
// separate, specialised loops, chosen once per batch. All scratch is held here and
// reused across calls, so a steady stream of batches allocates only inside Eigen's
// matrix products. No threads: the same inputs give bit-identical outputs.
// Not thread-safe (Model's contract): one CtrModel per compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "model/dot_tower.h"
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

  // For retrieval (model/retrieval.h), MF and TWO_TOWER only: the vectors [N x k] and
  // the side-only terms [N] of the N users or items of `bags`, a batch over that
  // side's fields alone (labels and dense are not read). A user's term is the bias
  // plus its w_bf (MF), an item's its w_bf; two-tower: the bias and 0. The output of
  // a pair is user term + item term + user vector . item vector.
  void EncodeSide(Side side, const BatchView& bags, const ParamsView& params, RowMatrix* vectors,
                  Vector* terms);
  // The prediction Predict returns for output z (clipped for squared error).
  float Prediction(float output) const;

  // The TrainStep count that picks the next TrainStep's dropout masks (model/mlp.h),
  // which then advances it. For tests: setting it before each call repeats a mask.
  uint64_t dropout_step() const { return dropout_step_; }
  void set_dropout_step(uint64_t step) { dropout_step_ = step; }
  void SetDropoutStep(uint64_t step) override { dropout_step_ = step; }

 private:
  // CHECKs that the views fit this model (the caller built them: a bug otherwise).
  void CheckInputs(const BatchView& batch, const ParamsView& params,
                   std::span<float> predictions) const;
  // Fills logits_ [B], and features_ when the model has embeddings; the tower drops
  // with the masks of `dropout` (none: inference).
  void Forward(const BatchView& batch, const ParamsView& params, std::optional<DropoutKey> dropout);
  // logits_ = bias + sum_f w_bf; features_ = [e_b1 .. e_bF | x_b (with a tower)];
  // fm_corrections_ for FM.
  void GatherBags(const BatchView& batch, const ParamsView& params);
  // logits_ += the FM pairwise term; keeps the vector sums in sums_.
  void AddPairwise(ConstMatrixMap dense, std::span<const float> q);
  // grad_logits_ [B] from logits_; writes predictions, returns the mean loss.
  double LossAndGradient(std::span<const float> labels, std::span<float> predictions);
  double BinaryCrossEntropy(std::span<const float> labels, std::span<float> predictions);
  double SquaredError(std::span<const float> labels, std::span<float> predictions);
  // grad_embeddings_ = d loss / d e through the pairwise term, and grad_q.
  void BackwardPairwise(ConstMatrixMap dense, std::span<const float> q, std::span<float> grad_q);
  // Sums grad_logits_ and grad_embeddings_ into the gradient of every row used.
  template <bool kWeighted>
  void ScatterSparse(const BatchView& batch, std::span<const float> sparse,
                     std::span<float> grad_sparse) const;

  ConstStridedMatrixMap Embeddings() const;  // the [B x F*k] left part of features_

  int num_fields_;
  int num_dense_;
  int k_;  // 0 for LR: no embedding columns
  float init_std_;
  bool bias_;      // the bias
  bool linear_;    // w and u
  bool pairwise_;  // q and the FM term
  int v_column_;   // where the embedding starts in a sparse row: after w, if any
  LossKind loss_;
  float label_offset_;
  float min_prediction_;
  float max_prediction_;
  uint64_t dropout_seed_;
  uint64_t dropout_step_ = 0;  // TrainStep calls so far, or as set_dropout_step said
  // Offsets into the dense vector (see the layout above).
  int64_t u_offset_;
  int64_t q_offset_;
  int64_t tower_offset_;
  int64_t dense_size_;
  std::unique_ptr<Tower> tower_;   // the deep part; null for LR and FM
  DotTower* dot_tower_ = nullptr;  // tower_ for MF and TWO_TOWER

  ScratchMatrix logits_;             // [B x 1]
  ScratchMatrix grad_logits_;        // [B x 1]: d mean loss / d logit
  ScratchMatrix features_;           // [B x (F*k + D with a tower)]
  ScratchMatrix fm_corrections_;     // [B x 1]: FM, see GatherBags
  bool has_fm_corrections_ = false;  // a bag of the batch has two or more entries
  ScratchMatrix sums_;               // [B x k]: sum of the FM vectors, then scaled by grad
  ScratchMatrix q_norms_;            // [D x 1]: |q_d|^2
  ScratchMatrix grad_embeddings_;    // [B x F*k]
  ScratchMatrix side_embeddings_;    // EncodeSide: [N x side fields*k]
};

}  // namespace tessera::model
