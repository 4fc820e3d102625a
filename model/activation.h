// Element-wise activations of hidden layers, forward and backward on whole batch
// matrices. Each derivative is computed from the activation's output, so a layer
// keeps only its outputs for the backward pass. Pure functions; thread-safe.
#pragma once

#include "model/eigen.h"
#include "model/model.h"

namespace tessera::model {

// values <- activation(values), in place.
void ApplyActivation(ActivationKind kind, MatrixMap values);

// grad <- grad * activation'(x) element-wise, where `output` = activation(x):
// relu: output > 0; tanh: 1 - output^2; sigmoid: output * (1 - output).
void MultiplyByActivationDerivative(ActivationKind kind, ConstMatrixMap output, MatrixMap grad);

// "relu", "tanh" or "sigmoid": for test names and messages.
const char* ActivationName(ActivationKind kind);

}  // namespace tessera::model
