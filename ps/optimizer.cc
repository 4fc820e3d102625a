#include "ps/optimizer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tessera::ps {
namespace {

// Checks lo <= value (or lo < value) and value < hi, all finite.
Status CheckRange(const char* field, float value, float lo, bool lo_open, float hi) {
  bool ok = std::isfinite(value) && (lo_open ? value > lo : value >= lo) && value < hi;
  if (ok) return Status::OK();
  return Status::InvalidArgument("optimizer " + std::string(field) + " = " + std::to_string(value) +
                                 " is out of range " + (lo_open ? "(" : "[") + std::to_string(lo) +
                                 ", " + std::to_string(hi) + ")");
}

constexpr float kHuge = 3.0e38f;

void ApplySgd(const PreparedStep& s, int dim, float* __restrict w, const float* __restrict g) {
  for (int j = 0; j < dim; ++j) w[j] -= s.learning_rate * (g[j] + s.l2 * w[j]);
}

void ApplyAdagrad(const PreparedStep& s, int dim, float* __restrict w, float* __restrict sum,
                  const float* __restrict g) {
  for (int j = 0; j < dim; ++j) {
    float grad = g[j] + s.l2 * w[j];
    sum[j] += grad * grad;
    w[j] -= s.learning_rate * grad / (std::sqrt(sum[j]) + s.epsilon);
  }
}

void ApplyAdam(const PreparedStep& s, int dim, float* __restrict w, float* __restrict m,
               float* __restrict v, const float* __restrict g) {
  for (int j = 0; j < dim; ++j) {
    float grad = g[j] + s.l2 * w[j];
    m[j] = s.beta1 * m[j] + (1.0f - s.beta1) * grad;
    v[j] = s.beta2 * v[j] + (1.0f - s.beta2) * grad * grad;
    w[j] -= s.adam_step_size * m[j] / (std::sqrt(v[j]) + s.epsilon);
  }
}

}  // namespace

Status OptimizerOptions::Validate() const {
  RETURN_IF_ERROR(CheckRange("learning_rate", learning_rate, 0.0f, /*lo_open=*/true, kHuge));
  RETURN_IF_ERROR(CheckRange("l2", l2, 0.0f, false, kHuge));
  switch (kind) {
    case Kind::kSgd:
      return Status::OK();
    case Kind::kAdagrad:
      RETURN_IF_ERROR(CheckRange("epsilon", epsilon, 0.0f, false, kHuge));
      RETURN_IF_ERROR(CheckRange("initial_accumulator", initial_accumulator, 0.0f, false, kHuge));
      if (epsilon == 0.0f && initial_accumulator == 0.0f) {
        // A zero gradient on a fresh row would divide 0 by 0.
        return Status::InvalidArgument(
            "optimizer epsilon and initial_accumulator are both 0: Adagrad needs one positive");
      }
      return Status::OK();
    case Kind::kAdam:
      RETURN_IF_ERROR(CheckRange("beta1", beta1, 0.0f, false, 1.0f));
      RETURN_IF_ERROR(CheckRange("beta2", beta2, 0.0f, false, 1.0f));
      return CheckRange("epsilon", epsilon, 0.0f, /*lo_open=*/true, kHuge);
  }
  return Status::InvalidArgument("optimizer kind " + std::to_string(static_cast<int>(kind)) +
                                 " is unknown");
}

int OptimizerOptions::StateFloats(int dim) const {
  switch (kind) {
    case Kind::kSgd:
      return 0;
    case Kind::kAdagrad:
      return dim;
    case Kind::kAdam:
      return 2 * dim;
  }
  return 0;
}

PreparedStep PrepareStep(const OptimizerOptions& options, int64_t step) {
  CHECK_GE(step, 1) << "optimizer steps count from 1";
  PreparedStep s;
  s.kind = options.kind;
  s.learning_rate = options.learning_rate;
  s.l2 = options.l2;
  s.epsilon = options.epsilon;
  s.beta1 = options.beta1;
  s.beta2 = options.beta2;
  if (options.kind == OptimizerOptions::Kind::kAdam) {
    double t = static_cast<double>(step);
    double correction1 = 1.0 - std::pow(static_cast<double>(options.beta1), t);
    double correction2 = 1.0 - std::pow(static_cast<double>(options.beta2), t);
    s.adam_step_size =
        static_cast<float>(options.learning_rate * std::sqrt(correction2) / correction1);
  }
  return s;
}

void InitOptimizerState(const OptimizerOptions& options, int dim, float* state) {
  float start = options.kind == OptimizerOptions::Kind::kAdagrad ? options.initial_accumulator : 0;
  std::fill(state, state + options.StateFloats(dim), start);
}

void ApplyUpdate(const PreparedStep& step, int dim, float* weights, float* state,
                 const float* grad) {
  switch (step.kind) {
    case OptimizerOptions::Kind::kSgd:
      ApplySgd(step, dim, weights, grad);
      return;
    case OptimizerOptions::Kind::kAdagrad:
      ApplyAdagrad(step, dim, weights, state, grad);
      return;
    case OptimizerOptions::Kind::kAdam:
      ApplyAdam(step, dim, weights, state, state + dim, grad);
      return;
  }
}

}  // namespace tessera::ps
