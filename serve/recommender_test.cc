#include "serve/recommender.h"

#include <cmath>

#include <gtest/gtest.h>

namespace tessera::serve {
namespace {

// LR over fields user | item: an item's score is sigmoid(bias + w_user + w_item), so
// the ranking is the order of the item weights.
std::unique_ptr<model::Model> Lr() {
  model::ModelSpec spec;
  spec.kind = model::ModelKind::kLogisticRegression;
  spec.num_fields = 2;
  spec.num_dense = 0;
  auto m = model::CreateModel(spec);
  CHECK(m.ok());
  return std::move(*m);
}

void AddPair(io::Batch* batch, uint64_t user, uint64_t item) {
  batch->labels.push_back(1);
  batch->keys.push_back(user);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  batch->keys.push_back(item);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
}

io::Batch Empty() {
  io::Batch b;
  b.num_fields = 2;
  b.Clear();
  return b;
}

TEST(RecommenderTest, RanksItemsByScoreAndSkipsExcluded) {
  auto model = Lr();
  ASSERT_EQ(model->sparse_dim(), 1);
  // Items 10..14 with weights 0.1, 0.5, -1, 0.5, 2; user 1 weight 0.
  auto weight = [](uint64_t key) -> float {
    switch (key) {
      case 10: return 0.1f;
      case 11: return 0.5f;
      case 12: return -1.0f;
      case 13: return 0.5f;
      case 14: return 2.0f;
      default: return 0.0f;
    }
  };
  RowLookup rows = [&](std::span<const uint64_t> keys, std::span<float> out) {
    for (size_t i = 0; i < keys.size(); ++i) out[i] = weight(keys[i]);
  };
  io::ItemCatalog catalog(1);
  io::Batch history = Empty();
  for (uint64_t item = 10; item <= 14; ++item) AddPair(&history, 2, item);
  for (int64_t b = 0; b < history.size(); ++b) catalog.Add(history, b);
  std::vector<float> dense(model->dense_size(), 0.0f);
  // Batches of 2 items: the catalogue is scored in three batches.
  Recommender rec(model.get(), rows, dense, &catalog, /*batch_size=*/2);
  io::Batch user = Empty();
  AddPair(&user, 1, 99);
  std::vector<ScoredItem> top = rec.TopK(user, 0, {}, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 4);  // key 14
  EXPECT_EQ(top[1].item, 1);  // key 11: ties with 13, listed first (lower index)
  EXPECT_EQ(top[2].item, 3);
  EXPECT_FLOAT_EQ(top[0].score, 1.0f / (1.0f + std::exp(-2.0f)));
  const std::vector<int32_t> exclude = {1, 4};
  top = rec.TopK(user, 0, exclude, 10);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 3);
  EXPECT_EQ(top[1].item, 0);
  EXPECT_EQ(top[2].item, 2);
}

TEST(RankOfTest, CountsItemsListedBefore) {
  const std::vector<float> scores = {0.1f, 0.5f, -1.0f, 0.5f, 2.0f};
  EXPECT_EQ(RankOf(scores, 4, {}), 0);
  EXPECT_EQ(RankOf(scores, 1, {}), 1);
  EXPECT_EQ(RankOf(scores, 3, {}), 2);  // the tie with item 1 is listed before it
  EXPECT_EQ(RankOf(scores, 2, {}), 4);
  const std::vector<int32_t> exclude = {1, 4};
  EXPECT_EQ(RankOf(scores, 3, exclude), 0);
  EXPECT_EQ(RankOf(scores, 2, exclude), 2);
}

TEST(BestOfTest, FewerThanKLeft) {
  const std::vector<float> scores = {1, 2};
  const std::vector<int32_t> exclude = {1};
  std::vector<ScoredItem> top = BestOf(scores, exclude, 5);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].item, 0);
}

}  // namespace
}  // namespace tessera::serve
