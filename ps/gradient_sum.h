// GradientSum: the per-key sum of several sparse gradients (one BSP step's pushes),
// taken in the order they are added, so that the sum is reproducible bit for bit.
// Each key's sum starts from +0.0f and adds its gradients one after another; keys
// come out in order of first appearance.
//
// A small open-addressing index (key -> position) reused across steps: once warm,
// adding allocates nothing. Not thread-safe: one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tessera::ps {

class GradientSum {
 public:
  // Empties the sum for gradients of `dim` floats a key; `expected_keys` sizes the
  // index (it grows past it when needed).
  void Reset(int dim, size_t expected_keys);

  // Adds `grad` (dim floats) to the sum of `key`.
  void Add(uint64_t key, const float* grad);

  // Multiplies every sum by `factor`.
  void Scale(float factor);

  std::span<const uint64_t> keys() const { return keys_; }
  // keys().size() x dim, row-major.
  std::span<const float> grads() const { return grads_; }

 private:
  static constexpr int32_t kEmpty = -1;
  void Grow();

  int dim_ = 1;
  std::vector<uint64_t> keys_;
  std::vector<float> grads_;
  std::vector<int32_t> index_;  // position in keys_ per slot, kEmpty when free
  int capacity_log2_ = 0;
};

}  // namespace tessera::ps
