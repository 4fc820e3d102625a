#include "io/batch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace tessera::io {
namespace {

// Reference deduplication with a std::map, for comparison.
void ExpectDeduplicated(const Batch& batch) {
  std::map<uint64_t, int32_t> first;
  std::vector<uint64_t> unique;
  std::vector<int32_t> rows;
  for (uint64_t key : batch.keys) {
    auto [it, inserted] = first.emplace(key, static_cast<int32_t>(unique.size()));
    if (inserted) unique.push_back(key);
    rows.push_back(it->second);
  }
  EXPECT_EQ(batch.unique_keys, unique);
  EXPECT_EQ(batch.rows, rows);
}

TEST(BatchTest, ClearEmptiesEverythingAndResetsOffsets) {
  Batch batch;
  batch.labels = {1.0f};
  batch.dense = {0.5f};
  batch.offsets = {0, 1};
  batch.keys = {7};
  batch.Deduplicate();
  batch.Clear();
  EXPECT_EQ(batch.size(), 0);
  EXPECT_TRUE(batch.dense.empty());
  EXPECT_EQ(batch.offsets, std::vector<int32_t>{0});
  EXPECT_TRUE(batch.keys.empty());
  EXPECT_TRUE(batch.unique_keys.empty());
  EXPECT_TRUE(batch.rows.empty());
}

TEST(BatchTest, DeduplicateKeepsOrderOfFirstAppearance) {
  Batch batch;
  batch.keys = {5, 3, 5, 7, 3, 0};
  batch.Deduplicate();
  EXPECT_EQ(batch.unique_keys, (std::vector<uint64_t>{5, 3, 7, 0}));
  EXPECT_EQ(batch.rows, (std::vector<int32_t>{0, 1, 0, 2, 1, 3}));
}

TEST(BatchTest, DeduplicateOfNoKeysIsEmpty) {
  Batch batch;
  batch.Deduplicate();
  EXPECT_TRUE(batch.unique_keys.empty());
  EXPECT_TRUE(batch.rows.empty());
}

TEST(BatchTest, DeduplicateMatchesReferenceOnABatchSizedInput) {
  std::mt19937_64 rng(42);
  Batch batch;
  // 1024 x 26 keys drawn from a small pool, so that most repeat; the pool mixes
  // hash-like and small consecutive keys.
  std::vector<uint64_t> pool;
  for (uint64_t i = 0; i < 3000; ++i) pool.push_back(i % 2 ? rng() : i);
  for (int i = 0; i < 1024 * 26; ++i) batch.keys.push_back(pool[rng() % pool.size()]);
  batch.Deduplicate();
  ExpectDeduplicated(batch);
}

TEST(BatchTest, DeduplicateReusedAcrossBatchesForgetsOldKeys) {
  Batch batch;
  batch.keys = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  batch.Deduplicate();
  batch.Clear();
  batch.keys = {9, 100, 9};
  batch.Deduplicate();
  EXPECT_EQ(batch.unique_keys, (std::vector<uint64_t>{9, 100}));
  EXPECT_EQ(batch.rows, (std::vector<int32_t>{0, 1, 0}));
}

}  // namespace
}  // namespace tessera::io
