// DLRM's deep part (Naumov et al. 2019; DLRMNet of facebookresearch/dlrm and the
// dlrm of shared/peers/torch_ctr.py): a bottom MLP maps the dense features to one
// more embedding-sized vector, every pair of the F+1 vectors meets in a dot
// product, and a top MLP reads the bottom output and those dot products.
//
// For example b with field embeddings e_1 .. e_F [k] and dense features x [D]:
//   z = bottom(x)                            (activation after every layer, the last too)
//   T = (t_0 .. t_F) = (z, e_1 .. e_F)
//   inter = (t_i . t_j for i = 1..F, j = 0..i-1)   torch.tril_indices(F+1, F+1, -1) order
//   out = top(concat(z, inter))              [1], linear output layer
// Layers: bottom {D, bottom_hidden..., k}, top {k + F(F+1)/2, top_hidden..., 1}.
//
// Parameters: the bottom Mlp's, then the top Mlp's (model/mlp.h). Input [B x (F*k + D)]
// as Tower says; Backward returns no gradient for the dense features (grad_input
// may cover at most the F*k embedding columns). Streams: bottom from first_stream,
// top from first_stream + kSubTowerStreams. Dropout follows every activation of both
// MLPs, z included (model/mlp.h). Not thread-safe (Tower's contract).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/eigen.h"
#include "model/mlp.h"
#include "model/model.h"
#include "model/tower.h"

namespace tessera::model {

class DlrmTower final : public Tower {
 public:
  // num_dense >= 1, all sizes positive and dropout in [0, 1) (CHECKed: CreateModel
  // validates first).
  DlrmTower(int num_fields, int embedding_dim, int num_dense, const std::vector<int>& bottom_hidden,
            const std::vector<int>& top_hidden, ActivationKind activation, float dropout = 0.0f);

  int input_size() const override { return num_fields_ * k_ + num_dense_; }
  int output_size() const override { return 1; }
  int64_t param_count() const override { return bottom_.param_count() + top_.param_count(); }
  void InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const override;
  void SetDropout(std::optional<DropoutKey> key) override;

  ConstMatrixMap Forward(ConstMatrixMap input, std::span<const float> params) override;
  void Backward(ConstMatrixMap input, std::span<const float> params, ConstMatrixMap grad_output,
                std::span<float> grad_params, MatrixMap grad_input) override;

 private:
  int num_vectors() const { return num_fields_ + 1; }

  int num_fields_;
  int k_;
  int num_dense_;
  Mlp bottom_;
  Mlp top_;

  ScratchMatrix dense_;           // [B x D]: the raw dense features, contiguous
  ScratchMatrix vectors_;         // [B x (F+1)*k]: t_0 .. t_F
  ScratchMatrix top_input_;       // [B x (k + F(F+1)/2)]: z, then the dot products
  ScratchMatrix grad_top_input_;  // like top_input_
  ScratchMatrix grad_vectors_;    // like vectors_
  ScratchMatrix grad_z_;          // [B x k]: d loss / d z
  ScratchMatrix no_grad_;         // [B x 0]: the dense features get no gradient
};

}  // namespace tessera::model
