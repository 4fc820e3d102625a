// One train step (forward and backward) of DeepFM (model::CreateModel's defaults: k = 16,
// MLP 400-400-400) and of DLRM (bottom 512-256-64, top 512-256) on one batch of 1024
// synthetic Criteo examples, parsed and deduplicated as the worker does; the pulled
// rows are small random values. Both are mostly matrix products (Eigen, and OpenBLAS
// behind it when built with TESSERA_OPENBLAS). The DeepFM step also reports its MLP's
// arithmetic rate (mlp_flops/s: a product of an [n x m] layer over B examples is 2nmB
// FLOPs forward and twice that backward, the input gradient and the weight gradient), and
// BM_Sgemm the rate of one large square product on the same core: how close the step is
// to what this machine's BLAS can do at all.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "bench/synthetic_lines.h"
#include "io/criteo.h"
#include "model/eigen.h"
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
  if (kind == model::ModelKind::kDeepFM) {
    // The MLP over concat(embeddings, dense): F*k + D inputs, the hidden layers, 1 output.
    std::vector<int> sizes = {spec.num_fields * spec.embedding_dim + spec.num_dense};
    sizes.insert(sizes.end(), spec.mlp_hidden.begin(), spec.mlp_hidden.end());
    sizes.push_back(1);
    double macs = 0;
    for (size_t i = 0; i + 1 < sizes.size(); ++i) macs += double(sizes[i]) * sizes[i + 1];
    const double flops_per_step = 3 * 2 * macs * kBatchSize;
    state.counters["mlp_flops"] = benchmark::Counter(
        flops_per_step * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  }
}

// C = A * B for square n x n float matrices (Eigen, on OpenBLAS's sgemm when built with it).
void BM_Sgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  model::RowMatrix a = model::RowMatrix::Random(n, n), b = model::RowMatrix::Random(n, n);
  model::RowMatrix c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["flops"] = benchmark::Counter(
      2.0 * n * n * n * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sgemm)->Arg(1024)->Unit(benchmark::kMillisecond);
void BM_DeepFmTrainStep(benchmark::State& state) { TrainStep(state, model::ModelKind::kDeepFM); }
void BM_DlrmTrainStep(benchmark::State& state) { TrainStep(state, model::ModelKind::kDlrm); }
BENCHMARK(BM_DeepFmTrainStep)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DlrmTrainStep)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::bench
