// Optimizer rules applied on the server at push time (DESIGN.md §5): SGD, Adagrad
// and Adam, with the semantics of torch.optim.SGD, torch.optim.Adagrad (lr_decay 0)
// and torch.optim.SparseAdam, plus an L2 term added to every gradient.
//
// A row is updated in place: weights[dim], then its optimizer state
// [StateFloats(dim)] (Adagrad: the squared-gradient sum; Adam: m then v). The
// per-step factors (Adam's bias correction) are computed once per push in a
// PreparedStep, so the per-row loop is plain arithmetic the compiler vectorises.
// Everything here is pure or works on caller-owned buffers: thread-safe.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace tessera::ps {

struct OptimizerOptions {
  enum class Kind { kSgd, kAdagrad, kAdam };

  Kind kind = Kind::kAdam;
  float learning_rate = 0.001f;
  float beta1 = 0.9f;                // Adam: decay of the first moment
  float beta2 = 0.999f;              // Adam: decay of the second moment
  float epsilon = 1e-8f;             // Adagrad and Adam: added to the root in the denominator
  float initial_accumulator = 0.0f;  // Adagrad: the squared-gradient sum of a fresh row
  float l2 = 0.0f;                   // adds l2 * w to every gradient

  // OK, or InvalidArgument naming the first bad field. Only the fields the kind
  // uses are checked.
  Status Validate() const;

  // Optimizer-state floats per row of `dim` weights: SGD 0, Adagrad dim, Adam 2*dim.
  int StateFloats(int dim) const;
};

// The factors of one update step, computed once per push (not per row).
struct PreparedStep {
  OptimizerOptions::Kind kind = OptimizerOptions::Kind::kSgd;
  float learning_rate = 0.0f;
  float l2 = 0.0f;
  float epsilon = 0.0f;
  float beta1 = 0.0f;
  float beta2 = 0.0f;
  // Adam: learning_rate * sqrt(1 - beta2^step) / (1 - beta1^step).
  float adam_step_size = 0.0f;
};

// `step` is the 1-based count of updates the table (or dense store) has applied,
// this one included; only Adam's bias correction uses it. Requires step >= 1.
PreparedStep PrepareStep(const OptimizerOptions& options, int64_t step);

// Writes the optimizer state of a fresh row: zeros, or Adagrad's initial_accumulator.
void InitOptimizerState(const OptimizerOptions& options, int dim, float* state);

// Applies one update to one row in place. `weights` holds dim floats, `state`
// StateFloats(dim) floats, `grad` dim floats; none may overlap.
void ApplyUpdate(const PreparedStep& step, int dim, float* weights, float* state,
                 const float* grad);

}  // namespace tessera::ps
