#include "ps/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace tessera::ps {
namespace {

using Kind = OptimizerOptions::Kind;

OptimizerOptions Options(Kind kind, float lr, float l2 = 0.0f) {
  OptimizerOptions o;
  o.kind = kind;
  o.learning_rate = lr;
  o.l2 = l2;
  return o;
}

// Runs the given one-float gradients through one row starting at w = w0, steps 1, 2, ...
// and returns the row [w | state].
std::vector<float> RunSteps(const OptimizerOptions& o, const std::vector<float>& grads,
                            float w0 = 1.0f) {
  std::vector<float> row(1 + o.StateFloats(1));
  row[0] = w0;
  InitOptimizerState(o, 1, row.data(), row.data() + 1);
  for (size_t t = 0; t < grads.size(); ++t) {
    ApplyUpdate(PrepareStep(o, static_cast<int64_t>(t) + 1), 1, row.data(), row.data() + 1,
                &grads[t]);
  }
  return row;
}

TEST(OptimizerTest, StateFloatsPerKind) {
  EXPECT_EQ(Options(Kind::kSgd, 0.1f).StateFloats(16), 0);
  EXPECT_EQ(Options(Kind::kAdagrad, 0.1f).StateFloats(16), 16);
  EXPECT_EQ(Options(Kind::kAdam, 0.1f).StateFloats(16), 32);
  EXPECT_EQ(Options(Kind::kFtrl, 0.1f).StateFloats(16), 32);
}

TEST(OptimizerTest, SgdStep) {
  // w = 1 - 0.1 * 0.5
  EXPECT_FLOAT_EQ(RunSteps(Options(Kind::kSgd, 0.1f), {0.5f})[0], 0.95f);
}

TEST(OptimizerTest, SgdL2AddsWeightToGradient) {
  // w = 1 - 0.1 * (0.5 + 0.2 * 1)
  EXPECT_FLOAT_EQ(RunSteps(Options(Kind::kSgd, 0.1f, 0.2f), {0.5f})[0], 0.93f);
}

TEST(OptimizerTest, AdagradTwoSteps) {
  OptimizerOptions o = Options(Kind::kAdagrad, 0.1f);
  o.initial_accumulator = 0.1f;
  o.epsilon = 1e-10f;
  // s = 0.1 + 0.25 + 0.09; w = 1 - 0.1*0.5/sqrt(0.35) + 0.1*0.3/sqrt(0.44)
  std::vector<float> row = RunSteps(o, {0.5f, -0.3f});
  EXPECT_NEAR(row[0], 0.9607112762, 1e-6);
  EXPECT_NEAR(row[1], 0.44, 1e-6);
}

TEST(OptimizerTest, AdagradStartsFromInitialAccumulator) {
  OptimizerOptions o = Options(Kind::kAdagrad, 0.1f);
  o.initial_accumulator = 0.25f;
  float state = -1.0f;
  float weight = 1.0f;
  InitOptimizerState(o, 1, &weight, &state);
  EXPECT_EQ(state, 0.25f);
}

TEST(OptimizerTest, AdagradL2) {
  OptimizerOptions o = Options(Kind::kAdagrad, 0.1f, 0.2f);
  o.initial_accumulator = 0.1f;
  o.epsilon = 1e-10f;
  // g = 0.7; s = 0.59; w = 1 - 0.1*0.7/sqrt(0.59)
  std::vector<float> row = RunSteps(o, {0.5f});
  EXPECT_NEAR(row[0], 0.9088677623, 1e-6);
  EXPECT_NEAR(row[1], 0.59, 1e-6);
}

TEST(OptimizerTest, AdamTwoStepsWithBiasCorrection) {
  OptimizerOptions o = Options(Kind::kAdam, 0.01f);
  // Reference: torch.optim.SparseAdam semantics computed in double precision.
  std::vector<float> row = RunSteps(o, {0.5f, -0.3f});
  EXPECT_NEAR(row[0], 0.9880850270, 1e-6);
  EXPECT_NEAR(row[1], 0.015, 1e-7);       // m
  EXPECT_NEAR(row[2], 0.00033975, 1e-8);  // v
}

TEST(OptimizerTest, AdamL2) {
  std::vector<float> row = RunSteps(Options(Kind::kAdam, 0.01f, 0.5f), {0.5f, -0.3f});
  EXPECT_NEAR(row[0], 0.9819984892, 1e-6);
  EXPECT_NEAR(row[1], 0.1095, 1e-6);
}

TEST(OptimizerTest, AdamStepSizeDependsOnStep) {
  OptimizerOptions o = Options(Kind::kAdam, 0.01f);
  // At step 1 the corrections cancel to lr * sqrt(1 - b2) / (1 - b1).
  EXPECT_NEAR(PrepareStep(o, 1).adam_step_size, 0.01 * std::sqrt(0.001) / 0.1, 1e-7);
  // Far along, both corrections approach 1.
  EXPECT_NEAR(PrepareStep(o, 100000).adam_step_size, 0.01, 1e-7);
}

TEST(OptimizerTest, UpdatesEveryColumnOfAWideRow) {
  // dim 19: the vectorised body and the scalar tail both update.
  const int dim = 19;
  OptimizerOptions o = Options(Kind::kAdam, 0.01f);
  std::vector<float> w(dim, 1.0f), state(o.StateFloats(dim), 0.0f), g(dim);
  for (int j = 0; j < dim; ++j) g[j] = (j % 2 == 0) ? 0.5f : -0.5f;
  ApplyUpdate(PrepareStep(o, 1), dim, w.data(), state.data(), g.data());
  for (int j = 0; j < dim; ++j) EXPECT_NEAR(w[j], j % 2 == 0 ? 0.99f : 1.01f, 1e-6) << j;
}

TEST(OptimizerTest, ValidateNamesTheBadField) {
  EXPECT_TRUE(Options(Kind::kAdam, 0.01f).Validate().ok());
  Status s = Options(Kind::kSgd, 0.0f).Validate();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("learning_rate"), std::string::npos) << s.ToString();

  OptimizerOptions adam = Options(Kind::kAdam, 0.01f);
  adam.beta2 = 1.0f;
  EXPECT_NE(adam.Validate().message().find("beta2"), std::string::npos);
  adam.beta2 = 0.999f;
  adam.epsilon = 0.0f;
  EXPECT_NE(adam.Validate().message().find("epsilon"), std::string::npos);

  OptimizerOptions sgd = Options(Kind::kSgd, 0.1f, -1.0f);
  EXPECT_NE(sgd.Validate().message().find("l2"), std::string::npos);

  OptimizerOptions adagrad = Options(Kind::kAdagrad, 0.1f);
  adagrad.initial_accumulator = -0.5f;
  EXPECT_NE(adagrad.Validate().message().find("initial_accumulator"), std::string::npos);
  adagrad.initial_accumulator = 0.0f;
  adagrad.epsilon = 0.0f;
  EXPECT_FALSE(adagrad.Validate().ok());
}

// The validation also covers the fields added with FTRL, L1 and the schedules.
TEST(OptimizerTest, ValidateNamesTheNewFields) {
  OptimizerOptions o = Options(Kind::kSgd, 0.1f);
  o.l1 = -0.1f;
  EXPECT_NE(o.Validate().message().find("l1"), std::string::npos);
  o = Options(Kind::kFtrl, 0.1f);
  EXPECT_TRUE(o.Validate().ok());
  o.ftrl_beta = 0.0f;
  EXPECT_NE(o.Validate().message().find("ftrl_beta"), std::string::npos);
  o = Options(Kind::kAdam, 0.1f);
  o.warmup_steps = -1;
  EXPECT_NE(o.Validate().message().find("warmup_steps"), std::string::npos);
  o = Options(Kind::kAdam, 0.1f);
  o.decay_steps = 0;
  EXPECT_NE(o.Validate().message().find("decay_steps"), std::string::npos);
  o = Options(Kind::kAdam, 0.1f);
  o.decay_rate = 0.0f;
  EXPECT_NE(o.Validate().message().find("decay_rate"), std::string::npos);
  o.decay_rate = 1.5f;
  EXPECT_NE(o.Validate().message().find("decay_rate"), std::string::npos);
  o.decay_rate = 1.0f;
  EXPECT_TRUE(o.Validate().ok());
}

// --- FTRL-Proximal ---

OptimizerOptions Ftrl(float alpha, float l1 = 0.0f, float l2 = 0.0f) {
  OptimizerOptions o = Options(Kind::kFtrl, alpha, l2);
  o.l1 = l1;
  o.ftrl_beta = 1.0f;
  return o;
}

TEST(OptimizerTest, FtrlTwoStepsFromZeroMatchThePaper) {
  // alpha 0.1, beta 1. Step 1, g = 0.5: n = 0.25, sigma = 0.5 / 0.1 = 5, z = 0.5,
  // w = -0.5 / ((1 + 0.5) / 0.1) = -1/30. Step 2, g = -0.3: n = 0.34,
  // sigma = (sqrt(0.34) - 0.5) / 0.1, z = 0.2 + sigma / 30 = 0.2276984,
  // w = -z / ((1 + sqrt(0.34)) / 0.1) = -0.0143831.
  std::vector<float> row = RunSteps(Ftrl(0.1f), {0.5f}, 0.0f);
  EXPECT_NEAR(row[0], -1.0 / 30, 1e-7);
  EXPECT_NEAR(row[1], 0.5, 1e-7);   // z
  EXPECT_NEAR(row[2], 0.25, 1e-7);  // n
  row = RunSteps(Ftrl(0.1f), {0.5f, -0.3f}, 0.0f);
  EXPECT_NEAR(row[0], -0.0143831147, 1e-7);
  EXPECT_NEAR(row[1], 0.2276983965, 1e-6);
  EXPECT_NEAR(row[2], 0.34, 1e-7);
}

TEST(OptimizerTest, FtrlL1AndL2EnterTheClosedForm) {
  // l1 0.1, l2 0.5: w = -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2).
  // Step 1: w = -(0.5 - 0.1) / (15 + 0.5). Step 2: z = 0.2 + sigma * 0.4 / 15.5.
  std::vector<float> row = RunSteps(Ftrl(0.1f, 0.1f, 0.5f), {0.5f}, 0.0f);
  EXPECT_NEAR(row[0], -0.4 / 15.5, 1e-7);
  row = RunSteps(Ftrl(0.1f, 0.1f, 0.5f), {0.5f, -0.3f}, 0.0f);
  EXPECT_NEAR(row[0], -0.0074364263, 1e-7);
  EXPECT_NEAR(row[1], 0.2214439199, 1e-6);
}

TEST(OptimizerTest, FtrlL1GivesExactZerosWhileZIsSmall) {
  // |z| = 0.5 <= l1: exactly zero, whatever n.
  std::vector<float> row = RunSteps(Ftrl(0.1f, 0.5f), {0.5f}, 0.0f);
  EXPECT_EQ(row[0], 0.0f);
  EXPECT_FALSE(std::signbit(row[0]));
  // A small initial weight is pulled to exactly zero too: z = -10 * 0.01 + g.
  row = RunSteps(Ftrl(0.1f, 0.5f), {0.05f}, 0.01f);
  EXPECT_EQ(row[0], 0.0f);
}

TEST(OptimizerTest, FtrlFreshRowKeepsItsInitialValue) {
  // z = -(beta / alpha) * w0, n = 0: the closed form gives back w0 ...
  OptimizerOptions o = Ftrl(0.1f);
  std::vector<float> row = RunSteps(o, {}, 0.75f);
  EXPECT_FLOAT_EQ(row[1], -7.5f);
  EXPECT_EQ(row[2], 0.0f);
  row = RunSteps(o, {0.0f}, 0.75f);
  EXPECT_NEAR(row[0], 0.75f, 1e-7);
  // ... and the first gradient is a step from w0, not a restart from zero:
  // w = w0 - alpha * g / (beta + |g|).
  row = RunSteps(o, {0.5f}, 1.0f);
  EXPECT_NEAR(row[0], 1.0 - 0.1 * 0.5 / 1.5, 1e-6);
}

TEST(OptimizerTest, FtrlWithoutRegularisationIsTranslatedByTheInitialValue) {
  // Centring the first regulariser term on w0 shifts the whole trajectory by w0.
  const std::vector<float> grads = {0.5f, -0.3f, 0.2f, 0.7f};
  std::vector<float> from_zero = RunSteps(Ftrl(0.1f), grads, 0.0f);
  std::vector<float> from_one = RunSteps(Ftrl(0.1f), grads, 1.0f);
  EXPECT_NEAR(from_one[0], 1.0f + from_zero[0], 1e-6);
  EXPECT_EQ(from_one[2], from_zero[2]);  // n does not depend on w
}

// --- L1 for SGD, Adagrad, Adam: soft thresholding after the update ---

TEST(OptimizerTest, SgdL1ShrinksByRateTimesL1) {
  OptimizerOptions o = Options(Kind::kSgd, 0.1f);
  o.l1 = 0.2f;
  // w = 1 - 0.1 * 0.5 = 0.95, then 0.95 - 0.1 * 0.2.
  EXPECT_FLOAT_EQ(RunSteps(o, {0.5f})[0], 0.93f);
  EXPECT_FLOAT_EQ(RunSteps(o, {0.5f}, -1.0f)[0], -1.03f);  // towards zero from below too
}

TEST(OptimizerTest, AdagradL1UsesTheCoordinateRate) {
  OptimizerOptions o = Options(Kind::kAdagrad, 0.1f);
  o.initial_accumulator = 0.1f;
  o.epsilon = 1e-10f;
  o.l1 = 0.2f;
  // rate = 0.1 / sqrt(0.35); w = 1 - rate * 0.5 - rate * 0.2.
  EXPECT_NEAR(RunSteps(o, {0.5f})[0], 0.8816784044, 1e-6);
}

TEST(OptimizerTest, L1MakesSmallWeightsExactlyZero) {
  const int dim = 19;
  for (Kind kind : {Kind::kSgd, Kind::kAdagrad, Kind::kAdam}) {
    OptimizerOptions o = Options(kind, 0.01f);
    o.initial_accumulator = 0.1f;
    o.l1 = 1.0f;
    // Weights far below one step's threshold, gradients of both signs.
    std::vector<float> w(dim), state(o.StateFloats(dim)), g(dim);
    for (int j = 0; j < dim; ++j) {
      w[j] = (j % 3 - 1) * 1e-4f;
      g[j] = (j % 2 == 0) ? 0.01f : -0.01f;
    }
    InitOptimizerState(o, dim, w.data(), state.data());
    ApplyUpdate(PrepareStep(o, 1), dim, w.data(), state.data(), g.data());
    for (int j = 0; j < dim; ++j) {
      EXPECT_EQ(w[j], 0.0f) << static_cast<int>(kind) << " column " << j;
      EXPECT_FALSE(std::signbit(w[j])) << static_cast<int>(kind) << " column " << j;
    }
  }
}

// --- No behaviour change: new fields at their defaults ---

// The update rules as they were before L1, FTRL and the schedules.
void ReferenceUpdate(const OptimizerOptions& o, int64_t step, int dim, float* w, float* state,
                     const float* g) {
  float lr = o.learning_rate;
  for (int j = 0; j < dim; ++j) {
    switch (o.kind) {
      case Kind::kSgd:
        w[j] -= lr * (g[j] + o.l2 * w[j]);
        break;
      case Kind::kAdagrad: {
        float grad = g[j] + o.l2 * w[j];
        state[j] += grad * grad;
        w[j] -= lr * grad / (std::sqrt(state[j]) + o.epsilon);
        break;
      }
      case Kind::kAdam: {
        double t = static_cast<double>(step);
        float size =
            static_cast<float>(lr * std::sqrt(1.0 - std::pow(static_cast<double>(o.beta2), t)) /
                               (1.0 - std::pow(static_cast<double>(o.beta1), t)));
        float* m = state;
        float* v = state + dim;
        float grad = g[j] + o.l2 * w[j];
        m[j] = o.beta1 * m[j] + (1.0f - o.beta1) * grad;
        v[j] = o.beta2 * v[j] + (1.0f - o.beta2) * grad * grad;
        w[j] -= size * m[j] / (std::sqrt(v[j]) + o.epsilon);
        break;
      }
      case Kind::kFtrl:
        break;
    }
  }
}

TEST(OptimizerTest, DefaultNewFieldsLeaveSgdAdagradAdamBitIdentical) {
  const int dim = 19;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (Kind kind : {Kind::kSgd, Kind::kAdagrad, Kind::kAdam}) {
    for (float l2 : {0.0f, 0.1f}) {
      OptimizerOptions o = Options(kind, 0.05f, l2);
      o.initial_accumulator = 0.1f;
      std::vector<float> w(dim), state(o.StateFloats(dim)), g(dim);
      for (float& x : w) x = normal(rng);
      std::vector<float> ref_w = w;
      InitOptimizerState(o, dim, w.data(), state.data());
      std::vector<float> ref_state = state;
      for (int64_t step = 1; step <= 50; ++step) {
        for (float& x : g) x = normal(rng);
        ApplyUpdate(PrepareStep(o, step), dim, w.data(), state.data(), g.data());
        ReferenceUpdate(o, step, dim, ref_w.data(), ref_state.data(), g.data());
      }
      for (int j = 0; j < dim; ++j) {
        // Bit for bit, not merely close.
        ASSERT_EQ(w[j], ref_w[j]) << static_cast<int>(kind) << " l2 " << l2 << " column " << j;
      }
      EXPECT_EQ(state, ref_state);
    }
  }
}

// --- Learning-rate schedules ---

TEST(OptimizerTest, LearningRateWithoutScheduleIsExactlyTheConfiguredOne) {
  OptimizerOptions o = Options(Kind::kAdam, 0.0123f);
  for (int64_t step : {0, 1, 999, 1000000}) {
    EXPECT_EQ(LearningRateAt(o, step), static_cast<double>(0.0123f)) << step;
  }
}

TEST(OptimizerTest, WarmupRisesLinearlyThenHolds) {
  OptimizerOptions o = Options(Kind::kSgd, 1.0f);
  o.warmup_steps = 4;
  const std::vector<double> expected = {0.25, 0.5, 0.75, 1.0, 1.0, 1.0};
  for (int step = 0; step < 6; ++step) EXPECT_DOUBLE_EQ(LearningRateAt(o, step), expected[step]);
}

TEST(OptimizerTest, ExponentialDecayIsContinuous) {
  OptimizerOptions o = Options(Kind::kSgd, 2.0f);
  o.decay = OptimizerOptions::Decay::kExponential;
  o.decay_rate = 0.5f;
  o.decay_steps = 10;
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 0), 2.0);
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 5), 2.0 * std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 10), 1.0);
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 20), 0.5);
}

TEST(OptimizerTest, InverseSqrtDecayStartsAfterOnePeriod) {
  OptimizerOptions o = Options(Kind::kSgd, 1.0f);
  o.decay = OptimizerOptions::Decay::kInverseSqrt;
  o.decay_steps = 10;
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 0), 1.0);
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 10), 1.0);
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 40), 0.5);
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 90), 1.0 / 3.0);
}

TEST(OptimizerTest, WarmupAndDecayMultiply) {
  OptimizerOptions o = Options(Kind::kSgd, 1.0f);
  o.warmup_steps = 4;
  o.decay = OptimizerOptions::Decay::kExponential;
  o.decay_rate = 0.25f;
  o.decay_steps = 2;
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 1), 0.5 * 0.5);    // warm-up 2/4, decay 0.25^0.5
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 4), 0.25 * 0.25);  // warm-up over, decay 0.25^2
}

TEST(OptimizerTest, PrepareStepReadsTheScheduleAtTheZeroBasedStep) {
  OptimizerOptions o = Options(Kind::kSgd, 1.0f);
  o.warmup_steps = 2;
  EXPECT_EQ(PrepareStep(o, 1).learning_rate, 0.5f);  // the first update
  EXPECT_EQ(PrepareStep(o, 2).learning_rate, 1.0f);
  // SGD's update uses it: w = 1 - 0.5 * 0.5.
  EXPECT_FLOAT_EQ(RunSteps(o, {0.5f})[0], 0.75f);
  // Adam scales its bias-corrected step by it.
  OptimizerOptions adam = Options(Kind::kAdam, 0.01f);
  OptimizerOptions warm = adam;
  warm.warmup_steps = 4;
  EXPECT_FLOAT_EQ(PrepareStep(warm, 1).adam_step_size, PrepareStep(adam, 1).adam_step_size / 4);
}

}  // namespace
}  // namespace tessera::ps
