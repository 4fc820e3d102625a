// mem_bench: a server's memory per sparse row (issue 5, item 3). Fills one
// ps::SparseTable with N distinct random keys through Pull (as a server creates rows
// when workers first ask for them), then reports its bytes per row three ways against
// the payload (dim weights + the optimizer's state floats, 4 bytes each):
//   table_bytes  SparseTable::MemoryBytes(): what the table holds on the heap;
//   rss_bytes    growth of this process's resident set across the fill (/proc/self/status
//                VmRSS): the table plus allocator slack, what the machine pays;
//   peak_bytes   growth of the peak resident set (VmHWM): includes the moment the map
//                doubles and holds its old and new slots together.
// One table per process, so that the figures do not mix with an earlier table's
// freed memory; bench/memory runs the sizes and optimizers of the issue.
//
//   mem_bench --rows=N [--dim=16] [--optimizer=adam|adagrad]
//
// Output: one line, "RESULT case=mem_<optimizer>_<rows> key=value ...".
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gflags/gflags.h>

#include "common/hash.h"
#include "ps/sparse_table.h"

DEFINE_int64(rows, 1'000'000, "Rows to insert.");
DEFINE_int32(dim, 16, "Floats per row (weights).");
DEFINE_string(optimizer, "adam", "adam or adagrad: how much state a row carries.");

namespace tessera::bench {
namespace {

constexpr int kKeysPerRequest = 4096;

// A field of /proc/self/status ("VmRSS", "VmHWM") in bytes.
int64_t StatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1) * 1024;
  }
  return -1;
}

struct Flags {
  int64_t rows = 0;
  int dim = 0;
  std::string optimizer;
};

bool ParseFlags(Flags* flags) {
  flags->rows = FLAGS_rows;
  flags->dim = FLAGS_dim;
  flags->optimizer = FLAGS_optimizer;
  return flags->rows > 0 && flags->dim > 0 &&
         (flags->optimizer == "adam" || flags->optimizer == "adagrad");
}

int Run(const Flags& flags) {
  ps::SparseTableOptions options;
  options.dim = flags.dim;
  options.optimizer.kind = flags.optimizer == "adam" ? ps::OptimizerOptions::Kind::kAdam
                                                     : ps::OptimizerOptions::Kind::kAdagrad;
  options.init = {{0, flags.dim, ps::ColumnInit::Kind::kNormal, 0.01f}};

  std::vector<uint64_t> keys(kKeysPerRequest);
  std::vector<float> out(static_cast<size_t>(kKeysPerRequest) * flags.dim);
  const int64_t rss_before = StatusBytes("VmRSS");
  const int64_t peak_before = StatusBytes("VmHWM");
  const auto start = std::chrono::steady_clock::now();
  ps::SparseTable table(options);
  uint64_t seed = 1;  // splitmix64 is a bijection on its counter: keys are distinct
  for (int64_t done = 0; done < flags.rows; done += kKeysPerRequest) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kKeysPerRequest, flags.rows - done));
    for (size_t i = 0; i < n; ++i) keys[i] = SplitMix64Next(&seed);
    table.Pull(std::span(keys).first(n), std::span(out).first(n * flags.dim));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rss = static_cast<double>(StatusBytes("VmRSS") - rss_before);
  const double peak = static_cast<double>(StatusBytes("VmHWM") - peak_before);
  const double rows = static_cast<double>(table.size());
  const double payload = 4.0 * (flags.dim + table.state_floats());
  const double table_bytes = static_cast<double>(table.MemoryBytes());
  std::printf(
      "RESULT case=mem_%s_%lld rows=%zu payload_bytes_per_row=%.1f table_bytes_per_row=%.2f "
      "rss_bytes_per_row=%.2f peak_bytes_per_row=%.2f table_ratio=%.3f rss_ratio=%.3f "
      "peak_ratio=%.3f fill_s=%.1f\n",
      flags.optimizer.c_str(), static_cast<long long>(flags.rows), table.size(), payload,
      table_bytes / rows, rss / rows, peak / rows, table_bytes / rows / payload,
      rss / rows / payload, peak / rows / payload, seconds);
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  tessera::bench::Flags flags;
  if (argc != 1 || !tessera::bench::ParseFlags(&flags)) {
    std::fprintf(stderr, "usage: mem_bench --rows=N [--dim=16] [--optimizer=adam|adagrad]\n");
    return 2;
  }
  return tessera::bench::Run(flags);
}
