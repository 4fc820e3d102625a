// One train step (forward and backward) of DeepFM (model::CreateModel's defaults: k = 16,
// MLP 400-400-400) and of DLRM (bottom 512-256-64, top 512-256) on one batch of 1024
// synthetic Criteo examples, parsed and deduplicated as the worker does; the pulled
// rows are small random values. Both are mostly matrix products (Eigen, and OpenBLAS
// behind it when built with TESSERA_OPENBLAS).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "bench/synthetic_lines.h"
#include "io/criteo.h"
#include "model/model.h"
#include "worker/batch_view.h"

namespace tessera::bench {
namespace {

constexpr int kBatchSize = 1024;

void TrainStep(benchmark::State& state, model::ModelKind kind) {
  io::CriteoParser parser;
  io::Batch batch;
  for (const std::string& line : SyntheticCriteoLines(kBatchSize)) {
    Status s = parser.ParseLine(line, &batch);
    CHECK(s.ok()) << s.ToString();
  }
  batch.Deduplicate();

  model::ModelSpec spec;  // 26 fields, 13 dense, k 16, the MLP sizes of the reference
  spec.kind = kind;
  auto created = model::CreateModel(spec);
  CHECK(created.ok()) << created.status().ToString();
  std::unique_ptr<model::Model> m = std::move(created).value();

  std::vector<float> sparse(batch.unique_keys.size() * m->sparse_dim());
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.01f);
  for (float& v : sparse) v = normal(rng);
  std::vector<float> dense = m->InitialDense(1);

  const model::BatchView view = worker::ViewOf(batch);
  model::ParamsView params{sparse, dense};
  std::vector<float> predictions(kBatchSize);
  model::Gradients grads;
  for (auto _ : state) {
    double loss = m->TrainStep(view, params, predictions, &grads);
    benchmark::DoNotOptimize(loss);
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
  state.counters["unique_keys"] = static_cast<double>(batch.unique_keys.size());
}
void BM_DeepFmTrainStep(benchmark::State& state) { TrainStep(state, model::ModelKind::kDeepFM); }
void BM_DlrmTrainStep(benchmark::State& state) { TrainStep(state, model::ModelKind::kDlrm); }
BENCHMARK(BM_DeepFmTrainStep)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DlrmTrainStep)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::bench
