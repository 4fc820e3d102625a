// The deep part of MF and two-tower (model/ctr_model.h): a user vector from the user
// fields' embeddings, an item vector from the item fields' embeddings, and their dot
// product. Fields [0, user_fields) are the user's, [user_fields, F) the item's.
//
// For example b with field embeddings e_1 .. e_F [k] (U = user_fields):
//   MF         user = e_1 + .. + e_U            item = e_U+1 + .. + e_F
//   two-tower  user = MLP_user(concat(e_1 .. e_U))
//              item = MLP_item(concat(e_U+1 .. e_F))
//   out = user . item                           [1]
// Each two-tower MLP is model/mlp.h over {fields*k, hidden..., k}: the activation
// follows the hidden layers only, the output layer is linear; so does dropout.
//
// Parameters: none (MF); two-tower: the user Mlp's, then the item Mlp's (streams: user
// from first_stream, item from first_stream + kSubTowerStreams). Input [B x F*k]: the
// embeddings only (these kinds read no dense features), and Backward's grad_input
// covers all of it. Encode computes one side alone, for retrieval (model/retrieval.h).
// Not thread-safe (Tower's contract).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/eigen.h"
#include "model/mlp.h"
#include "model/model.h"
#include "model/tower.h"

namespace tessera::model {

enum class Side { kUser, kItem };

class DotTower final : public Tower {
 public:
  // MF: a side's vector is the sum of its fields' embeddings. 1 <= user_fields <
  // num_fields and embedding_dim >= 1 (CHECKed: CreateModel validates first).
  DotTower(int num_fields, int embedding_dim, int user_fields);
  // Two-tower: a side's vector is an Mlp {fields*k, hidden..., k} of its fields'
  // embeddings, concatenated, with dropout in [0, 1) after its hidden layers.
  DotTower(int num_fields, int embedding_dim, int user_fields, const std::vector<int>& hidden,
           ActivationKind activation, float dropout = 0.0f);

  int input_size() const override { return num_fields_ * k_; }
  int output_size() const override { return 1; }
  int64_t param_count() const override;
  void InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const override;
  // MF: nothing to drop.
  void SetDropout(std::optional<DropoutKey> key) override;

  ConstMatrixMap Forward(ConstMatrixMap input, std::span<const float> params) override;
  void Backward(ConstMatrixMap input, std::span<const float> params, ConstMatrixMap grad_output,
                std::span<float> grad_params, MatrixMap grad_input) override;

  // The fields of `side`: [first_field, first_field + num_fields).
  int first_field(Side side) const { return part(side).first_field; }
  int num_fields(Side side) const { return part(side).num_fields; }

  // The vectors [N x k] of N users or items from their fields' embeddings
  // [N x num_fields(side)*k]. The view is valid until the next Encode or Forward, and
  // a Backward needs a Forward after the last Encode. Drops as SetDropout last said:
  // set none for retrieval.
  ConstMatrixMap Encode(Side side, ConstStridedMatrixMap embeddings, std::span<const float> params);

 private:
  // One side: its fields and, for two-tower, its Mlp and that Mlp's slice of params.
  struct Part {
    int first_field = 0;
    int num_fields = 0;
    std::unique_ptr<Mlp> mlp;  // null for MF
    int64_t param_offset = 0;
    ScratchMatrix input;         // two-tower: the side's embeddings, contiguous
    ScratchMatrix vectors;       // [B x k]: the side's vectors of the last Encode
    ScratchMatrix grad_vectors;  // [B x k]
    ScratchMatrix grad_input;    // two-tower: [B x num_fields*k]
  };

  Part& part(Side side) { return side == Side::kUser ? user_ : item_; }
  const Part& part(Side side) const { return side == Side::kUser ? user_ : item_; }
  std::span<const float> PartParams(const Part& p, std::span<const float> params) const;
  // Adds the gradient w.r.t. the side's embeddings to its columns of grad_input.
  void BackwardPart(Part& p, std::span<const float> params, std::span<float> grad_params,
                    MatrixMap grad_input);

  int num_fields_;
  int k_;
  Part user_;
  Part item_;
  ScratchMatrix output_;  // [B x 1]
};

}  // namespace tessera::model
