#include "io/checkpoint_chain.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "io/export.h"
#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::MakeTempDir;

constexpr int kDim = testing::kLinkDim;

using testing::RowOf;
using testing::WriteLink;

// full: keys 1..10 (version 0); d1: keys 2, 3, 11 (version 1, 3 servers);
// d2: keys 3, 12 (version 2).
std::string WriteChainOfThree() {
  const std::string root = MakeTempDir();
  WriteLink(root, "full", "", 0, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  WriteLink(root, "d1", "full", 1, {2, 3, 11}, /*servers=*/3);
  WriteLink(root, "d2", "d1", 2, {3, 12});
  return root;
}

TEST(CheckpointChainTest, AFullCheckpointIsAChainOfOne) {
  const std::string root = MakeTempDir();
  WriteLink(root, "full", "", 0, {1, 2});
  StatusOr<std::vector<ChainLink>> chain = ReadChain(root + "/full/");
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 1u);
  EXPECT_EQ((*chain)[0].dir, root + "/full");
}

TEST(CheckpointChainTest, ReadChainListsTheLinksOldestFirst) {
  const std::string root = WriteChainOfThree();
  StatusOr<std::vector<ChainLink>> chain = ReadChain(root + "/d2");
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].dir, root + "/full");
  EXPECT_EQ((*chain)[1].dir, root + "/d1");
  EXPECT_EQ((*chain)[2].dir, root + "/d2");
  EXPECT_EQ((*chain)[2].manifest.format_version(), kManifestFormatVersionIncremental);
  EXPECT_EQ((*chain)[2].manifest.base(), "d1");
}

TEST(CheckpointChainTest, AMissingBaseIsNamed) {
  const std::string root = WriteChainOfThree();
  std::remove((root + "/full/MANIFEST").c_str());
  StatusOr<std::vector<ChainLink>> chain = ReadChain(root + "/d2");
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Status::Code::kNotFound) << chain.status().ToString();
  EXPECT_NE(chain.status().message().find(root + "/full/MANIFEST"), std::string::npos)
      << chain.status().ToString();
}

TEST(CheckpointChainTest, ARewrittenBaseBreaksTheChain) {
  const std::string root = WriteChainOfThree();
  // A resumed run writing the name "d1" again: a valid checkpoint, but not the base d2
  // was written on.
  WriteLink(root, "d1", "full", 7, {2, 3, 11}, 3);
  StatusOr<std::vector<ChainLink>> chain = ReadChain(root + "/d2");
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Status::Code::kCorruption);
  EXPECT_NE(chain.status().message().find("rewritten or damaged"), std::string::npos)
      << chain.status().ToString();
  EXPECT_TRUE(ReadChain(root + "/d1").ok());
}

TEST(CheckpointChainTest, VersionAndBaseMustAgree) {
  const std::string root = WriteChainOfThree();
  StatusOr<pb::ModelManifest> d2 = ReadManifest(root + "/d2");
  ASSERT_TRUE(d2.ok());
  pb::ModelManifest no_base = *d2;
  no_base.clear_base();  // version 2 without a base: a reader would miss rows
  ASSERT_TRUE(WriteManifest(root + "/d2", no_base).ok());
  EXPECT_EQ(ReadChain(root + "/d2").status().code(), Status::Code::kCorruption);
  pb::ModelManifest old_version = *d2;
  old_version.set_format_version(kManifestFormatVersion);  // a delta read as a whole model
  ASSERT_TRUE(WriteManifest(root + "/d2", old_version).ok());
  EXPECT_EQ(ReadChain(root + "/d2").status().code(), Status::Code::kCorruption);
  pb::ModelManifest escaping = *d2;
  escaping.set_base("../elsewhere");
  ASSERT_TRUE(WriteManifest(root + "/d2", escaping).ok());
  EXPECT_EQ(ReadChain(root + "/d2").status().code(), Status::Code::kCorruption);
}

TEST(CheckpointChainTest, ALoopOfBasesIsRefused) {
  const std::string root = MakeTempDir();
  WriteLink(root, "a", "", 0, {1});
  WriteLink(root, "b", "a", 1, {1});
  // a on top of b, recording b's hash: a loop a -> b -> a.
  StatusOr<pb::ModelManifest> a = ReadManifest(root + "/a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(SetBase(root, "b", &*a).ok());
  ASSERT_TRUE(WriteManifest(root + "/a", *a).ok());
  StatusOr<pb::ModelManifest> b = ReadManifest(root + "/b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(SetBase(root, "a", &*b).ok());
  ASSERT_TRUE(WriteManifest(root + "/b", *b).ok());
  StatusOr<std::vector<ChainLink>> chain = ReadChain(root + "/b");
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Status::Code::kCorruption) << chain.status().ToString();
}

TEST(CheckpointChainTest, LoadModelLaysEachLinkOverTheOlderOnes) {
  const std::string root = WriteChainOfThree();
  StatusOr<LoadedModel> model = LoadModel(root + "/d2");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->num_sparse_rows(), 12);
  const std::map<uint64_t, int> newest = {{1, 0}, {2, 1}, {3, 2}, {10, 0}, {11, 1}, {12, 2}};
  for (const auto& [key, version] : newest) {
    const float* row = model->FindSparseRow(key);
    ASSERT_NE(row, nullptr) << key;
    EXPECT_EQ(std::vector<float>(row, row + kDim), RowOf(key, version)) << key;
  }
  EXPECT_EQ(std::vector<float>(model->dense().begin(), model->dense().end()),
            std::vector<float>(6, 2.0f));  // the newest link's blocks
  EXPECT_EQ(model->manifest().global_step(), 20);
}

TEST(CheckpointChainTest, ExportOfAChainHoldsEachKeysNewestRowAndIsAWholeModel) {
  const std::string root = WriteChainOfThree();
  const std::string out = MakeTempDir() + "/served";
  ExportOptions options;
  options.prune_untouched = true;  // state all zero: only the full checkpoint's rows
  options.is_untouched = [](uint64_t, std::span<const float>, std::span<const float> state) {
    return state[0] == 0.0f;
  };
  StatusOr<ExportResult> result = ExportModel(root + "/d2", out, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // Keys 1, 4..10 are untouched (version 0); 2, 3, 11, 12 come from the deltas, once each.
  EXPECT_EQ(result->info.source_rows(), 12u);
  EXPECT_EQ(result->info.dropped_untouched(), 8u);
  EXPECT_EQ(result->rows_kept, 4u);
  StatusOr<pb::ModelManifest> manifest = ReadManifest(out);
  ASSERT_TRUE(manifest.ok());
  EXPECT_FALSE(manifest->has_base());
  EXPECT_EQ(manifest->format_version(), kManifestFormatVersion);
  StatusOr<LoadedModel> served = LoadModel(out);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  const float* row3 = served->FindSparseRow(3);
  ASSERT_NE(row3, nullptr);
  EXPECT_EQ(std::vector<float>(row3, row3 + kDim), RowOf(3, 2));
  EXPECT_EQ(served->FindSparseRow(1), nullptr);
  EXPECT_EQ(std::vector<float>(served->dense().begin(), served->dense().end()),
            std::vector<float>(6, 2.0f));
}

TEST(CheckpointChainTest, StaleRowFilterDropsTheRowsOfKeysANewerLinkHeld) {
  auto shard_of = [](std::vector<uint64_t> keys) {
    ShardContents shard;
    shard.sparse_dim = 2;
    for (uint64_t k : keys) shard.weights.insert(shard.weights.end(), 2, static_cast<float>(k));
    shard.keys = std::move(keys);
    return shard;
  };
  StaleRowFilter stale;
  stale.StartLink(true);  // the newest link, in two shards: nothing is stale yet
  ShardContents a = shard_of({4, 12}), b = shard_of({0, 5, 9});
  stale.Drop(&a);
  stale.Drop(&b);
  EXPECT_EQ(a.keys, (std::vector<uint64_t>{4, 12}));
  EXPECT_EQ(b.keys, (std::vector<uint64_t>{0, 5, 9}));
  stale.StartLink(true);
  ShardContents older = shard_of({1, 4, 6, 9});
  ShardContents state = shard_of({1, 4, 6, 9});
  state.sparse_dim = 1;
  state.weights = {10, 40, 60, 90};
  stale.Drop(&older, &state);
  EXPECT_EQ(older.keys, (std::vector<uint64_t>{1, 6}));
  EXPECT_EQ(older.weights, (std::vector<float>{1, 1, 6, 6}));
  EXPECT_EQ(state.keys, older.keys);
  EXPECT_EQ(state.weights, (std::vector<float>{10, 60}));
  stale.StartLink(false);  // the full checkpoint: keys of both newer links are stale
  ShardContents full = shard_of({1, 2, 4, 6, 12});
  stale.Drop(&full);
  EXPECT_EQ(full.keys, (std::vector<uint64_t>{2}));
}

TEST(ChainTipTest, EveryFullEveryThCheckpointIsFull) {
  ChainTip tip(3);
  std::vector<std::string> bases;
  for (const char* name : {"c1", "c2", "c3", "c4", "c5", "c6", "c7"}) {
    const std::string dir = std::string("ckpt/") + name;
    bases.push_back(tip.BaseFor(dir, /*full_requested=*/false));
    tip.Advance(dir, bases.back());
  }
  EXPECT_EQ(bases, (std::vector<std::string>{"", "c1", "c2", "", "c4", "c5", ""}));
}

TEST(ChainTipTest, AFullRequestOrAnotherRootRestartsTheChain) {
  ChainTip tip(10);
  tip.Advance("ckpt/c1", "");
  EXPECT_EQ(tip.BaseFor("ckpt/c2", false), "c1");
  EXPECT_EQ(tip.BaseFor("ckpt/c2", /*full_requested=*/true), "");
  EXPECT_EQ(tip.BaseFor("other/c2", false), "");
  EXPECT_EQ(ChainTip(1).BaseFor("ckpt/c2", false), "");  // full_every 1: all full
  EXPECT_EQ(ChainTip(5).BaseFor("ckpt/c1", false), "");  // nothing to build on yet
}

TEST(ChainTipTest, AResumedChainCountsItsLinks) {
  ChainTip tip(3);
  tip.ResumeAt("ckpt/d2/", 3);  // full <- d1 <- d2: the next is full
  EXPECT_EQ(tip.BaseFor("ckpt/d3", false), "");
  tip.ResumeAt("ckpt/d1", 2);
  EXPECT_EQ(tip.BaseFor("ckpt/d2", false), "d1");
}

}  // namespace
}  // namespace tessera::io
