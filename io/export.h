// Export for serving (`tessera export`): reads a checkpoint (an incremental one with its
// chain, io/checkpoint_chain.h) or a model directory and
// writes a model directory that serving loads without a cluster and without knowing how
// many servers trained it: the weights only (no optimizer state), every server's rows
// merged into one shard file, the sparse rows optionally in half precision or int8 and
// optionally pruned, and a MANIFEST with an ExportInfo (proto/files.proto).
//
// io::LoadModel reads an export like any model directory. A key the export does not hold
// is a ZERO row (LoadedModel::missing_rows_are_zero), where training and a checkpoint use
// the row's initial value: serving then needs no seed or initialiser, and a pruned row
// contributes nothing, as an unseen feature should. Dense parameters stay f32 (they are
// a few MB at most).
//
// ExportModel keeps no state: thread-safe for distinct output directories.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/status.h"
#include "proto/files.pb.h"

namespace tessera::io {

// Whether a row is exactly as a fresh row starts, i.e. training never changed it, from
// its key, its weights and its optimizer state (empty when the source holds none: a
// model directory). ps::FreshRowCheck is the real one; tests pass their own.
using UntouchedPredicate =
    std::function<bool(uint64_t key, std::span<const float> weights, std::span<const float> state)>;

struct ExportOptions {
  pb::SparseEncoding precision = pb::SPARSE_FP32;  // of the sparse rows
  bool prune_untouched = false;     // drop rows `is_untouched` says training never changed
  float prune_norm_below = 0.0f;    // drop rows whose L2 norm is below this; 0: none
  UntouchedPredicate is_untouched;  // required with prune_untouched

  // OK, or InvalidArgument naming the bad field.
  Status Validate() const;
};

// What an export did and what it wrote.
struct ExportResult {
  pb::ExportInfo info;               // also in the export's MANIFEST
  uint64_t source_weight_bytes = 0;  // the source's weight shard files (of every link)
  uint64_t source_state_bytes = 0;   // its optimizer-state files (checkpoints only)
  size_t source_links = 1;           // checkpoints read: more for an incremental one's chain
  uint64_t export_bytes = 0;         // the export's shard file
  uint64_t rows_kept = 0;
};

// The name of the export's single shard file.
inline constexpr char kExportShardName[] = "export-00000-of-00001.tsr";

// Reads `source_dir` (its MANIFEST, then every weight and state file it lists, each
// checked against its own checksum and the MANIFEST's size and xxHash64) and, only when
// all of it is sound, writes the export into `out_dir`, created when missing. A MANIFEST
// already in `out_dir` is removed first, so a failed export never leaves a directory that
// looks like a whole model; whether `out_dir` may hold files is the caller's decision.
// Errors name the file: Corruption for a damaged source, NotFound for a missing one.
StatusOr<ExportResult> ExportModel(const std::string& source_dir, const std::string& out_dir,
                                   const ExportOptions& options);

}  // namespace tessera::io
