// The trained model on disk: one shard file per server plus a MANIFEST, readable
// without a cluster (`tessera predict`). Servers call WriteShard at the end of
// training, the scheduler writes the manifest last (WriteManifest); LoadModel reads a
// whole directory back and merges the shards. Every function is thread-safe (no shared
// state); a LoadedModel is immutable after loading, so it may be read from any thread.
//
// A model directory:
//   MANIFEST                     text format of tessera.pb.ModelManifest (proto/files.proto),
//                                written last and atomically: without it there is no model.
//   shard-NNNNN-of-MMMMM.tsr     one per server (the name is the server's choice; the
//                                manifest lists each file with its size and xxHash64).
//
// Shard file layout, versions 1 and 2, all integers little-endian:
//   offset 0   magic "TSRSHARD"                       8 bytes
//          8   u32 format version (1: f32 rows; 2: the header names the row encoding)
//         12   u32 H = length of the serialized ShardHeader
//         16   ShardHeader (proto/files.proto)         H bytes
//              sparse keys      u64[sparse_rows], strictly ascending
//              sparse weights   f32[sparse_rows x sparse_dim], row-major, in key order;
//                               in version 2, encoded as ShardHeader.sparse_encoding says
//                               (io/row_encoding.h: f16[rows x dim], or f32 scale[rows]
//                               then i8[rows x dim])
//              dense block ids  u64[dense_blocks], strictly ascending
//              dense values     f32, the blocks' floats concatenated in block-id order;
//                               block i covers the model's dense floats
//                               [i * dense_block_floats, min((i+1) * dense_block_floats,
//                               dense_size))
//   size - 8   u64 XXH64 (seed 0) of every byte before it
// The arrays follow one another with no padding; a reader checks every count against the
// file size before allocating, so a damaged file is a Corruption status, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/files.pb.h"

namespace tessera::io {

inline constexpr char kShardMagic[8] = {'T', 'S', 'R', 'S', 'H', 'A', 'R', 'D'};
inline constexpr uint32_t kShardFormatVersion = 1;         // f32 rows: what training writes
inline constexpr uint32_t kShardFormatVersionEncoded = 2;  // any SparseEncoding (exports)
inline constexpr int kManifestFormatVersion = 1;
inline constexpr char kManifestName[] = "MANIFEST";

// What one server holds: its sparse rows and its dense blocks. A plain value.
struct ShardContents {
  int server_index = 0;
  int num_servers = 1;
  int sparse_dim = 0;               // floats per sparse row
  std::vector<uint64_t> keys;       // one per row
  std::vector<float> weights;       // keys.size() x sparse_dim, row-major
  int dense_block_floats = 0;       // floats per dense block (the last may be shorter)
  int64_t dense_size = 0;           // floats of the whole dense model, over all shards
  std::vector<uint64_t> block_ids;  // the blocks this shard holds
  std::vector<float> dense_values;  // their floats, concatenated in block_ids order
  // How the file stores `weights` (always decoded to floats here). Not SPARSE_FP32 only
  // in exports for serving; INT8 needs finite weights.
  pb::SparseEncoding encoding = pb::SPARSE_FP32;
};

// Floats in dense block `block` of a model of `dense_size` floats.
int64_t DenseBlockFloats(int64_t dense_size, int block_floats, uint64_t block);

// Writes `shard` to `path` atomically and durably, creating the directory when missing.
// Rows and blocks need not be in order: the file holds them sorted. InvalidArgument when
// the arrays' sizes disagree, a key or block repeats, or a block id is out of range.
// Fills `info` with the bytes, the hex XXH64 of the whole file and the counts, and
// `info->file` with the file's base name.
Status WriteShard(const std::string& path, const ShardContents& shard, pb::ShardFileInfo* info);

// Reads and checks one shard file: Corruption naming the file and the fault for a wrong
// magic, an unknown version, a truncated or overlong file, a bad header, unsorted keys
// or a checksum mismatch.
StatusOr<ShardContents> ReadShard(const std::string& path);

// Reads the shard at `path` (its own checks, as ReadShard) and checks its size and
// xxHash64 against what a MANIFEST recorded. Corruption naming the file otherwise.
Status VerifyShardFile(const std::string& path, const pb::ShardFileInfo& info);

// ReadShard of `dir`/`info.file()` that also checks the size and xxHash64 the MANIFEST
// recorded in `info`: one read for both. Corruption naming the file otherwise.
StatusOr<ShardContents> ReadListedShard(const std::string& dir, const pb::ShardFileInfo& info);

// Writes `dir`/MANIFEST atomically and durably.
Status WriteManifest(const std::string& dir, const pb::ModelManifest& manifest);

// Parses `dir`/MANIFEST; a syntax error is Corruption naming the file, line and column.
StatusOr<pb::ModelManifest> ReadManifest(const std::string& dir);

// "%016x" of an XXH64, the form the manifest stores.
std::string Xxh64Hex(uint64_t hash);

// A whole model, merged from its shards. Immutable; movable.
class LoadedModel {
 public:
  LoadedModel() = default;

  // The weights of sparse row `key` (sparse_dim() floats), or nullptr when the model
  // never stored it: the caller then uses the row's initial value, or zeros when
  // missing_rows_are_zero(). O(log rows).
  const float* FindSparseRow(uint64_t key) const;
  // True for an export for serving (io/export.h): a key it does not hold is a zero row.
  bool missing_rows_are_zero() const { return manifest_.has_export_info(); }
  // Every dense float of the model, dense_size of them.
  std::span<const float> dense() const { return dense_; }
  int sparse_dim() const { return sparse_dim_; }
  int64_t num_sparse_rows() const { return static_cast<int64_t>(keys_.size()); }
  const pb::ModelManifest& manifest() const { return manifest_; }

 private:
  friend StatusOr<LoadedModel> LoadModel(const std::string& dir);

  pb::ModelManifest manifest_;
  int sparse_dim_ = 0;
  std::vector<uint64_t> keys_;  // ascending
  std::vector<float> weights_;  // keys_.size() x sparse_dim_
  std::vector<float> dense_;
};

// Reads `dir`/MANIFEST and every shard it lists, checking each shard's size and
// checksum against the manifest, that the shards agree with the manifest and with one
// another (one server index each, every key in one shard only, every dense block present
// exactly once). Any disagreement is Corruption naming the file. An incremental
// checkpoint is read with its whole chain (io/checkpoint_chain.h): each link checked so,
// newer rows replacing older ones, the dense blocks the newest link's.
StatusOr<LoadedModel> LoadModel(const std::string& dir);

}  // namespace tessera::io
