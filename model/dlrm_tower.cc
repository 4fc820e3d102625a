#include "model/dlrm_tower.h"

namespace tessera::model {
namespace {

std::vector<int> Sizes(int in, const std::vector<int>& hidden, int out) {
  std::vector<int> sizes = {in};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(out);
  return sizes;
}

}  // namespace

DlrmTower::DlrmTower(int num_fields, int embedding_dim, int num_dense,
                     const std::vector<int>& bottom_hidden, const std::vector<int>& top_hidden,
                     ActivationKind activation, float dropout)
    : num_fields_(num_fields),
      k_(embedding_dim),
      num_dense_(num_dense),
      bottom_(Sizes(num_dense, bottom_hidden, embedding_dim), activation,
              /*activate_output=*/true, dropout, /*dropout_stream=*/0),
      top_(Sizes(embedding_dim + num_fields * (num_fields + 1) / 2, top_hidden, 1), activation,
           /*activate_output=*/false, dropout, /*dropout_stream=*/1) {
  CHECK_GE(num_dense, 1);
}

void DlrmTower::SetDropout(std::optional<DropoutKey> key) {
  bottom_.SetDropout(key);
  top_.SetDropout(key);
}

void DlrmTower::InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const {
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count());
  bottom_.InitialParams(seed, first_stream, params.first(bottom_.param_count()));
  top_.InitialParams(seed, first_stream + kSubTowerStreams, params.subspan(bottom_.param_count()));
}

ConstMatrixMap DlrmTower::Forward(ConstMatrixMap input, std::span<const float> params) {
  CHECK_EQ(input.cols(), input_size());
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count());
  const int64_t batch = input.rows();
  const int64_t emb_cols = int64_t{num_fields_} * k_;
  dense_.Resize(batch, num_dense_) = input.rightCols(num_dense_);
  ConstMatrixMap z = bottom_.Forward(dense_.view(), params.first(bottom_.param_count()));
  MatrixMap vectors = vectors_.Resize(batch, num_vectors() * int64_t{k_});
  vectors.leftCols(k_) = z;
  vectors.rightCols(emb_cols) = input.leftCols(emb_cols);
  MatrixMap top_input = top_input_.Resize(batch, top_.input_size());
  top_input.leftCols(k_) = z;
  int64_t column = k_;
  for (int i = 1; i < num_vectors(); ++i) {
    for (int j = 0; j < i; ++j) {
      top_input.col(column++) = (vectors.middleCols(int64_t{i} * k_, k_).array() *
                                 vectors.middleCols(int64_t{j} * k_, k_).array())
                                    .rowwise()
                                    .sum();
    }
  }
  return top_.Forward(top_input_.view(), params.subspan(bottom_.param_count()));
}

void DlrmTower::Backward(ConstMatrixMap input, std::span<const float> params,
                         ConstMatrixMap grad_output, std::span<float> grad_params,
                         MatrixMap grad_input) {
  CHECK_EQ(static_cast<int64_t>(grad_params.size()), param_count());
  CHECK_LE(grad_input.cols(), int64_t{num_fields_} * k_);
  const int64_t batch = input.rows();
  const int64_t bottom_size = bottom_.param_count();
  MatrixMap grad_top_input = grad_top_input_.ResizeZero(batch, top_.input_size());
  top_.Backward(top_input_.view(), params.subspan(bottom_size), grad_output,
                grad_params.subspan(bottom_size), grad_top_input);
  // d (t_i . t_j) / d t_i = t_j, and the other way round.
  ConstMatrixMap vectors = vectors_.view();
  MatrixMap grad_vectors = grad_vectors_.ResizeZero(batch, vectors.cols());
  int64_t column = k_;
  for (int i = 1; i < num_vectors(); ++i) {
    for (int j = 0; j < i; ++j) {
      const auto g = grad_top_input.col(column++).array();
      grad_vectors.middleCols(int64_t{i} * k_, k_).array() +=
          vectors.middleCols(int64_t{j} * k_, k_).array().colwise() * g;
      grad_vectors.middleCols(int64_t{j} * k_, k_).array() +=
          vectors.middleCols(int64_t{i} * k_, k_).array().colwise() * g;
    }
  }
  // z feeds the top MLP directly and as t_0; its gradient goes into t_0's slot.
  grad_vectors.leftCols(k_) += grad_top_input.leftCols(k_);
  grad_input += grad_vectors.middleCols(k_, grad_input.cols());
  grad_z_.Resize(batch, k_) = grad_vectors.leftCols(k_);  // contiguous, as Mlp reads it
  bottom_.Backward(dense_.view(), params.first(bottom_size), grad_z_.view(),
                   grad_params.first(bottom_size), no_grad_.Resize(batch, 0));
}

}  // namespace tessera::model
