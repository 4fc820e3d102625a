// checkpoint_bench: a server's checkpoint write and restore throughput (issue 4). Fills
// one ps::SparseTable (dim 16, Adam: 32 state floats a row) with N distinct random keys
// through Pull, then times the steps a server takes for its own shard:
//   write    SparseTable::Export of rows and optimizer state, then io::WriteShard of the
//            weight shard and of the state shard (ps/server.cc Server::WriteShards):
//            serialize, XXH64, write, fsync, rename, fsync the directory;
//   restore  io::ReadShard of both files (read, parse, checksum), the check that both
//            hold the same rows, and SparseTable::Import with state into a fresh table
//            (Server::LoadCheckpoint; with one server, ImportOwned keeps every row).
// Before each restore the files are evicted from the page cache (posix_fadvise
// DONTNEED after the fsync), so the restore reads the disk, as after a restart.
// Then, with --changed=F > 0, an incremental checkpoint (checkpoint.full_every > 1):
// the change marks cleared (as after a checkpoint), one Adam step on a random fraction F
// of the rows, and the write again with SparseTable::Rows::kChanged: the same two files
// holding only those rows, against the full write above.
// Medians of --reps repetitions; MB are 10^6 bytes of the files written / read.
//
//   checkpoint_bench [--rows=10000000] [--dim=16] [--reps=3] [--dir=DIR] [--changed=0.01]
//
// Output: "RESULT case=checkpoint_<rows> key=value ...", one line, and with --changed
// "RESULT case=incremental_checkpoint_<rows> ...".
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gflags/gflags.h>

#include "common/hash.h"
#include "io/model_file.h"
#include "ps/sparse_table.h"

DEFINE_int64(rows, 10'000'000, "Rows of the table.");
DEFINE_int32(dim, 16, "Floats per row (weights); Adam adds twice as many of state.");
DEFINE_int32(reps, 3, "Repetitions of each write and restore (medians are reported).");
DEFINE_string(dir, "/tmp", "Where the checkpoint files go.");
DEFINE_double(changed, 0.01,
              "Fraction of rows an incremental checkpoint holds, in [0, 1]; 0: none timed.");

namespace tessera::bench {
namespace {

constexpr int kKeysPerRequest = 4096;
constexpr char kWeightsFile[] = "shard-00000-of-00001.tsr";
constexpr char kStateFile[] = "state-00000-of-00001.tsr";

struct Flags {
  int64_t rows = 0;
  int dim = 0;
  int reps = 0;
  std::string dir;
  double changed = 0;  // fraction of rows an incremental checkpoint holds; 0: none
};

bool ParseFlags(Flags* flags) {
  flags->rows = FLAGS_rows;
  flags->dim = FLAGS_dim;
  flags->reps = FLAGS_reps;
  flags->dir = FLAGS_dir;
  flags->changed = FLAGS_changed;
  return flags->rows > 0 && flags->dim > 0 && flags->reps > 0 && !flags->dir.empty() &&
         flags->changed >= 0 && flags->changed <= 1;
}

ps::SparseTableOptions AdamTable(int dim) {
  ps::SparseTableOptions options;
  options.dim = dim;
  options.optimizer.kind = ps::OptimizerOptions::Kind::kAdam;
  options.init = {{0, dim, ps::ColumnInit::Kind::kNormal, 0.01f}};
  return options;
}

// Calls visit(keys) with the table's N keys, kKeysPerRequest at a time, always in the
// same order.
template <typename Visit>
void ForEachKeyBatch(int64_t rows, Visit visit) {
  std::vector<uint64_t> keys(kKeysPerRequest);
  uint64_t seed = 1;  // splitmix64 is a bijection on its counter: keys are distinct
  for (int64_t done = 0; done < rows; done += kKeysPerRequest) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kKeysPerRequest, rows - done));
    for (size_t i = 0; i < n; ++i) keys[i] = SplitMix64Next(&seed);
    visit(std::span<const uint64_t>(keys).first(n));
  }
}

void Fill(int64_t rows, ps::SparseTable* table) {
  std::vector<float> out(static_cast<size_t>(kKeysPerRequest) * table->dim());
  ForEachKeyBatch(rows, [&](std::span<const uint64_t> keys) {
    table->Pull(keys, std::span(out).first(keys.size() * table->dim()));
  });
}

// Clears the change marks, then one optimizer step on each row with probability
// `fraction` (a hash of its key decides, so the rows are spread over the table).
void ChangeRows(int64_t rows, double fraction, ps::SparseTable* table) {
  table->ClearChanged();
  const uint64_t threshold = static_cast<uint64_t>(fraction * 18446744073709551615.0);
  std::vector<uint64_t> chosen;
  std::vector<float> grads;
  ForEachKeyBatch(rows, [&](std::span<const uint64_t> keys) {
    chosen.clear();
    for (uint64_t key : keys) {
      if (Mix64(key ^ 0x636b7074) <= threshold) chosen.push_back(key);
    }
    grads.assign(chosen.size() * table->dim(), 0.01f);
    table->ApplyGradients(chosen, grads, 1);
  });
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct WriteTimes {
  double export_s = 0;
  double total_s = 0;
  uint64_t bytes = 0;
};

// What Server::WriteShards does for a sparse-only server with state: a full checkpoint,
// or with Rows::kChanged an incremental one.
Status WriteCheckpoint(const ps::SparseTable& table, const std::string& dir, WriteTimes* times,
                       ps::SparseTable::Rows rows = ps::SparseTable::Rows::kAll) {
  const auto start = std::chrono::steady_clock::now();
  io::ShardContents shard, state;
  shard.sparse_dim = table.dim();
  table.Export(&shard.keys, &shard.weights, &state.weights, rows);
  times->export_s = SecondsSince(start);
  pb::ShardFileInfo weights_info, state_info;
  RETURN_IF_ERROR(io::WriteShard(dir + "/" + kWeightsFile, shard, &weights_info));
  state.sparse_dim = table.state_floats();
  state.keys = std::move(shard.keys);
  RETURN_IF_ERROR(io::WriteShard(dir + "/" + kStateFile, state, &state_info));
  times->total_s = SecondsSince(start);
  times->bytes = weights_info.bytes() + state_info.bytes();
  return Status::OK();
}

// What Server::LoadCheckpoint does for those files, into a fresh table.
Status RestoreCheckpoint(const std::string& dir, int dim, size_t expected_rows, double* seconds) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(io::ShardContents shard, io::ReadShard(dir + "/" + kWeightsFile));
  ASSIGN_OR_RETURN(io::ShardContents state, io::ReadShard(dir + "/" + kStateFile));
  if (state.keys != shard.keys) return Status::Corruption("state file holds other rows");
  ps::SparseTable table(AdamTable(dim));
  RETURN_IF_ERROR(table.Import(shard.keys, shard.weights, state.weights));
  *seconds = SecondsSince(start);
  if (table.size() != expected_rows) return Status::Internal("restored a different row count");
  return Status::OK();
}

// Drops the (synced, hence clean) pages of `path` from the page cache.
void EvictFromPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string Join(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += (out.empty() ? "" : ",") + std::to_string(x).substr(0, 5);
  return out;
}

// The incremental checkpoint after a step on flags.changed of the rows, against the full
// write (full_write_s, full_bytes) just measured. Into its own directory `dir`, as a
// server writes each checkpoint (replacing the 2 GB full files would time their deletion).
Status RunIncremental(const Flags& flags, const std::string& dir, double full_write_s,
                      uint64_t full_bytes, ps::SparseTable* table) {
  const auto change_start = std::chrono::steady_clock::now();
  ChangeRows(flags.rows, flags.changed, table);
  const double change_s = SecondsSince(change_start);
  std::vector<double> write_s, export_s;
  uint64_t bytes = 0;
  for (int rep = 0; rep < flags.reps; ++rep) {
    WriteTimes w;
    RETURN_IF_ERROR(WriteCheckpoint(*table, dir, &w, ps::SparseTable::Rows::kChanged));
    bytes = w.bytes;
    write_s.push_back(w.total_s);
    export_s.push_back(w.export_s);
  }
  std::printf(
      "RESULT case=incremental_checkpoint_%lld rows=%zu changed_rows=%zu bytes=%llu "
      "full_bytes=%llu change_s=%.1f write_s=%.3f export_s=%.3f full_write_s=%.3f "
      "speedup=%.1f write_runs=%s\n",
      static_cast<long long>(flags.rows), table->size(), table->changed_rows(),
      static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(full_bytes), change_s,
      Median(write_s), Median(export_s), full_write_s, full_write_s / Median(write_s),
      Join(write_s).c_str());
  return Status::OK();
}

int Run(const Flags& flags) {
  ps::SparseTable table(AdamTable(flags.dim));
  const auto fill_start = std::chrono::steady_clock::now();
  Fill(flags.rows, &table);
  const double fill_s = SecondsSince(fill_start);
  char templ[4096];
  std::snprintf(templ, sizeof(templ), "%s/checkpoint_bench.XXXXXX", flags.dir.c_str());
  if (::mkdtemp(templ) == nullptr) {
    std::perror(templ);
    return 1;
  }
  const std::string dir = templ;
  std::vector<double> write_s, export_s, restore_s;
  uint64_t bytes = 0;
  for (int rep = 0; rep < flags.reps; ++rep) {
    WriteTimes w;
    Status s = WriteCheckpoint(table, dir, &w);
    double r = 0;
    if (s.ok()) {
      EvictFromPageCache(dir + "/" + kWeightsFile);
      EvictFromPageCache(dir + "/" + kStateFile);
      s = RestoreCheckpoint(dir, flags.dim, table.size(), &r);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "checkpoint_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    bytes = w.bytes;
    write_s.push_back(w.total_s);
    export_s.push_back(w.export_s);
    restore_s.push_back(r);
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf(
      "RESULT case=checkpoint_%lld rows=%zu dim=%d state_floats=%d bytes=%llu fill_s=%.1f "
      "write_s=%.3f write_mb_s=%.1f export_s=%.3f restore_s=%.3f restore_mb_s=%.1f "
      "write_runs=%s restore_runs=%s\n",
      static_cast<long long>(flags.rows), table.size(), flags.dim, table.state_floats(),
      static_cast<unsigned long long>(bytes), fill_s, Median(write_s), mb / Median(write_s),
      Median(export_s), Median(restore_s), mb / Median(restore_s), Join(write_s).c_str(),
      Join(restore_s).c_str());
  int status = 0;
  if (flags.changed > 0) {
    const std::string incremental = dir + "/incremental";
    Status s = RunIncremental(flags, incremental, Median(write_s), bytes, &table);
    if (!s.ok()) {
      std::fprintf(stderr, "checkpoint_bench: %s\n", s.ToString().c_str());
      status = 1;
    }
    ::unlink((incremental + "/" + kWeightsFile).c_str());
    ::unlink((incremental + "/" + kStateFile).c_str());
    ::rmdir(incremental.c_str());
  }
  ::unlink((dir + "/" + kWeightsFile).c_str());
  ::unlink((dir + "/" + kStateFile).c_str());
  ::rmdir(dir.c_str());
  return status;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  tessera::bench::Flags flags;
  if (argc != 1 || !tessera::bench::ParseFlags(&flags)) {
    std::fprintf(stderr,
                 "usage: checkpoint_bench [--rows=10000000] [--dim=16] [--reps=3] [--dir=DIR] "
                 "[--changed=0.01]\n");
    return 2;
  }
  return tessera::bench::Run(flags);
}
