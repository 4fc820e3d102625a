// Dropout (ModelSpec::dropout, model/mlp.h): the mask's statistics and scaling, its
// determinism, Predict never dropping, and TrainStep's gradients against central
// finite differences of the loss under the same mask (the step counter held fixed).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/hash.h"
#include "model/ctr_model.h"
#include "model/mlp.h"
#include "model/model.h"
#include "model/test_params.h"

namespace tessera::model {
namespace {

constexpr int kFields = 3;
constexpr int kDense = 2;
constexpr int kDim = 3;
constexpr int kRows = 6;
constexpr int kExamples = 5;

float Uniform(uint64_t stream, uint64_t index, float scale) {
  return TestUniform(11, stream, index, scale);
}

// A one-hot batch of kExamples examples over kRows rows; owns what its view points into.
struct TestBatch {
  int num_dense = kDense;
  std::vector<float> labels;
  std::vector<float> dense;
  std::vector<int32_t> offsets;
  std::vector<int32_t> rows;

  explicit TestBatch(int dense_features) : num_dense(dense_features) {
    offsets.push_back(0);
    for (int b = 0; b < kExamples; ++b) {
      labels.push_back(static_cast<float>(b % 2));
      for (int f = 0; f < kFields; ++f) {
        rows.push_back((b + 2 * f) % kRows);
        offsets.push_back(static_cast<int32_t>(rows.size()));
      }
      for (int d = 0; d < num_dense; ++d) dense.push_back(Uniform(1, b * num_dense + d, 1.0f));
    }
  }
  BatchView View() const {
    return BatchView{kExamples, kFields, num_dense, labels, dense, offsets, rows, {}};
  }
};

ModelSpec DropoutSpec(ModelKind kind, float dropout) {
  ModelSpec spec;
  spec.kind = kind;
  spec.num_fields = kFields;
  spec.num_dense = kind == ModelKind::kTwoTower ? 0 : kDense;
  spec.embedding_dim = kDim;
  spec.mlp_hidden = {6, 5};
  spec.dlrm_bottom_mlp = {4};
  spec.dlrm_top_mlp = {6};
  spec.cross_layers = 1;
  spec.tower_hidden = {6};
  spec.activation = ActivationKind::kTanh;  // smooth: finite differences see no kink
  spec.dropout = dropout;
  spec.dropout_seed = 3;
  return spec;
}

TestParams MakeParams(const Model& model) { return MakeTestParams(model, kRows, 11, 2, 4, 0.5f); }

std::string KindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kDeepFM:
      return "DeepFM";
    case ModelKind::kMlp:
      return "Mlp";
    case ModelKind::kWideDeep:
      return "WideDeep";
    case ModelKind::kDlrm:
      return "Dlrm";
    case ModelKind::kDcnV2:
      return "DcnV2";
    case ModelKind::kTwoTower:
      return "TwoTower";
    default:
      return "Other";
  }
}

class DropoutModelTest : public testing::TestWithParam<ModelKind> {
 protected:
  DropoutModelTest()
      : spec_(DropoutSpec(GetParam(), 0.4f)),
        model_(spec_),
        batch_(spec_.num_dense),
        params_(MakeParams(model_)) {}

  // The loss of TrainStep number `step`, whose masks it draws.
  double Loss(uint64_t step, Gradients* grads) {
    std::vector<float> predictions(kExamples);
    model_.set_dropout_step(step);
    return model_.TrainStep(batch_.View(), params_.View(), predictions, grads);
  }

  void ExpectGradientsMatch(std::vector<float>* values, const std::vector<float>& analytic,
                            const char* what) {
    ASSERT_EQ(values->size(), analytic.size());
    Gradients unused;
    const float h = 1e-3f;
    for (size_t i = 0; i < values->size(); ++i) {
      const float saved = (*values)[i];
      (*values)[i] = saved + h;
      const double plus = Loss(kStep, &unused);
      (*values)[i] = saved - h;
      const double minus = Loss(kStep, &unused);
      (*values)[i] = saved;
      const double numeric = (plus - minus) / (2.0 * h);
      EXPECT_NEAR(analytic[i], numeric, 3e-4 + 1e-2 * std::abs(numeric)) << what << "[" << i << "]";
    }
  }

  static constexpr uint64_t kStep = 7;
  ModelSpec spec_;
  CtrModel model_;
  TestBatch batch_;
  TestParams params_;
};

TEST_P(DropoutModelTest, GradientsMatchFiniteDifferencesUnderTheSameMask) {
  Gradients grads;
  Loss(kStep, &grads);
  ExpectGradientsMatch(&params_.dense, grads.dense, "dense");
  ExpectGradientsMatch(&params_.sparse, grads.sparse, "sparse");
}

// The mask changes the training loss, and Predict sees the model without it.
TEST_P(DropoutModelTest, PredictNeverDrops) {
  CtrModel plain(DropoutSpec(GetParam(), 0.0f));
  std::vector<float> expected(kExamples), predicted(kExamples), trained(kExamples);
  plain.Predict(batch_.View(), params_.View(), expected);
  model_.Predict(batch_.View(), params_.View(), predicted);
  EXPECT_EQ(predicted, expected);
  Gradients grads;
  model_.TrainStep(batch_.View(), params_.View(), trained, &grads);
  EXPECT_NE(trained, expected);
  model_.Predict(batch_.View(), params_.View(), predicted);  // after a TrainStep too
  EXPECT_EQ(predicted, expected);
}

// Equal models fed equal batches agree bit for bit, step after step; steps differ.
TEST_P(DropoutModelTest, TwoModelsGiveBitIdenticalResults) {
  CtrModel other(spec_);
  std::vector<double> losses;
  for (int step = 0; step < 3; ++step) {
    std::vector<float> a(kExamples), b(kExamples);
    Gradients ga, gb;
    const double loss_a = model_.TrainStep(batch_.View(), params_.View(), a, &ga);
    const double loss_b = other.TrainStep(batch_.View(), params_.View(), b, &gb);
    EXPECT_EQ(std::memcmp(&loss_a, &loss_b, sizeof(double)), 0) << "step " << step;
    EXPECT_EQ(a, b);
    EXPECT_EQ(ga.dense, gb.dense);
    EXPECT_EQ(ga.sparse, gb.sparse);
    losses.push_back(loss_a);
  }
  EXPECT_EQ(model_.dropout_step(), 3u);
  EXPECT_NE(losses[0], losses[1]);
  EXPECT_NE(losses[1], losses[2]);
}

INSTANTIATE_TEST_SUITE_P(DeepKinds, DropoutModelTest,
                         testing::Values(ModelKind::kDeepFM, ModelKind::kMlp, ModelKind::kWideDeep,
                                         ModelKind::kDlrm, ModelKind::kDcnV2, ModelKind::kTwoTower),
                         [](const testing::TestParamInfo<ModelKind>& info) {
                           return KindName(info.param);
                         });

// One activated layer {8, 64} with sigmoid outputs (never 0 by themselves): about p
// of the 64 x 64 outputs are zeroed, the others are the plain output times 1/(1-p).
TEST(MlpDropoutTest, ZeroesAboutPOfTheUnitsAndScalesTheRest) {
  constexpr float kRate = 0.25f;
  constexpr int kBatch = 64;
  Mlp mlp({8, 64}, ActivationKind::kSigmoid, /*activate_output=*/true, kRate);
  std::vector<float> params(mlp.param_count());
  mlp.InitialParams(1, 0, params);
  std::vector<float> input_values;
  for (int i = 0; i < kBatch * 8; ++i) input_values.push_back(Uniform(3, i, 1.0f));
  ConstMatrixMap input = MapMatrix(std::span<const float>(input_values), kBatch, 8);
  const RowMatrix plain = mlp.Forward(input, params);
  mlp.SetDropout(DropoutKey{5, 0});
  const RowMatrix dropped = mlp.Forward(input, params);
  const float scale = 1.0f / (1.0f - kRate);
  int zeros = 0;
  for (int b = 0; b < kBatch; ++b) {
    for (int j = 0; j < 64; ++j) {
      if (dropped(b, j) == 0.0f) {
        ++zeros;
      } else {
        EXPECT_EQ(dropped(b, j), plain(b, j) * scale) << b << ", " << j;
      }
    }
  }
  EXPECT_NEAR(zeros / (64.0 * kBatch), kRate, 0.03);  // 4 standard deviations
  mlp.SetDropout(DropoutKey{5, 1});
  EXPECT_NE(RowMatrix(mlp.Forward(input, params)), dropped);  // another step, another mask
  mlp.SetDropout(std::nullopt);
  EXPECT_EQ(RowMatrix(mlp.Forward(input, params)), plain);
}

// A row's mask depends on its index, not on the other rows of the batch (the values
// may differ in the last bits: the matrix product blocks by batch size).
TEST(MlpDropoutTest, MaskOfARowIgnoresTheRestOfTheBatch) {
  Mlp mlp({4, 16}, ActivationKind::kSigmoid, /*activate_output=*/true, 0.5f);
  std::vector<float> params(mlp.param_count());
  mlp.InitialParams(1, 0, params);
  std::vector<float> input_values;
  for (int i = 0; i < 3 * 4; ++i) input_values.push_back(Uniform(6, i, 1.0f));
  const std::span<const float> values(input_values);
  mlp.SetDropout(DropoutKey{9, 4});
  const RowMatrix full = mlp.Forward(MapMatrix(values, 3, 4), params);
  const RowMatrix first = mlp.Forward(MapMatrix(values.first(8), 2, 4), params);
  for (int b = 0; b < 2; ++b) {
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(first(b, j) == 0.0f, full(b, j) == 0.0f) << b << ", " << j;
      EXPECT_NEAR(first(b, j), full(b, j), 1e-6) << b << ", " << j;
    }
  }
}

TEST(DropoutSpecTest, CreateModelRequiresARateInZeroToOne) {
  for (float bad : {-0.1f, 1.0f, 1.5f, std::nanf("")}) {
    auto model = CreateModel(DropoutSpec(ModelKind::kMlp, bad));
    ASSERT_FALSE(model.ok()) << bad;
    EXPECT_EQ(model.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(model.status().message().find("dropout"), std::string::npos);
  }
  EXPECT_TRUE(CreateModel(DropoutSpec(ModelKind::kMlp, 0.0f)).ok());
  EXPECT_TRUE(CreateModel(DropoutSpec(ModelKind::kMlp, 0.9f)).ok());
}

}  // namespace
}  // namespace tessera::model
