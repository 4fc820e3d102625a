// The model's view of a parsed batch: the one place where io::Batch (the reader's
// buffers) meets model::BatchView (spans the model reads), so that model/ and io/
// need not know each other. The view borrows the batch: keep the batch alive and
// unchanged while the view is used.
#pragma once

#include "io/batch.h"
#include "model/input.h"

namespace tessera::worker {

inline model::BatchView ViewOf(const io::Batch& batch) {
  model::BatchView v;
  v.size = batch.size();
  v.num_fields = batch.num_fields;
  v.num_dense = batch.num_dense;
  v.labels = batch.labels;
  v.dense = batch.dense;
  v.offsets = batch.offsets;
  v.rows = batch.rows;
  v.values = batch.values;
  return v;
}

}  // namespace tessera::worker
