#include "io/export.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "io/checkpoint_chain.h"
#include "io/file_util.h"
#include "io/model_file.h"

namespace tessera::io {

namespace {

constexpr char kCreatedBy[] = "tessera export";

double SquaredNorm(std::span<const float> row) {
  double sum = 0.0;
  for (float x : row) sum += static_cast<double>(x) * x;
  return sum;
}

// A source weight shard and, in a checkpoint, its state shard (the same keys).
struct SourceShard {
  ShardContents weights;
  ShardContents state;  // empty without state
};

StatusOr<SourceShard> ReadSourceShard(const std::string& dir, const pb::ModelManifest& manifest,
                                      int i) {
  SourceShard source;
  ASSIGN_OR_RETURN(source.weights, ReadListedShard(dir, manifest.shards(i)));
  const std::string path = dir + "/" + manifest.shards(i).file();
  if (source.weights.sparse_dim != manifest.sparse_dim() ||
      source.weights.dense_size != manifest.dense_size()) {
    return Status::Corruption(path + ": sparse_dim or dense_size differs from MANIFEST");
  }
  if (manifest.state_shards_size() == 0) return source;
  const pb::ShardFileInfo& state_info = manifest.state_shards(i);
  ASSIGN_OR_RETURN(source.state, ReadListedShard(dir, state_info));
  if (source.state.keys != source.weights.keys) {
    return Status::Corruption(dir + "/" + state_info.file() + ": its keys are not those of " +
                              path);
  }
  return source;
}

// Appends the rows of `source` that the options keep to `out`, counting the others.
void SelectRows(const SourceShard& source, const ExportOptions& options, ShardContents* out,
                pb::ExportInfo* info) {
  const size_t dim = static_cast<size_t>(source.weights.sparse_dim);
  const size_t state_floats =
      source.weights.keys.empty() ? 0 : source.state.weights.size() / source.weights.keys.size();
  const double min_squared_norm =
      static_cast<double>(options.prune_norm_below) * options.prune_norm_below;
  for (size_t r = 0; r < source.weights.keys.size(); ++r) {
    const uint64_t key = source.weights.keys[r];
    std::span<const float> row(source.weights.weights.data() + r * dim, dim);
    std::span<const float> state(source.state.weights.data() + r * state_floats, state_floats);
    if (options.prune_untouched && options.is_untouched(key, row, state)) {
      info->set_dropped_untouched(info->dropped_untouched() + 1);
    } else if (SquaredNorm(row) < min_squared_norm) {
      info->set_dropped_below_norm(info->dropped_below_norm() + 1);
    } else {
      out->keys.push_back(key);
      out->weights.insert(out->weights.end(), row.begin(), row.end());
    }
  }
  info->set_source_rows(info->source_rows() + source.weights.keys.size());
}

Status AppendDense(const std::string& path, const ShardContents& in, ShardContents* out) {
  if (!in.block_ids.empty() && out->dense_block_floats != 0 &&
      in.dense_block_floats != out->dense_block_floats) {
    return Status::Corruption(path + ": dense_block_floats differs from the other shards'");
  }
  if (!in.block_ids.empty()) out->dense_block_floats = in.dense_block_floats;
  out->block_ids.insert(out->block_ids.end(), in.block_ids.begin(), in.block_ids.end());
  out->dense_values.insert(out->dense_values.end(), in.dense_values.begin(), in.dense_values.end());
  return Status::OK();
}

Status CheckSourceManifest(const std::string& dir, const pb::ModelManifest& m) {
  // ReadChain checked the format version against the base.
  if (m.shards_size() < 1 ||
      (m.state_shards_size() != 0 && m.state_shards_size() != m.shards_size())) {
    return Status::Corruption(dir + "/MANIFEST: " + std::to_string(m.shards_size()) +
                              " shards and " + std::to_string(m.state_shards_size()) +
                              " state files");
  }
  return Status::OK();
}

// The export's MANIFEST: the source's config and progress, the new shard, no state; a
// whole model even when the source was an incremental checkpoint.
pb::ModelManifest ExportManifest(const pb::ModelManifest& source, const pb::ShardFileInfo& shard,
                                 const pb::ExportInfo& info) {
  pb::ModelManifest manifest = source;
  manifest.clear_shards();
  manifest.clear_state_shards();
  manifest.clear_is_checkpoint();
  manifest.clear_base();
  manifest.clear_base_manifest_xxh64();
  manifest.set_format_version(kManifestFormatVersion);
  manifest.set_created_by(kCreatedBy);
  *manifest.add_shards() = shard;
  *manifest.mutable_export_info() = info;
  return manifest;
}

}  // namespace

Status ExportOptions::Validate() const {
  if (!pb::SparseEncoding_IsValid(precision)) {
    return Status::InvalidArgument("precision: unknown sparse encoding");
  }
  if (!std::isfinite(prune_norm_below) || prune_norm_below < 0.0f) {
    return Status::InvalidArgument("prune_norm_below must be a finite number >= 0, not " +
                                   std::to_string(prune_norm_below));
  }
  if (prune_untouched && !is_untouched) {
    return Status::InvalidArgument("prune_untouched needs an is_untouched predicate");
  }
  return Status::OK();
}

StatusOr<ExportResult> ExportModel(const std::string& source_dir, const std::string& out_dir,
                                   const ExportOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(std::vector<ChainLink> chain, ReadChain(source_dir));
  const pb::ModelManifest& source = chain.back().manifest;
  ExportResult result;
  result.source_links = chain.size();
  pb::ExportInfo& info = result.info;
  info.set_source(source_dir);
  info.set_precision(options.precision);
  info.set_pruned_untouched(options.prune_untouched);
  info.set_prune_norm_below(options.prune_norm_below);
  ShardContents out;
  out.sparse_dim = source.sparse_dim();
  out.dense_size = source.dense_size();
  out.encoding = options.precision;
  // Newest link first (one link unless the source is an incremental checkpoint): its
  // dense blocks are the model's, and an older link's row of a key a newer one holds is
  // stale. Only the keys of the newer links are held, not their rows.
  StaleRowFilter stale;
  for (size_t l = chain.size(); l-- > 0;) {
    const ChainLink& link = chain[l];
    RETURN_IF_ERROR(CheckSourceManifest(link.dir, link.manifest));
    stale.StartLink(/*older_links_follow=*/l > 0);
    for (int i = 0; i < link.manifest.shards_size(); ++i) {
      ASSIGN_OR_RETURN(SourceShard shard, ReadSourceShard(link.dir, link.manifest, i));
      stale.Drop(&shard.weights, &shard.state);
      SelectRows(shard, options, &out, &info);
      if (l + 1 == chain.size()) {
        RETURN_IF_ERROR(
            AppendDense(link.dir + "/" + link.manifest.shards(i).file(), shard.weights, &out));
      }
      result.source_weight_bytes += link.manifest.shards(i).bytes();
      if (link.manifest.state_shards_size() > 0) {
        result.source_state_bytes += link.manifest.state_shards(i).bytes();
      }
    }
  }
  // A block or key in two shards, or a block missing, is the source's fault.
  const uint64_t blocks =
      out.dense_block_floats > 0
          ? (out.dense_size + out.dense_block_floats - 1) / out.dense_block_floats
          : 0;
  if (out.block_ids.size() != blocks) {
    return Status::Corruption(source_dir + ": the shards hold " +
                              std::to_string(out.block_ids.size()) + " dense blocks, not " +
                              std::to_string(blocks));
  }
  RETURN_IF_ERROR(CreateDirectories(out_dir));
  const std::string manifest_path = out_dir + "/" + kManifestName;
  if (std::remove(manifest_path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("cannot remove " + manifest_path + ": " + std::strerror(errno));
  }
  pb::ShardFileInfo shard;
  Status written = WriteShard(out_dir + "/" + kExportShardName, out, &shard);
  if (!written.ok()) return written.WithContext("exporting " + source_dir);
  RETURN_IF_ERROR(WriteManifest(out_dir, ExportManifest(source, shard, info)));
  result.export_bytes = shard.bytes();
  result.rows_kept = out.keys.size();
  return result;
}

}  // namespace tessera::io
