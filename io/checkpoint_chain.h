// Incremental checkpoints: a checkpoint whose MANIFEST names a `base` holds, per server,
// only the sparse rows that changed since that base was written (and every dense block:
// they are small). The base is the previous checkpoint in the same root directory, full
// or incremental itself, so each incremental checkpoint starts a chain that leads back
// to one full checkpoint. The model a chain holds is the full checkpoint's rows with
// each later link's rows laid over them in order (a later row replaces an earlier one),
// and the newest link's dense blocks. Every reader goes through ReadChain: the servers'
// resume (ps/server.cc), verification (scheduler/checkpoint.h), LoadModel, export.
//
//   ckpt/epoch-0001/                    full      MANIFEST (format_version 1), shard-*, state-*
//   ckpt/epoch-0001-step-000000010/     delta     MANIFEST (format_version 2, base: "epoch-0001",
//   ckpt/epoch-0001-step-000000020/     delta       base_manifest_xxh64: hash of its MANIFEST)
//
// An incremental MANIFEST has format_version 2, so that a build that knows only
// version 1 refuses it rather than read a delta as a whole model, and records the
// xxHash64 of its base's MANIFEST, which lists the base's files with their checksums: a
// base that was rewritten (a resumed run writing that name again), replaced or damaged
// breaks the chain where it is, with an error naming it. A chain must stay in its root:
// copying one incremental directory elsewhere leaves its base behind.
//
// Functions and plain values only: thread-safe on distinct objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/model_file.h"
#include "proto/files.pb.h"

namespace tessera::io {

inline constexpr int kManifestFormatVersionIncremental = 2;
// A longer chain is refused as damaged (a loop of bases, or a runaway writer).
inline constexpr size_t kMaxChainLinks = 10000;

// One checkpoint (or model) directory of a chain and its MANIFEST.
struct ChainLink {
  std::string dir;
  pb::ModelManifest manifest;
};

// The chain that ends at `dir`, oldest first: the full checkpoint, then each incremental
// one in order, `dir` last; a single link for a full checkpoint or a model directory.
// Reads and checks the MANIFESTs only (shard files are the readers' to check): versions
// and bases, each base's MANIFEST against the hash its successor recorded, one model
// shape along the chain. Errors name the directory and the base or file at fault.
StatusOr<std::vector<ChainLink>> ReadChain(const std::string& dir);

// The hex XXH64 of `dir`/MANIFEST's bytes: what an incremental checkpoint records of its base.
StatusOr<std::string> ManifestXxh64(const std::string& dir);

// Makes `manifest` incremental on top of `base`, a checkpoint under the same `root`
// (which must have a readable MANIFEST): sets base, its hash and format_version 2.
Status SetBase(const std::string& root, const std::string& base, pb::ModelManifest* manifest);

// The root a checkpoint directory lies in, and its name there ("a/b/" -> "a", "b").
std::string CheckpointRoot(const std::string& dir);
std::string CheckpointDirName(const std::string& dir);

// For a reader that goes through a chain's links newest first, one shard at a time:
// drops from each shard the rows whose keys a newer link holds (stale), so every key is
// read once, with its newest row. Holds the keys of the newer links only, not their rows
// (and not the keys of the oldest link, the full checkpoint, which no older link needs).
class StaleRowFilter {
 public:
  // Before the shards of each link: whether older links follow it.
  void StartLink(bool older_links_follow);
  // Drops the stale rows of `shard` (and of `state`, which holds the same keys, when not null).
  void Drop(ShardContents* shard, ShardContents* state = nullptr);

 private:
  std::vector<uint64_t> newer_;      // the keys of the links before the current one, ascending
  std::vector<uint64_t> link_keys_;  // the current link's keys, when older links follow
  bool remember_ = false;
};

// A writer's (a server's) place in its chain: the newest checkpoint it wrote or resumed
// from, and how many incremental links lead to it from a full one. It decides which of
// its checkpoints are full. A plain value; the server's thread owns it.
class ChainTip {
 public:
  // Every `full_every`-th checkpoint is full (1: all of them).
  explicit ChainTip(int full_every) : full_every_(full_every) {}

  // The base of the next checkpoint, to be written into `dir`: the tip's name, or ""
  // when it must be full (nothing written yet, the full_every-th, `full_requested`, or
  // a tip under another root).
  std::string BaseFor(const std::string& dir, bool full_requested) const;
  // A checkpoint was written into `dir` on top of `base` ("": a full one).
  void Advance(const std::string& dir, const std::string& base);
  // The server loaded the checkpoint `dir`, the last of a chain of `links` links.
  void ResumeAt(const std::string& dir, size_t links);

 private:
  int full_every_;
  std::string dir_;    // "" until a checkpoint is written or loaded
  size_t deltas_ = 0;  // incremental links from the last full checkpoint to dir_
};

}  // namespace tessera::io
