// Checkpoint directories (DESIGN.md §7): a checkpoint is <root>/epoch-NNNN holding
// one weight shard and one optimizer-state shard per server and a MANIFEST written
// last; without a complete, verified MANIFEST a directory is no checkpoint.
// Functions only; safe to call from any thread on distinct directories.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::scheduler {

// The name of the checkpoint after `epochs_done` epochs and `step` steps of the
// next (0: at the epoch's end): epoch-NNNN or epoch-NNNN-step-SSSSSSSSS, so that
// names sort in training order.
std::string CheckpointName(int epochs_done, int64_t step);

// Checkpoint names under `root` (epoch-NNNN...), oldest first.
StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& root);

// Deletes all but the newest `keep` complete checkpoints (those with a MANIFEST)
// under `root`, and any incomplete directory older than the oldest one kept (MANIFEST
// first, so an interrupted prune never leaves something that looks valid). Newer
// incomplete directories are left alone: they may be being written.
Status PruneCheckpoints(const std::string& root, int keep);

// Deletes one checkpoint directory and its files (MANIFEST first).
void RemoveCheckpoint(const std::string& dir);

// Reads the MANIFEST and every file it lists, checking each file's own checksum and
// its size and xxHash64 against the manifest. The error names the bad file.
Status VerifyCheckpoint(const std::string& dir);

// The newest checkpoint under `root` that verifies. Each newer one that does not is
// described in `skipped` ("<dir>: <why>") so the caller can say so.
StatusOr<std::string> LatestGoodCheckpoint(const std::string& root,
                                           std::vector<std::string>* skipped);

}  // namespace tessera::scheduler
