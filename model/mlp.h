// A fully connected stack on row-major batches [B x in]: hidden layers followed by
// an activation, then one linear output layer. DeepFM's deep part.
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

namespace tessera::model {

class Mlp {
 public:
  // sizes = {in, hidden..., out}: at least two entries, all positive (CHECKed: the
  // caller validates user input first). `activation` follows every layer but the last.
  Mlp(const std::vector<int>& sizes, ActivationKind activation);

  int input_size() const { return layers_.front().in; }
  int output_size() const { return layers_.back().out; }
  // Floats of the parameter span.
  int64_t param_count() const { return param_count_; }

  // Fills `params` [param_count()] like torch.nn.Linear's default: W and b uniform in
  // (-1/sqrt(in), 1/sqrt(in)). Layer l draws W from stream first_stream + 2l and b
  // from first_stream + 2l + 1 (common/hash.h UniformFromKey), so a value depends on
  // (seed, layer, index) only.
  void InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const;

  // The output [B x out] of `input` [B x in]; the view is valid until the next Forward.
  ConstMatrixMap Forward(ConstMatrixMap input, std::span<const float> params);

  // Backpropagates `grad_output` [B x out] through the last Forward, which must have
  // had the same input and params. Overwrites `grad_params` [param_count()] with the
  // gradient w.r.t. the parameters and ADDS the gradient w.r.t. the first
  // grad_input.cols() columns of the input to `grad_input` [B x n], n <= in (callers
  // that need no input gradient for some trailing columns, such as raw dense
  // features, skip their cost).
  void Backward(ConstMatrixMap input, std::span<const float> params, ConstMatrixMap grad_output,
                std::span<float> grad_params, MatrixMap grad_input);

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
  int64_t param_count_ = 0;
  std::vector<ScratchMatrix> outputs_;  // [l]: layer l's output, after its activation
  std::vector<ScratchMatrix> grads_;    // [l]: d loss / d pre-activation of hidden layer l
};

}  // namespace tessera::model
