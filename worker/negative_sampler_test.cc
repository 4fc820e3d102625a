#include "worker/negative_sampler.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace tessera::worker {
namespace {

// Appends one example with user bag {user}, item bags {item} and {genres...}.
void AddExample(io::Batch* batch, float label, uint64_t user, uint64_t item,
                std::vector<uint64_t> genres) {
  batch->labels.push_back(label);
  batch->keys.push_back(user);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  batch->keys.push_back(item);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  for (uint64_t g : genres) batch->keys.push_back(g);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
}

io::Batch MakeBatch() {
  io::Batch batch;
  batch.num_fields = 3;  // user | item, genres
  batch.Clear();
  return batch;
}

NegativeSamplingOptions Options(int count, NegativeSamplingOptions::Kind kind) {
  NegativeSamplingOptions o;
  o.count = count;
  o.kind = kind;
  o.user_fields = 1;
  o.seed = 7;
  return o;
}

// The (user, item, genres) of example b.
std::vector<uint64_t> Keys(const io::Batch& batch, int64_t b) {
  return std::vector<uint64_t>(batch.keys.begin() + batch.offsets[b * 3],
                               batch.keys.begin() + batch.offsets[b * 3 + 3]);
}

TEST(NegativeSamplerTest, PairsEachPositiveUserWithOtherSeenItems) {
  NegativeSampler sampler(Options(2, NegativeSamplingOptions::Kind::kUniform));
  io::Batch batch = MakeBatch();
  AddExample(&batch, 1, 100, 10, {1000, 1001});
  AddExample(&batch, 1, 101, 11, {1002});
  AddExample(&batch, 0, 102, 12, {});
  AddExample(&batch, 1, 103, 10, {1000, 1001});
  batch.Deduplicate();
  sampler.Augment(&batch);
  EXPECT_EQ(sampler.distinct_items(), 3);
  // 3 positives x 2 negatives; a draw of the positive's own item is retried, and with 3
  // items a retry nearly always succeeds: allow a skip or two.
  EXPECT_GE(batch.size(), 4 + 4);
  EXPECT_LE(batch.size(), 4 + 6);
  EXPECT_EQ(batch.size(), 4 + sampler.negatives_added());
  EXPECT_EQ(static_cast<int64_t>(batch.offsets.size()), batch.size() * 3 + 1);
  const std::map<uint64_t, std::vector<uint64_t>> item_content = {
      {10, {10, 1000, 1001}}, {11, {11, 1002}}, {12, {12}}};
  const std::map<uint64_t, uint64_t> item_of_user = {{100, 10}, {101, 11}, {103, 10}};
  for (int64_t b = 4; b < batch.size(); ++b) {
    EXPECT_EQ(batch.labels[b], 0.0f);
    std::vector<uint64_t> keys = Keys(batch, b);
    ASSERT_GE(keys.size(), 2u);
    const uint64_t user = keys[0];
    ASSERT_TRUE(item_of_user.count(user)) << "negatives follow positives only";
    const uint64_t item = keys[1];
    EXPECT_NE(item, item_of_user.at(user)) << "never the positive's own item";
    // The item arrives with its side features.
    EXPECT_EQ(std::vector<uint64_t>(keys.begin() + 1, keys.end()), item_content.at(item));
  }
  // Deduplicated again: every key maps to its unique row.
  ASSERT_EQ(batch.rows.size(), batch.keys.size());
  for (size_t i = 0; i < batch.keys.size(); ++i) {
    EXPECT_EQ(batch.unique_keys[batch.rows[i]], batch.keys[i]);
  }
}

TEST(NegativeSamplerTest, DeterministicForASeed) {
  auto run = [] {
    NegativeSampler sampler(Options(3, NegativeSamplingOptions::Kind::kPopularity));
    io::Batch batch = MakeBatch();
    std::vector<uint64_t> out;
    for (int round = 0; round < 3; ++round) {
      batch.Clear();
      for (int i = 0; i < 20; ++i) AddExample(&batch, 1, 100 + i, 10 + (i * 7 + round) % 13, {});
      batch.Deduplicate();
      sampler.Augment(&batch);
      out.insert(out.end(), batch.keys.begin(), batch.keys.end());
    }
    return out;
  };
  EXPECT_EQ(run(), run());
}

TEST(NegativeSamplerTest, PopularityFollowsOccurrences) {
  NegativeSampler sampler(Options(1, NegativeSamplingOptions::Kind::kPopularity));
  io::Batch batch = MakeBatch();
  // Item 10 occurs 9 times as often as item 11; the positives are of user 1 on a third
  // item, so every negative is 10 or 11.
  for (int i = 0; i < 90; ++i) AddExample(&batch, 0, 2, 10, {});
  for (int i = 0; i < 10; ++i) AddExample(&batch, 0, 2, 11, {});
  for (int i = 0; i < 1000; ++i) AddExample(&batch, 1, 1, 12, {});
  batch.Deduplicate();
  sampler.Augment(&batch);
  std::map<uint64_t, int> drawn;
  for (int64_t b = 1100; b < batch.size(); ++b) ++drawn[Keys(batch, b)[1]];
  // Item 12 itself makes up 1000 of 1100 occurrences: most draws hit it, are retried,
  // and some positives end up without a negative. Among the others, 10 : 11 ~ 9 : 1.
  ASSERT_GT(drawn[10] + drawn[11], 100);
  const double share = static_cast<double>(drawn[10]) / (drawn[10] + drawn[11]);
  EXPECT_NEAR(share, 0.9, 0.06);
  EXPECT_EQ(drawn.count(12), 0u);
}

TEST(NegativeSamplerTest, CountZeroAndNoPositivesChangeNothing) {
  io::Batch batch = MakeBatch();
  AddExample(&batch, 1, 100, 10, {});
  AddExample(&batch, 1, 101, 11, {});
  batch.Deduplicate();
  NegativeSampler off(Options(0, NegativeSamplingOptions::Kind::kUniform));
  off.Augment(&batch);
  EXPECT_EQ(batch.size(), 2);
  io::Batch negatives_only = MakeBatch();
  AddExample(&negatives_only, 0, 100, 10, {});
  AddExample(&negatives_only, 0, 101, 11, {});
  negatives_only.Deduplicate();
  NegativeSampler on(Options(4, NegativeSamplingOptions::Kind::kUniform));
  on.Augment(&negatives_only);
  EXPECT_EQ(negatives_only.size(), 2);
  EXPECT_EQ(on.distinct_items(), 2);
}

TEST(NegativeSamplerTest, CopiesWeightsAndDenseFeatures) {
  io::Batch batch;
  batch.num_fields = 2;
  batch.num_dense = 1;
  batch.Clear();
  for (int i = 0; i < 2; ++i) {
    batch.labels.push_back(1);
    batch.dense.push_back(0.5f + i);
    batch.keys.push_back(100 + i);
    batch.values.push_back(2.0f);
    batch.offsets.push_back(static_cast<int32_t>(batch.keys.size()));
    batch.keys.push_back(10 + i);
    batch.values.push_back(3.0f + i);
    batch.offsets.push_back(static_cast<int32_t>(batch.keys.size()));
  }
  batch.Deduplicate();
  NegativeSampler sampler(Options(1, NegativeSamplingOptions::Kind::kUniform));
  sampler.Augment(&batch);
  ASSERT_EQ(batch.size(), 4);  // two items: the other one is always found
  ASSERT_EQ(batch.values.size(), batch.keys.size());
  // Example 2 is user 100 (dense 0.5, weight 2) with item 11 (weight 4).
  EXPECT_EQ(batch.dense[2], 0.5f);
  EXPECT_EQ(batch.keys[4], 100u);
  EXPECT_EQ(batch.values[4], 2.0f);
  EXPECT_EQ(batch.keys[5], 11u);
  EXPECT_EQ(batch.values[5], 4.0f);
}

}  // namespace
}  // namespace tessera::worker
