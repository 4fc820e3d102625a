#include "io/export.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "io/file_util.h"
#include "io/io_test_util.h"
#include "io/model_file.h"

namespace tessera::io {
namespace {

using testing::MakeTempDir;

constexpr int kDim = 4;
constexpr int kStateFloats = 2 * kDim;  // Adam: m and v

// Row k: weights k * 0.01 * (1, -2, 3, -4); untouched (all-zero state) when k % 5 == 0.
std::vector<float> RowOf(uint64_t k) {
  const float s = 0.01f * static_cast<float>(k);
  return {s, -2 * s, 3 * s, -4 * s};
}
bool Untouched(uint64_t k) { return k % 5 == 0; }

// A checkpoint of `servers` servers: keys 1..60 by k % servers, dense 10 floats in
// blocks of 4; each server's state file holds the same keys.
std::string WriteCheckpoint(int servers) {
  const std::string dir = MakeTempDir();
  pb::ModelManifest manifest;
  manifest.set_format_version(kManifestFormatVersion);
  manifest.set_sparse_dim(kDim);
  manifest.set_dense_size(10);
  manifest.set_is_checkpoint(true);
  manifest.set_global_step(77);
  for (int s = 0; s < servers; ++s) {
    ShardContents shard, state;
    shard.server_index = state.server_index = s;
    shard.num_servers = state.num_servers = servers;
    shard.sparse_dim = kDim;
    state.sparse_dim = kStateFloats;
    shard.dense_block_floats = 4;
    shard.dense_size = 10;
    for (uint64_t k = 1; k <= 60; ++k) {
      if (k % servers != static_cast<uint64_t>(s)) continue;
      shard.keys.push_back(k);
      const std::vector<float> row = RowOf(k);
      shard.weights.insert(shard.weights.end(), row.begin(), row.end());
      state.weights.insert(state.weights.end(), kStateFloats, Untouched(k) ? 0.0f : 0.5f);
    }
    state.keys = shard.keys;
    for (uint64_t b = 0; b < 3; ++b) {
      if (b % servers != static_cast<uint64_t>(s)) continue;
      shard.block_ids.push_back(b);
      for (int64_t i = 0; i < DenseBlockFloats(10, 4, b); ++i) {
        shard.dense_values.push_back(100.0f + static_cast<float>(b * 4 + i));
      }
    }
    const std::string n = std::to_string(s);
    EXPECT_TRUE(WriteShard(dir + "/shard-" + n + ".tsr", shard, manifest.add_shards()).ok());
    EXPECT_TRUE(WriteShard(dir + "/state-" + n + ".tsr", state, manifest.add_state_shards()).ok());
  }
  EXPECT_TRUE(WriteManifest(dir, manifest).ok());
  return dir;
}

StatusOr<ExportResult> Export(const std::string& source, const std::string& out,
                              ExportOptions options) {
  return ExportModel(source, out, options);
}

ExportOptions Precision(pb::SparseEncoding e) {
  ExportOptions options;
  options.precision = e;
  return options;
}

TEST(ExportTest, MergesEveryServersRowsIntoOneShardWithoutState) {
  const std::string source = WriteCheckpoint(3);
  const std::string out = MakeTempDir() + "/model";
  StatusOr<ExportResult> result = Export(source, out, Precision(pb::SPARSE_FP32));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows_kept, 60u);
  StatusOr<pb::ModelManifest> manifest = ReadManifest(out);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->shards_size(), 1);
  EXPECT_EQ(manifest->state_shards_size(), 0);
  EXPECT_FALSE(manifest->is_checkpoint());
  EXPECT_EQ(manifest->global_step(), 77);
  EXPECT_EQ(manifest->export_info().source_rows(), 60u);
  StatusOr<LoadedModel> exported = LoadModel(out);
  StatusOr<LoadedModel> original = LoadModel(source);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_TRUE(exported->missing_rows_are_zero());
  EXPECT_FALSE(original->missing_rows_are_zero());
  for (uint64_t k = 1; k <= 60; ++k) {
    ASSERT_NE(exported->FindSparseRow(k), nullptr) << k;
    for (int d = 0; d < kDim; ++d) {
      EXPECT_EQ(exported->FindSparseRow(k)[d], original->FindSparseRow(k)[d]);
    }
  }
  EXPECT_EQ(std::vector<float>(exported->dense().begin(), exported->dense().end()),
            std::vector<float>(original->dense().begin(), original->dense().end()));
}

TEST(ExportTest, Fp16AndInt8DecodeCloseToTheWeightsAndAreSmaller) {
  const std::string source = WriteCheckpoint(2);
  StatusOr<LoadedModel> original = LoadModel(source);
  ASSERT_TRUE(original.ok());
  uint64_t fp32_bytes = 0;
  for (pb::SparseEncoding e : {pb::SPARSE_FP32, pb::SPARSE_FP16, pb::SPARSE_INT8}) {
    const std::string out = MakeTempDir() + "/" + pb::SparseEncoding_Name(e);
    StatusOr<ExportResult> result = Export(source, out, Precision(e));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    StatusOr<LoadedModel> model = LoadModel(out);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->manifest().export_info().precision(), e);
    for (uint64_t k = 1; k <= 60; ++k) {
      const float max_abs = 0.04f * static_cast<float>(k);
      // Half: relative 2^-11; int8: half a step of max|x| / 127.
      const float tolerance = e == pb::SPARSE_FP32   ? 0.0f
                              : e == pb::SPARSE_FP16 ? max_abs * 0x1p-11f
                                                     : max_abs / 127.0f / 2 * 1.001f;
      for (int d = 0; d < kDim; ++d) {
        EXPECT_NEAR(model->FindSparseRow(k)[d], original->FindSparseRow(k)[d], tolerance)
            << pb::SparseEncoding_Name(e) << " key " << k;
      }
    }
    if (e == pb::SPARSE_FP32) fp32_bytes = result->export_bytes;
    // Rows: an 8-byte key + 16 (f32), 8 (f16) or 4 + 4 (int8 scale and values) bytes.
    const uint64_t row_bytes = e == pb::SPARSE_FP32 ? 24 : e == pb::SPARSE_FP16 ? 16 : 16;
    // The encoded header names its encoding: 2 bytes more.
    EXPECT_EQ(fp32_bytes - result->export_bytes,
              60 * (24 - row_bytes) - (e != pb::SPARSE_FP32 ? 2 : 0))
        << pb::SparseEncoding_Name(e);
  }
}

TEST(ExportTest, OnlyEncodedShardsAreFormatVersion2) {
  const std::string source = WriteCheckpoint(1);
  for (pb::SparseEncoding e : {pb::SPARSE_FP32, pb::SPARSE_FP16}) {
    const std::string out = MakeTempDir();
    ASSERT_TRUE(Export(source, out, Precision(e)).ok());
    StatusOr<std::string> bytes = ReadFileToString(out + "/" + kExportShardName, 1 << 20);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(static_cast<int>((*bytes)[8]), e == pb::SPARSE_FP32 ? 1 : 2);
  }
}

TEST(ExportTest, PruneUntouchedDropsTheRowsThePredicateNamesAndSeesTheirState) {
  const std::string source = WriteCheckpoint(2);
  const std::string out = MakeTempDir();
  ExportOptions options;
  options.prune_untouched = true;
  int calls = 0;
  options.is_untouched = [&](uint64_t key, std::span<const float> weights,
                             std::span<const float> state) {
    ++calls;
    EXPECT_EQ(weights.size(), static_cast<size_t>(kDim));
    EXPECT_EQ(weights[0], RowOf(key)[0]);
    EXPECT_EQ(state.size(), static_cast<size_t>(kStateFloats));
    return state[0] == 0.0f;
  };
  StatusOr<ExportResult> result = Export(source, out, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(calls, 60);
  EXPECT_EQ(result->info.dropped_untouched(), 12u);
  EXPECT_EQ(result->rows_kept, 48u);
  StatusOr<LoadedModel> model = LoadModel(out);
  ASSERT_TRUE(model.ok());
  for (uint64_t k = 1; k <= 60; ++k) {
    EXPECT_EQ(model->FindSparseRow(k) == nullptr, Untouched(k)) << k;
  }
  EXPECT_TRUE(model->manifest().export_info().pruned_untouched());
}

TEST(ExportTest, PruneUntouchedWithoutStateGivesThePredicateNoState) {
  const std::string source = WriteCheckpoint(1);
  pb::ModelManifest manifest = *ReadManifest(source);
  manifest.clear_state_shards();  // now a model directory: weights only
  ASSERT_TRUE(WriteManifest(source, manifest).ok());
  ExportOptions options;
  options.prune_untouched = true;
  options.is_untouched = [](uint64_t key, std::span<const float>, std::span<const float> state) {
    EXPECT_TRUE(state.empty());
    return key == 7;
  };
  StatusOr<ExportResult> result = Export(source, MakeTempDir(), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->info.dropped_untouched(), 1u);
}

TEST(ExportTest, PruneNormBelowDropsRowsOfSmallerL2Norm) {
  const std::string source = WriteCheckpoint(2);
  const std::string out = MakeTempDir();
  ExportOptions options;
  // |row k| = 0.01 k sqrt(30) = 0.0548 k: keys 1..9 are below 0.5.
  options.prune_norm_below = 0.5f;
  StatusOr<ExportResult> result = Export(source, out, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->info.dropped_below_norm(), 9u);
  StatusOr<LoadedModel> model = LoadModel(out);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->FindSparseRow(9), nullptr);
  EXPECT_NE(model->FindSparseRow(10), nullptr);
  EXPECT_EQ(model->num_sparse_rows(), 51);
}

TEST(ExportTest, ACorruptSourceFileIsRefusedByNameAndNothingIsWritten) {
  const std::string source = WriteCheckpoint(2);
  const std::string bad = source + "/state-1.tsr";
  std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(40);
  f.put('x');
  f.close();
  const std::string out = MakeTempDir() + "/model";
  StatusOr<ExportResult> result = Export(source, out, Precision(pb::SPARSE_FP16));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kCorruption) << result.status().ToString();
  EXPECT_NE(result.status().message().find(bad), std::string::npos) << result.status().ToString();
  EXPECT_FALSE(ReadManifest(out).ok());
}

TEST(ExportTest, AStateFileOfOtherKeysIsCorruptionNamingIt) {
  const std::string source = WriteCheckpoint(2);
  pb::ModelManifest manifest = *ReadManifest(source);
  std::swap(*manifest.mutable_state_shards(0), *manifest.mutable_state_shards(1));
  ASSERT_TRUE(WriteManifest(source, manifest).ok());
  StatusOr<ExportResult> result = Export(source, MakeTempDir(), ExportOptions());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("state-1.tsr"), std::string::npos)
      << result.status().ToString();
}

TEST(ExportTest, ASecondExportIntoTheSameDirectoryReplacesTheFirst) {
  const std::string source = WriteCheckpoint(2);
  const std::string out = MakeTempDir();
  ASSERT_TRUE(Export(source, out, ExportOptions()).ok());
  ASSERT_TRUE(Export(source, out, Precision(pb::SPARSE_INT8)).ok());
  StatusOr<LoadedModel> model = LoadModel(out);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->manifest().export_info().precision(), pb::SPARSE_INT8);
}

TEST(ExportTest, BadOptionsAreRefused) {
  const std::string source = WriteCheckpoint(1);
  ExportOptions negative;
  negative.prune_norm_below = -1.0f;
  EXPECT_EQ(Export(source, MakeTempDir(), negative).status().code(),
            Status::Code::kInvalidArgument);
  ExportOptions no_predicate;
  no_predicate.prune_untouched = true;
  EXPECT_EQ(Export(source, MakeTempDir(), no_predicate).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Export(MakeTempDir(), MakeTempDir(), ExportOptions()).status().code(),
            Status::Code::kNotFound);
}

}  // namespace
}  // namespace tessera::io
