// The optimizer's per-row update (ps/optimizer.h) over 4096 rows held contiguously, as
// one push's rows are after the table lookup. Args: dim.
#include <benchmark/benchmark.h>

#include <vector>

#include "ps/optimizer.h"

namespace tessera::bench {
namespace {

constexpr int kRowsPerPush = 4096;

void RunUpdate(benchmark::State& state, ps::OptimizerOptions::Kind kind) {
  const int dim = static_cast<int>(state.range(0));
  ps::OptimizerOptions options;
  options.kind = kind;
  const int state_floats = options.StateFloats(dim);
  std::vector<float> weights(static_cast<size_t>(kRowsPerPush) * dim, 0.01f);
  std::vector<float> opt_state(static_cast<size_t>(kRowsPerPush) * state_floats, 0.0f);
  std::vector<float> grads(static_cast<size_t>(kRowsPerPush) * dim, 1e-3f);
  int64_t step = 1;
  for (auto _ : state) {
    ps::PreparedStep prepared = ps::PrepareStep(options, step++);
    for (int r = 0; r < kRowsPerPush; ++r) {
      ps::ApplyUpdate(prepared, dim, weights.data() + static_cast<size_t>(r) * dim,
                      opt_state.data() + static_cast<size_t>(r) * state_floats,
                      grads.data() + static_cast<size_t>(r) * dim);
    }
    benchmark::DoNotOptimize(weights.data());
  }
  state.SetItemsProcessed(state.iterations() * kRowsPerPush);
}

void BM_OptimizerAdam(benchmark::State& state) {
  RunUpdate(state, ps::OptimizerOptions::Kind::kAdam);
}
void BM_OptimizerAdagrad(benchmark::State& state) {
  RunUpdate(state, ps::OptimizerOptions::Kind::kAdagrad);
}
void BM_OptimizerSgd(benchmark::State& state) {
  RunUpdate(state, ps::OptimizerOptions::Kind::kSgd);
}
BENCHMARK(BM_OptimizerAdam)->Arg(16)->Arg(64);
BENCHMARK(BM_OptimizerAdagrad)->Arg(16);
BENCHMARK(BM_OptimizerSgd)->Arg(16);

}  // namespace
}  // namespace tessera::bench
