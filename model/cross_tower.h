// DCN-v2's deep part (Wang et al. 2021, "DCN V2", the parallel structure): a cross
// network and an MLP read the same x_0, and one linear layer reads both outputs.
//
// For example b with x_0 = concat(e_1 .. e_F, x) [d], d = F*k + D:
//   x_{l+1} = x_0 * (W_l x_l + b_l) + x_l      l = 0 .. L-1, W_l [d x d] full rank
//   h = deep(x_0)                              [H], activation after every layer
//   out = w . concat(x_L, h) + c               [1]
// With no hidden sizes there is no deep part (H = 0): the cross network alone.
//
// Parameters, in this order: per cross layer W_l [d x d] row-major then b_l [d];
// the deep Mlp {d, hidden...} (model/mlp.h); the output layer w [1 x (d + H)] then
// c [1]. Every block starts like torch.nn.Linear (uniform within 1/sqrt(fan-in)).
// Streams: cross layer l from first_stream + 2l, the deep Mlp from first_stream +
// kSubTowerStreams, the output layer from first_stream + 2 * kSubTowerStreams.
// Dropout follows every activation of the deep part, h included (model/mlp.h); the
// cross network and the output layer have none. Not thread-safe (Tower's contract).
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

class CrossTower final : public Tower {
 public:
  // input_size >= 1, 0 <= cross_layers <= 64, hidden sizes positive, dropout in
  // [0, 1) (CHECKed: CreateModel validates first).
  CrossTower(int input_size, int cross_layers, const std::vector<int>& hidden,
             ActivationKind activation, float dropout = 0.0f);

  int input_size() const override { return input_size_; }
  int output_size() const override { return 1; }
  int64_t param_count() const override { return param_count_; }
  void InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const override;
  void SetDropout(std::optional<DropoutKey> key) override;

  ConstMatrixMap Forward(ConstMatrixMap input, std::span<const float> params) override;
  void Backward(ConstMatrixMap input, std::span<const float> params, ConstMatrixMap grad_output,
                std::span<float> grad_params, MatrixMap grad_input) override;

 private:
  // Where each part's parameters start in the span.
  int64_t cross_offset(size_t layer) const;
  int64_t deep_offset() const { return deep_offset_; }
  int64_t output_offset() const { return output_offset_; }
  int deep_width() const { return deep_ == nullptr ? 0 : deep_->output_size(); }

  int input_size_;
  std::vector<Mlp> cross_;     // one linear layer {d, d} each: u_l = W_l x_l + b_l
  std::unique_ptr<Mlp> deep_;  // null without hidden sizes
  Mlp output_;                 // {d + H, 1}
  int64_t deep_offset_;
  int64_t output_offset_;
  int64_t param_count_;

  std::vector<ScratchMatrix> xs_;  // [l]: x_{l+1} [B x d]
  std::vector<ScratchMatrix> us_;  // [l]: u_l [B x d]
  ScratchMatrix concat_;           // [B x (d + H)]: x_L, h
  ScratchMatrix grad_concat_;      // like concat_
  ScratchMatrix grad_h_;           // [B x H]
  ScratchMatrix grad_x_;           // [B x d]: d loss / d x_l, walking down the layers
  ScratchMatrix grad_u_;           // [B x d]: d loss / d u_l
  ScratchMatrix grad_x0_;          // [B x d]: the direct terms of d loss / d x_0
};

}  // namespace tessera::model
