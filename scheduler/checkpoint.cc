#include "scheduler/checkpoint.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "io/model_file.h"

namespace tessera::scheduler {

Status PruneCheckpoints(const std::string& root, int keep) {
  ASSIGN_OR_RETURN(std::vector<std::string> all, ListCheckpoints(root));
  for (size_t i = 0; i + keep < all.size(); ++i) {
    const std::string dir = root + "/" + all[i];
    // The manifest goes first: a directory without one is no checkpoint, so a prune
    // cut short leaves nothing that looks valid.
    std::remove((dir + "/MANIFEST").c_str());
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") std::remove((dir + "/" + name).c_str());
    }
    closedir(d);
    rmdir(dir.c_str());
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
