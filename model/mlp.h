// A fully connected stack on row-major batches [B x in]: hidden layers followed by
// an activation, then one output layer, linear unless `activate_output` (DLRM's
// bottom MLP, DCN-v2's deep part). The deep part of DeepFM, MLP and Wide & Deep, and
// a building block of DlrmTower and CrossTower.
//
// Parameters live in a span the caller owns (a slice of the model's dense vector),
// laid out layer after layer as W [out x in] row-major (torch.nn.Linear's weight)
// then b [out]. An Mlp owns only the scratch of its last Forward (each layer's
// output), which Backward reuses: not thread-safe, one Mlp per compute thread.
//
// Dropout (inverted, as torch.nn.Dropout in train mode): with a rate p > 0 and a
// DropoutKey set (SetDropout), every output of every activated layer is multiplied by
// m = 0 with probability p, else 1/(1-p), and Backward multiplies its gradient by the
// same m. m of example b (its row in the batch), layer l, unit j is
//   UniformFromKey(key.seed, kDropoutStream + 256 * dropout_stream + l, key.step,
//                  b * out_l + j) < p ? 0 : 1/(1-p)
// (common/hash.h): a pure function of its coordinates, independent of the batch's other
// rows, of threads and of the cluster. Without a key (inference) or with p = 0, no
// layer is touched: the results are bit-identical to an Mlp without dropout.
#pragma once

#include <cstdint>
#include <optional>
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
  // last, and the last too when `activate_output`; dropout at rate `dropout` in
  // [0, 1) (CHECKed) follows every activation. Mlps of one model take distinct
  // `dropout_stream`s (< 2^24), so that their masks are independent.
  Mlp(const std::vector<int>& sizes, ActivationKind activation, bool activate_output = false,
      float dropout = 0.0f, uint64_t dropout_stream = 0);

  int input_size() const override { return layers_.front().in; }
  int output_size() const override { return layers_.back().out; }
  int64_t param_count() const override { return param_count_; }

  // Fills `params` [param_count()] like torch.nn.Linear's default: W and b uniform in
  // (-1/sqrt(in), 1/sqrt(in)). Layer l draws W from stream first_stream + 2l and b
  // from first_stream + 2l + 1 (common/hash.h UniformFromKey), so a value depends on
  // (seed, layer, index) only.
  void InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const override;

  // Tower's contract.
  void SetDropout(std::optional<DropoutKey> key) override { dropout_key_ = key; }
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
  bool activated(size_t l) const { return l + 1 < layers_.size() || activate_output_; }
  // Layer l's output as the next layer reads it: after dropout when the last Forward
  // dropped.
  ConstMatrixMap LayerOutput(size_t l) const;
  // Fills masks_[l] [B x out] for the key and scales dropped_[l] = outputs_[l] by it.
  void Drop(size_t l, const DropoutKey& key);

  std::vector<Layer> layers_;
  ActivationKind activation_;
  bool activate_output_;
  int64_t param_count_ = 0;
  float dropout_;
  uint64_t dropout_stream_;
  std::optional<DropoutKey> dropout_key_;       // none: inference
  bool dropped_ = false;                        // the last Forward applied dropout
  std::vector<ScratchMatrix> outputs_;          // [l]: layer l's output, after its activation
  std::vector<ScratchMatrix> grads_;            // [l]: d loss / d pre-activation of layer l
  std::vector<ScratchMatrix> masks_;            // [l]: dropout: 0 or 1/(1-p) per output
  std::vector<ScratchMatrix> dropped_outputs_;  // [l]: outputs_[l] times masks_[l]
};

}  // namespace tessera::model
