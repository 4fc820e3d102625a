#include "scheduler/checkpoint.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

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

Status PruneCheckpoints(const std::string& root, int keep) {
  ASSIGN_OR_RETURN(std::vector<std::string> all, ListCheckpoints(root));
  std::vector<size_t> complete;
  for (size_t i = 0; i < all.size(); ++i) {
    if (access((root + "/" + all[i] + "/MANIFEST").c_str(), F_OK) == 0) complete.push_back(i);
  }
  if (complete.size() <= static_cast<size_t>(keep)) return Status::OK();
  const size_t oldest_kept = complete[complete.size() - keep];
  for (size_t i = 0; i < oldest_kept; ++i) RemoveCheckpoint(root + "/" + all[i]);
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

}  // namespace

Status VerifyCheckpoint(const std::string& dir) {
  ASSIGN_OR_RETURN(pb::ModelManifest manifest, io::ReadManifest(dir));
  for (const auto& info : manifest.shards()) RETURN_IF_ERROR(VerifyFile(dir, info));
  for (const auto& info : manifest.state_shards()) RETURN_IF_ERROR(VerifyFile(dir, info));
  return Status::OK();
}

StatusOr<std::string> LatestGoodCheckpoint(const std::string& root,
                                           std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListCheckpoints(root));
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    const std::string dir = root + "/" + *it;
    Status verified = VerifyCheckpoint(dir);
    if (verified.ok()) return dir;
    skipped->push_back(dir + ": " + verified.ToString());
  }
  return Status::NotFound("no valid checkpoint under " + root);
}

}  // namespace tessera::scheduler
