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

Status CheckAtLeast(const char* field, int64_t value, int64_t lo) {
  if (value >= lo) return Status::OK();
  return Status::InvalidArgument("optimizer " + std::string(field) + " = " + std::to_string(value) +
                                 " must be at least " + std::to_string(lo));
}

Status CheckSchedule(const OptimizerOptions& o) {
  RETURN_IF_ERROR(CheckAtLeast("warmup_steps", o.warmup_steps, 0));
  RETURN_IF_ERROR(CheckAtLeast("decay_steps", o.decay_steps, 1));
  if (!(o.decay_rate > 0.0f && o.decay_rate <= 1.0f)) {
    return Status::InvalidArgument("optimizer decay_rate = " + std::to_string(o.decay_rate) +
                                   " is out of range (0, 1]");
  }
  return Status::OK();
}

constexpr float kHuge = 3.0e38f;

// The proximal step of rate * ||w||_1: exact zeros for |w| <= rate.
inline float SoftThreshold(float w, float rate) {
  float shrunk = std::fabs(w) - rate;
  return shrunk > 0.0f ? std::copysign(shrunk, w) : 0.0f;
}

// kL1 selects the loops with the L1 proximal step; without it they are the plain
// updates, bit for bit.
template <bool kL1>
void ApplySgd(const PreparedStep& s, int dim, float* __restrict w, const float* __restrict g) {
  for (int j = 0; j < dim; ++j) {
    w[j] -= s.learning_rate * (g[j] + s.l2 * w[j]);
    if constexpr (kL1) w[j] = SoftThreshold(w[j], s.learning_rate * s.l1);
  }
}

template <bool kL1>
void ApplyAdagrad(const PreparedStep& s, int dim, float* __restrict w, float* __restrict sum,
                  const float* __restrict g) {
  for (int j = 0; j < dim; ++j) {
    float grad = g[j] + s.l2 * w[j];
    sum[j] += grad * grad;
    if constexpr (kL1) {
      float rate = s.learning_rate / (std::sqrt(sum[j]) + s.epsilon);
      w[j] = SoftThreshold(w[j] - rate * grad, rate * s.l1);
    } else {
      w[j] -= s.learning_rate * grad / (std::sqrt(sum[j]) + s.epsilon);
    }
  }
}

template <bool kL1>
void ApplyAdam(const PreparedStep& s, int dim, float* __restrict w, float* __restrict m,
               float* __restrict v, const float* __restrict g) {
  for (int j = 0; j < dim; ++j) {
    float grad = g[j] + s.l2 * w[j];
    m[j] = s.beta1 * m[j] + (1.0f - s.beta1) * grad;
    v[j] = s.beta2 * v[j] + (1.0f - s.beta2) * grad * grad;
    if constexpr (kL1) {
      float rate = s.adam_step_size / (std::sqrt(v[j]) + s.epsilon);
      w[j] = SoftThreshold(w[j] - rate * m[j], rate * s.l1);
    } else {
      w[j] -= s.adam_step_size * m[j] / (std::sqrt(v[j]) + s.epsilon);
    }
  }
}

// McMahan et al. 2013, Algorithm 1, per coordinate (alpha = s.learning_rate).
void ApplyFtrl(const PreparedStep& s, int dim, float* __restrict w, float* __restrict z,
               float* __restrict n, const float* __restrict g) {
  for (int j = 0; j < dim; ++j) {
    float n_new = n[j] + g[j] * g[j];
    float root_new = std::sqrt(n_new);
    float sigma = (root_new - std::sqrt(n[j])) / s.learning_rate;
    z[j] += g[j] - sigma * w[j];
    n[j] = n_new;
    float shrunk = std::fabs(z[j]) - s.l1;
    float denominator = (s.ftrl_beta + root_new) / s.learning_rate + s.l2;
    w[j] = shrunk > 0.0f ? -std::copysign(shrunk, z[j]) / denominator : 0.0f;
  }
}

}  // namespace

Status OptimizerOptions::Validate() const {
  RETURN_IF_ERROR(CheckRange("learning_rate", learning_rate, 0.0f, /*lo_open=*/true, kHuge));
  RETURN_IF_ERROR(CheckRange("l2", l2, 0.0f, false, kHuge));
  RETURN_IF_ERROR(CheckRange("l1", l1, 0.0f, false, kHuge));
  RETURN_IF_ERROR(CheckSchedule(*this));
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
    case Kind::kFtrl:
      // beta > 0 keeps the denominator positive on a fresh row and carries its w0.
      return CheckRange("ftrl_beta", ftrl_beta, 0.0f, /*lo_open=*/true, kHuge);
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
    case Kind::kFtrl:
      return 2 * dim;
  }
  return 0;
}

double LearningRateAt(const OptimizerOptions& options, int64_t step) {
  double rate = options.learning_rate;
  if (step < options.warmup_steps) {
    rate *= static_cast<double>(step + 1) / static_cast<double>(options.warmup_steps);
  }
  const double decay_periods = static_cast<double>(step) / static_cast<double>(options.decay_steps);
  switch (options.decay) {
    case OptimizerOptions::Decay::kNone:
      break;
    case OptimizerOptions::Decay::kExponential:
      rate *= std::pow(static_cast<double>(options.decay_rate), decay_periods);
      break;
    case OptimizerOptions::Decay::kInverseSqrt:
      rate /= std::sqrt(std::max(1.0, decay_periods));
      break;
  }
  return rate;
}

PreparedStep PrepareStep(const OptimizerOptions& options, int64_t step) {
  CHECK_GE(step, 1) << "optimizer steps count from 1";
  PreparedStep s;
  s.kind = options.kind;
  s.learning_rate = static_cast<float>(LearningRateAt(options, step - 1));
  s.l2 = options.l2;
  s.l1 = options.l1;
  s.epsilon = options.epsilon;
  s.beta1 = options.beta1;
  s.beta2 = options.beta2;
  s.ftrl_beta = options.ftrl_beta;
  if (options.kind == OptimizerOptions::Kind::kAdam) {
    double t = static_cast<double>(step);
    double correction1 = 1.0 - std::pow(static_cast<double>(options.beta1), t);
    double correction2 = 1.0 - std::pow(static_cast<double>(options.beta2), t);
    s.adam_step_size = static_cast<float>(s.learning_rate * std::sqrt(correction2) / correction1);
  }
  return s;
}

void InitOptimizerState(const OptimizerOptions& options, int dim, const float* weights,
                        float* state) {
  switch (options.kind) {
    case OptimizerOptions::Kind::kSgd:
      return;
    case OptimizerOptions::Kind::kAdagrad:
      std::fill(state, state + dim, options.initial_accumulator);
      return;
    case OptimizerOptions::Kind::kAdam:
      std::fill(state, state + 2 * dim, 0.0f);
      return;
    case OptimizerOptions::Kind::kFtrl: {
      const float centre = -options.ftrl_beta / options.learning_rate;
      for (int j = 0; j < dim; ++j) state[j] = centre * weights[j];
      std::fill(state + dim, state + 2 * dim, 0.0f);
      return;
    }
  }
}

void ApplyUpdate(const PreparedStep& step, int dim, float* weights, float* state,
                 const float* grad) {
  const bool l1 = step.l1 > 0.0f;
  switch (step.kind) {
    case OptimizerOptions::Kind::kSgd:
      l1 ? ApplySgd<true>(step, dim, weights, grad) : ApplySgd<false>(step, dim, weights, grad);
      return;
    case OptimizerOptions::Kind::kAdagrad:
      l1 ? ApplyAdagrad<true>(step, dim, weights, state, grad)
         : ApplyAdagrad<false>(step, dim, weights, state, grad);
      return;
    case OptimizerOptions::Kind::kAdam:
      l1 ? ApplyAdam<true>(step, dim, weights, state, state + dim, grad)
         : ApplyAdam<false>(step, dim, weights, state, state + dim, grad);
      return;
    case OptimizerOptions::Kind::kFtrl:
      ApplyFtrl(step, dim, weights, state, state + dim, grad);
      return;
  }
}

}  // namespace tessera::ps
