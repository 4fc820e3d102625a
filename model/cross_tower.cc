#include "model/cross_tower.h"

namespace tessera::model {
namespace {

std::unique_ptr<Mlp> DeepPart(int input_size, const std::vector<int>& hidden,
                              ActivationKind activation, float dropout) {
  if (hidden.empty()) return nullptr;
  std::vector<int> sizes = {input_size};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  return std::make_unique<Mlp>(sizes, activation, /*activate_output=*/true, dropout);
}

}  // namespace

CrossTower::CrossTower(int input_size, int cross_layers, const std::vector<int>& hidden,
                       ActivationKind activation, float dropout)
    : input_size_(input_size),
      deep_(DeepPart(input_size, hidden, activation, dropout)),
      output_({input_size + (hidden.empty() ? 0 : hidden.back()), 1}, activation) {
  CHECK_GE(cross_layers, 0);
  CHECK_LE(cross_layers, 64);
  for (int l = 0; l < cross_layers; ++l)
    cross_.emplace_back(std::vector<int>{input_size, input_size}, activation);
  deep_offset_ = cross_offset(cross_.size());
  output_offset_ = deep_offset_ + (deep_ == nullptr ? 0 : deep_->param_count());
  param_count_ = output_offset_ + output_.param_count();
  xs_.resize(cross_.size());
  us_.resize(cross_.size());
}

int64_t CrossTower::cross_offset(size_t layer) const {
  return static_cast<int64_t>(layer) * (int64_t{input_size_} * input_size_ + input_size_);
}

void CrossTower::SetDropout(std::optional<DropoutKey> key) {
  if (deep_ != nullptr) deep_->SetDropout(key);
}

void CrossTower::InitialParams(uint64_t seed, uint64_t first_stream,
                               std::span<float> params) const {
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count_);
  for (size_t l = 0; l < cross_.size(); ++l) {
    cross_[l].InitialParams(seed, first_stream + 2 * l,
                            params.subspan(cross_offset(l), cross_[l].param_count()));
  }
  if (deep_ != nullptr) {
    deep_->InitialParams(seed, first_stream + kSubTowerStreams,
                         params.subspan(deep_offset_, deep_->param_count()));
  }
  output_.InitialParams(seed, first_stream + 2 * kSubTowerStreams, params.subspan(output_offset_));
}

ConstMatrixMap CrossTower::Forward(ConstMatrixMap input, std::span<const float> params) {
  CHECK_EQ(input.cols(), input_size_);
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count_);
  const int64_t batch = input.rows();
  for (size_t l = 0; l < cross_.size(); ++l) {
    ConstMatrixMap x = l == 0 ? input : xs_[l - 1].view();
    MatrixMap u = us_[l].Resize(batch, input_size_);
    u = cross_[l].Forward(x, params.subspan(cross_offset(l), cross_[l].param_count()));
    xs_[l].Resize(batch, input_size_) = (input.array() * u.array()).matrix() + x;
  }
  MatrixMap concat = concat_.Resize(batch, output_.input_size());
  concat.leftCols(input_size_) = cross_.empty() ? input : xs_.back().view();
  if (deep_ != nullptr) {
    concat.rightCols(deep_width()) =
        deep_->Forward(input, params.subspan(deep_offset_, deep_->param_count()));
  }
  return output_.Forward(concat_.view(), params.subspan(output_offset_));
}

void CrossTower::Backward(ConstMatrixMap input, std::span<const float> params,
                          ConstMatrixMap grad_output, std::span<float> grad_params,
                          MatrixMap grad_input) {
  CHECK_EQ(static_cast<int64_t>(grad_params.size()), param_count_);
  const int64_t batch = input.rows();
  MatrixMap grad_concat = grad_concat_.ResizeZero(batch, output_.input_size());
  output_.Backward(concat_.view(), params.subspan(output_offset_), grad_output,
                   grad_params.subspan(output_offset_), grad_concat);
  MatrixMap grad_x0 = grad_x0_.ResizeZero(batch, input_size_);
  if (deep_ != nullptr) {
    grad_h_.Resize(batch, deep_width()) = grad_concat.rightCols(deep_width());
    deep_->Backward(input, params.subspan(deep_offset_, deep_->param_count()), grad_h_.view(),
                    grad_params.subspan(deep_offset_, deep_->param_count()), grad_x0);
  }
  // grad_x holds d loss / d x_{l+1}; one step down it becomes d loss / d x_l =
  // grad_x + grad_u W_l, where grad_u = grad_x * x_0, and x_0 gains grad_x * u_l.
  MatrixMap grad_x = grad_x_.Resize(batch, input_size_);
  grad_x = grad_concat.leftCols(input_size_);
  for (size_t l = cross_.size(); l-- > 0;) {
    ConstMatrixMap x = l == 0 ? input : xs_[l - 1].view();
    grad_u_.Resize(batch, input_size_) = (grad_x.array() * input.array()).matrix();
    grad_x0.array() += grad_x.array() * us_[l].view().array();
    const int64_t offset = cross_offset(l);
    const int64_t size = cross_[l].param_count();
    cross_[l].Backward(x, params.subspan(offset, size), grad_u_.view(),
                       grad_params.subspan(offset, size), grad_x);
  }
  grad_x0 += grad_x;
  grad_input += grad_x0.leftCols(grad_input.cols());
}

}  // namespace tessera::model
