// CriteoParser::ParseLine over synthetic Criteo lines (io/synthetic.h), into batches of
// 1024 as the worker's reader fills them.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/synthetic_lines.h"
#include "io/criteo.h"

namespace tessera::bench {
namespace {

constexpr int kLines = 16384;
constexpr int kBatchSize = 1024;

void BM_CriteoParseLine(benchmark::State& state) {
  static const auto* lines = new std::vector<std::string>(SyntheticCriteoLines(kLines));
  int64_t bytes = 0;
  for (const auto& l : *lines) bytes += static_cast<int64_t>(l.size()) + 1;
  io::CriteoParser parser;
  io::Batch batch;
  for (auto _ : state) {
    for (size_t i = 0; i < lines->size(); ++i) {
      if (i % kBatchSize == 0) batch.Clear();
      Status s = parser.ParseLine((*lines)[i], &batch);
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    }
    benchmark::DoNotOptimize(batch.keys.data());
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_CriteoParseLine)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::bench
