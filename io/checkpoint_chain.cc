#include "io/checkpoint_chain.h"

#include <xxhash.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "io/file_util.h"

namespace tessera::io {
namespace {

constexpr uint64_t kMaxManifestBytes = uint64_t{64} << 20;

std::string StripTrailingSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// A base must be a plain directory name: a path could leave the root.
bool IsPlainName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// The version and base fields of one link's MANIFEST agree with each other.
Status CheckLinkFields(const std::string& dir, const pb::ModelManifest& m) {
  const std::string where = dir + "/" + kManifestName;
  if (m.format_version() > kManifestFormatVersionIncremental) {
    return Status::Corruption(where + ": unknown format_version " +
                              std::to_string(m.format_version()) + " (this build reads 1 and " +
                              std::to_string(kManifestFormatVersionIncremental) + ")");
  }
  const bool incremental = m.format_version() == kManifestFormatVersionIncremental;
  if (incremental != m.has_base()) {
    return Status::Corruption(where + ": format_version " + std::to_string(m.format_version()) +
                              (m.has_base() ? " with" : " without") + " a base");
  }
  if (incremental && (!IsPlainName(m.base()) || !m.is_checkpoint())) {
    return Status::Corruption(where + ": base '" + m.base() +
                              "' is not a directory name, or the MANIFEST is no checkpoint's");
  }
  return Status::OK();
}

// Every link holds a model of one shape: a delta cannot be laid over another model.
Status CheckOneShape(const std::vector<ChainLink>& chain) {
  const pb::ModelManifest& tip = chain.back().manifest;
  for (const ChainLink& link : chain) {
    if (link.manifest.sparse_dim() != tip.sparse_dim() ||
        link.manifest.dense_size() != tip.dense_size()) {
      return Status::Corruption(chain.back().dir + ": its base " + link.dir +
                                " holds a model of another shape");
    }
  }
  return Status::OK();
}

}  // namespace

std::string CheckpointRoot(const std::string& dir) {
  const std::string path = StripTrailingSlashes(dir);
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string CheckpointDirName(const std::string& dir) {
  const std::string path = StripTrailingSlashes(dir);
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

StatusOr<std::string> ManifestXxh64(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text,
                   ReadFileToString(dir + "/" + kManifestName, kMaxManifestBytes));
  return Xxh64Hex(XXH64(text.data(), text.size(), 0));
}

StatusOr<std::vector<ChainLink>> ReadChain(const std::string& dir) {
  std::vector<ChainLink> chain;
  std::set<std::string> seen;
  std::string current = StripTrailingSlashes(dir);
  const std::string root = CheckpointRoot(current);
  while (true) {
    ASSIGN_OR_RETURN(pb::ModelManifest manifest, ReadManifest(current));
    RETURN_IF_ERROR(CheckLinkFields(current, manifest));
    seen.insert(CheckpointDirName(current));
    const bool incremental = manifest.has_base();
    const std::string base_dir = incremental ? root + "/" + manifest.base() : "";
    const std::string recorded = manifest.base_manifest_xxh64();
    chain.push_back({current, std::move(manifest)});
    if (!incremental) break;
    if (chain.size() >= kMaxChainLinks || seen.count(CheckpointDirName(base_dir)) > 0) {
      return Status::Corruption(dir + ": its chain of bases loops or runs past " +
                                std::to_string(kMaxChainLinks) + " links at " + current);
    }
    StatusOr<std::string> hash = ManifestXxh64(base_dir);
    if (!hash.ok()) {
      return hash.status().WithContext(current + " is incremental on top of " + base_dir);
    }
    if (*hash != recorded) {
      return Status::Corruption(current + " is incremental on top of " + base_dir + ", but " +
                                base_dir + "/" + kManifestName + " hashes to " + *hash +
                                ", not the recorded " + recorded +
                                ": the base was rewritten or damaged");
    }
    current = base_dir;
  }
  std::reverse(chain.begin(), chain.end());
  RETURN_IF_ERROR(CheckOneShape(chain));
  return chain;
}

Status SetBase(const std::string& root, const std::string& base, pb::ModelManifest* manifest) {
  if (!IsPlainName(base)) {
    return Status::InvalidArgument("base '" + base + "' is not a checkpoint directory name");
  }
  ASSIGN_OR_RETURN(std::string hash, ManifestXxh64(root + "/" + base));
  manifest->set_base(base);
  manifest->set_base_manifest_xxh64(hash);
  manifest->set_format_version(kManifestFormatVersionIncremental);
  return Status::OK();
}

void StaleRowFilter::StartLink(bool older_links_follow) {
  if (!link_keys_.empty()) {
    std::sort(link_keys_.begin(), link_keys_.end());
    std::vector<uint64_t> merged;
    merged.reserve(newer_.size() + link_keys_.size());
    std::set_union(newer_.begin(), newer_.end(), link_keys_.begin(), link_keys_.end(),
                   std::back_inserter(merged));
    newer_.swap(merged);
    link_keys_.clear();
  }
  remember_ = older_links_follow;
}

void StaleRowFilter::Drop(ShardContents* shard, ShardContents* state) {
  const size_t rows = shard->keys.size();
  if (remember_) link_keys_.insert(link_keys_.end(), shard->keys.begin(), shard->keys.end());
  if (newer_.empty()) return;
  const size_t dim = static_cast<size_t>(shard->sparse_dim);
  const size_t state_floats = state != nullptr && rows > 0 ? state->weights.size() / rows : 0;
  size_t kept = 0;
  auto next_newer = newer_.begin();
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t key = shard->keys[r];
    next_newer = std::lower_bound(next_newer, newer_.end(), key);  // both ascending
    if (next_newer != newer_.end() && *next_newer == key) continue;
    shard->keys[kept] = key;
    std::copy_n(shard->weights.begin() + r * dim, dim, shard->weights.begin() + kept * dim);
    if (state_floats > 0) {
      std::copy_n(state->weights.begin() + r * state_floats, state_floats,
                  state->weights.begin() + kept * state_floats);
    }
    ++kept;
  }
  shard->keys.resize(kept);
  shard->weights.resize(kept * dim);
  if (state != nullptr) {
    state->keys = shard->keys;
    state->weights.resize(kept * state_floats);
  }
}

std::string ChainTip::BaseFor(const std::string& dir, bool full_requested) const {
  if (full_requested || dir_.empty() || deltas_ + 1 >= static_cast<size_t>(full_every_) ||
      CheckpointRoot(dir_) != CheckpointRoot(dir)) {
    return "";
  }
  return CheckpointDirName(dir_);
}

void ChainTip::Advance(const std::string& dir, const std::string& base) {
  dir_ = dir;
  deltas_ = base.empty() ? 0 : deltas_ + 1;
}

void ChainTip::ResumeAt(const std::string& dir, size_t links) {
  dir_ = dir;
  deltas_ = links > 0 ? links - 1 : 0;
}

}  // namespace tessera::io
