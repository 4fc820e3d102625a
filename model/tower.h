// The deep part of a CTR model: a differentiable block from the gathered features
// [B x (F*k + D)] (the field embeddings e_1 .. e_F, then the raw dense features) to
// per-example outputs [B x out]. Mlp, DlrmTower and CrossTower implement it, so
// CtrModel gathers bags, sums logits and scatters gradients once for every model.
//
// Parameters live in a span the caller owns (a slice of the model's dense vector);
// each implementation documents its layout. A Tower owns only the scratch of its
// last Forward, which Backward reuses: not thread-safe, one Tower per compute thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "model/eigen.h"

namespace tessera::model {

// The dropout masks of one training step (model/mlp.h): every mask is a pure function
// of (seed, step) and the example, layer and unit it covers.
struct DropoutKey {
  uint64_t seed = 0;
  uint64_t step = 0;
};

class Tower {
 public:
  virtual ~Tower() = default;

  virtual int input_size() const = 0;
  virtual int output_size() const = 0;
  // Floats of the parameter span.
  virtual int64_t param_count() const = 0;

  // Fills `params` [param_count()]: a pure function of (seed, first_stream). A tower
  // draws from streams first_stream .. first_stream + kTowerStreams - 1 only.
  virtual void InitialParams(uint64_t seed, uint64_t first_stream,
                             std::span<float> params) const = 0;

  // The dropout of the Forwards that follow: the masks of `key` (training), or none
  // (nullopt: inference, the state of a new tower). A tower without dropout ignores it.
  virtual void SetDropout(std::optional<DropoutKey> key) = 0;

  // The output [B x out] of `input` [B x in]; the view is valid until the next Forward.
  virtual ConstMatrixMap Forward(ConstMatrixMap input, std::span<const float> params) = 0;

  // Backpropagates `grad_output` [B x out] through the last Forward, which must have
  // had the same input and params. Overwrites `grad_params` [param_count()] and ADDS
  // the gradient w.r.t. the first grad_input.cols() columns of the input to
  // `grad_input` [B x n], n <= in (trailing columns such as raw dense features need
  // no input gradient, and skipping them skips their cost).
  virtual void Backward(ConstMatrixMap input, std::span<const float> params,
                        ConstMatrixMap grad_output, std::span<float> grad_params,
                        MatrixMap grad_input) = 0;
};

// The random streams of one tower. A tower built of parts gives its i-th part the
// streams from first_stream + i * kSubTowerStreams (an Mlp uses two per layer).
inline constexpr uint64_t kSubTowerStreams = 256;
inline constexpr uint64_t kTowerStreams = 16 * kSubTowerStreams;

}  // namespace tessera::model
