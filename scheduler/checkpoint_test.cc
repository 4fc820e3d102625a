#include "scheduler/checkpoint.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "io/io_test_util.h"

namespace tessera::scheduler {
namespace {

using io::testing::MakeTempDir;
using io::testing::WriteLink;

std::vector<std::string> Names(const std::string& root) {
  StatusOr<std::vector<std::string>> names = ListCheckpoints(root);
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  return names.ok() ? *names : std::vector<std::string>();
}

// Flips one byte in the middle of `path`.
void Damage(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr) << path;
  std::fseek(f, 40, SEEK_SET);
  const int c = std::fgetc(f);
  std::fseek(f, 40, SEEK_SET);
  std::fputc(c ^ 0x5a, f);
  std::fclose(f);
}

// Chain A: epoch-0001 full <- -step-10 <- -step-20; chain B: epoch-0002 full <- -step-10.
std::string WriteTwoChains() {
  const std::string root = MakeTempDir();
  WriteLink(root, "epoch-0001", "", 0, {1, 2, 3});
  WriteLink(root, "epoch-0001-step-000000010", "epoch-0001", 1, {2});
  WriteLink(root, "epoch-0001-step-000000020", "epoch-0001-step-000000010", 2, {3});
  WriteLink(root, "epoch-0002", "", 3, {1, 2, 3});
  WriteLink(root, "epoch-0002-step-000000010", "epoch-0002", 4, {1});
  return root;
}

TEST(VerifyCheckpointTest, AnIncrementalCheckpointIsValidOnlyWithEveryLink) {
  const std::string root = WriteTwoChains();
  const std::string tip = root + "/epoch-0001-step-000000020";
  EXPECT_TRUE(VerifyCheckpoint(tip).ok());
  const std::string bad = root + "/epoch-0001/state-1.tsr";
  Damage(bad);
  Status s = VerifyCheckpoint(tip);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(bad), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("incremental on top of " + root + "/epoch-0001"), std::string::npos)
      << s.ToString();
}

TEST(VerifyCheckpointTest, LatestGoodFallsBackPastABrokenChainAndSaysWhy) {
  const std::string root = WriteTwoChains();
  RemoveCheckpoint(root + "/epoch-0002");  // the base of the newest
  std::vector<std::string> skipped;
  StatusOr<std::string> latest = LatestGoodCheckpoint(root, &skipped);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(*latest, root + "/epoch-0001-step-000000020");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find(root + "/epoch-0002/MANIFEST"), std::string::npos) << skipped[0];
}

TEST(PruneCheckpointsTest, KeepsTheBasesOfTheCheckpointsItKeeps) {
  const std::string root = WriteTwoChains();
  ASSERT_TRUE(PruneCheckpoints(root, 1).ok());
  EXPECT_EQ(Names(root), (std::vector<std::string>{"epoch-0002", "epoch-0002-step-000000010"}));
  // Keeping 3: the newest three, and the full checkpoint the third needs.
  const std::string root2 = WriteTwoChains();
  ASSERT_TRUE(PruneCheckpoints(root2, 3).ok());
  EXPECT_EQ(Names(root2), (std::vector<std::string>{"epoch-0001", "epoch-0001-step-000000010",
                                                    "epoch-0001-step-000000020", "epoch-0002",
                                                    "epoch-0002-step-000000010"}));
  ASSERT_TRUE(PruneCheckpoints(root2, 2).ok());
  EXPECT_EQ(Names(root2), (std::vector<std::string>{"epoch-0002", "epoch-0002-step-000000010"}));
}

TEST(PruneCheckpointsTest, AlsoKeepsTheOneJustWrittenWithItsChain) {
  // A resumed run wrote epoch-0001-step-000000010 again while an older run's newer
  // checkpoints are still there: what it builds on next must stay.
  const std::string root = WriteTwoChains();
  ASSERT_TRUE(PruneCheckpoints(root, 1, "epoch-0001-step-000000010").ok());
  EXPECT_EQ(Names(root), (std::vector<std::string>{"epoch-0001", "epoch-0001-step-000000010",
                                                   "epoch-0002", "epoch-0002-step-000000010"}));
}

pb::ShardFileInfo FileOn(const std::string& base) {
  pb::ShardFileInfo f;
  f.set_file("shard");
  f.set_sparse_rows(5);
  f.set_base(base);
  return f;
}

TEST(CheckpointChainTest, LinksOnlyOnTopOfACheckpointThisRunCompleted) {
  const std::string root = WriteTwoChains();
  CheckpointChain chain(root, "");
  pb::ModelManifest full;
  full.set_format_version(1);
  *full.add_shards() = FileOn("");
  ASSERT_TRUE(chain.Link(&full).ok());
  EXPECT_FALSE(full.has_base());
  EXPECT_EQ(full.format_version(), 1);
  // epoch-0002 exists on disk, but this run never completed it: no base.
  pb::ModelManifest delta;
  delta.set_format_version(1);
  *delta.add_shards() = FileOn("epoch-0002");
  *delta.add_state_shards() = FileOn("epoch-0002");
  EXPECT_FALSE(chain.Link(&delta).ok());
  EXPECT_TRUE(chain.full_needed());
  chain.Completed(root + "/epoch-0002", full);  // a full one completes: deltas again
  EXPECT_FALSE(chain.full_needed());
  ASSERT_TRUE(chain.Link(&delta).ok());
  EXPECT_EQ(delta.base(), "epoch-0002");
  EXPECT_EQ(delta.format_version(), io::kManifestFormatVersionIncremental);
  EXPECT_EQ(delta.base_manifest_xxh64(), *io::ManifestXxh64(root + "/epoch-0002"));
  EXPECT_EQ(DescribeLink(delta), ", incremental: 5 changed rows on top of epoch-0002");
}

TEST(CheckpointChainTest, ServersOnDifferentBasesGiveNoCheckpoint) {
  const std::string root = WriteTwoChains();
  CheckpointChain chain(root, root + "/epoch-0002-step-000000010");
  pb::ModelManifest resumed;
  *resumed.add_shards() = FileOn("epoch-0002-step-000000010");
  *resumed.add_shards() = FileOn("");  // a server that wrote every row fits any base
  EXPECT_TRUE(chain.Link(&resumed).ok()) << "the resumed checkpoint is a base";
  pb::ModelManifest split;
  *split.add_shards() = FileOn("epoch-0002-step-000000010");
  *split.add_shards() = FileOn("epoch-0002");
  Status s = chain.Link(&split);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("different bases"), std::string::npos) << s.ToString();
  EXPECT_TRUE(chain.full_needed());
}

TEST(CheckpointChainTest, ACheckpointResumedFromAnotherRootIsNoBase) {
  const std::string root = WriteTwoChains();
  CheckpointChain chain(root, MakeTempDir() + "/epoch-0002");
  pb::ModelManifest delta;
  *delta.add_shards() = FileOn("epoch-0002");
  EXPECT_FALSE(chain.Link(&delta).ok());
}

}  // namespace
}  // namespace tessera::scheduler
