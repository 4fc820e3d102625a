// CtrModel against a naive per-example reference of the documented formulas, and
// its gradients against central finite differences, for every kind (LR, FM,
// DeepFM, MLP, Wide & Deep, DLRM, DCN-v2, MF, two-tower), every activation, both
// losses, with and without bag weights. The batch has multi-hot bags, empty bags, a
// row used by two examples, a row repeated inside one bag and a row no example uses.
#include "model/ctr_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "common/hash.h"
#include "model/activation.h"
#include "model/model.h"
#include "model/test_params.h"

namespace tessera::model {
namespace {

constexpr int kFields = 3;
constexpr int kDense = 2;
constexpr int kDim = 3;
constexpr int kRows = 7;  // row 6 is in no bag

// Owns the buffers a BatchView points into.
struct TestBatch {
  int num_dense = kDense;
  std::vector<float> labels;
  std::vector<float> dense;
  std::vector<int32_t> offsets;
  std::vector<int32_t> rows;
  std::vector<float> values;  // empty: every weight is 1

  BatchView View() const {
    const auto size = static_cast<int64_t>(labels.size());
    return BatchView{size, kFields, num_dense, labels, dense, offsets, rows, values};
  }
  float Weight(int i) const { return values.empty() ? 1.0f : values[i]; }
};

float Uniform(uint64_t stream, uint64_t index, float scale) {
  return TestUniform(7, stream, index, scale);
}

// bags[b][f] lists the rows of example b, field f. Weighted: every entry gets a
// weight in (-0.5, 1.5).
TestBatch MakeBatch(const std::vector<std::vector<std::vector<int32_t>>>& bags,
                    const std::vector<float>& labels, int num_dense = kDense,
                    bool weighted = false) {
  TestBatch batch;
  batch.num_dense = num_dense;
  batch.labels = labels;
  batch.offsets.push_back(0);
  for (const auto& example : bags) {
    for (const auto& bag : example) {
      batch.rows.insert(batch.rows.end(), bag.begin(), bag.end());
      batch.offsets.push_back(static_cast<int32_t>(batch.rows.size()));
    }
  }
  for (size_t i = 0; i < labels.size() * num_dense; ++i) {
    batch.dense.push_back(Uniform(1, i, 1.0f));
  }
  if (weighted) {
    for (size_t i = 0; i < batch.rows.size(); ++i) batch.values.push_back(0.5f + Uniform(5, i, 1));
  }
  return batch;
}

bool IsUserItemKind(ModelKind kind) {
  return kind == ModelKind::kMf || kind == ModelKind::kTwoTower;
}

TestBatch SmallBatch(ModelKind kind = ModelKind::kDeepFM, bool weighted = false) {
  return MakeBatch({{{0}, {1, 2}, {3}},      // multi-hot field 1
                    {{0}, {}, {4}},          // row 0 again, an empty bag
                    {{5}, {2}, {}},          // an empty last bag
                    {{1, 1}, {4}, {3, 5}}},  // a row twice in one bag
                   {1.0f, 0.0f, 0.0f, 1.0f}, IsUserItemKind(kind) ? 0 : kDense, weighted);
}

ModelSpec Spec(ModelKind kind, ActivationKind activation = ActivationKind::kRelu,
               LossKind loss = LossKind::kBinaryCrossEntropy) {
  ModelSpec spec;
  spec.kind = kind;
  spec.num_fields = kFields;
  spec.num_dense = IsUserItemKind(kind) ? 0 : kDense;
  spec.embedding_dim = kDim;
  spec.mlp_hidden = {5, 4};
  spec.dlrm_bottom_mlp = {4};
  spec.dlrm_top_mlp = {5};
  spec.cross_layers = 2;
  spec.activation = activation;
  spec.user_fields = 1;
  spec.tower_hidden = {5};
  spec.loss = loss;
  spec.label_offset = 0.25f;
  return spec;
}

// Parameters large enough that every term of the logit matters. The streams are
// chosen so that no ReLU input lies within the finite-difference step of its kink,
// where a central difference says nothing about the derivative.
TestParams MakeParams(const Model& model) { return MakeTestParams(model, kRows, 7, 2, 4, 0.5f); }

double Act(ActivationKind kind, double x) {
  switch (kind) {
    case ActivationKind::kRelu:
      return x > 0 ? x : 0;
    case ActivationKind::kTanh:
      return std::tanh(x);
    case ActivationKind::kSigmoid:
      return 1 / (1 + std::exp(-x));
  }
  return 0;
}

bool HasLinearPart(ModelKind kind) {
  return kind == ModelKind::kLogisticRegression || kind == ModelKind::kFactorizationMachine ||
         kind == ModelKind::kDeepFM || kind == ModelKind::kWideDeep || kind == ModelKind::kMf;
}

// Fully connected layers of sizes `outs` on x, reading W [out x in] then b [out] per
// layer from dense[*offset]; the activation follows every layer but the last, and
// the last too when `activate_last`.
std::vector<double> ReferenceMlp(std::vector<double> x, const std::vector<int>& outs,
                                 ActivationKind activation, bool activate_last,
                                 const std::vector<float>& dense, int64_t* offset) {
  for (size_t l = 0; l < outs.size(); ++l) {
    const int in = static_cast<int>(x.size()), out = outs[l];
    std::vector<double> y(out);
    for (int o = 0; o < out; ++o) {
      double z = dense[*offset + int64_t{out} * in + o];
      for (int i = 0; i < in; ++i) z += dense[*offset + int64_t{o} * in + i] * x[i];
      y[o] = l + 1 < outs.size() || activate_last ? Act(activation, z) : z;
    }
    *offset += int64_t{out} * in + out;
    x = y;
  }
  return x;
}

std::vector<int> Append(std::vector<int> sizes, int last) {
  sizes.push_back(last);
  return sizes;
}

// DLRM's tower, from dlrm_tower.h: bottom MLP, dot products of (z, e_1 .. e_F) in
// torch.tril_indices order, top MLP.
double ReferenceDlrm(const ModelSpec& spec, const std::vector<std::vector<double>>& embeddings,
                     const std::vector<double>& x, const TestParams& p, int64_t* offset) {
  std::vector<double> z = ReferenceMlp(x, Append(spec.dlrm_bottom_mlp, spec.embedding_dim),
                                       spec.activation, true, p.dense, offset);
  std::vector<std::vector<double>> t = {z};
  t.insert(t.end(), embeddings.begin(), embeddings.end());
  std::vector<double> top_input = z;
  for (size_t i = 1; i < t.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      double dot = 0;
      for (int c = 0; c < spec.embedding_dim; ++c) dot += t[i][c] * t[j][c];
      top_input.push_back(dot);
    }
  }
  return ReferenceMlp(top_input, Append(spec.dlrm_top_mlp, 1), spec.activation, false, p.dense,
                      offset)[0];
}

// DCN-v2's tower, from cross_tower.h: x_{l+1} = x_0 * (W_l x_l + b_l) + x_l, a deep
// MLP on x_0 in parallel, a linear layer on both.
double ReferenceCross(const ModelSpec& spec, const std::vector<double>& x0, const TestParams& p,
                      int64_t* offset) {
  const int d = static_cast<int>(x0.size());
  std::vector<double> x = x0;
  for (int l = 0; l < spec.cross_layers; ++l) {
    std::vector<double> u = ReferenceMlp(x, {d}, spec.activation, false, p.dense, offset);
    for (int i = 0; i < d; ++i) x[i] += x0[i] * u[i];
  }
  std::vector<double> h = ReferenceMlp(x0, spec.mlp_hidden, spec.activation, true, p.dense, offset);
  x.insert(x.end(), h.begin(), h.end());
  return ReferenceMlp(x, {1}, spec.activation, false, p.dense, offset)[0];
}

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0;
  for (size_t j = 0; j < a.size(); ++j) dot += a[j] * b[j];
  return dot;
}

// The output (the logit, for binary cross-entropy) of example b written straight from
// the formulas of ctr_model.h, in double.
double ReferenceLogit(const ModelSpec& spec, const TestBatch& batch, const TestParams& p, int b) {
  const bool linear = HasLinearPart(spec.kind);
  const bool bias = linear || spec.kind == ModelKind::kTwoTower;
  const int k = spec.kind == ModelKind::kLogisticRegression ? 0 : spec.embedding_dim;
  const int v_column = linear ? 1 : 0, dim = v_column + k, num_dense = batch.num_dense;
  double logit = bias ? p.dense[0] : 0.0;
  std::vector<std::vector<double>> embeddings;  // e_b1..e_bF
  std::vector<std::vector<double>> features;    // FM: x_i v_i of every bag entry i
  std::vector<double> concat;                   // concat(e_b1..e_bF, x_b)
  for (int f = 0; f < kFields; ++f) {
    std::vector<double> e(k, 0.0);
    for (int i = batch.offsets[b * kFields + f]; i < batch.offsets[b * kFields + f + 1]; ++i) {
      const double x = batch.Weight(i);
      if (linear) logit += x * p.sparse[batch.rows[i] * dim];
      std::vector<double> feature(k);
      for (int j = 0; j < k; ++j) feature[j] = x * p.sparse[batch.rows[i] * dim + v_column + j];
      for (int j = 0; j < k; ++j) e[j] += feature[j];
      features.push_back(feature);
    }
    embeddings.push_back(e);
    concat.insert(concat.end(), e.begin(), e.end());
  }
  std::vector<double> x(batch.dense.begin() + b * num_dense,
                        batch.dense.begin() + (b + 1) * num_dense);
  concat.insert(concat.end(), x.begin(), x.end());
  int64_t offset = bias ? 1 : 0;
  if (linear) {
    for (int d = 0; d < num_dense; ++d) logit += p.dense[offset + d] * x[d];
    offset += num_dense;
  }
  if (spec.kind == ModelKind::kFactorizationMachine || spec.kind == ModelKind::kDeepFM) {
    for (int d = 0; d < num_dense; ++d) {  // then x_bd q_d
      std::vector<double> v(k);
      for (int j = 0; j < k; ++j) v[j] = x[d] * p.dense[offset + d * k + j];
      features.push_back(v);
    }
    offset += num_dense * k;
    for (size_t i = 0; i < features.size(); ++i) {
      for (size_t l = i + 1; l < features.size(); ++l) logit += Dot(features[i], features[l]);
    }
  }
  const int user_fields = spec.user_fields;
  switch (spec.kind) {
    case ModelKind::kLogisticRegression:
    case ModelKind::kFactorizationMachine:
      break;
    case ModelKind::kDeepFM:
    case ModelKind::kMlp:
    case ModelKind::kWideDeep:
      logit += ReferenceMlp(concat, Append(spec.mlp_hidden, 1), spec.activation, false, p.dense,
                            &offset)[0];
      break;
    case ModelKind::kDlrm:
      logit += ReferenceDlrm(spec, embeddings, x, p, &offset);
      break;
    case ModelKind::kDcnV2:
      logit += ReferenceCross(spec, concat, p, &offset);
      break;
    case ModelKind::kMf: {
      std::vector<double> user(k, 0.0), item(k, 0.0);
      for (int f = 0; f < kFields; ++f) {
        for (int j = 0; j < k; ++j) (f < user_fields ? user : item)[j] += embeddings[f][j];
      }
      logit += Dot(user, item);
      break;
    }
    case ModelKind::kTwoTower: {
      const std::vector<double> user_input(concat.begin(), concat.begin() + user_fields * k);
      const std::vector<double> item_input(concat.begin() + user_fields * k,
                                           concat.begin() + kFields * k);
      const std::vector<int> sizes = Append(spec.tower_hidden, k);
      const std::vector<double> user =
          ReferenceMlp(user_input, sizes, spec.activation, false, p.dense, &offset);
      const std::vector<double> item =
          ReferenceMlp(item_input, sizes, spec.activation, false, p.dense, &offset);
      logit += Dot(user, item);
      break;
    }
  }
  EXPECT_EQ(offset, static_cast<int64_t>(p.dense.size()));
  return logit;
}

// The unclipped prediction for `output`.
double ReferencePrediction(const ModelSpec& spec, double output) {
  return spec.loss == LossKind::kSquaredError ? spec.label_offset + output
                                              : 1 / (1 + std::exp(-output));
}

struct Case {
  ModelKind kind;
  ActivationKind activation = ActivationKind::kRelu;
  bool weighted = false;  // the batch carries bag weights
  LossKind loss = LossKind::kBinaryCrossEntropy;
};

std::string KindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kLogisticRegression:
      return "LR";
    case ModelKind::kFactorizationMachine:
      return "FM";
    case ModelKind::kDeepFM:
      return "DeepFM";
    case ModelKind::kMlp:
      return "MLP";
    case ModelKind::kWideDeep:
      return "WideDeep";
    case ModelKind::kDlrm:
      return "DLRM";
    case ModelKind::kDcnV2:
      return "DCNv2";
    case ModelKind::kMf:
      return "MF";
    case ModelKind::kTwoTower:
      return "TwoTower";
  }
  return "unknown";
}

std::string Name(const Case& c) {
  std::string name = KindName(c.kind);
  const bool has_activation = c.kind != ModelKind::kLogisticRegression &&
                              c.kind != ModelKind::kFactorizationMachine &&
                              c.kind != ModelKind::kMf;
  if (has_activation) name += std::string("_") + ActivationName(c.activation);
  if (c.weighted) name += "_weighted";
  if (c.loss == LossKind::kSquaredError) name += "_mse";
  return name;
}

std::string CaseName(const testing::TestParamInfo<Case>& info) { return Name(info.param); }

// Failure messages name the case, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << Name(c); }

class CtrModelTest : public testing::TestWithParam<Case> {
 protected:
  CtrModelTest() : spec_(Spec(GetParam().kind, GetParam().activation, GetParam().loss)) {
    auto model = CreateModel(spec_);
    CHECK(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
    params_ = MakeParams(*model_);
  }

  double Loss(const TestParams& params) {
    std::vector<float> predictions(batch_.labels.size());
    Gradients unused;
    return model_->TrainStep(batch_.View(), params.View(), predictions, &unused);
  }

  // Central difference of the loss along parameter `value`, a float inside params_.
  double NumericGradient(float* value, float h) {
    const float saved = *value;
    *value = saved + h;
    const double plus = Loss(params_);
    *value = saved - h;
    const double minus = Loss(params_);
    *value = saved;
    return (plus - minus) / (2.0 * h);
  }

  void ExpectGradientsMatch(std::vector<float>* values, const std::vector<float>& analytic,
                            const char* what) {
    ASSERT_EQ(values->size(), analytic.size());
    for (size_t i = 0; i < values->size(); ++i) {
      const double numeric = NumericGradient(&(*values)[i], 1e-3f);
      EXPECT_NEAR(analytic[i], numeric, 3e-4 + 1e-2 * std::abs(numeric)) << what << "[" << i << "]";
    }
  }

  ModelSpec spec_;
  std::unique_ptr<Model> model_;
  TestBatch batch_ = SmallBatch(GetParam().kind, GetParam().weighted);
  TestParams params_;
};

TEST_P(CtrModelTest, PredictMatchesReferenceFormula) {
  std::vector<float> predictions(batch_.labels.size());
  model_->Predict(batch_.View(), params_.View(), predictions);
  for (size_t b = 0; b < predictions.size(); ++b) {
    const double logit = ReferenceLogit(spec_, batch_, params_, static_cast<int>(b));
    EXPECT_NEAR(predictions[b], ReferencePrediction(spec_, logit), 1e-6) << "example " << b;
  }
}

// Mean binary cross-entropy, or mean squared error without a 1/2.
TEST_P(CtrModelTest, LossIsTheBatchMeanOfTheSpecLoss) {
  std::vector<float> predictions(batch_.labels.size());
  Gradients grads;
  const double loss = model_->TrainStep(batch_.View(), params_.View(), predictions, &grads);
  double expected = 0;
  for (size_t b = 0; b < predictions.size(); ++b) {
    const double p = ReferencePrediction(spec_, ReferenceLogit(spec_, batch_, params_, b));
    const double y = batch_.labels[b];
    if (spec_.loss == LossKind::kSquaredError) {
      expected += (p - y) * (p - y);
    } else {
      expected -= y == 1.0 ? std::log(p) : std::log(1 - p);
    }
    EXPECT_NEAR(predictions[b], p, 1e-6);
  }
  EXPECT_NEAR(loss, expected / predictions.size(), 1e-6);
}

TEST_P(CtrModelTest, SparseGradientsMatchFiniteDifferences) {
  std::vector<float> predictions(batch_.labels.size());
  Gradients grads;
  model_->TrainStep(batch_.View(), params_.View(), predictions, &grads);
  ExpectGradientsMatch(&params_.sparse, grads.sparse, "sparse");
}

TEST_P(CtrModelTest, DenseGradientsMatchFiniteDifferences) {
  std::vector<float> predictions(batch_.labels.size());
  Gradients grads;
  model_->TrainStep(batch_.View(), params_.View(), predictions, &grads);
  ExpectGradientsMatch(&params_.dense, grads.dense, "dense");
}

TEST_P(CtrModelTest, UnusedRowGetsZeroGradient) {
  std::vector<float> predictions(batch_.labels.size());
  Gradients grads;
  model_->TrainStep(batch_.View(), params_.View(), predictions, &grads);
  const int dim = model_->sparse_dim();
  ASSERT_EQ(grads.sparse.size(), static_cast<size_t>(kRows * dim));
  for (int j = 0; j < dim; ++j) EXPECT_EQ(grads.sparse[6 * dim + j], 0.0f);
  EXPECT_NE(grads.sparse[0], 0.0f);
}

TEST_P(CtrModelTest, PredictAgreesWithTrainStep) {
  std::vector<float> trained(batch_.labels.size()), predicted(batch_.labels.size());
  Gradients grads;
  model_->TrainStep(batch_.View(), params_.View(), trained, &grads);
  model_->Predict(batch_.View(), params_.View(), predicted);
  EXPECT_EQ(trained, predicted);
}

// Scratch reused across batches of other sizes leaves no trace in the results.
TEST_P(CtrModelTest, RepeatedCallsAreBitIdentical) {
  std::vector<float> first(batch_.labels.size()), again(batch_.labels.size());
  Gradients first_grads, again_grads;
  const double first_loss = model_->TrainStep(batch_.View(), params_.View(), first, &first_grads);
  TestBatch other = MakeBatch({{{6}, {5, 4, 3}, {2}}, {{1}, {0}, {}}}, {0.0f, 1.0f},
                              batch_.num_dense, GetParam().weighted);
  std::vector<float> other_predictions(2);
  Gradients other_grads;
  model_->TrainStep(other.View(), params_.View(), other_predictions, &other_grads);
  auto fresh = std::move(CreateModel(spec_)).value();
  const double again_loss = fresh->TrainStep(batch_.View(), params_.View(), again, &again_grads);
  EXPECT_EQ(std::memcmp(&first_loss, &again_loss, sizeof(double)), 0);
  EXPECT_EQ(first, again);
  EXPECT_EQ(first_grads.sparse, again_grads.sparse);
  EXPECT_EQ(first_grads.dense, again_grads.dense);
  model_->TrainStep(batch_.View(), params_.View(), again, &again_grads);
  EXPECT_EQ(first, again);
  EXPECT_EQ(first_grads.dense, again_grads.dense);
}

TEST_P(CtrModelTest, EmptyBatchGivesZeroLossAndGradients) {
  TestBatch empty = MakeBatch({}, {}, batch_.num_dense);
  std::vector<float> predictions;
  Gradients grads;
  model_->Predict(BatchView{}, params_.View(), predictions);
  model_->Predict(empty.View(), params_.View(), predictions);
  EXPECT_EQ(model_->TrainStep(empty.View(), params_.View(), predictions, &grads), 0.0);
  EXPECT_EQ(grads.sparse, std::vector<float>(params_.sparse.size(), 0.0f));
  EXPECT_EQ(grads.dense, std::vector<float>(params_.dense.size(), 0.0f));
}

INSTANTIATE_TEST_SUITE_P(AllModels, CtrModelTest,
                         testing::Values(Case{ModelKind::kLogisticRegression},
                                         Case{ModelKind::kFactorizationMachine},
                                         Case{ModelKind::kDeepFM, ActivationKind::kRelu},
                                         Case{ModelKind::kDeepFM, ActivationKind::kTanh},
                                         Case{ModelKind::kDeepFM, ActivationKind::kSigmoid},
                                         Case{ModelKind::kMlp, ActivationKind::kRelu},
                                         Case{ModelKind::kMlp, ActivationKind::kTanh},
                                         Case{ModelKind::kWideDeep, ActivationKind::kRelu},
                                         Case{ModelKind::kWideDeep, ActivationKind::kSigmoid},
                                         Case{ModelKind::kDlrm, ActivationKind::kRelu},
                                         Case{ModelKind::kDlrm, ActivationKind::kTanh},
                                         Case{ModelKind::kDlrm, ActivationKind::kSigmoid},
                                         Case{ModelKind::kDcnV2, ActivationKind::kRelu},
                                         Case{ModelKind::kDcnV2, ActivationKind::kTanh},
                                         Case{ModelKind::kDcnV2, ActivationKind::kSigmoid},
                                         Case{ModelKind::kMf},
                                         Case{ModelKind::kTwoTower, ActivationKind::kRelu},
                                         Case{ModelKind::kTwoTower, ActivationKind::kTanh},
                                         Case{ModelKind::kTwoTower, ActivationKind::kSigmoid}),
                         CaseName);

// Bag weights (libsvm/libffm values) and the squared-error loss, across the kinds.
INSTANTIATE_TEST_SUITE_P(
    WeightsAndSquaredError, CtrModelTest,
    testing::Values(
        Case{ModelKind::kLogisticRegression, ActivationKind::kRelu, true},
        Case{ModelKind::kFactorizationMachine, ActivationKind::kRelu, true},
        Case{ModelKind::kDeepFM, ActivationKind::kTanh, true},
        Case{ModelKind::kWideDeep, ActivationKind::kSigmoid, true},
        Case{ModelKind::kDlrm, ActivationKind::kTanh, true},
        Case{ModelKind::kDcnV2, ActivationKind::kSigmoid, true},
        Case{ModelKind::kMf, ActivationKind::kRelu, true},
        Case{ModelKind::kTwoTower, ActivationKind::kTanh, true},
        Case{ModelKind::kFactorizationMachine, ActivationKind::kRelu, false,
             LossKind::kSquaredError},
        Case{ModelKind::kDeepFM, ActivationKind::kSigmoid, true, LossKind::kSquaredError},
        Case{ModelKind::kMlp, ActivationKind::kTanh, false, LossKind::kSquaredError},
        Case{ModelKind::kMf, ActivationKind::kRelu, false, LossKind::kSquaredError},
        Case{ModelKind::kMf, ActivationKind::kRelu, true, LossKind::kSquaredError},
        Case{ModelKind::kTwoTower, ActivationKind::kRelu, false, LossKind::kSquaredError}),
    CaseName);

// One bag of two features with weights 2 and 0.5 (libsvm puts every feature in one
// bag): the FM term is their interaction 2 * 0.5 * v_0 . v_1, nothing else.
TEST(FmTest, FeaturesOfOneBagInteract) {
  ModelSpec spec = Spec(ModelKind::kFactorizationMachine);
  spec.num_fields = 1;
  spec.num_dense = 0;
  auto model = std::move(CreateModel(spec)).value();
  const std::vector<float> labels = {1.0f}, values = {2.0f, 0.5f};
  const std::vector<int32_t> offsets = {0, 2}, rows = {0, 1};
  const BatchView batch{1, 1, 0, labels, {}, offsets, rows, values};
  // Rows [w | v]: w = 0.1, 0.2; v_0 = (1, 2, 3), v_1 = (0.5, -1, 2).
  const std::vector<float> sparse = {0.1f, 1.0f, 2.0f, 3.0f, 0.2f, 0.5f, -1.0f, 2.0f};
  const std::vector<float> dense = {0.3f};
  std::vector<float> predictions(1);
  model->Predict(batch, ParamsView{sparse, dense}, predictions);
  const double logit = 0.3 + 2 * 0.1 + 0.5 * 0.2 + 2 * 0.5 * (0.5 - 2 + 6);
  EXPECT_NEAR(predictions[0], 1 / (1 + std::exp(-logit)), 1e-6);
}

// All weights 1 is the unweighted batch, to the bit.
TEST(WeightsTest, UnitWeightsEqualNoWeights) {
  for (ModelKind kind : {ModelKind::kFactorizationMachine, ModelKind::kDeepFM, ModelKind::kMf}) {
    auto model = std::move(CreateModel(Spec(kind))).value();
    const TestParams params = MakeParams(*model);
    const TestBatch plain = SmallBatch(kind);
    TestBatch ones = plain;
    ones.values.assign(ones.rows.size(), 1.0f);
    std::vector<float> plain_predictions(4), ones_predictions(4);
    Gradients plain_grads, ones_grads;
    const double plain_loss =
        model->TrainStep(plain.View(), params.View(), plain_predictions, &plain_grads);
    const double ones_loss =
        model->TrainStep(ones.View(), params.View(), ones_predictions, &ones_grads);
    EXPECT_EQ(plain_loss, ones_loss) << KindName(kind);
    EXPECT_EQ(plain_predictions, ones_predictions) << KindName(kind);
    EXPECT_EQ(plain_grads.sparse, ones_grads.sparse) << KindName(kind);
    EXPECT_EQ(plain_grads.dense, ones_grads.dense) << KindName(kind);
  }
}

// Predict clips to [min_prediction, max_prediction]; TrainStep's predictions and
// loss see the unclipped values.
TEST(SquaredErrorTest, PredictClipsAndTrainStepDoesNot) {
  ModelSpec spec = Spec(ModelKind::kMf, ActivationKind::kRelu, LossKind::kSquaredError);
  spec.label_offset = 3.0f;
  auto unclipped = std::move(CreateModel(spec)).value();
  spec.min_prediction = 2.9f;
  spec.max_prediction = 3.1f;
  auto clipped = std::move(CreateModel(spec)).value();
  const TestParams params = MakeParams(*clipped);
  const TestBatch batch = SmallBatch(ModelKind::kMf);
  std::vector<float> raw(4), predicted(4), trained(4);
  Gradients grads;
  unclipped->Predict(batch.View(), params.View(), raw);
  clipped->Predict(batch.View(), params.View(), predicted);
  clipped->TrainStep(batch.View(), params.View(), trained, &grads);
  EXPECT_EQ(trained, raw);
  int clipped_count = 0;
  for (size_t b = 0; b < raw.size(); ++b) {
    EXPECT_EQ(predicted[b], std::clamp(raw[b], 2.9f, 3.1f)) << "example " << b;
    clipped_count += predicted[b] != raw[b];
  }
  EXPECT_GT(clipped_count, 0) << "the test should clip some example";
}

// With a user-id field, an item-id field, label_offset = mu and the bias 0, MF is
// torch_mf.py's mu + b_u + b_i + <p_u, q_i>, and the squared error its MSE.
TEST(MfTest, IsBiasedMatrixFactorisation) {
  ModelSpec spec = Spec(ModelKind::kMf, ActivationKind::kRelu, LossKind::kSquaredError);
  spec.num_fields = 2;
  spec.embedding_dim = 2;
  spec.label_offset = 3.5f;
  auto model = std::move(CreateModel(spec)).value();
  ASSERT_EQ(model->sparse_dim(), 3);
  ASSERT_EQ(model->dense_size(), 1);
  // Rows [b | p] or [b | q]: user 0, user 1, item 2.
  const std::vector<float> sparse = {0.2f, 1.0f, -1.0f, -0.1f, 0.5f, 0.5f, 0.3f, 2.0f, 1.0f};
  const std::vector<float> dense = {0.0f};
  const std::vector<float> labels = {5.0f, 4.0f};
  const std::vector<int32_t> offsets = {0, 1, 2, 3, 4}, rows = {0, 2, 1, 2};
  const BatchView batch{2, 2, 0, labels, {}, offsets, rows, {}};
  std::vector<float> predictions(2);
  Gradients grads;
  const double loss = model->TrainStep(batch, ParamsView{sparse, dense}, predictions, &grads);
  const double p0 = 3.5 + 0.2 + 0.3 + (2.0 - 1.0), p1 = 3.5 - 0.1 + 0.3 + (1.0 + 0.5);
  EXPECT_NEAR(predictions[0], p0, 1e-6);
  EXPECT_NEAR(predictions[1], p1, 1e-6);
  EXPECT_NEAR(loss, ((p0 - 5) * (p0 - 5) + (p1 - 4) * (p1 - 4)) / 2, 1e-5);
  // d loss / d b_i = (2 (p0 - 5) + 2 (p1 - 4)) / 2.
  EXPECT_NEAR(grads.sparse[6], (p0 - 5) + (p1 - 4), 1e-5);
}

}  // namespace
}  // namespace tessera::model
