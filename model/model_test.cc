// CreateModel's validation, the parameter layouts and initial values, and that
// plain SGD on TrainStep's gradients learns a tiny problem.
#include "model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

namespace tessera::model {
namespace {

ModelSpec SmallSpec(ModelKind kind) {
  ModelSpec spec;
  spec.kind = kind;
  spec.num_fields = 3;
  spec.num_dense = 2;
  spec.embedding_dim = 4;
  spec.mlp_hidden = {8, 6};
  spec.dlrm_bottom_mlp = {8};
  spec.dlrm_top_mlp = {8, 4};
  spec.cross_layers = 2;
  return spec;
}

// Expects CreateModel to reject `spec` with InvalidArgument naming `field`.
void ExpectRejected(const ModelSpec& spec, const std::string& field) {
  auto model = CreateModel(spec);
  ASSERT_FALSE(model.ok()) << field;
  EXPECT_EQ(model.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(model.status().message().find(field), std::string::npos)
      << model.status().message() << " does not name " << field;
}

TEST(CreateModelTest, AcceptsTheDefaultSpec) { EXPECT_TRUE(CreateModel(ModelSpec()).ok()); }

TEST(CreateModelTest, RejectsBadSizesNamingTheField) {
  ModelSpec spec = SmallSpec(ModelKind::kFactorizationMachine);
  spec.embedding_dim = 0;
  ExpectRejected(spec, "embedding_dim");
  spec = SmallSpec(ModelKind::kDeepFM);
  spec.embedding_dim = -3;
  ExpectRejected(spec, "embedding_dim");
  spec = SmallSpec(ModelKind::kLogisticRegression);
  spec.num_fields = 0;
  ExpectRejected(spec, "num_fields");
  spec = SmallSpec(ModelKind::kLogisticRegression);
  spec.num_dense = -1;
  ExpectRejected(spec, "num_dense");
  spec = SmallSpec(ModelKind::kDeepFM);
  spec.mlp_hidden = {8, 0};
  ExpectRejected(spec, "mlp_hidden[1]");
  spec = SmallSpec(ModelKind::kFactorizationMachine);
  spec.num_fields = 50000;
  spec.embedding_dim = 64;
  ExpectRejected(spec, "num_fields * embedding_dim");
}

TEST(CreateModelTest, RejectsBadInitStdAndEnums) {
  ModelSpec spec = SmallSpec(ModelKind::kFactorizationMachine);
  spec.init_std = -0.1f;
  ExpectRejected(spec, "init_std");
  spec.init_std = std::nanf("");
  ExpectRejected(spec, "init_std");
  spec = SmallSpec(ModelKind::kDeepFM);
  spec.activation = static_cast<ActivationKind>(9);
  ExpectRejected(spec, "activation");
  spec = SmallSpec(ModelKind::kDeepFM);
  spec.kind = static_cast<ModelKind>(9);
  ExpectRejected(spec, "kind");
}

TEST(CreateModelTest, RejectsBadDeepPartsNamingTheField) {
  ModelSpec spec = SmallSpec(ModelKind::kMlp);
  spec.mlp_hidden = {4, -2};
  ExpectRejected(spec, "mlp_hidden[1]");
  spec = SmallSpec(ModelKind::kWideDeep);
  spec.embedding_dim = 0;
  ExpectRejected(spec, "embedding_dim");
  spec = SmallSpec(ModelKind::kDlrm);
  spec.dlrm_bottom_mlp = {0};
  ExpectRejected(spec, "dlrm_bottom_mlp[0]");
  spec = SmallSpec(ModelKind::kDlrm);
  spec.dlrm_top_mlp = {8, 0};
  ExpectRejected(spec, "dlrm_top_mlp[1]");
  spec = SmallSpec(ModelKind::kDlrm);
  spec.num_dense = 0;
  ExpectRejected(spec, "num_dense");
  spec = SmallSpec(ModelKind::kDlrm);
  spec.activation = static_cast<ActivationKind>(9);
  ExpectRejected(spec, "activation");
  spec = SmallSpec(ModelKind::kDcnV2);
  spec.cross_layers = -1;
  ExpectRejected(spec, "cross_layers");
  spec.cross_layers = 65;
  ExpectRejected(spec, "cross_layers");
  spec = SmallSpec(ModelKind::kDcnV2);
  spec.mlp_hidden = {0};
  ExpectRejected(spec, "mlp_hidden[0]");
  spec = SmallSpec(ModelKind::kDcnV2);
  spec.num_fields = 400;
  spec.embedding_dim = 100;
  spec.cross_layers = 64;
  ExpectRejected(spec, "cross_layers * (num_fields * embedding_dim + num_dense)^2");
}

// MF and two-tower over 3 fields: 1 user field, 2 item fields.
ModelSpec UserItemSpec(ModelKind kind) {
  ModelSpec spec = SmallSpec(kind);
  spec.num_dense = 0;
  spec.user_fields = 1;
  spec.tower_hidden = {8};
  return spec;
}

TEST(CreateModelTest, RejectsBadUserItemSpecsNamingTheField) {
  for (ModelKind kind : {ModelKind::kMf, ModelKind::kTwoTower}) {
    EXPECT_TRUE(CreateModel(UserItemSpec(kind)).ok());
    ModelSpec spec = UserItemSpec(kind);
    spec.user_fields = 0;
    ExpectRejected(spec, "user_fields");
    spec.user_fields = 3;  // no item field left
    ExpectRejected(spec, "user_fields");
    spec = UserItemSpec(kind);
    spec.num_fields = 1;
    ExpectRejected(spec, "num_fields");
    spec = UserItemSpec(kind);
    spec.num_dense = 2;
    ExpectRejected(spec, "num_dense");
    spec = UserItemSpec(kind);
    spec.embedding_dim = 0;
    ExpectRejected(spec, "embedding_dim");
  }
  ModelSpec spec = UserItemSpec(ModelKind::kTwoTower);
  spec.tower_hidden = {8, 0};
  ExpectRejected(spec, "tower_hidden[1]");
  spec = UserItemSpec(ModelKind::kTwoTower);
  spec.activation = static_cast<ActivationKind>(9);
  ExpectRejected(spec, "activation");
  spec = UserItemSpec(ModelKind::kMf);
  spec.tower_hidden = {0};  // MF has no towers
  EXPECT_TRUE(CreateModel(spec).ok());
}

TEST(CreateModelTest, RejectsBadLossSettingsNamingTheField) {
  ModelSpec spec = SmallSpec(ModelKind::kDeepFM);
  spec.loss = static_cast<LossKind>(5);
  ExpectRejected(spec, "loss");
  spec = UserItemSpec(ModelKind::kMf);
  spec.loss = LossKind::kSquaredError;
  spec.label_offset = std::nanf("");
  ExpectRejected(spec, "label_offset");
  spec.label_offset = 3.5f;
  spec.max_prediction = INFINITY;
  ExpectRejected(spec, "max_prediction");
  spec.min_prediction = 5.0f;
  spec.max_prediction = 1.0f;
  ExpectRejected(spec, "min_prediction");
  spec.min_prediction = spec.max_prediction = 1.0f;  // no clipping
  EXPECT_TRUE(CreateModel(spec).ok());
  spec.min_prediction = 1.0f;
  spec.max_prediction = 5.0f;
  EXPECT_TRUE(CreateModel(spec).ok());
  // Binary cross-entropy reads neither the offset nor the range.
  spec.loss = LossKind::kBinaryCrossEntropy;
  spec.label_offset = std::nanf("");
  spec.min_prediction = 5.0f;
  EXPECT_TRUE(CreateModel(spec).ok());
  // Any kind may use either loss.
  spec = SmallSpec(ModelKind::kDcnV2);
  spec.loss = LossKind::kSquaredError;
  EXPECT_TRUE(CreateModel(spec).ok());
  spec = UserItemSpec(ModelKind::kTwoTower);
  spec.loss = LossKind::kSquaredError;
  EXPECT_TRUE(CreateModel(spec).ok());
}

TEST(CreateModelTest, IgnoresFieldsTheKindDoesNotRead) {
  ModelSpec spec = SmallSpec(ModelKind::kLogisticRegression);
  spec.embedding_dim = 0;
  spec.mlp_hidden = {0};
  EXPECT_TRUE(CreateModel(spec).ok());
  spec = SmallSpec(ModelKind::kFactorizationMachine);
  spec.mlp_hidden = {-1};
  EXPECT_TRUE(CreateModel(spec).ok());
  spec = SmallSpec(ModelKind::kDlrm);
  spec.mlp_hidden = {-1};
  spec.cross_layers = -1;
  EXPECT_TRUE(CreateModel(spec).ok());
  spec = SmallSpec(ModelKind::kWideDeep);
  spec.dlrm_top_mlp = {0};
  EXPECT_TRUE(CreateModel(spec).ok());
}

TEST(LayoutTest, DeepKindsWithoutALinearPartHaveNoWeightColumn) {
  for (ModelKind kind : {ModelKind::kMlp, ModelKind::kDlrm, ModelKind::kDcnV2}) {
    auto model = std::move(CreateModel(SmallSpec(kind))).value();
    EXPECT_EQ(model->sparse_dim(), 4);
    std::vector<ColumnInit> init = model->sparse_init();
    ASSERT_EQ(init.size(), 1u);
    EXPECT_EQ(init[0].begin, 0);
    EXPECT_EQ(init[0].end, 4);
    EXPECT_EQ(init[0].kind, ColumnInit::Kind::kNormal);
  }
  auto wide = std::move(CreateModel(SmallSpec(ModelKind::kWideDeep))).value();
  EXPECT_EQ(wide->sparse_dim(), 5);
  EXPECT_EQ(wide->sparse_init().size(), 2u);
}

TEST(LayoutTest, DenseSizesOfTheDeepKinds) {
  // Features per example: 3*4 + 2 = 14; MLP {14, 8, 6, 1}.
  const int64_t mlp = (14 * 8 + 8) + (8 * 6 + 6) + (6 * 1 + 1);
  EXPECT_EQ(std::move(CreateModel(SmallSpec(ModelKind::kMlp))).value()->dense_size(), mlp);
  EXPECT_EQ(std::move(CreateModel(SmallSpec(ModelKind::kWideDeep))).value()->dense_size(),
            1 + 2 + mlp);
  // Bottom {2, 8, 4}; top {4 + 4*3/2 = 10, 8, 4, 1}.
  EXPECT_EQ(std::move(CreateModel(SmallSpec(ModelKind::kDlrm))).value()->dense_size(),
            (2 * 8 + 8) + (8 * 4 + 4) + (10 * 8 + 8) + (8 * 4 + 4) + (4 * 1 + 1));
  // Two cross layers {14, 14}; deep {14, 8, 6}; output {14 + 6, 1}.
  EXPECT_EQ(std::move(CreateModel(SmallSpec(ModelKind::kDcnV2))).value()->dense_size(),
            2 * (14 * 14 + 14) + (14 * 8 + 8) + (8 * 6 + 6) + (20 * 1 + 1));
  ModelSpec cross_only = SmallSpec(ModelKind::kDcnV2);
  cross_only.mlp_hidden = {};
  EXPECT_EQ(std::move(CreateModel(cross_only)).value()->dense_size(),
            2 * (14 * 14 + 14) + (14 * 1 + 1));
}

TEST(LayoutTest, SparseRowsAndDenseSizesPerKind) {
  auto lr = std::move(CreateModel(SmallSpec(ModelKind::kLogisticRegression))).value();
  auto fm = std::move(CreateModel(SmallSpec(ModelKind::kFactorizationMachine))).value();
  auto deep = std::move(CreateModel(SmallSpec(ModelKind::kDeepFM))).value();
  EXPECT_EQ(lr->sparse_dim(), 1);
  EXPECT_EQ(fm->sparse_dim(), 5);
  EXPECT_EQ(deep->sparse_dim(), 5);
  EXPECT_EQ(lr->dense_size(), 1 + 2);
  EXPECT_EQ(fm->dense_size(), 1 + 2 + 2 * 4);
  // MLP {3*4 + 2 = 14, 8, 6, 1}: W and b per layer.
  EXPECT_EQ(deep->dense_size(), 1 + 2 + 2 * 4 + (14 * 8 + 8) + (8 * 6 + 6) + (6 * 1 + 1));
}

TEST(LayoutTest, MfRowsAreWeightAndVectorWithOnlyABias) {
  auto mf = std::move(CreateModel(UserItemSpec(ModelKind::kMf))).value();
  EXPECT_EQ(mf->sparse_dim(), 5);
  std::vector<ColumnInit> init = mf->sparse_init();
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0].kind, ColumnInit::Kind::kZero);
  EXPECT_EQ(init[0].end, 1);
  EXPECT_EQ(init[1].kind, ColumnInit::Kind::kNormal);
  EXPECT_EQ(init[1].end, 5);
  EXPECT_EQ(mf->dense_size(), 1);
  EXPECT_EQ(mf->InitialDense(3), std::vector<float>{0.0f});
}

TEST(LayoutTest, TwoTowerRowsAreVectorsWithABiasAndTwoMlps) {
  auto two_tower = std::move(CreateModel(UserItemSpec(ModelKind::kTwoTower))).value();
  EXPECT_EQ(two_tower->sparse_dim(), 4);
  std::vector<ColumnInit> init = two_tower->sparse_init();
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(init[0].kind, ColumnInit::Kind::kNormal);
  EXPECT_EQ(init[0].end, 4);
  // bias; user MLP {1*4, 8, 4}; item MLP {2*4, 8, 4}.
  const int64_t user = (4 * 8 + 8) + (8 * 4 + 4), item = (8 * 8 + 8) + (8 * 4 + 4);
  EXPECT_EQ(two_tower->dense_size(), 1 + user + item);
  std::vector<float> dense = two_tower->InitialDense(3);
  EXPECT_EQ(dense[0], 0.0f) << "the bias starts at 0";
  for (size_t i = 1; i < dense.size(); ++i) EXPECT_NE(dense[i], 0.0f) << "[" << i << "]";
  // The two towers draw from different streams.
  EXPECT_NE(std::vector<float>(dense.begin() + 1, dense.begin() + 1 + 32),
            std::vector<float>(dense.begin() + 1 + user, dense.begin() + 1 + user + 32));
}

TEST(LayoutTest, SparseInitIsZeroWeightThenNormalVectors) {
  ModelSpec spec = SmallSpec(ModelKind::kDeepFM);
  spec.init_std = 0.05f;
  auto deep = std::move(CreateModel(spec)).value();
  std::vector<ColumnInit> init = deep->sparse_init();
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0].begin, 0);
  EXPECT_EQ(init[0].end, 1);
  EXPECT_EQ(init[0].kind, ColumnInit::Kind::kZero);
  EXPECT_EQ(init[1].begin, 1);
  EXPECT_EQ(init[1].end, 5);
  EXPECT_EQ(init[1].kind, ColumnInit::Kind::kNormal);
  EXPECT_EQ(init[1].scale, 0.05f);
  auto lr = std::move(CreateModel(SmallSpec(ModelKind::kLogisticRegression))).value();
  init = lr->sparse_init();
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(init[0].end, 1);
  EXPECT_EQ(init[0].kind, ColumnInit::Kind::kZero);
}

TEST(InitialDenseTest, IsAPureFunctionOfTheSeed) {
  for (ModelKind kind : {ModelKind::kDeepFM, ModelKind::kMlp, ModelKind::kWideDeep,
                         ModelKind::kDlrm, ModelKind::kDcnV2, ModelKind::kTwoTower}) {
    const ModelSpec spec = kind == ModelKind::kTwoTower ? UserItemSpec(kind) : SmallSpec(kind);
    auto a = std::move(CreateModel(spec)).value();
    auto b = std::move(CreateModel(spec)).value();
    EXPECT_EQ(a->InitialDense(42), b->InitialDense(42)) << static_cast<int>(kind);
    EXPECT_NE(a->InitialDense(42), a->InitialDense(43)) << static_cast<int>(kind);
  }
}

// Every weight starts like torch.nn.Linear: within 1/sqrt(fan-in), none left at 0
// (a block left unfilled or filled twice from one stream would show here).
TEST(InitialDenseTest, EveryTowerBlockIsDrawn) {
  for (ModelKind kind : {ModelKind::kMlp, ModelKind::kDlrm, ModelKind::kDcnV2}) {
    auto model = std::move(CreateModel(SmallSpec(kind))).value();
    std::vector<float> dense = model->InitialDense(3);
    for (size_t i = 0; i < dense.size(); ++i) {
      EXPECT_NE(dense[i], 0.0f) << static_cast<int>(kind) << " [" << i << "]";
      EXPECT_LE(std::abs(dense[i]), 1.0f / std::sqrt(2.0f)) << static_cast<int>(kind);
    }
  }
}

TEST(InitialDenseTest, GroupsStartAsTorchDoes) {
  ModelSpec spec = SmallSpec(ModelKind::kDeepFM);
  spec.num_dense = 13;
  spec.embedding_dim = 16;
  spec.init_std = 0.1f;
  auto model = std::move(CreateModel(spec)).value();
  std::vector<float> dense = model->InitialDense(1);
  for (int i = 0; i < 1 + 13; ++i) EXPECT_EQ(dense[i], 0.0f) << "bias and u start at 0";
  double sum_sq = 0;
  for (int i = 14; i < 14 + 13 * 16; ++i) sum_sq += dense[i] * dense[i];
  EXPECT_NEAR(std::sqrt(sum_sq / (13 * 16)), 0.1, 0.02) << "q ~ normal(0, init_std)";
  // First layer: W [8 x 61] then b [8], uniform within 1/sqrt(61).
  const int64_t w0 = 14 + 13 * 16;
  const float bound = 1.0f / std::sqrt(61.0f);
  float lowest = 0, highest = 0;
  for (int64_t i = w0; i < w0 + 8 * 61 + 8; ++i) {
    EXPECT_LE(std::abs(dense[i]), bound);
    lowest = std::min(lowest, dense[i]);
    highest = std::max(highest, dense[i]);
  }
  EXPECT_LT(lowest, -0.9f * bound);
  EXPECT_GT(highest, 0.9f * bound);
  // The output layer's fan-in is 6.
  const float last_bound = 1.0f / std::sqrt(6.0f);
  for (int64_t i = model->dense_size() - 7; i < model->dense_size(); ++i) {
    EXPECT_LE(std::abs(dense[i]), last_bound);
    EXPECT_NE(dense[i], 0.0f);
  }
}

// 32 examples: field 0 (one-hot, 4 values) decides the label, field 1 is noise,
// field 2 is multi-hot or empty. Row ids are indices into one pulled block.
struct Problem {
  std::vector<float> labels, dense;
  std::vector<int32_t> offsets = {0}, rows;
  BatchView View(int fields, int num_dense) const {
    return BatchView{
        static_cast<int64_t>(labels.size()), fields, num_dense, labels, dense, offsets, rows, {}};
  }
};

Problem LearnableProblem(int num_dense) {
  Problem p;
  for (int b = 0; b < 32; ++b) {
    const int value = b % 4;
    p.labels.push_back(value < 2 ? 1.0f : 0.0f);
    if (num_dense == 2) {
      p.dense.push_back(static_cast<float>(b % 3) * 0.5f);
      p.dense.push_back(1.0f);
    }
    p.rows.push_back(value);  // field 0: rows 0..3
    p.offsets.push_back(static_cast<int32_t>(p.rows.size()));
    p.rows.push_back(4 + (b / 4) % 3);  // field 1: rows 4..6
    p.offsets.push_back(static_cast<int32_t>(p.rows.size()));
    for (int i = 0; i < b % 3; ++i) p.rows.push_back(7 + i);  // field 2: rows 7..8
    p.offsets.push_back(static_cast<int32_t>(p.rows.size()));
  }
  return p;
}

// (kind, number of dense features: 2, or 0 as with Criteo's bucketised integers).
class SgdTest : public testing::TestWithParam<std::tuple<ModelKind, int>> {};

TEST_P(SgdTest, LossFallsUnderPlainSgd) {
  ModelSpec spec = SmallSpec(std::get<0>(GetParam()));
  spec.num_dense = std::get<1>(GetParam());
  spec.init_std = 0.1f;
  auto model = std::move(CreateModel(spec)).value();
  Problem problem = LearnableProblem(spec.num_dense);
  const int dim = model->sparse_dim();
  std::vector<float> sparse(9 * dim, 0.0f);
  for (size_t i = 0; i < sparse.size(); ++i) {
    if (i % dim != 0) sparse[i] = 0.1f * std::sin(static_cast<float>(i));
  }
  std::vector<float> dense = model->InitialDense(5);
  std::vector<float> predictions(problem.labels.size());
  Gradients grads;
  double first_loss = 0, loss = 0;
  for (int step = 0; step < 60; ++step) {
    loss = model->TrainStep(problem.View(3, spec.num_dense), ParamsView{sparse, dense}, predictions,
                            &grads);
    if (step == 0) first_loss = loss;
    for (size_t i = 0; i < sparse.size(); ++i) sparse[i] -= 1.0f * grads.sparse[i];
    for (size_t i = 0; i < dense.size(); ++i) dense[i] -= 0.5f * grads.dense[i];
  }
  EXPECT_NEAR(first_loss, std::log(2.0), 0.05);
  EXPECT_LT(loss, 0.5 * first_loss);
  for (size_t b = 0; b < predictions.size(); ++b) {
    EXPECT_EQ(predictions[b] > 0.5f, problem.labels[b] == 1.0f) << "example " << b;
  }
}

// Field 0 is the user, fields 1 and 2 the item.
INSTANTIATE_TEST_SUITE_P(UserItemKinds, SgdTest,
                         testing::Combine(testing::Values(ModelKind::kMf, ModelKind::kTwoTower),
                                          testing::Values(0)));

INSTANTIATE_TEST_SUITE_P(AllKinds, SgdTest,
                         testing::Combine(testing::Values(ModelKind::kLogisticRegression,
                                                          ModelKind::kFactorizationMachine,
                                                          ModelKind::kDeepFM),
                                          testing::Values(2, 0)));

}  // namespace
}  // namespace tessera::model
