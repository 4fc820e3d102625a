// Whether a sparse row is still exactly what a fresh row of its table starts as: its
// weights are FillInitialRow(seed, table, key) and, when the optimizer state is known,
// that state is InitOptimizerState of those weights. Such a row was never changed by
// training; `tessera export --prune_untouched` drops it (io/export.h).
//
// Why this is the test, with no per-row flag on the server: a row exists only because a
// training pull created it (evaluation and prediction use Peek, which creates nothing),
// and an update with a non-zero gradient changes Adagrad's sum, Adam's v and FTRL's n
// for good, and the weights with them. So in a checkpoint "fresh" means "every gradient
// it got was zero": the same as never pushed. Without state (a model directory) the
// weights alone decide, which is as exact unless an update left the weights bit for bit
// unchanged. Nothing on the training path pays for it.
//
// Not thread-safe: holds scratch; one per thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ps/sparse_table.h"

namespace tessera::ps {

class FreshRowCheck {
 public:
  // `options` describes the table the rows came from (the job config's).
  explicit FreshRowCheck(SparseTableOptions options);

  // `weights` holds options.dim floats; `state` is empty (unknown) or
  // options.optimizer.StateFloats(dim) floats. Compares bits, so -0 is not +0.
  bool IsFresh(uint64_t key, std::span<const float> weights, std::span<const float> state);

 private:
  const SparseTableOptions options_;
  std::vector<float> fresh_weights_;
  std::vector<float> fresh_state_;
};

}  // namespace tessera::ps
