#include "model/dot_tower.h"

namespace tessera::model {

DotTower::DotTower(int num_fields, int embedding_dim, int user_fields)
    : num_fields_(num_fields), k_(embedding_dim) {
  CHECK_GE(k_, 1);
  CHECK(1 <= user_fields && user_fields < num_fields) << user_fields << " of " << num_fields;
  user_.first_field = 0;
  user_.num_fields = user_fields;
  item_.first_field = user_fields;
  item_.num_fields = num_fields - user_fields;
}

DotTower::DotTower(int num_fields, int embedding_dim, int user_fields,
                   const std::vector<int>& hidden, ActivationKind activation, float dropout)
    : DotTower(num_fields, embedding_dim, user_fields) {
  uint64_t dropout_stream = 0;
  for (Part* p : {&user_, &item_}) {
    std::vector<int> sizes = {p->num_fields * k_};
    sizes.insert(sizes.end(), hidden.begin(), hidden.end());
    sizes.push_back(k_);
    p->mlp = std::make_unique<Mlp>(sizes, activation, /*activate_output=*/false, dropout,
                                   dropout_stream++);
  }
  item_.param_offset = user_.mlp->param_count();
}

int64_t DotTower::param_count() const {
  return user_.mlp == nullptr ? 0 : user_.mlp->param_count() + item_.mlp->param_count();
}

void DotTower::InitialParams(uint64_t seed, uint64_t first_stream, std::span<float> params) const {
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count());
  if (user_.mlp == nullptr) return;
  user_.mlp->InitialParams(seed, first_stream, params.first(user_.mlp->param_count()));
  item_.mlp->InitialParams(seed, first_stream + kSubTowerStreams,
                           params.subspan(item_.param_offset));
}

void DotTower::SetDropout(std::optional<DropoutKey> key) {
  if (user_.mlp == nullptr) return;
  user_.mlp->SetDropout(key);
  item_.mlp->SetDropout(key);
}

std::span<const float> DotTower::PartParams(const Part& p, std::span<const float> params) const {
  return params.subspan(p.param_offset, p.mlp->param_count());
}

ConstMatrixMap DotTower::Encode(Side side, ConstStridedMatrixMap embeddings,
                                std::span<const float> params) {
  Part& p = part(side);
  CHECK_EQ(embeddings.cols(), int64_t{p.num_fields} * k_);
  CHECK_EQ(static_cast<int64_t>(params.size()), param_count());
  MatrixMap vectors = p.vectors.Resize(embeddings.rows(), k_);
  if (p.mlp == nullptr) {
    vectors = embeddings.leftCols(k_);
    for (int f = 1; f < p.num_fields; ++f) vectors += embeddings.middleCols(int64_t{f} * k_, k_);
  } else {
    p.input.Resize(embeddings.rows(), embeddings.cols()) = embeddings;
    vectors = p.mlp->Forward(p.input.view(), PartParams(p, params));
  }
  return p.vectors.view();
}

ConstMatrixMap DotTower::Forward(ConstMatrixMap input, std::span<const float> params) {
  CHECK_EQ(input.cols(), input_size());
  auto side_columns = [&](const Part& p) {
    return ConstStridedMatrixMap(input.data() + int64_t{p.first_field} * k_, input.rows(),
                                 int64_t{p.num_fields} * k_, Eigen::OuterStride<>(input.cols()));
  };
  ConstMatrixMap user = Encode(Side::kUser, side_columns(user_), params);
  ConstMatrixMap item = Encode(Side::kItem, side_columns(item_), params);
  output_.Resize(input.rows(), 1).col(0) = user.cwiseProduct(item).rowwise().sum();
  return output_.view();
}

void DotTower::BackwardPart(Part& p, std::span<const float> params, std::span<float> grad_params,
                            MatrixMap grad_input) {
  ConstMatrixMap grad_vectors = p.grad_vectors.view();
  const int64_t first_column = int64_t{p.first_field} * k_;
  if (p.mlp == nullptr) {
    for (int f = 0; f < p.num_fields; ++f) {
      grad_input.middleCols(first_column + int64_t{f} * k_, k_) += grad_vectors;
    }
    return;
  }
  const int64_t width = int64_t{p.num_fields} * k_;
  MatrixMap grad_side = p.grad_input.ResizeZero(grad_input.rows(), width);
  p.mlp->Backward(p.input.view(), PartParams(p, params), grad_vectors,
                  grad_params.subspan(p.param_offset, p.mlp->param_count()), grad_side);
  grad_input.middleCols(first_column, width) += grad_side;
}

void DotTower::Backward(ConstMatrixMap input, std::span<const float> params,
                        ConstMatrixMap grad_output, std::span<float> grad_params,
                        MatrixMap grad_input) {
  CHECK_EQ(grad_output.rows(), input.rows());
  CHECK_EQ(grad_output.cols(), 1);
  CHECK_EQ(grad_input.rows(), input.rows());
  CHECK_EQ(grad_input.cols(), input_size()) << "every input column is an embedding";
  CHECK_EQ(static_cast<int64_t>(grad_params.size()), param_count());
  // d (user . item) / d user = item, and the other way round.
  auto g = grad_output.col(0).array();
  user_.grad_vectors.Resize(input.rows(), k_) = item_.vectors.view().array().colwise() * g;
  item_.grad_vectors.Resize(input.rows(), k_) = user_.vectors.view().array().colwise() * g;
  BackwardPart(user_, params, grad_params, grad_input);
  BackwardPart(item_, params, grad_params, grad_input);
}

}  // namespace tessera::model
