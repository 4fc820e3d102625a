#include "model/activation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera::model {
namespace {

RowMatrix Inputs() {
  RowMatrix m(2, 3);
  m << -2.0f, 0.0f, 0.5f, 1.5f, -0.25f, 100.0f;
  return m;
}

// Applies `kind` to Inputs() and checks every value against `f`.
template <typename F>
void ExpectApplies(ActivationKind kind, F f) {
  RowMatrix m = Inputs();
  ApplyActivation(kind, MatrixMap(m.data(), m.rows(), m.cols()));
  RowMatrix in = Inputs();
  for (int i = 0; i < m.size(); ++i) EXPECT_NEAR(m.data()[i], f(in.data()[i]), 1e-6) << i;
}

TEST(ActivationTest, ForwardValues) {
  ExpectApplies(ActivationKind::kRelu, [](float x) { return x > 0 ? x : 0.0f; });
  ExpectApplies(ActivationKind::kTanh, [](float x) { return std::tanh(x); });
  ExpectApplies(ActivationKind::kSigmoid, [](float x) { return 1 / (1 + std::exp(-x)); });
}

TEST(ActivationTest, SigmoidSaturatesWithoutNaN) {
  RowMatrix m(1, 2);
  m << -1000.0f, 1000.0f;
  ApplyActivation(ActivationKind::kSigmoid, MatrixMap(m.data(), 1, 2));
  EXPECT_EQ(m(0, 0), 0.0f);
  EXPECT_EQ(m(0, 1), 1.0f);
}

// The derivative from the output equals a central difference of the forward.
TEST(ActivationTest, DerivativeFromOutputMatchesFiniteDifference) {
  for (ActivationKind kind :
       {ActivationKind::kRelu, ActivationKind::kTanh, ActivationKind::kSigmoid}) {
    RowMatrix x(1, 4);
    x << -1.3f, -0.2f, 0.3f, 2.0f;
    RowMatrix y = x, plus = x.array() + 1e-3f, minus = x.array() - 1e-3f;
    ApplyActivation(kind, MatrixMap(y.data(), 1, 4));
    ApplyActivation(kind, MatrixMap(plus.data(), 1, 4));
    ApplyActivation(kind, MatrixMap(minus.data(), 1, 4));
    RowMatrix grad = RowMatrix::Constant(1, 4, 2.0f);
    MultiplyByActivationDerivative(kind, ConstMatrixMap(y.data(), 1, 4),
                                   MatrixMap(grad.data(), 1, 4));
    for (int i = 0; i < 4; ++i) {
      EXPECT_NEAR(grad(0, i), 2.0f * (plus(0, i) - minus(0, i)) / 2e-3f, 2e-3)
          << ActivationName(kind) << " at " << x(0, i);
    }
  }
}

}  // namespace
}  // namespace tessera::model
