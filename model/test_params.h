// Deterministic numbers for the model tests (header only, not part of the library):
// parameters and inputs drawn from common/hash.h's UniformFromKey, so that every run,
// and every test that asks for the same (seed, stream, index), sees the same values.
#pragma once

#include <cstdint>
#include <vector>

#include "common/hash.h"
#include "model/model.h"

namespace tessera::model {

// Uniform in [-scale, scale).
inline float TestUniform(uint64_t seed, uint64_t stream, uint64_t index, float scale) {
  return static_cast<float>((2.0 * UniformFromKey(seed, stream, 0, index) - 1.0) * scale);
}

struct TestParams {
  std::vector<float> sparse;
  std::vector<float> dense;
  ParamsView View() const { return ParamsView{sparse, dense}; }
};

// `rows` sparse rows from stream `sparse_stream` and the dense vector from
// `dense_stream`, uniform in [-scale, scale).
inline TestParams MakeTestParams(const Model& model, int rows, uint64_t seed,
                                 uint64_t sparse_stream, uint64_t dense_stream, float scale) {
  TestParams p;
  for (int i = 0; i < rows * model.sparse_dim(); ++i) {
    p.sparse.push_back(TestUniform(seed, sparse_stream, i, scale));
  }
  for (int64_t i = 0; i < model.dense_size(); ++i) {
    p.dense.push_back(TestUniform(seed, dense_stream, i, scale));
  }
  return p;
}

}  // namespace tessera::model
