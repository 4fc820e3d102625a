// Retriever's scores against Model::Predict on the same (user, item) pairs, for MF and
// two-tower, both losses, with weighted multi-hot bags on both sides.
#include "model/retrieval.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/hash.h"
#include "model/model.h"
#include "model/test_params.h"

namespace tessera::model {
namespace {

constexpr int kUserFields = 2;  // user id, multi-hot user features
constexpr int kItemFields = 2;  // item id, multi-hot item features (genres)
constexpr int kFields = kUserFields + kItemFields;
constexpr int kRows = 12;
constexpr int kItems = 5;

float Uniform(uint64_t stream, uint64_t index, float scale) {
  return TestUniform(11, stream, index, scale);
}

// Bags over some fields: bags[n][f] lists example n's rows of field f, weighted.
struct Bags {
  int num_fields = 0;
  std::vector<float> labels;
  std::vector<int32_t> offsets = {0};
  std::vector<int32_t> rows;
  std::vector<float> values;

  void Add(const std::vector<std::vector<int32_t>>& example) {
    labels.push_back(1.0f);
    for (const auto& bag : example) {
      for (int32_t r : bag) {
        rows.push_back(r);
        values.push_back(0.5f + Uniform(3, values.size(), 1.0f));
      }
      offsets.push_back(static_cast<int32_t>(rows.size()));
    }
  }
  BatchView View() const {
    const auto size = static_cast<int64_t>(labels.size());
    return BatchView{size, num_fields, 0, labels, {}, offsets, rows, values};
  }
};

const std::vector<std::vector<int32_t>> kUser = {{0}, {1, 2}};
const std::vector<std::vector<int32_t>> kItemBags[kItems] = {
    {{3}, {8, 9}}, {{4}, {9}}, {{5}, {}}, {{6}, {10, 8, 11}}, {{7}, {11}}};

ModelSpec Spec(ModelKind kind, LossKind loss) {
  ModelSpec spec;
  spec.kind = kind;
  spec.num_fields = kFields;
  spec.num_dense = 0;
  spec.embedding_dim = 3;
  spec.user_fields = kUserFields;
  spec.tower_hidden = {6};
  spec.activation = ActivationKind::kTanh;
  spec.loss = loss;
  spec.label_offset = 3.0f;
  return spec;
}

TestParams MakeParams(const Model& model) { return MakeTestParams(model, kRows, 11, 1, 2, 0.7f); }

// Model::Predict of the user with every item, one example per pair.
std::vector<float> PredictPairs(Model* model, const TestParams& params) {
  Bags pairs;
  pairs.num_fields = kFields;
  for (const auto& item : kItemBags) {
    std::vector<std::vector<int32_t>> example = kUser;
    example.insert(example.end(), item.begin(), item.end());
    pairs.Add(example);
  }
  // The same weights as the separate user and item batches below.
  Bags user, items;
  user.Add(kUser);
  for (const auto& item : kItemBags) items.Add(item);
  pairs.values.clear();
  for (int n = 0; n < kItems; ++n) {
    pairs.values.insert(pairs.values.end(), user.values.begin(), user.values.end());
    pairs.values.insert(pairs.values.end(), items.values.begin() + items.offsets[n * kItemFields],
                        items.values.begin() + items.offsets[(n + 1) * kItemFields]);
  }
  std::vector<float> predictions(kItems);
  model->Predict(pairs.View(), ParamsView{params.sparse, params.dense}, predictions);
  return predictions;
}

struct Case {
  ModelKind kind;
  LossKind loss;
};

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  return std::string(info.param.kind == ModelKind::kMf ? "MF" : "TwoTower") +
         (info.param.loss == LossKind::kSquaredError ? "_mse" : "_bce");
}

class RetrieverTest : public testing::TestWithParam<Case> {
 protected:
  RetrieverTest() : spec_(Spec(GetParam().kind, GetParam().loss)) {}

  // The retriever's predictions for the user and every item, the user's rows taken
  // from their own block (as from a separate pull).
  std::vector<float> RetrieverPredictions(const TestParams& params) {
    auto retriever = std::move(Retriever::Create(spec_)).value();
    const int dim = std::move(CreateModel(spec_)).value()->sparse_dim();
    Bags user, items;
    user.num_fields = kUserFields;
    items.num_fields = kItemFields;
    user.Add(kUser);
    for (const auto& item : kItemBags) items.Add(item);
    std::vector<float> user_rows;  // rows 0, 1, 2 of the catalogue's block, renumbered
    for (int32_t& r : user.rows) {
      user_rows.insert(user_rows.end(), params.sparse.begin() + r * dim,
                       params.sparse.begin() + (r + 1) * dim);
      r = static_cast<int32_t>(user_rows.size() / dim) - 1;
    }
    EncodedSide user_side, item_side;
    retriever->EncodeUsers(user.View(), ParamsView{user_rows, params.dense}, &user_side);
    retriever->EncodeItems(items.View(), ParamsView{params.sparse, params.dense}, &item_side);
    EXPECT_EQ(user_side.size(), 1);
    EXPECT_EQ(item_side.size(), kItems);
    std::vector<float> scores(kItems);
    Retriever::Score(user_side, item_side, scores);
    retriever->ToPredictions(scores);
    return scores;
  }

  ModelSpec spec_;
};

TEST_P(RetrieverTest, ScoresEqualPredictOnTheSamePairs) {
  auto model = std::move(CreateModel(spec_)).value();
  const TestParams params = MakeParams(*model);
  const std::vector<float> expected = PredictPairs(model.get(), params);
  const std::vector<float> scores = RetrieverPredictions(params);
  for (int n = 0; n < kItems; ++n) {
    EXPECT_NEAR(scores[n], expected[n], 1e-5 * (1 + std::abs(expected[n]))) << "item " << n;
  }
}

TEST_P(RetrieverTest, ClippedScoresEqualClippedPredict) {
  spec_.min_prediction = 2.8f;
  spec_.max_prediction = 3.2f;
  auto model = std::move(CreateModel(spec_)).value();
  const TestParams params = MakeParams(*model);
  const std::vector<float> expected = PredictPairs(model.get(), params);
  const std::vector<float> scores = RetrieverPredictions(params);
  for (int n = 0; n < kItems; ++n) {
    EXPECT_NEAR(scores[n], expected[n], 1e-5 * (1 + std::abs(expected[n]))) << "item " << n;
  }
}

// Several users at once: row u of the [users x items] scores is user u alone.
TEST_P(RetrieverTest, ScoresManyUsersAsOneMatrix) {
  auto retriever = std::move(Retriever::Create(spec_)).value();
  auto model = std::move(CreateModel(spec_)).value();
  const TestParams params = MakeParams(*model);
  const ParamsView view{params.sparse, params.dense};
  Bags both, second, items;
  both.num_fields = second.num_fields = kUserFields;
  items.num_fields = kItemFields;
  both.Add(kUser);
  both.Add({{2}, {0}});
  second.Add({{2}, {0}});
  second.values = {both.values.begin() + 3, both.values.end()};
  for (const auto& item : kItemBags) items.Add(item);
  EncodedSide users, user, item_side;
  retriever->EncodeUsers(both.View(), view, &users);
  retriever->EncodeUsers(second.View(), view, &user);
  retriever->EncodeItems(items.View(), view, &item_side);
  std::vector<float> all(2 * kItems), alone(kItems);
  Retriever::Score(users, item_side, all);
  Retriever::Score(user, item_side, alone);
  for (int n = 0; n < kItems; ++n) EXPECT_NEAR(all[kItems + n], alone[n], 1e-6) << "item " << n;
}

INSTANTIATE_TEST_SUITE_P(UserItemKinds, RetrieverTest,
                         testing::Values(Case{ModelKind::kMf, LossKind::kBinaryCrossEntropy},
                                         Case{ModelKind::kMf, LossKind::kSquaredError},
                                         Case{ModelKind::kTwoTower, LossKind::kBinaryCrossEntropy},
                                         Case{ModelKind::kTwoTower, LossKind::kSquaredError}),
                         CaseName);

TEST_P(RetrieverTest, NoItemsGiveNoScores) {
  auto retriever = std::move(Retriever::Create(spec_)).value();
  auto model = std::move(CreateModel(spec_)).value();
  const TestParams params = MakeParams(*model);
  const ParamsView view{params.sparse, params.dense};
  Bags user, none;
  user.num_fields = kUserFields;
  none.num_fields = kItemFields;
  user.Add(kUser);
  EncodedSide user_side, item_side;
  retriever->EncodeUsers(user.View(), view, &user_side);
  retriever->EncodeItems(BatchView{}, view, &item_side);
  EXPECT_EQ(item_side.size(), 0);
  retriever->EncodeItems(none.View(), view, &item_side);
  EXPECT_EQ(item_side.size(), 0);
  Retriever::Score(user_side, item_side, {});
}

TEST(RetrieverCreateTest, RejectsOtherKindsAndBadSpecs) {
  ModelSpec spec = Spec(ModelKind::kDeepFM, LossKind::kBinaryCrossEntropy);
  auto deep = Retriever::Create(spec);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("kind"), std::string::npos) << deep.status().message();
  spec = Spec(ModelKind::kMf, LossKind::kBinaryCrossEntropy);
  spec.user_fields = kFields;
  auto bad = Retriever::Create(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("user_fields"), std::string::npos);
}

}  // namespace
}  // namespace tessera::model
