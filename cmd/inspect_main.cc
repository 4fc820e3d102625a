// `tessera inspect DIR`: what a model or checkpoint directory holds, and whether
// every file in it is intact.
#include <cstdio>
#include <iostream>

#include <gflags/gflags.h>

#include "cmd/commands.h"
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
  uint64_t total = 0;
  PrintFiles("shard", m.shards(), &total);
  PrintFiles("state", m.state_shards(), &total);
  std::printf("  total %.1f MB\n", total / 1e6);
  Status valid = scheduler::VerifyCheckpoint(FLAGS_dir);
  std::printf("  valid: %s\n", valid.ok() ? "yes (every file's checksum and size match)"
                                          : ("NO: " + valid.ToString()).c_str());
  return valid.ok() ? 0 : 1;
}

}  // namespace tessera::cmd
