// What a model sees of one batch: spans over buffers the caller owns (the worker's
// io::Batch and the rows it pulled). model/ knows nothing of files or networks;
// these plain views are its whole input (DESIGN.md §9).
// Layout, stated once: every matrix is row-major.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::model {

// One batch of B examples with F sparse fields and D dense features.
struct BatchView {
  int64_t size = 0;               // B
  int num_fields = 0;             // F
  int num_dense = 0;              // D
  std::span<const float> labels;  // [B]: 0 or 1 (cross-entropy) or values (squared error)
  std::span<const float> dense;   // [B x D]
  // The bag of example b, field f holds the pulled rows
  //   rows[offsets[b*F + f]] ... rows[offsets[b*F + f + 1] - 1];
  // a bag's rows are summed, each times its weight (a one-hot field has exactly one
  // entry; an empty bag contributes zeros). FM also pairs the entries of one bag
  // (model/ctr_model.h).
  std::span<const int32_t> offsets;  // [B*F + 1], offsets[0] == 0
  std::span<const int32_t> rows;     // indices into ParamsView::sparse rows
  // Per-entry weights parallel to rows (a bag is then the weighted sum of its rows,
  // and gradients scatter with the same weights); empty when every weight is 1.
  std::span<const float> values;
};

// Parameters pulled for one batch.
struct ParamsView {
  std::span<const float> sparse;  // [U x sparse_dim]: one row per unique key of the batch
  std::span<const float> dense;   // [dense_size], the layout is the model's own
};

// Gradients of the batch's mean loss, shaped like ParamsView.
struct Gradients {
  std::vector<float> sparse;  // [U x sparse_dim]; rows of unused keys stay zero
  std::vector<float> dense;   // [dense_size]
};

}  // namespace tessera::model
