#include "io/model_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "io/file_util.h"
#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::MakeTempDir;

std::string ReadAll(const std::string& path) {
  StatusOr<std::string> s = ReadFileToString(path, uint64_t{1} << 30);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::string();
}

// Server `index` of `count` in a model of dim 3 and 10 dense floats in blocks of 4
// (blocks 0,1,2; the last holds 2 floats); server s holds keys k with k % count == s
// and blocks b with b % count == s, listed in descending order to exercise sorting.
ShardContents MakeShard(int index, int count) {
  ShardContents shard;
  shard.server_index = index;
  shard.num_servers = count;
  shard.sparse_dim = 3;
  shard.dense_block_floats = 4;
  shard.dense_size = 10;
  for (uint64_t k = 30; k-- > 0;) {
    if (k % count != static_cast<uint64_t>(index)) continue;
    shard.keys.push_back(k * 1000003);
    for (int d = 0; d < 3; ++d) shard.weights.push_back(static_cast<float>(k) + 0.25f * d);
  }
  for (uint64_t b = 3; b-- > 0;) {
    if (b % count != static_cast<uint64_t>(index)) continue;
    shard.block_ids.push_back(b);
    for (int64_t i = 0; i < DenseBlockFloats(10, 4, b); ++i) {
      shard.dense_values.push_back(100.0f + static_cast<float>(b * 4 + i));
    }
  }
  return shard;
}

// Writes a complete model of `count` shards into `dir`.
pb::ModelManifest WriteModel(const std::string& dir, int count) {
  pb::ModelManifest manifest;
  manifest.set_format_version(kManifestFormatVersion);
  manifest.set_sparse_dim(3);
  manifest.set_dense_size(10);
  manifest.set_created_by("model_file_test");
  for (int s = 0; s < count; ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "shard-%05d-of-%05d.tsr", s, count);
    Status st = WriteShard(dir + "/" + name, MakeShard(s, count), manifest.add_shards());
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  Status st = WriteManifest(dir, manifest);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return manifest;
}

void Overwrite(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void ExpectCorruptionNaming(const Status& s, const std::string& file) {
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(file), std::string::npos) << s.ToString();
}

TEST(ModelFileTest, ShardRoundTripSortsRowsAndBlocks) {
  const std::string path = MakeTempDir() + "/nested/dir/shard.tsr";
  const ShardContents shard = MakeShard(1, 2);
  pb::ShardFileInfo info;
  ASSERT_TRUE(WriteShard(path, shard, &info).ok());
  EXPECT_EQ(info.file(), "shard.tsr");
  EXPECT_EQ(info.bytes(), ReadAll(path).size());
  EXPECT_EQ(info.xxh64().size(), 16u);
  EXPECT_EQ(info.sparse_rows(), 15u);
  EXPECT_EQ(info.dense_blocks(), 1u);

  StatusOr<ShardContents> read = ReadShard(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->server_index, 1);
  EXPECT_EQ(read->num_servers, 2);
  EXPECT_EQ(read->sparse_dim, 3);
  EXPECT_EQ(read->dense_size, 10);
  EXPECT_EQ(read->dense_block_floats, 4);
  ASSERT_EQ(read->keys.size(), 15u);
  EXPECT_TRUE(std::is_sorted(read->keys.begin(), read->keys.end()));
  EXPECT_EQ(read->keys[0], 1u * 1000003);
  EXPECT_EQ(read->weights[0], 1.0f);
  EXPECT_EQ(read->weights[2], 1.5f);
  EXPECT_EQ(read->weights[3 * 14 + 1], 29.25f);  // the last row, key 29
  EXPECT_EQ(read->block_ids, std::vector<uint64_t>({1}));
  EXPECT_EQ(read->dense_values, std::vector<float>({104, 105, 106, 107}));
}

TEST(ModelFileTest, LayoutStartsWithMagicAndVersion) {
  const std::string path = MakeTempDir() + "/s.tsr";
  pb::ShardFileInfo info;
  ASSERT_TRUE(WriteShard(path, MakeShard(0, 1), &info).ok());
  const std::string bytes = ReadAll(path);
  EXPECT_EQ(bytes.substr(0, 8), "TSRSHARD");
  EXPECT_EQ(bytes[8], 1);
  EXPECT_EQ(bytes.substr(9, 3), std::string(3, '\0'));
}

TEST(ModelFileTest, WriteRejectsInconsistentShards) {
  const std::string dir = MakeTempDir();
  pb::ShardFileInfo info;
  ShardContents short_weights = MakeShard(0, 1);
  short_weights.weights.pop_back();
  EXPECT_EQ(WriteShard(dir + "/a", short_weights, &info).code(), Status::Code::kInvalidArgument);
  ShardContents repeated = MakeShard(0, 1);
  repeated.keys[1] = repeated.keys[0];
  EXPECT_EQ(WriteShard(dir + "/b", repeated, &info).code(), Status::Code::kInvalidArgument);
  ShardContents bad_block = MakeShard(0, 1);
  bad_block.block_ids[0] = 3;
  EXPECT_EQ(WriteShard(dir + "/c", bad_block, &info).code(), Status::Code::kInvalidArgument);
  EXPECT_NE(access((dir + "/a").c_str(), F_OK), 0);
}

TEST(ModelFileTest, EveryFlippedByteIsCorruptionNamingTheFile) {
  const std::string path = MakeTempDir() + "/s.tsr";
  pb::ShardFileInfo info;
  ASSERT_TRUE(WriteShard(path, MakeShard(0, 1), &info).ok());
  const std::string good = ReadAll(path);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    Overwrite(path, bad);
    StatusOr<ShardContents> read = ReadShard(path);
    ASSERT_FALSE(read.ok()) << "flipping byte " << i << " went unnoticed";
    ExpectCorruptionNaming(read.status(), path);
  }
}

TEST(ModelFileTest, TruncationAndTrailingBytesAreCorruption) {
  const std::string path = MakeTempDir() + "/s.tsr";
  pb::ShardFileInfo info;
  ASSERT_TRUE(WriteShard(path, MakeShard(0, 1), &info).ok());
  const std::string good = ReadAll(path);
  for (size_t keep : {size_t{0}, size_t{7}, size_t{20}, good.size() / 2, good.size() - 1}) {
    Overwrite(path, good.substr(0, keep));
    StatusOr<ShardContents> read = ReadShard(path);
    ASSERT_FALSE(read.ok()) << "truncated to " << keep;
    ExpectCorruptionNaming(read.status(), path);
    EXPECT_NE(read.status().message().find("truncated"), std::string::npos)
        << read.status().ToString();
  }
  Overwrite(path, good + "xxxx");
  ExpectCorruptionNaming(ReadShard(path).status(), path);
}

TEST(ModelFileTest, WrongMagicAndUnknownVersionAreNamed) {
  const std::string path = MakeTempDir() + "/s.tsr";
  pb::ShardFileInfo info;
  ASSERT_TRUE(WriteShard(path, MakeShard(0, 1), &info).ok());
  const std::string good = ReadAll(path);
  Overwrite(path, "TSRSHARX" + good.substr(8));
  Status magic = ReadShard(path).status();
  ExpectCorruptionNaming(magic, path);
  EXPECT_NE(magic.message().find("magic"), std::string::npos) << magic.ToString();
  std::string v3 = good;
  v3[8] = 3;  // versions 1 (f32 rows) and 2 (encoded rows) are known
  Overwrite(path, v3);
  Status version = ReadShard(path).status();
  ExpectCorruptionNaming(version, path);
  EXPECT_NE(version.message().find("version 3"), std::string::npos) << version.ToString();
}

TEST(ModelFileTest, MissingShardFileIsNotFound) {
  EXPECT_EQ(ReadShard(MakeTempDir() + "/absent.tsr").status().code(), Status::Code::kNotFound);
}

TEST(ModelFileTest, ManifestRoundTripsAndParseErrorNamesFileAndLine) {
  const std::string dir = MakeTempDir();
  const pb::ModelManifest written = WriteModel(dir, 2);
  StatusOr<pb::ModelManifest> read = ReadManifest(dir);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->SerializeAsString(), written.SerializeAsString());

  Overwrite(dir + "/MANIFEST", "format_version: 1\nsparse_dim: 3\ndense_size: ten\n");
  Status bad = ReadManifest(dir).status();
  ExpectCorruptionNaming(bad, dir + "/MANIFEST");
  EXPECT_NE(bad.message().find("line 3"), std::string::npos) << bad.ToString();
}

TEST(ModelFileTest, LoadModelMergesThreeShards) {
  const std::string dir = MakeTempDir();
  WriteModel(dir, 3);
  StatusOr<LoadedModel> model = LoadModel(dir);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->sparse_dim(), 3);
  EXPECT_EQ(model->num_sparse_rows(), 30);
  EXPECT_EQ(model->manifest().created_by(), "model_file_test");
  for (uint64_t k = 0; k < 30; ++k) {
    const float* row = model->FindSparseRow(k * 1000003);
    ASSERT_NE(row, nullptr) << k;
    EXPECT_EQ(row[0], static_cast<float>(k));
    EXPECT_EQ(row[2], static_cast<float>(k) + 0.5f);
  }
  EXPECT_EQ(model->FindSparseRow(1), nullptr);
  EXPECT_EQ(model->FindSparseRow(~uint64_t{0}), nullptr);
  ASSERT_EQ(model->dense().size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(model->dense()[i], 100.0f + i);
}

TEST(ModelFileTest, LoadModelReportsMissingShard) {
  const std::string dir = MakeTempDir();
  WriteModel(dir, 2);
  ASSERT_EQ(unlink((dir + "/shard-00001-of-00002.tsr").c_str()), 0);
  Status s = LoadModel(dir).status();
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("shard-00001-of-00002.tsr"), std::string::npos) << s.ToString();
}

TEST(ModelFileTest, LoadModelChecksShardAgainstManifestChecksum) {
  const std::string dir = MakeTempDir();
  pb::ModelManifest manifest = WriteModel(dir, 2);
  manifest.mutable_shards(1)->set_xxh64("0123456789abcdef");
  ASSERT_TRUE(WriteManifest(dir, manifest).ok());
  Status s = LoadModel(dir).status();
  ExpectCorruptionNaming(s, "shard-00001-of-00002.tsr");
  EXPECT_NE(s.message().find("0123456789abcdef"), std::string::npos) << s.ToString();
}

TEST(ModelFileTest, LoadModelRejectsAShardReplacedByAnotherValidOne) {
  const std::string dir = MakeTempDir();
  WriteModel(dir, 2);
  pb::ShardFileInfo info;
  ShardContents other = MakeShard(1, 2);
  other.weights[0] = 42.0f;
  ASSERT_TRUE(WriteShard(dir + "/shard-00001-of-00002.tsr", other, &info).ok());
  ExpectCorruptionNaming(LoadModel(dir).status(), "shard-00001-of-00002.tsr");
}

TEST(ModelFileTest, LoadModelRejectsMissingAndDuplicateDenseBlocks) {
  const std::string dir = MakeTempDir();
  pb::ModelManifest manifest;
  manifest.set_format_version(kManifestFormatVersion);
  manifest.set_sparse_dim(3);
  manifest.set_dense_size(10);
  ShardContents a = MakeShard(0, 2), b = MakeShard(1, 2);
  b.block_ids = {0};  // block 0 twice (a has 0 and 2), block 1 nowhere
  b.dense_values = {1, 2, 3, 4};
  ASSERT_TRUE(WriteShard(dir + "/a.tsr", a, manifest.add_shards()).ok());
  ASSERT_TRUE(WriteShard(dir + "/b.tsr", b, manifest.add_shards()).ok());
  ASSERT_TRUE(WriteManifest(dir, manifest).ok());
  Status twice = LoadModel(dir).status();
  EXPECT_EQ(twice.code(), Status::Code::kCorruption);
  EXPECT_NE(twice.message().find("dense block 0 twice"), std::string::npos) << twice.ToString();

  b.block_ids = {};
  b.dense_values = {};
  manifest.clear_shards();
  ASSERT_TRUE(WriteShard(dir + "/a.tsr", a, manifest.add_shards()).ok());
  ASSERT_TRUE(WriteShard(dir + "/b.tsr", b, manifest.add_shards()).ok());
  ASSERT_TRUE(WriteManifest(dir, manifest).ok());
  Status missing = LoadModel(dir).status();
  EXPECT_NE(missing.message().find("dense block 1 missing"), std::string::npos)
      << missing.ToString();
}

TEST(ModelFileTest, LoadModelWithoutManifestIsNotFound) {
  EXPECT_EQ(LoadModel(MakeTempDir()).status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace tessera::io
