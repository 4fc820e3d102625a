#include "model/activation.h"

namespace tessera::model {

void ApplyActivation(ActivationKind kind, MatrixMap values) {
  auto a = values.array();
  switch (kind) {
    case ActivationKind::kRelu:
      a = a.max(0.0f);
      return;
    case ActivationKind::kTanh:
      a = a.tanh();
      return;
    case ActivationKind::kSigmoid:
      // exp(-x) overflows to inf for very negative x, giving exactly 0: no NaN.
      a = (1.0f + (-a).exp()).inverse();
      return;
  }
  LOG(FATAL) << "unknown activation " << static_cast<int>(kind);
}

void MultiplyByActivationDerivative(ActivationKind kind, ConstMatrixMap output, MatrixMap grad) {
  CHECK_EQ(output.rows(), grad.rows());
  CHECK_EQ(output.cols(), grad.cols());
  auto g = grad.array();
  auto y = output.array();
  switch (kind) {
    case ActivationKind::kRelu: {
      // A plain loop over the contiguous buffers: g++ turns it into a branch-free blend,
      // where Eigen's select compiled to a compare-and-branch per element that
      // mispredicted on ReLU's random sign pattern (~9% of a DeepFM step, measured).
      float* gd = grad.data();
      const float* yd = output.data();
      const Eigen::Index n = grad.size();
      for (Eigen::Index i = 0; i < n; ++i) gd[i] = yd[i] > 0.0f ? gd[i] : 0.0f;
      return;
    }
    case ActivationKind::kTanh:
      g *= 1.0f - y.square();
      return;
    case ActivationKind::kSigmoid:
      g *= y * (1.0f - y);
      return;
  }
  LOG(FATAL) << "unknown activation " << static_cast<int>(kind);
}

const char* ActivationName(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kTanh:
      return "tanh";
    case ActivationKind::kSigmoid:
      return "sigmoid";
  }
  return "unknown";
}

}  // namespace tessera::model
