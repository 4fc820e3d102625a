#include "ps/dense_store.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace tessera::ps {
namespace {

OptimizerOptions Sgd(float lr) {
  OptimizerOptions o;
  o.kind = OptimizerOptions::Kind::kSgd;
  o.learning_rate = lr;
  return o;
}

// 10 floats 0..9 in blocks of 4: [0,4) [4,8) [8,10).
std::vector<float> Initial() {
  std::vector<float> v(10);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

TEST(DenseStoreTest, BlockSizesIncludeTheShortLastBlock) {
  DenseStore store(10, 4, {0, 1, 2}, Initial(), Sgd(0.1f));
  EXPECT_EQ(store.num_blocks(), 3);
  EXPECT_EQ(store.BlockFloats(0), 4);
  EXPECT_EQ(store.BlockFloats(1), 4);
  EXPECT_EQ(store.BlockFloats(2), 2);
  EXPECT_EQ(store.BlockFloats(3), 0);
}

TEST(DenseStoreTest, PullConcatenatesOwnedBlocksInRequestOrder) {
  DenseStore store(10, 4, {2, 0}, Initial(), Sgd(0.1f));
  std::vector<uint64_t> ids = {2, 0};
  std::vector<float> out(6);
  ASSERT_TRUE(store.Pull(ids, out).ok());
  EXPECT_EQ(out, (std::vector<float>{8, 9, 0, 1, 2, 3}));
}

TEST(DenseStoreTest, PullRejectsUnownedAndUnknownBlocks) {
  DenseStore store(10, 4, {0, 2}, Initial(), Sgd(0.1f));
  std::vector<float> out(4);
  std::vector<uint64_t> unowned = {1};
  EXPECT_EQ(store.Pull(unowned, out).code(), Status::Code::kInvalidArgument);
  std::vector<uint64_t> past_end = {3};
  EXPECT_EQ(store.Pull(past_end, out).code(), Status::Code::kInvalidArgument);
  std::vector<uint64_t> huge = {~uint64_t{0}};
  EXPECT_EQ(store.Pull(huge, out).code(), Status::Code::kInvalidArgument);
}

TEST(DenseStoreTest, PullRejectsAWrongOutputSize) {
  DenseStore store(10, 4, {0, 2}, Initial(), Sgd(0.1f));
  std::vector<uint64_t> ids = {0, 2};
  std::vector<float> too_long(8);
  Status s = store.Pull(ids, too_long);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("not 6"), std::string::npos) << s.ToString();
}

TEST(DenseStoreTest, ApplyGradientsUpdatesOnlyTheGivenBlocks) {
  DenseStore store(10, 4, {0, 1, 2}, Initial(), Sgd(0.5f));
  std::vector<uint64_t> ids = {2, 0};
  std::vector<float> grads = {2, 2, 1, 1, 1, 1};
  ASSERT_TRUE(store.ApplyGradients(ids, grads, 1).ok());
  std::vector<uint64_t> all = {0, 1, 2};
  std::vector<float> out(10);
  ASSERT_TRUE(store.Pull(all, out).ok());
  EXPECT_EQ(out, (std::vector<float>{-0.5f, 0.5f, 1.5f, 2.5f, 4, 5, 6, 7, 7, 8}));
}

TEST(DenseStoreTest, ApplyGradientsRejectsBadRequestsAndChangesNothing) {
  DenseStore store(10, 4, {0, 2}, Initial(), Sgd(0.5f));
  std::vector<uint64_t> ids = {0, 1};
  std::vector<float> grads(8, 1.0f);
  EXPECT_EQ(store.ApplyGradients(ids, grads, 1).code(), Status::Code::kInvalidArgument);
  std::vector<uint64_t> ok_ids = {0};
  EXPECT_EQ(store.ApplyGradients(ok_ids, std::span<const float>(grads).subspan(0, 3), 1).code(),
            Status::Code::kInvalidArgument);
  std::vector<uint64_t> block_ids;
  std::vector<float> weights;
  store.Export(&block_ids, &weights);
  EXPECT_EQ(weights, (std::vector<float>{0, 1, 2, 3, 8, 9}));
}

TEST(DenseStoreTest, AdamKeepsStatePerBlock) {
  OptimizerOptions adam;
  adam.learning_rate = 0.01f;
  DenseStore store(10, 4, {0, 1}, Initial(), adam);
  std::vector<uint64_t> first = {0};
  std::vector<float> g(4, 0.5f);
  ASSERT_TRUE(store.ApplyGradients(first, g, 1).ok());
  ASSERT_TRUE(store.ApplyGradients(first, g, 2).ok());
  std::vector<float> out(4);
  ASSERT_TRUE(store.Pull(first, out).ok());
  // A constant gradient moves Adam by lr each step.
  EXPECT_NEAR(out[0], -0.02f, 1e-6);
  std::vector<uint64_t> second = {1};
  ASSERT_TRUE(store.Pull(second, out).ok());
  EXPECT_EQ(out[0], 4.0f);  // untouched
}

TEST(DenseStoreTest, ExportAndImportRoundTrip) {
  DenseStore store(10, 4, {2, 0}, Initial(), Sgd(0.5f));
  std::vector<uint64_t> ids;
  std::vector<float> weights;
  store.Export(&ids, &weights);
  EXPECT_EQ(ids, (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(weights, (std::vector<float>{0, 1, 2, 3, 8, 9}));

  DenseStore other(10, 4, {0, 2}, std::vector<float>(10, 0.0f), Sgd(0.5f));
  ASSERT_TRUE(other.Import(ids, weights).ok());
  std::vector<uint64_t> ids2;
  std::vector<float> weights2;
  other.Export(&ids2, &weights2);
  EXPECT_EQ(weights2, weights);
  std::vector<uint64_t> not_owned = {1};
  EXPECT_FALSE(other.Import(not_owned, std::vector<float>(4)).ok());
}

TEST(DenseStoreTest, EmptyVector) {
  DenseStore store(0, 4, {}, {}, Sgd(0.1f));
  EXPECT_EQ(store.num_blocks(), 0);
  std::vector<float> out;
  EXPECT_TRUE(store.Pull({}, out).ok());
}

TEST(DenseStoreTest, ExportAndImportWithStateContinueTrainingExactly) {
  OptimizerOptions adam;
  adam.kind = OptimizerOptions::Kind::kAdam;
  adam.learning_rate = 0.1f;
  std::vector<uint64_t> all = {0, 1, 2};
  DenseStore original(10, 4, all, Initial(), adam);
  std::vector<float> grads(10, 0.5f);
  ASSERT_TRUE(original.ApplyGradients(all, grads, 1).ok());
  std::vector<uint64_t> ids;
  std::vector<float> weights, state;
  original.Export(&ids, &weights, &state);
  ASSERT_EQ(state.size(), weights.size() * 2);
  DenseStore copy(10, 4, all, std::vector<float>(10, 0.0f), adam);
  ASSERT_TRUE(copy.Import(ids, weights, state).ok());
  ASSERT_TRUE(original.ApplyGradients(all, grads, 2).ok());
  ASSERT_TRUE(copy.ApplyGradients(all, grads, 2).ok());
  std::vector<float> a(10), b(10);
  ASSERT_TRUE(original.Pull(all, a).ok());
  ASSERT_TRUE(copy.Pull(all, b).ok());
  EXPECT_EQ(a, b);
  EXPECT_FALSE(copy.Import(ids, weights, std::vector<float>(3)).ok());
}

TEST(DenseStoreTest, FtrlStartsFromTheInitialVectorAndResumesExactly) {
  OptimizerOptions ftrl;
  ftrl.kind = OptimizerOptions::Kind::kFtrl;
  ftrl.learning_rate = 0.1f;
  ftrl.l1 = 0.5f;
  ftrl.decay = OptimizerOptions::Decay::kInverseSqrt;
  ftrl.decay_steps = 1;
  std::vector<uint64_t> all = {0, 1, 2};
  DenseStore original(10, 4, all, Initial(), ftrl);
  ASSERT_EQ(original.StateFloatsPerWeight(), 2);
  // A zero gradient keeps the initial values 0..9 but for the L1 proximal step:
  // z = -(beta / alpha) * w0 = -10 * w0, so w = max(0, w0 - l1 * alpha / beta).
  std::vector<float> zeros(10, 0.0f);
  ASSERT_TRUE(original.ApplyGradients(all, zeros, 1).ok());
  std::vector<float> a(10), b(10);
  ASSERT_TRUE(original.Pull(all, a).ok());
  EXPECT_EQ(a[0], 0.0f);
  for (int i = 1; i < 10; ++i) EXPECT_NEAR(a[i], i - 0.05f, 1e-5) << i;
  std::vector<float> grads(10, 0.5f);
  ASSERT_TRUE(original.ApplyGradients(all, grads, 2).ok());
  std::vector<uint64_t> ids;
  std::vector<float> weights, state;
  original.Export(&ids, &weights, &state);
  ASSERT_EQ(state.size(), weights.size() * 2);
  DenseStore copy(10, 4, all, std::vector<float>(10, 0.0f), ftrl);
  ASSERT_TRUE(copy.Import(ids, weights, state).ok());
  ASSERT_TRUE(original.ApplyGradients(all, grads, 3).ok());
  ASSERT_TRUE(copy.ApplyGradients(all, grads, 3).ok());
  ASSERT_TRUE(original.Pull(all, a).ok());
  ASSERT_TRUE(copy.Pull(all, b).ok());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace tessera::ps
