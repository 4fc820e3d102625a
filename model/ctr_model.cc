#include "model/ctr_model.h"

#include <algorithm>
#include <cmath>

#include "common/hash.h"
#include "model/cross_tower.h"
#include "model/dlrm_tower.h"
#include "model/dot_tower.h"
#include "model/mlp.h"

namespace tessera::model {
namespace {

// Random streams of the dense initial values ("dense" in ASCII, then a group
// number), apart from any stream a sparse table draws from.
constexpr uint64_t kQStream = uint64_t{0x64656e7365} << 16;
constexpr uint64_t kTowerFirstStream = kQStream + 1;

bool HasLinearPart(ModelKind kind) {
  return kind == ModelKind::kLogisticRegression || kind == ModelKind::kFactorizationMachine ||
         kind == ModelKind::kDeepFM || kind == ModelKind::kWideDeep || kind == ModelKind::kMf;
}

bool HasBias(ModelKind kind) { return HasLinearPart(kind) || kind == ModelKind::kTwoTower; }

bool HasPairwisePart(ModelKind kind) {
  return kind == ModelKind::kFactorizationMachine || kind == ModelKind::kDeepFM;
}

// The deep part of `spec`'s kind over concat(embeddings, dense), or null.
std::unique_ptr<Tower> MakeTower(const ModelSpec& spec) {
  const int width = spec.num_fields * spec.embedding_dim + spec.num_dense;
  switch (spec.kind) {
    case ModelKind::kLogisticRegression:
    case ModelKind::kFactorizationMachine:
      return nullptr;
    case ModelKind::kDeepFM:
    case ModelKind::kMlp:
    case ModelKind::kWideDeep: {
      std::vector<int> sizes = {width};
      sizes.insert(sizes.end(), spec.mlp_hidden.begin(), spec.mlp_hidden.end());
      sizes.push_back(1);
      return std::make_unique<Mlp>(sizes, spec.activation, /*activate_output=*/false, spec.dropout);
    }
    case ModelKind::kDlrm:
      return std::make_unique<DlrmTower>(spec.num_fields, spec.embedding_dim, spec.num_dense,
                                         spec.dlrm_bottom_mlp, spec.dlrm_top_mlp, spec.activation,
                                         spec.dropout);
    case ModelKind::kDcnV2:
      return std::make_unique<CrossTower>(width, spec.cross_layers, spec.mlp_hidden,
                                          spec.activation, spec.dropout);
    case ModelKind::kMf:
      return std::make_unique<DotTower>(spec.num_fields, spec.embedding_dim, spec.user_fields);
    case ModelKind::kTwoTower:
      return std::make_unique<DotTower>(spec.num_fields, spec.embedding_dim, spec.user_fields,
                                        spec.tower_hidden, spec.activation, spec.dropout);
  }
  LOG(FATAL) << "unknown model kind " << static_cast<int>(spec.kind);
  return nullptr;
}

float Sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

// Where a sparse row's columns are.
struct RowLayout {
  int dim = 0;         // floats per row
  bool has_w = false;  // column 0 is w
  int v_column = 0;    // the first embedding column
  int k = 0;
};

// Where SumBags writes, for B examples: e_b1 .. e_bF at embeddings + b * stride,
// w_sums [B] (0 without w), and fm_corrections [B] unless null.
struct BagSums {
  float* embeddings = nullptr;
  int64_t stride = 0;
  float* w_sums = nullptr;
  float* fm_corrections = nullptr;
};

// The weight of bag entry i. A template parameter, so that the unweighted loops
// carry no multiply and the choice is made once per batch.
template <bool kWeighted>
float EntryWeight(std::span<const float> values, int32_t i) {
  if constexpr (kWeighted) {
    return values[i];
  } else {
    return 1.0f;
  }
}

// How much the per-bag self-interaction |e|^2 exceeds the per-feature one,
// sum_i x_i^2 |v_i|^2, for the bag of entries [begin, end) whose weighted sum is e.
template <bool kWeighted>
float SelfInteractionExcess(const BatchView& batch, std::span<const float> sparse,
                            const RowLayout& layout, int32_t begin, int32_t end, const float* e) {
  float per_feature = 0.0f;
  for (int32_t i = begin; i < end; ++i) {
    const float x = EntryWeight<kWeighted>(batch.values, i);
    const float* v = sparse.data() + int64_t{batch.rows[i]} * layout.dim + layout.v_column;
    float norm = 0.0f;
    for (int j = 0; j < layout.k; ++j) norm += v[j] * v[j];
    per_feature += x * x * norm;
  }
  float bag = 0.0f;
  for (int j = 0; j < layout.k; ++j) bag += e[j] * e[j];
  return bag - per_feature;
}

// Sums the bags of `batch` (batch.num_fields per example) into `out`. Returns whether
// a bag has two or more entries when out asks for FM corrections (false otherwise).
template <bool kWeighted>
bool SumBags(const BatchView& batch, std::span<const float> sparse, const RowLayout& layout,
             const BagSums& out) {
  const int64_t num_rows = static_cast<int64_t>(sparse.size()) / layout.dim;
  const int fields = batch.num_fields;
  const int k = layout.k;
  const int v_column = layout.v_column;
  const bool has_w = layout.has_w;
  const bool fm = out.fm_corrections != nullptr;
  bool multi_hot = false;
  for (int64_t b = 0; b < batch.size; ++b) {
    float w_sum = 0.0f;
    float correction = 0.0f;
    float* e = out.embeddings + b * out.stride;
    for (int f = 0; f < fields; ++f, e += k) {
      std::fill(e, e + k, 0.0f);
      const int32_t begin = batch.offsets[b * fields + f];
      const int32_t end = batch.offsets[b * fields + f + 1];
      CHECK(0 <= begin && begin <= end) << "bag offsets out of order at " << b * fields + f;
      for (int32_t i = begin; i < end; ++i) {
        const int32_t r = batch.rows[i];
        CHECK(0 <= r && r < num_rows) << "bag entry " << i << " names row " << r;
        const float x = EntryWeight<kWeighted>(batch.values, i);
        const float* row = sparse.data() + int64_t{r} * layout.dim;
        if (has_w) w_sum += x * row[0];
        for (int j = 0; j < k; ++j) e[j] += x * row[v_column + j];
      }
      if (fm && end - begin > 1) {
        multi_hot = true;
        correction += SelfInteractionExcess<kWeighted>(batch, sparse, layout, begin, end, e);
      }
    }
    out.w_sums[b] = w_sum;
    if (fm) out.fm_corrections[b] = correction;
  }
  return multi_hot;
}

// CHECKs the bags of `batch`, `num_fields` per example (the caller built them).
void CheckBags(const BatchView& batch, int num_fields) {
  CHECK_EQ(batch.num_fields, num_fields);
  CHECK_EQ(static_cast<int64_t>(batch.offsets.size()), batch.size * num_fields + 1);
  CHECK_EQ(batch.offsets.front(), 0);
  CHECK_EQ(static_cast<size_t>(batch.offsets.back()), batch.rows.size());
  CHECK(batch.values.empty() || batch.values.size() == batch.rows.size())
      << batch.values.size() << " weights for " << batch.rows.size() << " bag entries";
}

}  // namespace

CtrModel::CtrModel(const ModelSpec& spec)
    : num_fields_(spec.num_fields),
      num_dense_(spec.num_dense),
      k_(spec.kind == ModelKind::kLogisticRegression ? 0 : spec.embedding_dim),
      init_std_(spec.init_std),
      bias_(HasBias(spec.kind)),
      linear_(HasLinearPart(spec.kind)),
      pairwise_(HasPairwisePart(spec.kind)),
      v_column_(linear_ ? 1 : 0),
      loss_(spec.loss),
      label_offset_(spec.label_offset),
      min_prediction_(spec.min_prediction),
      max_prediction_(spec.max_prediction),
      dropout_seed_(spec.dropout_seed),
      tower_(MakeTower(spec)) {
  if (spec.kind == ModelKind::kMf || spec.kind == ModelKind::kTwoTower) {
    dot_tower_ = static_cast<DotTower*>(tower_.get());  // MakeTower made a DotTower
  }
  u_offset_ = bias_ ? 1 : 0;
  q_offset_ = u_offset_ + (linear_ ? num_dense_ : 0);
  tower_offset_ = q_offset_ + (pairwise_ ? int64_t{num_dense_} * k_ : 0);
  dense_size_ = tower_offset_ + (tower_ != nullptr ? tower_->param_count() : 0);
}

std::vector<ColumnInit> CtrModel::sparse_init() const {
  std::vector<ColumnInit> init;
  if (linear_) init.push_back({0, 1, ColumnInit::Kind::kZero, 0.0f});
  if (k_ > 0) init.push_back({v_column_, v_column_ + k_, ColumnInit::Kind::kNormal, init_std_});
  return init;
}

std::vector<float> CtrModel::InitialDense(uint64_t seed) const {
  std::vector<float> dense(dense_size_, 0.0f);  // bias and u start at zero
  for (int64_t i = q_offset_; i < tower_offset_; ++i) {
    dense[i] = static_cast<float>(init_std_ * NormalFromKey(seed, kQStream, 0, i - q_offset_));
  }
  if (tower_ != nullptr) {
    tower_->InitialParams(seed, kTowerFirstStream,
                          std::span<float>(dense).subspan(tower_offset_, tower_->param_count()));
  }
  return dense;
}

void CtrModel::CheckInputs(const BatchView& batch, const ParamsView& params,
                           std::span<float> predictions) const {
  const int64_t b = batch.size;
  CHECK_GE(b, 0);
  CHECK_EQ(params.sparse.size() % sparse_dim(), 0u);
  CHECK_EQ(static_cast<int64_t>(params.dense.size()), dense_size_);
  CHECK_EQ(static_cast<int64_t>(predictions.size()), b);
  if (b == 0) return;  // nothing is read: an empty batch may come with no offsets at all
  CHECK_EQ(batch.num_dense, num_dense_);
  CHECK_EQ(static_cast<int64_t>(batch.labels.size()), b);
  CHECK_EQ(static_cast<int64_t>(batch.dense.size()), b * num_dense_);
  CheckBags(batch, num_fields_);
}

ConstStridedMatrixMap CtrModel::Embeddings() const {
  ConstMatrixMap f = features_.view();
  // Rows are wider than F*k when the raw dense features follow (DeepFM).
  return ConstStridedMatrixMap(f.data(), f.rows(), int64_t{num_fields_} * k_,
                               Eigen::OuterStride<>(f.cols()));
}

void CtrModel::GatherBags(const BatchView& batch, const ParamsView& params) {
  const int64_t width = int64_t{num_fields_} * k_ + (tower_ != nullptr ? num_dense_ : 0);
  MatrixMap features = features_.Resize(batch.size, width);
  VectorMap logits = logits_.mutable_vector();
  const RowLayout layout{sparse_dim(), linear_, v_column_, k_};
  const BagSums out{features.data(), width, logits.data(),
                    pairwise_ ? fm_corrections_.Resize(batch.size, 1).data() : nullptr};
  const bool multi_hot = batch.values.empty() ? SumBags<false>(batch, params.sparse, layout, out)
                                              : SumBags<true>(batch, params.sparse, layout, out);
  has_fm_corrections_ = multi_hot;
  if (bias_) logits.array() += params.dense[0];
  if (tower_ != nullptr && num_dense_ > 0) {
    features.rightCols(num_dense_) = MapMatrix(batch.dense, batch.size, num_dense_);
  }
}

void CtrModel::AddPairwise(ConstMatrixMap dense, std::span<const float> q_values) {
  ConstStridedMatrixMap emb = Embeddings();
  ConstMatrixMap q = MapMatrix(q_values, num_dense_, k_);
  MatrixMap sums = sums_.Resize(emb.rows(), k_);
  sums.noalias() = dense * q;  // the dense vectors x_bd q_d, summed
  for (int f = 0; f < num_fields_; ++f) sums += emb.middleCols(int64_t{f} * k_, k_);
  VectorMap logits = logits_.mutable_vector();
  logits += 0.5f * (sums.rowwise().squaredNorm() - emb.rowwise().squaredNorm());
  // Self-interactions of the dense vectors: sum_d x_bd^2 |q_d|^2.
  q_norms_.Resize(num_dense_, 1).noalias() = q.rowwise().squaredNorm();
  logits -= 0.5f * dense.array().square().matrix().lazyProduct(q_norms_.vector());
  // Bags of two or more entries: from |e_bf|^2 to the per-feature self-interactions.
  if (has_fm_corrections_) logits += 0.5f * fm_corrections_.vector();
}

void CtrModel::Forward(const BatchView& batch, const ParamsView& params,
                       std::optional<DropoutKey> dropout) {
  logits_.Resize(batch.size, 1);
  GatherBags(batch, params);
  ConstMatrixMap dense = MapMatrix(batch.dense, batch.size, num_dense_);
  VectorMap logits = logits_.mutable_vector();
  if (linear_ && num_dense_ > 0) {
    logits.noalias() += dense * MapVector(params.dense.subspan(u_offset_, num_dense_));
  }
  if (pairwise_) AddPairwise(dense, params.dense.subspan(q_offset_, tower_offset_ - q_offset_));
  if (tower_ != nullptr) {
    tower_->SetDropout(dropout);
    logits += tower_->Forward(features_.view(), params.dense.subspan(tower_offset_)).col(0);
  }
}

void CtrModel::Predict(const BatchView& batch, const ParamsView& params,
                       std::span<float> predictions) {
  CheckInputs(batch, params, predictions);
  if (batch.size == 0) return;
  Forward(batch, params, std::nullopt);
  ConstVectorMap logits = logits_.vector();
  for (int64_t b = 0; b < batch.size; ++b) predictions[b] = Prediction(logits[b]);
}

float CtrModel::Prediction(float output) const {
  if (loss_ == LossKind::kBinaryCrossEntropy) return Sigmoid(output);
  const float value = label_offset_ + output;
  if (min_prediction_ < max_prediction_) return std::clamp(value, min_prediction_, max_prediction_);
  return value;
}

double CtrModel::LossAndGradient(std::span<const float> labels, std::span<float> predictions) {
  grad_logits_.Resize(static_cast<int64_t>(labels.size()), 1);
  return loss_ == LossKind::kSquaredError ? SquaredError(labels, predictions)
                                          : BinaryCrossEntropy(labels, predictions);
}

double CtrModel::BinaryCrossEntropy(std::span<const float> labels, std::span<float> predictions) {
  const int64_t n = static_cast<int64_t>(labels.size());
  ConstVectorMap logits = logits_.vector();
  VectorMap grad = grad_logits_.mutable_vector();
  double loss = 0.0;
  for (int64_t b = 0; b < n; ++b) {
    const float z = logits[b];
    const float y = labels[b];
    // log(1 + exp(z)) - z*y, written so that exp never overflows.
    loss += std::max(z, 0.0f) - z * y + std::log1p(std::exp(-std::abs(z)));
    predictions[b] = Sigmoid(z);
    grad[b] = (predictions[b] - y) / static_cast<float>(n);
  }
  return loss / static_cast<double>(n);
}

double CtrModel::SquaredError(std::span<const float> labels, std::span<float> predictions) {
  const int64_t n = static_cast<int64_t>(labels.size());
  ConstVectorMap outputs = logits_.vector();
  VectorMap grad = grad_logits_.mutable_vector();
  double loss = 0.0;
  for (int64_t b = 0; b < n; ++b) {
    predictions[b] = label_offset_ + outputs[b];  // unclipped: the loss sees the model
    const float error = predictions[b] - labels[b];
    loss += static_cast<double>(error) * error;
    grad[b] = 2.0f * error / static_cast<float>(n);
  }
  return loss / static_cast<double>(n);
}

void CtrModel::BackwardPairwise(ConstMatrixMap dense, std::span<const float> q_values,
                                std::span<float> grad_q_values) {
  ConstStridedMatrixMap emb = Embeddings();
  ConstVectorMap g = grad_logits_.vector();
  MatrixMap grad_emb = grad_embeddings_.mutable_view();
  // d pair / d z_i = s - z_i for every vector z_i of the example.
  MatrixMap scaled_sums = sums_.mutable_view();
  scaled_sums.array().colwise() *= g.array();
  for (int f = 0; f < num_fields_; ++f) {
    const int64_t c = int64_t{f} * k_;
    grad_emb.middleCols(c, k_) =
        scaled_sums - (emb.middleCols(c, k_).array().colwise() * g.array()).matrix();
  }
  // d / d q_d = sum_b g_b x_bd (s_b - x_bd q_d).
  ConstMatrixMap q = MapMatrix(q_values, num_dense_, k_);
  MatrixMap grad_q = MapMatrix(grad_q_values, num_dense_, k_);
  grad_q.noalias() = dense.transpose() * scaled_sums;
  for (int d = 0; d < num_dense_; ++d) {
    grad_q.row(d) -= (dense.col(d).array().square() * g.array()).sum() * q.row(d);
  }
}

template <bool kWeighted>
void CtrModel::ScatterSparse(const BatchView& batch, std::span<const float> sparse,
                             std::span<float> grad_sparse) const {
  const int dim = sparse_dim();
  const int k = k_;
  const int v_column = v_column_;
  const bool linear = linear_;
  const bool correct_fm = has_fm_corrections_;
  ConstVectorMap g = grad_logits_.vector();
  ConstMatrixMap grad_emb = grad_embeddings_.view();
  for (int64_t b = 0; b < batch.size; ++b) {
    const float g_b = g[b];
    const float* ge = grad_emb.row(b).data();
    for (int f = 0; f < num_fields_; ++f, ge += k) {
      const int32_t begin = batch.offsets[b * num_fields_ + f];
      const int32_t end = batch.offsets[b * num_fields_ + f + 1];
      if (correct_fm && end - begin > 1) {
        // The FM self-interaction is per feature: d/dv_i of the correction is
        // g x_i (e_bf - x_i v_i).
        const float* e = features_.view().row(b).data() + int64_t{f} * k;
        for (int32_t i = begin; i < end; ++i) {
          const float x = EntryWeight<kWeighted>(batch.values, i);
          float* row = grad_sparse.data() + int64_t{batch.rows[i]} * dim;
          const float* v = sparse.data() + int64_t{batch.rows[i]} * dim + v_column;
          if (linear) row[0] += x * g_b;
          for (int j = 0; j < k; ++j) row[v_column + j] += x * (ge[j] + g_b * (e[j] - x * v[j]));
        }
        continue;
      }
      for (int32_t i = begin; i < end; ++i) {
        const float x = EntryWeight<kWeighted>(batch.values, i);
        float* row = grad_sparse.data() + int64_t{batch.rows[i]} * dim;
        if (linear) row[0] += x * g_b;
        for (int j = 0; j < k; ++j) row[v_column + j] += x * ge[j];
      }
    }
  }
}

double CtrModel::TrainStep(const BatchView& batch, const ParamsView& params,
                           std::span<float> predictions, Gradients* grads) {
  CheckInputs(batch, params, predictions);
  const DropoutKey dropout{dropout_seed_, dropout_step_++};
  grads->sparse.assign(params.sparse.size(), 0.0f);
  grads->dense.assign(dense_size_, 0.0f);
  if (batch.size == 0) return 0.0;
  Forward(batch, params, dropout);
  const double loss = LossAndGradient(batch.labels, predictions);

  ConstVectorMap g = grad_logits_.vector();
  ConstMatrixMap dense = MapMatrix(batch.dense, batch.size, num_dense_);
  std::span<float> grad_dense(grads->dense);
  if (bias_) grad_dense[0] = g.sum();
  if (linear_ && num_dense_ > 0) {
    MapVector(grad_dense.subspan(u_offset_, num_dense_)).noalias() = dense.transpose() * g;
  }
  grad_embeddings_.Resize(batch.size, int64_t{num_fields_} * k_);
  if (pairwise_) {
    BackwardPairwise(dense, params.dense.subspan(q_offset_, tower_offset_ - q_offset_),
                     grad_dense.subspan(q_offset_, tower_offset_ - q_offset_));
  } else {
    grad_embeddings_.mutable_view().setZero();
  }
  if (tower_ != nullptr) {
    tower_->Backward(features_.view(), params.dense.subspan(tower_offset_),
                     ConstMatrixMap(g.data(), batch.size, 1), grad_dense.subspan(tower_offset_),
                     grad_embeddings_.mutable_view());
  }
  if (batch.values.empty()) {
    ScatterSparse<false>(batch, params.sparse, grads->sparse);
  } else {
    ScatterSparse<true>(batch, params.sparse, grads->sparse);
  }
  return loss;
}

void CtrModel::EncodeSide(Side side, const BatchView& bags, const ParamsView& params,
                          RowMatrix* vectors, Vector* terms) {
  CHECK(dot_tower_ != nullptr) << "only MF and two-tower models encode users and items";
  const int fields = dot_tower_->num_fields(side);
  CHECK_GE(bags.size, 0);
  CHECK_EQ(params.sparse.size() % sparse_dim(), 0u);
  CHECK_EQ(static_cast<int64_t>(params.dense.size()), dense_size_);
  if (bags.size > 0) CheckBags(bags, fields);
  MatrixMap embeddings = side_embeddings_.Resize(bags.size, int64_t{fields} * k_);
  terms->resize(bags.size);
  const RowLayout layout{sparse_dim(), linear_, v_column_, k_};
  const BagSums out{embeddings.data(), embeddings.cols(), terms->data(), nullptr};
  if (bags.values.empty()) {
    SumBags<false>(bags, params.sparse, layout, out);
  } else {
    SumBags<true>(bags, params.sparse, layout, out);
  }
  if (side == Side::kUser && bias_) terms->array() += params.dense[0];
  dot_tower_->SetDropout(std::nullopt);
  const ConstStridedMatrixMap input(embeddings.data(), embeddings.rows(), embeddings.cols(),
                                    Eigen::OuterStride<>(embeddings.cols()));
  *vectors = dot_tower_->Encode(side, input, params.dense.subspan(tower_offset_));
}

}  // namespace tessera::model
