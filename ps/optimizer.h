// Optimizer rules applied on the server at push time (DESIGN.md §5): SGD, Adagrad
// and Adam, with the semantics of torch.optim.SGD, torch.optim.Adagrad (lr_decay 0)
// and torch.optim.SparseAdam, plus an L2 term added to every gradient; and
// FTRL-Proximal (McMahan et al., "Ad Click Prediction: a View from the Trenches",
// 2013), per coordinate.
//
// A row is updated in place: weights[dim], then its optimizer state
// [StateFloats(dim)] (Adagrad: the squared-gradient sum; Adam: m then v; FTRL: z then
// n). The per-step factors (the scheduled learning rate, Adam's bias correction) are
// computed once per push in a PreparedStep, so the per-row loop is plain arithmetic
// the compiler vectorises. Everything here is pure or works on caller-owned buffers:
// thread-safe.
//
// Regularisation, for every kind: `l2` is the strength of 0.5 * l2 * ||w||^2 and
// `l1` of l1 * ||w||_1.
//  - SGD, Adagrad, Adam add l2 * w to the gradient, then, when l1 > 0, take the
//    proximal step of the L1 term: w = sign(w) * max(0, |w| - rate * l1), where rate
//    is the coordinate's effective step (SGD: lr; Adagrad: lr / (sqrt(sum) + eps);
//    Adam: step_size / (sqrt(v) + eps)). Small weights become exact zeros. Lazy like
//    the rest: only the rows of a push are shrunk.
//  - FTRL applies both in its closed form: w = 0 when |z| <= l1, else
//    -(z - sign(z) * l1) / ((ftrl_beta + sqrt(n)) / alpha + l2). Our l2 is the paper's
//    lambda2 as written (and twice TensorFlow's l2_regularization_strength, which
//    multiplies it by 2); learning_rate is alpha.
//
// FTRL and initial values. The paper starts every weight at 0 (z = n = 0), and w is a
// function of (z, n). Our rows start from their initial values (embeddings are
// normal, not zero), and recomputing w from a zero z after the first gradient would
// shrink them by |g| / (beta + |g|), nearly to zero, before the model used them. So a
// fresh row's state is z = -(ftrl_beta / alpha) * w0, n = 0: the FTRL regulariser's
// first term, (beta / 2 alpha) * ||w - w0||^2, is centred on the initial value instead
// of the origin. The first gradient g then moves w0 by -alpha * g / (beta + |g|), a
// gradient step (with l1 = l2 = 0; otherwise the regularised result). With w0 = 0 this
// is the paper exactly.
// Weights imported without state get the same treatment, so a warm start keeps them.
//
// Learning-rate schedule (LearningRateAt): a linear warm-up, then an optional decay, as
// a function of the server's global update count, which checkpoints carry. For FTRL
// the step's rate is its alpha, as with TensorFlow's Ftrl under a schedule; since w is
// recomputed from (z, n), a smaller alpha also pulls a touched row towards zero.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace tessera::ps {

struct OptimizerOptions {
  enum class Kind { kSgd, kAdagrad, kAdam, kFtrl };
  enum class Decay {
    kNone,
    kExponential,  // times decay_rate ^ (step / decay_steps), continuous (no staircase)
    kInverseSqrt,  // divided by sqrt(max(1, step / decay_steps))
  };

  Kind kind = Kind::kAdam;
  float learning_rate = 0.001f;      // FTRL: alpha
  float beta1 = 0.9f;                // Adam: decay of the first moment
  float beta2 = 0.999f;              // Adam: decay of the second moment
  float epsilon = 1e-8f;             // Adagrad and Adam: added to the root in the denominator
  float initial_accumulator = 0.0f;  // Adagrad: the squared-gradient sum of a fresh row
  float l2 = 0.0f;                   // strength of 0.5 * l2 * ||w||^2 (see above)
  float l1 = 0.0f;                   // strength of l1 * ||w||_1 (see above)
  float ftrl_beta = 1.0f;            // FTRL: beta of the per-coordinate rate
  int64_t warmup_steps = 0;          // 0: no warm-up
  Decay decay = Decay::kNone;
  float decay_rate = 0.5f;     // kExponential
  int64_t decay_steps = 1000;  // kExponential, kInverseSqrt

  // OK, or InvalidArgument naming the first bad field. Only the fields the kind
  // uses are checked, and the schedule's.
  Status Validate() const;

  // Optimizer-state floats per row of `dim` weights: SGD 0, Adagrad dim, Adam and
  // FTRL 2*dim.
  int StateFloats(int dim) const;
};

// The learning rate of the update that follows `step` earlier ones (0-based: the
// first update is step 0): learning_rate, times (step + 1) / warmup_steps while
// step < warmup_steps, times the decay factor of `step`. Exactly learning_rate
// (as a double) without warm-up and decay.
double LearningRateAt(const OptimizerOptions& options, int64_t step);

// The factors of one update step, computed once per push (not per row).
struct PreparedStep {
  OptimizerOptions::Kind kind = OptimizerOptions::Kind::kSgd;
  float learning_rate = 0.0f;  // the scheduled rate of this step (FTRL: alpha)
  float l2 = 0.0f;
  float l1 = 0.0f;
  float epsilon = 0.0f;
  float beta1 = 0.0f;
  float beta2 = 0.0f;
  float ftrl_beta = 0.0f;
  // Adam: learning_rate * sqrt(1 - beta2^step) / (1 - beta1^step).
  float adam_step_size = 0.0f;
};

// `step` is the 1-based count of updates the table (or dense store) has applied,
// this one included: the schedule reads LearningRateAt(options, step - 1), Adam's
// bias correction `step`. Requires step >= 1.
PreparedStep PrepareStep(const OptimizerOptions& options, int64_t step);

// Writes the optimizer state of a fresh row whose `dim` weights are `weights`:
// zeros, Adagrad's initial_accumulator, or FTRL's z = -(ftrl_beta / learning_rate) * w,
// n = 0 (see above).
void InitOptimizerState(const OptimizerOptions& options, int dim, const float* weights,
                        float* state);

// Applies one update to one row in place. `weights` holds dim floats, `state`
// StateFloats(dim) floats, `grad` dim floats; none may overlap.
void ApplyUpdate(const PreparedStep& step, int dim, float* weights, float* state,
                 const float* grad);

}  // namespace tessera::ps
