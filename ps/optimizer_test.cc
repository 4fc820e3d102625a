#include "ps/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
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

// Runs the given one-float gradients through one row starting at w = 1, steps 1, 2, ...
// and returns the row [w | state].
std::vector<float> RunSteps(const OptimizerOptions& o, const std::vector<float>& grads) {
  std::vector<float> row(1 + o.StateFloats(1));
  row[0] = 1.0f;
  InitOptimizerState(o, 1, row.data() + 1);
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
  InitOptimizerState(o, 1, &state);
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

}  // namespace
}  // namespace tessera::ps
