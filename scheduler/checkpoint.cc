#include "scheduler/checkpoint.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "io/checkpoint_chain.h"
#include "io/model_file.h"

namespace tessera::scheduler {

std::string CheckpointName(int epochs_done, int64_t step) {
  char name[64];
  if (step == 0) {
    std::snprintf(name, sizeof(name), "epoch-%04d", epochs_done);
  } else {
    std::snprintf(name, sizeof(name), "epoch-%04d-step-%09lld", epochs_done,
                  static_cast<long long>(step));
  }
  return name;
}

void RemoveCheckpoint(const std::string& dir) {
  // The manifest goes first: a directory without one is no checkpoint, so a removal
  // cut short leaves nothing that looks valid.
  std::remove((dir + "/MANIFEST").c_str());
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") std::remove((dir + "/" + name).c_str());
  }
  closedir(d);
  rmdir(dir.c_str());
}

namespace {

// Adds `name` and the bases its MANIFEST leads to (by name: a damaged link keeps what it
// names, and the walk stops where a MANIFEST cannot be read) to `kept`.
void KeepWithBases(const std::string& root, std::string name, std::set<std::string>* kept) {
  while (kept->insert(name).second) {
    StatusOr<pb::ModelManifest> manifest = io::ReadManifest(root + "/" + name);
    if (!manifest.ok() || !manifest->has_base()) return;
    name = manifest->base();
  }
}

}  // namespace

Status PruneCheckpoints(const std::string& root, int keep, const std::string& also_keep) {
  ASSIGN_OR_RETURN(std::vector<std::string> all, ListCheckpoints(root));
  std::vector<size_t> complete;
  for (size_t i = 0; i < all.size(); ++i) {
    if (access((root + "/" + all[i] + "/MANIFEST").c_str(), F_OK) == 0) complete.push_back(i);
  }
  if (complete.size() <= static_cast<size_t>(keep)) return Status::OK();
  const size_t oldest_kept = complete[complete.size() - keep];
  std::set<std::string> kept;
  for (size_t i = oldest_kept; i < all.size(); ++i) KeepWithBases(root, all[i], &kept);
  if (!also_keep.empty()) KeepWithBases(root, also_keep, &kept);
  for (size_t i = 0; i < oldest_kept; ++i) {
    if (kept.count(all[i]) == 0) RemoveCheckpoint(root + "/" + all[i]);
  }
  return Status::OK();
}

StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& root) {
  std::vector<std::string> names;
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return Status::NotFound("cannot read the checkpoint directory " + root);
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("epoch-", 0) == 0) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

Status VerifyFile(const std::string& dir, const pb::ShardFileInfo& info) {
  if (info.file().empty() || info.file().find('/') != std::string::npos) {
    return Status::Corruption(dir + "/MANIFEST lists a bad file name '" + info.file() + "'");
  }
  return io::VerifyShardFile(dir + "/" + info.file(), info);
}

Status VerifyFiles(const io::ChainLink& link) {
  for (const auto& info : link.manifest.shards()) RETURN_IF_ERROR(VerifyFile(link.dir, info));
  for (const auto& info : link.manifest.state_shards()) {
    RETURN_IF_ERROR(VerifyFile(link.dir, info));
  }
  return Status::OK();
}

// VerifyCheckpoint, remembering each link's files' verdict in `verified` (by
// directory): the checkpoints of one chain share their older links.
Status VerifyChain(const std::string& dir, std::map<std::string, Status>* verified) {
  ASSIGN_OR_RETURN(std::vector<io::ChainLink> chain, io::ReadChain(dir));
  for (const io::ChainLink& link : chain) {
    auto [it, inserted] = verified->try_emplace(link.dir);
    if (inserted) it->second = VerifyFiles(link);
    if (it->second.ok()) continue;
    if (&link == &chain.back()) return it->second;
    return it->second.WithContext(dir + " is incremental on top of " + link.dir);
  }
  return Status::OK();
}

}  // namespace

Status VerifyCheckpoint(const std::string& dir) {
  std::map<std::string, Status> verified;
  return VerifyChain(dir, &verified);
}

StatusOr<std::string> LatestGoodCheckpoint(const std::string& root,
                                           std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListCheckpoints(root));
  std::map<std::string, Status> verified;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    const std::string dir = root + "/" + *it;
    Status status = VerifyChain(dir, &verified);
    if (status.ok()) return dir;
    skipped->push_back(dir + ": " + status.ToString());
  }
  return Status::NotFound("no valid checkpoint under " + root);
}

CheckpointChain::CheckpointChain(std::string root, const std::string& resume_dir)
    : root_(std::move(root)) {
  // As the servers decide (io::ChainTip::BaseFor, comparing with the directory of the
  // checkpoint asked for): under another root, no base.
  const std::string asked_root = io::CheckpointRoot(root_ + "/" + CheckpointName(0, 0));
  if (!resume_dir.empty() && io::CheckpointRoot(resume_dir) == asked_root) {
    complete_.insert(io::CheckpointDirName(resume_dir));
  }
}

Status CheckpointChain::Link(pb::ModelManifest* manifest) {
  std::set<std::string> bases;
  for (const auto* files : {&manifest->shards(), &manifest->state_shards()}) {
    for (const pb::ShardFileInfo& f : *files) {
      if (!f.base().empty()) bases.insert(f.base());
    }
  }
  if (bases.empty()) return Status::OK();  // every server wrote every row: full
  // A server that wrote every row (its own chain was cut) fits on any base.
  Status linked;
  if (bases.size() > 1) {
    linked = Status::Corruption("the servers wrote it on different bases (" + *bases.begin() +
                                ", " + *bases.rbegin() + ")");
  } else if (complete_.count(*bases.begin()) == 0) {
    linked = Status::Corruption("its base " + *bases.begin() +
                                " is not a checkpoint this run completed");
  } else {
    linked = io::SetBase(root_, *bases.begin(), manifest);
  }
  if (!linked.ok()) full_needed_ = true;
  return linked;
}

std::string DescribeLink(const pb::ModelManifest& manifest) {
  if (!manifest.has_base()) return "";
  uint64_t rows = 0;
  for (const pb::ShardFileInfo& f : manifest.shards()) rows += f.sparse_rows();
  return ", incremental: " + std::to_string(rows) + " changed rows on top of " + manifest.base();
}

void CheckpointChain::Completed(const std::string& dir, const pb::ModelManifest& manifest) {
  complete_.insert(io::CheckpointDirName(dir));
  if (!manifest.has_base()) full_needed_ = false;
}

}  // namespace tessera::scheduler
