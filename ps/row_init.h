// How a fresh sparse row starts (DESIGN.md §4): a pure function of (seed, table,
// key), never of which server holds the row or in what order rows were created, so
// the same config and seed give the same model on any cluster shape.
// ps/ knows no models: the model describes its columns as ColumnInit ranges and the
// job config copies them here. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "common/status.h"

namespace tessera::ps {

// Columns [begin, end) of a fresh row are zero, or
// NormalFromKey(seed, table_id, key, column) * scale. Columns no range covers are zero.
struct ColumnInit {
  enum class Kind { kZero, kNormal };
  int begin = 0;
  int end = 0;
  Kind kind = Kind::kZero;
  float scale = 0.0f;
};

// OK, or InvalidArgument when a range is empty, reversed, outside [0, dim), overlaps
// another, or has a non-finite scale.
Status ValidateColumnInit(std::span<const ColumnInit> init, int dim);

// Writes the initial weights of `key` into row (dim floats).
void FillInitialRow(std::span<const ColumnInit> init, uint64_t seed, uint32_t table_id,
                    uint64_t key, std::span<float> row);

}  // namespace tessera::ps
