// Checkpoint directories (DESIGN.md §7): a checkpoint is <root>/epoch-NNNN holding
// one weight shard and one optimizer-state shard per server and a MANIFEST written
// last; without a complete, verified MANIFEST a directory is no checkpoint. An
// incremental checkpoint (io/checkpoint_chain.h) holds only the rows changed since its
// base and is valid only with its whole chain of bases, each verified.
// Functions are safe to call from any thread on distinct directories; a
// CheckpointChain belongs to the scheduler's thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/files.pb.h"

namespace tessera::scheduler {

// The name of the checkpoint after `epochs_done` epochs and `step` steps of the
// next (0: at the epoch's end): epoch-NNNN or epoch-NNNN-step-SSSSSSSSS, so that
// names sort in training order.
std::string CheckpointName(int epochs_done, int64_t step);

// Checkpoint names under `root` (epoch-NNNN...), oldest first.
StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& root);

// Keeps the newest `keep` complete checkpoints (those with a MANIFEST) under `root`,
// and `also_keep` (a name; the one just written, which older runs' checkpoints may sort
// after), each with the chain of bases it needs; deletes the other complete ones older
// than the oldest of those `keep`, and any incomplete directory older than it too
// (MANIFEST first, so an interrupted prune never leaves something that looks valid).
// So `keep` counts resumable checkpoints, not directories: with incremental
// checkpoints up to keep + full_every - 1 directories stay. Newer incomplete
// directories are left alone: they may be being written.
Status PruneCheckpoints(const std::string& root, int keep, const std::string& also_keep = "");

// Deletes one checkpoint directory and its files (MANIFEST first).
void RemoveCheckpoint(const std::string& dir);

// Reads the MANIFEST and every file it lists, checking each file's own checksum and
// its size and xxHash64 against the manifest; for an incremental checkpoint, the same
// for every link of its chain, and each link's record of its base's MANIFEST. The
// error names the bad file (or the missing or rewritten base).
Status VerifyCheckpoint(const std::string& dir);

// The newest checkpoint under `root` that verifies, with its whole chain. Each newer
// one that does not is described in `skipped` ("<dir>: <why>") so the caller can say so.
StatusOr<std::string> LatestGoodCheckpoint(const std::string& root,
                                           std::vector<std::string>* skipped);

// "" for a full checkpoint; ", incremental: N changed rows on top of BASE" for an
// incremental one (the scheduler's log line).
std::string DescribeLink(const pb::ModelManifest& manifest);

// The scheduler's side of incremental checkpoints. The servers choose each
// checkpoint's base (their previous checkpoint) when they write it; before the
// MANIFEST is written, Link checks that base is a checkpoint completed in this run (or
// the one it resumed), so that a checkpoint dropped after some servers wrote it (one
// server skipped its step) never becomes a base. When Link refuses, the checkpoint is
// not to be completed, and the servers must write the next one in full (full_needed)
// until one is complete.
class CheckpointChain {
 public:
  // `root`: checkpoint.dir. `resume_dir`: the checkpoint this run resumed ("" for a
  // fresh start); the servers build on it when it lies under `root`.
  CheckpointChain(std::string root, const std::string& resume_dir);

  // Whether the servers must write every row in the next checkpoint asked of them.
  bool full_needed() const { return full_needed_; }

  // Completes `manifest` (format_version 1, its files as the servers reported them)
  // of a checkpoint under the root: full when no file names a base, else incremental
  // on top of the one base they all name. Corruption, and full_needed() from then on,
  // when the files disagree or the base is no complete checkpoint of this run.
  Status Link(pb::ModelManifest* manifest);

  // The checkpoint `dir` is complete (its MANIFEST written).
  void Completed(const std::string& dir, const pb::ModelManifest& manifest);

 private:
  const std::string root_;
  std::set<std::string> complete_;  // names of the checkpoints a link may build on
  bool full_needed_ = false;
};

}  // namespace tessera::scheduler
