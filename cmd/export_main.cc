// `tessera export`: turns a checkpoint or a model directory into a model for serving
// (io/export.h): weights only, one shard, optionally half precision or int8, optionally
// pruned. Flags are checked here; the work is io::ExportModel.
#include <dirent.h>
#include <gflags/gflags.h>
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cmd/commands.h"
#include "cmd/job_config.h"
#include "io/export.h"
#include "io/format.h"
#include "io/model_file.h"
#include "model/model.h"
#include "ps/fresh_row.h"

DEFINE_string(checkpoint, "",
              "Checkpoint or model directory to export (holds MANIFEST). Required.");
DECLARE_string(out);  // gen-data's flag: the output directory
DEFINE_string(precision, "fp32",
              "Encoding of the sparse rows: fp32, fp16 (IEEE half) or int8 (per-row scale). "
              "Dense parameters stay fp32.");
DEFINE_bool(prune_untouched, false,
            "Drop rows training never changed (weights and optimizer state still those of a "
            "fresh row). They serve as zero rows.");
DEFINE_double(prune_norm_below, 0.0,
              "Drop rows whose L2 norm is below this (0: keep all). They serve as zero rows.");
DEFINE_bool(force, false,
            "export: write into a non-empty --out, replacing its MANIFEST and export shard.");

namespace tessera::cmd {
namespace {

std::optional<pb::SparseEncoding> ParsePrecision(const std::string& name) {
  if (name == "fp32") return pb::SPARSE_FP32;
  if (name == "fp16") return pb::SPARSE_FP16;
  if (name == "int8") return pb::SPARSE_INT8;
  return std::nullopt;
}

const char* PrecisionName(pb::SparseEncoding e) {
  return e == pb::SPARSE_FP16 ? "fp16" : e == pb::SPARSE_INT8 ? "int8" : "fp32";
}

// "" when --out may be written; otherwise why not.
std::string CheckOutDir(const std::string& out, const std::string& source) {
  char out_real[PATH_MAX], source_real[PATH_MAX];
  if (realpath(out.c_str(), out_real) != nullptr &&
      realpath(source.c_str(), source_real) != nullptr && std::string(out_real) == source_real) {
    return "--out " + out + " is the --checkpoint directory itself";
  }
  DIR* d = opendir(out.c_str());
  if (d == nullptr) return errno == ENOENT ? "" : "--out " + out + " is not a directory";
  bool empty = true;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  closedir(d);
  if (empty || FLAGS_force) return "";
  return "--out " + out + " exists and is not empty (--force writes into it)";
}

// Fills `options` from the flags; returns "" or the first bad flag, named.
std::string OptionsFromFlags(io::ExportOptions* options) {
  std::optional<pb::SparseEncoding> precision = ParsePrecision(FLAGS_precision);
  if (FLAGS_checkpoint.empty()) return "--checkpoint DIR is required";
  if (FLAGS_out.empty()) return "--out DIR is required";
  if (!precision) return "--precision '" + FLAGS_precision + "' is not fp32, fp16 or int8";
  if (!std::isfinite(FLAGS_prune_norm_below) || FLAGS_prune_norm_below < 0) {
    return "--prune_norm_below must be a finite number >= 0";
  }
  options->precision = *precision;
  options->prune_norm_below = static_cast<float>(FLAGS_prune_norm_below);
  options->prune_untouched = FLAGS_prune_untouched;
  return CheckOutDir(FLAGS_out, FLAGS_checkpoint);
}

// The fresh-row test of the source's sparse table, from the config in its MANIFEST.
StatusOr<std::shared_ptr<ps::FreshRowCheck>> FreshRowCheckOf(const std::string& dir) {
  ASSIGN_OR_RETURN(pb::ModelManifest manifest, io::ReadManifest(dir));
  ASSIGN_OR_RETURN(std::unique_ptr<io::DataFormat> format, CreateDataFormat(manifest.config()));
  ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model,
                   model::CreateModel(ToModelSpec(manifest.config(), format->layout())));
  return std::make_shared<ps::FreshRowCheck>(ToSparseTableOptions(manifest.config(), *model));
}

void PrintResult(const io::ExportResult& r) {
  const pb::ExportInfo& info = r.info;
  std::printf("exported %s to %s: sparse rows %s, dense fp32\n", info.source().c_str(),
              FLAGS_out.c_str(), PrecisionName(info.precision()));
  std::printf(
      "  rows: %llu of %llu kept (dropped: %llu never updated, %llu with L2 norm below "
      "%g)\n",
      static_cast<unsigned long long>(r.rows_kept),
      static_cast<unsigned long long>(info.source_rows()),
      static_cast<unsigned long long>(info.dropped_untouched()),
      static_cast<unsigned long long>(info.dropped_below_norm()), info.prune_norm_below());
  const double weights = static_cast<double>(r.source_weight_bytes);
  std::printf(
      "  size: weights %.2f MB (+ optimizer state %.2f MB) -> %.2f MB, %.3fx the "
      "weights\n",
      weights / 1e6, r.source_state_bytes / 1e6, r.export_bytes / 1e6,
      weights > 0 ? r.export_bytes / weights : 0.0);
  if (r.source_links > 1) {
    std::printf(
        "  source: an incremental checkpoint, read with its chain of %zu checkpoints "
        "(sizes above are of all of them)\n",
        r.source_links);
  }
}

}  // namespace

int RunExport() {
  io::ExportOptions options;
  const std::string flag_error = OptionsFromFlags(&options);
  if (!flag_error.empty()) {
    std::cerr << "tessera export: " << flag_error << " (see tessera export --help)\n";
    return 2;
  }
  if (options.prune_untouched) {
    StatusOr<std::shared_ptr<ps::FreshRowCheck>> check = FreshRowCheckOf(FLAGS_checkpoint);
    if (!check.ok()) {
      std::cerr << "tessera export: " << check.status().ToString() << "\n";
      return 1;
    }
    options.is_untouched = [check = *check](uint64_t key, std::span<const float> weights,
                                            std::span<const float> state) {
      return check->IsFresh(key, weights, state);
    };
  }
  StatusOr<io::ExportResult> result = io::ExportModel(FLAGS_checkpoint, FLAGS_out, options);
  if (!result.ok()) {
    std::cerr << "tessera export: " << result.status().ToString() << "\n";
    return 1;
  }
  PrintResult(*result);
  return 0;
}

}  // namespace tessera::cmd
