// CtrModel against a naive per-example reference of the documented formulas, and
// its gradients against central finite differences, for every kind (LR, FM,
// DeepFM, MLP, Wide & Deep, DLRM, DCN-v2) and every activation. The batch has a
// multi-hot bag, empty bags, a row used by two examples, a row repeated inside one
// bag and a row no example uses.
#include "model/ctr_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/hash.h"
#include "model/activation.h"
#include "model/model.h"

namespace tessera::model {
namespace {

constexpr int kFields = 3;
constexpr int kDense = 2;
constexpr int kDim = 3;
constexpr int kRows = 7;  // row 6 is in no bag

// Owns the buffers a BatchView points into.
struct TestBatch {
  std::vector<float> labels;
  std::vector<float> dense;
  std::vector<int32_t> offsets;
  std::vector<int32_t> rows;

  BatchView View() const {
    return BatchView{
        static_cast<int64_t>(labels.size()), kFields, kDense, labels, dense, offsets, rows};
  }
};

float Uniform(uint64_t stream, uint64_t index, float scale) {
  return static_cast<float>((2.0 * UniformFromKey(7, stream, 0, index) - 1.0) * scale);
}

// bags[b][f] lists the rows of example b, field f.
TestBatch MakeBatch(const std::vector<std::vector<std::vector<int32_t>>>& bags,
                    const std::vector<float>& labels) {
  TestBatch batch;
  batch.labels = labels;
  batch.offsets.push_back(0);
  for (const auto& example : bags) {
    for (const auto& bag : example) {
      batch.rows.insert(batch.rows.end(), bag.begin(), bag.end());
      batch.offsets.push_back(static_cast<int32_t>(batch.rows.size()));
    }
  }
  for (size_t i = 0; i < labels.size() * kDense; ++i) batch.dense.push_back(Uniform(1, i, 1.0f));
  return batch;
}

TestBatch SmallBatch() {
  return MakeBatch({{{0}, {1, 2}, {3}},      // multi-hot field 1
                    {{0}, {}, {4}},          // row 0 again, an empty bag
                    {{5}, {2}, {}},          // an empty last bag
                    {{1, 1}, {4}, {3, 5}}},  // a row twice in one bag
                   {1.0f, 0.0f, 0.0f, 1.0f});
}

ModelSpec Spec(ModelKind kind, ActivationKind activation = ActivationKind::kRelu) {
  ModelSpec spec;
  spec.kind = kind;
  spec.num_fields = kFields;
  spec.num_dense = kDense;
  spec.embedding_dim = kDim;
  spec.mlp_hidden = {5, 4};
  spec.dlrm_bottom_mlp = {4};
  spec.dlrm_top_mlp = {5};
  spec.cross_layers = 2;
  spec.activation = activation;
  return spec;
}

// Parameters large enough that every term of the logit matters. The streams are
// chosen so that no ReLU input lies within the finite-difference step of its kink,
// where a central difference says nothing about the derivative.
struct TestParams {
  std::vector<float> sparse;
  std::vector<float> dense;
  ParamsView View() const { return ParamsView{sparse, dense}; }
};

TestParams MakeParams(const Model& model) {
  TestParams p;
  for (int i = 0; i < kRows * model.sparse_dim(); ++i) p.sparse.push_back(Uniform(2, i, 0.5f));
  for (int64_t i = 0; i < model.dense_size(); ++i) p.dense.push_back(Uniform(4, i, 0.5f));
  return p;
}

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
         kind == ModelKind::kDeepFM || kind == ModelKind::kWideDeep;
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

// The logit of example b written straight from the formulas of ctr_model.h, in double.
double ReferenceLogit(const ModelSpec& spec, const TestBatch& batch, const TestParams& p, int b) {
  const bool linear = HasLinearPart(spec.kind);
  const int k = spec.kind == ModelKind::kLogisticRegression ? 0 : spec.embedding_dim;
  const int v_column = linear ? 1 : 0, dim = v_column + k;
  double logit = linear ? p.dense[0] : 0.0;
  std::vector<std::vector<double>> embeddings;  // e_b1..e_bF
  std::vector<double> features;                 // concat(e_b1..e_bF, x_b)
  for (int f = 0; f < kFields; ++f) {
    std::vector<double> e(k, 0.0);
    for (int i = batch.offsets[b * kFields + f]; i < batch.offsets[b * kFields + f + 1]; ++i) {
      if (linear) logit += p.sparse[batch.rows[i] * dim];
      for (int j = 0; j < k; ++j) e[j] += p.sparse[batch.rows[i] * dim + v_column + j];
    }
    embeddings.push_back(e);
    features.insert(features.end(), e.begin(), e.end());
  }
  std::vector<double> x(batch.dense.begin() + b * kDense, batch.dense.begin() + (b + 1) * kDense);
  features.insert(features.end(), x.begin(), x.end());
  int64_t offset = 0;
  if (linear) {
    offset = 1;
    for (int d = 0; d < kDense; ++d) logit += p.dense[offset + d] * x[d];
    offset += kDense;
  }
  if (spec.kind == ModelKind::kFactorizationMachine || spec.kind == ModelKind::kDeepFM) {
    std::vector<std::vector<double>> vectors = embeddings;  // then x_bd q_d
    for (int d = 0; d < kDense; ++d) {
      std::vector<double> v(k);
      for (int j = 0; j < k; ++j) v[j] = x[d] * p.dense[offset + d * k + j];
      vectors.push_back(v);
    }
    offset += kDense * k;
    for (size_t i = 0; i < vectors.size(); ++i) {
      for (size_t l = i + 1; l < vectors.size(); ++l) {
        for (int j = 0; j < k; ++j) logit += vectors[i][j] * vectors[l][j];
      }
    }
  }
  switch (spec.kind) {
    case ModelKind::kLogisticRegression:
    case ModelKind::kFactorizationMachine:
      break;
    case ModelKind::kDeepFM:
    case ModelKind::kMlp:
    case ModelKind::kWideDeep:
      logit += ReferenceMlp(features, Append(spec.mlp_hidden, 1), spec.activation, false, p.dense,
                            &offset)[0];
      break;
    case ModelKind::kDlrm:
      logit += ReferenceDlrm(spec, embeddings, x, p, &offset);
      break;
    case ModelKind::kDcnV2:
      logit += ReferenceCross(spec, features, p, &offset);
      break;
  }
  EXPECT_EQ(offset, static_cast<int64_t>(p.dense.size()));
  return logit;
}

struct Case {
  ModelKind kind;
  ActivationKind activation;
};

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  switch (info.param.kind) {
    case ModelKind::kLogisticRegression:
      return "LR";
    case ModelKind::kFactorizationMachine:
      return "FM";
    case ModelKind::kDeepFM:
      return std::string("DeepFM_") + ActivationName(info.param.activation);
    case ModelKind::kMlp:
      return std::string("MLP_") + ActivationName(info.param.activation);
    case ModelKind::kWideDeep:
      return std::string("WideDeep_") + ActivationName(info.param.activation);
    case ModelKind::kDlrm:
      return std::string("DLRM_") + ActivationName(info.param.activation);
    case ModelKind::kDcnV2:
      return std::string("DCNv2_") + ActivationName(info.param.activation);
  }
  return "unknown";
}

class CtrModelTest : public testing::TestWithParam<Case> {
 protected:
  CtrModelTest() : spec_(Spec(GetParam().kind, GetParam().activation)) {
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
  TestBatch batch_ = SmallBatch();
  TestParams params_;
};

TEST_P(CtrModelTest, PredictMatchesReferenceFormula) {
  std::vector<float> predictions(batch_.labels.size());
  model_->Predict(batch_.View(), params_.View(), predictions);
  for (size_t b = 0; b < predictions.size(); ++b) {
    const double logit = ReferenceLogit(spec_, batch_, params_, static_cast<int>(b));
    EXPECT_NEAR(predictions[b], 1 / (1 + std::exp(-logit)), 1e-6) << "example " << b;
  }
}

TEST_P(CtrModelTest, LossIsMeanBinaryCrossEntropy) {
  std::vector<float> predictions(batch_.labels.size());
  Gradients grads;
  const double loss = model_->TrainStep(batch_.View(), params_.View(), predictions, &grads);
  double expected = 0;
  for (size_t b = 0; b < predictions.size(); ++b) {
    const double p = 1 / (1 + std::exp(-ReferenceLogit(spec_, batch_, params_, b)));
    expected -= batch_.labels[b] == 1.0f ? std::log(p) : std::log(1 - p);
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
  TestBatch other = MakeBatch({{{6}, {5, 4, 3}, {2}}, {{1}, {0}, {}}}, {0.0f, 1.0f});
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
  TestBatch empty = MakeBatch({}, {});
  std::vector<float> predictions;
  Gradients grads;
  model_->Predict(BatchView{}, params_.View(), predictions);
  model_->Predict(empty.View(), params_.View(), predictions);
  EXPECT_EQ(model_->TrainStep(empty.View(), params_.View(), predictions, &grads), 0.0);
  EXPECT_EQ(grads.sparse, std::vector<float>(params_.sparse.size(), 0.0f));
  EXPECT_EQ(grads.dense, std::vector<float>(params_.dense.size(), 0.0f));
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, CtrModelTest,
    testing::Values(Case{ModelKind::kLogisticRegression, ActivationKind::kRelu},
                    Case{ModelKind::kFactorizationMachine, ActivationKind::kRelu},
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
                    Case{ModelKind::kDcnV2, ActivationKind::kSigmoid}),
    CaseName);

}  // namespace
}  // namespace tessera::model
