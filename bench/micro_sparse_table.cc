// SparseTable at the size: 1M rows of dim 16 with Adam state (192 payload
// bytes a row). Requests are 4096 distinct random keys, as a worker's batch sends.
// BM_ShardedTable*/N: the same requests on the server's ShardedTable cut over N
// slot-owning threads (the calling thread included).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "common/hash.h"
#include "ps/sharded_table.h"
#include "ps/sparse_table.h"

namespace tessera::bench {
namespace {

constexpr int kDim = 16;
constexpr int64_t kRows = 1 << 20;
constexpr int kKeysPerRequest = 4096;

ps::SparseTableOptions AdamOptions() {
  ps::SparseTableOptions options;
  options.dim = kDim;
  options.optimizer.kind = ps::OptimizerOptions::Kind::kAdam;
  options.init = {{0, kDim, ps::ColumnInit::Kind::kNormal, 0.01f}};
  return options;
}

// Distinct random keys (splitmix64 is a bijection on its counter).
std::vector<uint64_t> RandomKeys(int64_t count, uint64_t seed) {
  std::vector<uint64_t> keys(count);
  for (uint64_t& k : keys) k = SplitMix64Next(&seed);
  return keys;
}

// Fills `table` with `keys` through Pull (which inserts missing rows).
void Fill(ps::SparseTable* table, const std::vector<uint64_t>& keys) {
  std::vector<float> out(static_cast<size_t>(kKeysPerRequest) * kDim);
  for (size_t i = 0; i < keys.size(); i += kKeysPerRequest) {
    size_t n = std::min<size_t>(kKeysPerRequest, keys.size() - i);
    table->Pull(std::span(keys).subspan(i, n), std::span(out).first(n * kDim));
  }
}

// One 1M-row table shared by the hit benchmarks (built on first use: ~1 s).
struct FullTable {
  std::vector<uint64_t> keys = RandomKeys(kRows, 1);
  ps::SparseTable table{AdamOptions()};
  FullTable() { Fill(&table, keys); }
};

FullTable& Shared() {
  static auto* full = new FullTable();
  return *full;
}

// Requests of kKeysPerRequest existing keys, picked at random from the table.
std::vector<std::vector<uint64_t>> HitRequests(const FullTable& full, int count) {
  std::vector<std::vector<uint64_t>> requests(count);
  uint64_t state = 7;
  for (auto& r : requests) {
    r.resize(kKeysPerRequest);
    // Consecutive strides of a random permutation keep the keys within a request distinct.
    size_t start = SplitMix64Next(&state) % full.keys.size();
    size_t stride = 2 * (SplitMix64Next(&state) % 1000) + 1;  // odd: a permutation of 2^20
    for (int i = 0; i < kKeysPerRequest; ++i) {
      r[i] = full.keys[(start + i * stride) % full.keys.size()];
    }
  }
  return requests;
}

void BM_SparseTablePullHit(benchmark::State& state) {
  FullTable& full = Shared();
  auto requests = HitRequests(full, 64);
  std::vector<float> out(static_cast<size_t>(kKeysPerRequest) * kDim);
  size_t i = 0;
  for (auto _ : state) {
    full.table.Pull(requests[i++ % requests.size()], out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kKeysPerRequest);
  state.SetBytesProcessed(state.iterations() * kKeysPerRequest * kDim * sizeof(float));
}
BENCHMARK(BM_SparseTablePullHit);

void BM_SparseTableApplyGradientsHit(benchmark::State& state) {
  FullTable& full = Shared();
  auto requests = HitRequests(full, 64);
  std::vector<float> grads(static_cast<size_t>(kKeysPerRequest) * kDim, 1e-3f);
  size_t i = 0;
  int64_t step = 1;
  for (auto _ : state) {
    full.table.ApplyGradients(requests[i++ % requests.size()], grads, step++);
  }
  state.SetItemsProcessed(state.iterations() * kKeysPerRequest);
  state.SetBytesProcessed(state.iterations() * kKeysPerRequest * kDim * sizeof(float));
}
BENCHMARK(BM_SparseTableApplyGradientsHit);

// A 1M-row ShardedTable per thread count (built on first use), holding the rows of
// Shared()'s keys.
ps::ShardedTable& SharedSharded(int threads) {
  static std::map<int, std::unique_ptr<ps::ShardedTable>>* tables =
      new std::map<int, std::unique_ptr<ps::ShardedTable>>();
  auto& table = (*tables)[threads];
  if (table == nullptr) {
    table = std::make_unique<ps::ShardedTable>(AdamOptions(), threads, /*slot_bits=*/14,
                                               /*num_servers=*/1);
    const std::vector<uint64_t>& keys = Shared().keys;
    std::vector<float> out(static_cast<size_t>(kKeysPerRequest) * kDim);
    for (size_t i = 0; i < keys.size(); i += kKeysPerRequest) {
      table->Pull(std::span(keys).subspan(i, kKeysPerRequest), out);
    }
  }
  return *table;
}

void BM_ShardedTablePullHit(benchmark::State& state) {
  ps::ShardedTable& table = SharedSharded(static_cast<int>(state.range(0)));
  auto requests = HitRequests(Shared(), 64);
  std::vector<float> out(static_cast<size_t>(kKeysPerRequest) * kDim);
  size_t i = 0;
  for (auto _ : state) {
    table.Pull(requests[i++ % requests.size()], out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kKeysPerRequest);
}
BENCHMARK(BM_ShardedTablePullHit)->Arg(1)->Arg(2)->UseRealTime();

// One worker's push applied as a BSP step (ApplySum of one gradient list).
void BM_ShardedTableApplySumHit(benchmark::State& state) {
  ps::ShardedTable& table = SharedSharded(static_cast<int>(state.range(0)));
  auto requests = HitRequests(Shared(), 64);
  std::vector<float> grads(static_cast<size_t>(kKeysPerRequest) * kDim, 1e-3f);
  size_t i = 0;
  int64_t step = 1;
  for (auto _ : state) {
    const ps::SparseGradient g{requests[i++ % requests.size()], grads};
    table.ApplySum(std::span(&g, 1), 1.0f, step++);
  }
  state.SetItemsProcessed(state.iterations() * kKeysPerRequest);
}
BENCHMARK(BM_ShardedTableApplySumHit)->Arg(1)->Arg(2)->UseRealTime();

// Inserting 1M fresh rows (initial values computed, map doubling included) from empty.
void BM_SparseTableInsert1M(benchmark::State& state) {
  std::vector<uint64_t> keys = RandomKeys(kRows, 99);
  for (auto _ : state) {
    state.PauseTiming();
    auto table = std::make_unique<ps::SparseTable>(AdamOptions());
    state.ResumeTiming();
    Fill(table.get(), keys);
    state.PauseTiming();
    table.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_SparseTableInsert1M)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::bench
