// `tessera inspect DIR`: what a model or checkpoint directory holds, and whether
// every file in it is intact (for an incremental checkpoint: its chain, every link).
#include <cstdio>
#include <iostream>

#include <gflags/gflags.h>

#include "cmd/commands.h"
#include "io/checkpoint_chain.h"
#include "io/model_file.h"
#include "scheduler/checkpoint.h"

DEFINE_string(dir, "", "Model or checkpoint directory (holds MANIFEST). Required.");

namespace tessera::cmd {
namespace {

void PrintFiles(const char* what, const google::protobuf::RepeatedPtrField<pb::ShardFileInfo>& files,
                uint64_t* total) {
  for (const pb::ShardFileInfo& f : files) {
    std::printf("  %-5s %-28s %12llu rows %6llu dense blocks %12.1f MB  xxh64 %s\n", what,
                f.file().c_str(), static_cast<unsigned long long>(f.sparse_rows()),
                static_cast<unsigned long long>(f.dense_blocks()), f.bytes() / 1e6,
                f.xxh64().c_str());
    *total += f.bytes();
  }
}

void PrintExportInfo(const pb::ExportInfo& e) {
  std::printf("  export for serving from %s: sparse rows %s, dense fp32; %llu of %llu rows kept "
              "(%llu never updated%s, %llu with L2 norm below %g dropped); a missing key is a "
              "zero row\n",
              e.source().c_str(), pb::SparseEncoding_Name(e.precision()).c_str(),
              static_cast<unsigned long long>(e.source_rows() - e.dropped_untouched() -
                                              e.dropped_below_norm()),
              static_cast<unsigned long long>(e.source_rows()),
              static_cast<unsigned long long>(e.dropped_untouched()),
              e.pruned_untouched() ? "" : " (not pruned)",
              static_cast<unsigned long long>(e.dropped_below_norm()), e.prune_norm_below());
}

uint64_t SparseRows(const pb::ModelManifest& m) {
  uint64_t rows = 0;
  for (const pb::ShardFileInfo& f : m.shards()) rows += f.sparse_rows();
  return rows;
}

// Full or incremental, and for an incremental checkpoint the chain it needs, oldest first.
void PrintChain(const std::string& dir, const pb::ModelManifest& m) {
  if (!m.is_checkpoint()) return;
  if (!m.has_base()) {
    std::printf("  full checkpoint: every row\n");
    return;
  }
  std::printf(
      "  incremental checkpoint: %llu sparse rows changed since its base %s (and every "
      "dense block)\n",
      static_cast<unsigned long long>(SparseRows(m)), m.base().c_str());
  StatusOr<std::vector<io::ChainLink>> chain = io::ReadChain(dir);
  if (!chain.ok()) {
    std::printf("  chain: broken (below: why)\n");
    return;
  }
  std::string line;
  for (const io::ChainLink& link : *chain) {
    const bool full = !link.manifest.has_base();
    line += (line.empty() ? "" : " <- ") + io::CheckpointDirName(link.dir) + " (" +
            (full ? "full, " : "+") + std::to_string(SparseRows(link.manifest)) + " rows)";
  }
  std::printf("  chain, oldest first (%zu links; resuming reads each in turn): %s\n", chain->size(),
              line.c_str());
}

}  // namespace

int RunInspect() {
  if (FLAGS_dir.empty()) {
    std::cerr << "tessera inspect: --dir DIR is required (see tessera inspect --help)\n";
    return 2;
  }
  StatusOr<pb::ModelManifest> manifest = io::ReadManifest(FLAGS_dir);
  if (!manifest.ok()) {
    std::cerr << "tessera inspect: " << manifest.status().ToString() << "\n";
    return 1;
  }
  const pb::ModelManifest& m = *manifest;
  std::printf("%s: %s, format %d, %s\n", FLAGS_dir.c_str(),
              m.is_checkpoint() ? "checkpoint (weights + optimizer state)" : "model (weights)",
              m.format_version(), m.created_by().c_str());
  std::printf("  model %s, sparse row %d floats, dense %lld floats\n",
              pb::ModelKind_Name(m.config().model().kind()).c_str(), m.sparse_dim(),
              static_cast<long long>(m.dense_size()));
  std::printf("  epochs done %d, server update count (step) %lld, written by %d server(s)\n",
              m.epochs_done(), static_cast<long long>(m.global_step()), m.shards_size());
  if (m.has_export_info()) PrintExportInfo(m.export_info());
  PrintChain(FLAGS_dir, m);
  uint64_t total = 0;
  PrintFiles("shard", m.shards(), &total);
  PrintFiles("state", m.state_shards(), &total);
  std::printf("  total %.1f MB\n", total / 1e6);
  Status valid = scheduler::VerifyCheckpoint(FLAGS_dir);
  std::printf("  valid: %s\n", valid.ok()
                                   ? (m.has_base() ? "yes (every file of every link of the chain: "
                                                     "checksums and sizes match)"
                                                   : "yes (every file's checksum and size match)")
                                   : ("NO: " + valid.ToString()).c_str());
  return valid.ok() ? 0 : 1;
}

}  // namespace tessera::cmd
