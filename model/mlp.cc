#include "model/mlp.h"

#include <cmath>

#include "common/hash.h"
#include "model/activation.h"

namespace tessera::model {
namespace {

// Random streams of the dropout masks ("drop" in ASCII), apart from every stream of
// the initial values; 256 per Mlp, one per layer.
constexpr uint64_t kDropoutStream = uint64_t{0x64726f70} << 32;

}  // namespace

Mlp::Mlp(const std::vector<int>& sizes, ActivationKind activation, bool activate_output,
         float dropout, uint64_t dropout_stream)
    : activation_(activation),
      activate_output_(activate_output),
      dropout_(dropout),
      dropout_stream_(dropout_stream) {
  CHECK_GE(sizes.size(), 2u);
  CHECK(dropout >= 0.0f && dropout < 1.0f) << "dropout " << dropout;
  CHECK_LT(dropout_stream, uint64_t{1} << 24);
  CHECK_LE(sizes.size(), 257u);
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    CHECK_GT(sizes[l], 0);
    CHECK_GT(sizes[l + 1], 0);
    Layer layer{sizes[l], sizes[l + 1], param_count_, 0};
    layer.bias_offset = layer.weight_offset + int64_t{layer.in} * layer.out;
    param_count_ = layer.bias_offset + layer.out;
    layers_.push_back(layer);
  }
  outputs_.resize(layers_.size());
  grads_.resize(layers_.size());
  if (dropout_ > 0.0f) {
    masks_.resize(layers_.size());
    dropped_outputs_.resize(layers_.size());
  }
}

ConstMatrixMap Mlp::Weight(const Layer& layer, std::span<const float> params) const {
  return MapMatrix(params.subspan(layer.weight_offset, int64_t{layer.out} * layer.in), layer.out,
                   layer.in);
}

ConstVectorMap Mlp::Bias(const Layer& layer, std::span<const float> params) const {
  return MapVector(params.subspan(layer.bias_offset, layer.out));
}

void Mlp::InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const {
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count_);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const double bound = 1.0 / std::sqrt(static_cast<double>(layer.in));
    const uint64_t stream = first_stream + 2 * l;
    for (int64_t i = 0; i < int64_t{layer.out} * layer.in; ++i) {
      double u = UniformFromKey(seed, stream, /*key=*/0, i);
      params[layer.weight_offset + i] = static_cast<float>((2.0 * u - 1.0) * bound);
    }
    for (int64_t i = 0; i < layer.out; ++i) {
      double u = UniformFromKey(seed, stream + 1, /*key=*/0, i);
      params[layer.bias_offset + i] = static_cast<float>((2.0 * u - 1.0) * bound);
    }
  }
}

ConstMatrixMap Mlp::LayerOutput(size_t l) const {
  return dropped_ && activated(l) ? dropped_outputs_[l].view() : outputs_[l].view();
}

void Mlp::Drop(size_t l, const DropoutKey& key) {
  ConstMatrixMap z = outputs_[l].view();
  MatrixMap mask = masks_[l].Resize(z.rows(), z.cols());
  const uint64_t stream = kDropoutStream + 256 * dropout_stream_ + l;
  const double rate = dropout_;
  const float scale = 1.0f / (1.0f - dropout_);
  for (int64_t b = 0; b < z.rows(); ++b) {
    for (int64_t j = 0; j < z.cols(); ++j) {
      const uint64_t index = static_cast<uint64_t>(b * z.cols() + j);
      mask(b, j) = UniformFromKey(key.seed, stream, key.step, index) < rate ? 0.0f : scale;
    }
  }
  dropped_outputs_[l].Resize(z.rows(), z.cols()) = (z.array() * mask.array()).matrix();
}

ConstMatrixMap Mlp::Forward(ConstMatrixMap input, std::span<const float> params) {
  CHECK_EQ(input.cols(), input_size());
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count_);
  dropped_ = dropout_ > 0.0f && dropout_key_.has_value();
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    ConstMatrixMap x = l == 0 ? input : LayerOutput(l - 1);
    MatrixMap z = outputs_[l].Resize(input.rows(), layer.out);
    z.noalias() = x * Weight(layer, params).transpose();
    z.rowwise() += Bias(layer, params).transpose();
    if (!activated(l)) continue;
    ApplyActivation(activation_, z);
    if (dropped_) Drop(l, *dropout_key_);
  }
  return LayerOutput(layers_.size() - 1);
}

void Mlp::Backward(ConstMatrixMap input, std::span<const float> params, ConstMatrixMap grad_output,
                   std::span<float> grad_params, MatrixMap grad_input) {
  CHECK_EQ(static_cast<int64_t>(grad_params.size()), param_count_);
  CHECK_EQ(grad_output.rows(), input.rows());
  CHECK_EQ(grad_output.cols(), output_size());
  CHECK_EQ(grad_input.rows(), input.rows());
  CHECK_LE(grad_input.cols(), input_size());
  if (activate_output_) {
    MatrixMap grad = grads_.back().Resize(input.rows(), output_size());
    grad = grad_output;
    if (dropped_) grad.array() *= masks_.back().view().array();
    MultiplyByActivationDerivative(activation_, outputs_.back().view(), grad);
  }
  // d loss / d pre-activation of the output layer.
  ConstMatrixMap output_grad = activate_output_ ? grads_.back().view() : grad_output;
  for (size_t l = layers_.size(); l-- > 0;) {
    const Layer& layer = layers_[l];
    // d loss / d pre-activation of layer l.
    ConstMatrixMap upstream = l + 1 == layers_.size() ? output_grad : grads_[l].view();
    ConstMatrixMap layer_input = l == 0 ? input : LayerOutput(l - 1);
    MapMatrix(grad_params.subspan(layer.weight_offset, int64_t{layer.out} * layer.in), layer.out,
              layer.in)
        .noalias() = upstream.transpose() * layer_input;
    MapVector(grad_params.subspan(layer.bias_offset, layer.out)) =
        upstream.colwise().sum().transpose();
    ConstMatrixMap weight = Weight(layer, params);
    if (l == 0) {
      grad_input.noalias() += upstream * weight.leftCols(grad_input.cols());
      return;
    }
    MatrixMap grad = grads_[l - 1].Resize(input.rows(), layer.in);
    grad.noalias() = upstream * weight;
    if (dropped_) grad.array() *= masks_[l - 1].view().array();
    MultiplyByActivationDerivative(activation_, outputs_[l - 1].view(), grad);
  }
}

}  // namespace tessera::model
