// A fully connected stack on row-major batches [B x in]: hidden layers followed by
// an activation, then one output layer, linear unless `activate_output` (DLRM's
// bottom MLP, DCN-v2's deep part). The deep part of DeepFM, MLP and Wide & Deep, and
// a building block of DlrmTower and CrossTower.
//
// Parameters live in a span the caller owns (a slice of the model's dense vector),
// laid out layer after layer as W [out x in] row-major (torch.nn.Linear's weight)
// then b [out]. An Mlp owns only the scratch of its last Forward (each layer's
// output), which Backward reuses: not thread-safe, one Mlp per compute thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/eigen.h"
#include "model/model.h"
#include "model/tower.h"

namespace tessera::model {

class Mlp final : public Tower {
 public:
  // sizes = {in, hidden..., out}: at least two entries, all positive (CHECKed: the
  // caller validates user input first). `activation` follows every layer but the
  // last, and the last too when `activate_output`.
  Mlp(const std::vector<int>& sizes, ActivationKind activation, bool activate_output = false);

  int input_size() const override { return layers_.front().in; }
  int output_size() const override { return layers_.back().out; }
  int64_t param_count() const override { return param_count_; }

  // Fills `params` [param_count()] like torch.nn.Linear's default: W and b uniform in
  // (-1/sqrt(in), 1/sqrt(in)). Layer l draws W from stream first_stream + 2l and b
  // from first_stream + 2l + 1 (common/hash.h UniformFromKey), so a value depends on
  // (seed, layer, index) only.
  void InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const override;

  // Tower's contract.
  ConstMatrixMap Forward(ConstMatrixMap input, std::span<const float> params) override;
  void Backward(ConstMatrixMap input, std::span<const float> params, ConstMatrixMap grad_output,
                std::span<float> grad_params, MatrixMap grad_input) override;

 private:
  struct Layer {
    int in = 0;
    int out = 0;
    int64_t weight_offset = 0;  // W [out x in]
    int64_t bias_offset = 0;    // b [out]
  };

  ConstMatrixMap Weight(const Layer& layer, std::span<const float> params) const;
  ConstVectorMap Bias(const Layer& layer, std::span<const float> params) const;

  std::vector<Layer> layers_;
  ActivationKind activation_;
  bool activate_output_;
  int64_t param_count_ = 0;
  std::vector<ScratchMatrix> outputs_;  // [l]: layer l's output, after its activation
  std::vector<ScratchMatrix> grads_;    // [l]: d loss / d pre-activation of layer l
};

}  // namespace tessera::model
