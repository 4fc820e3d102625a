#include "ps/gradient_sum.h"

#include <algorithm>

#include "common/hash.h"

namespace tessera::ps {
namespace {

constexpr int kMinCapacityLog2 = 4;

// The index's slot for key at 2^log2 slots: the mix's high bits, independent of the
// low bits that choose a key's server and shard (equal for every key summed here).
size_t SlotFor(uint64_t key, int log2) { return static_cast<size_t>(Mix64(key) >> (64 - log2)); }

}  // namespace

void GradientSum::Reset(int dim, size_t expected_keys) {
  dim_ = dim;
  keys_.clear();
  grads_.clear();
  // At most half full: short probes.
  int log2 = kMinCapacityLog2;
  while ((size_t{1} << log2) < 2 * expected_keys) ++log2;
  if (log2 != capacity_log2_) {
    capacity_log2_ = log2;
    index_.assign(size_t{1} << log2, kEmpty);
  } else {
    std::fill(index_.begin(), index_.end(), kEmpty);
  }
}

void GradientSum::Add(uint64_t key, const float* grad) {
  const size_t mask = index_.size() - 1;
  size_t i = SlotFor(key, capacity_log2_);
  while (index_[i] != kEmpty && keys_[index_[i]] != key) i = (i + 1) & mask;
  if (index_[i] == kEmpty) {
    if (2 * (keys_.size() + 1) > index_.size()) {
      Grow();
      Add(key, grad);
      return;
    }
    index_[i] = static_cast<int32_t>(keys_.size());
    keys_.push_back(key);
    grads_.resize(grads_.size() + dim_, 0.0f);
  }
  float* sum = grads_.data() + static_cast<size_t>(index_[i]) * dim_;
  for (int j = 0; j < dim_; ++j) sum[j] += grad[j];
}

void GradientSum::Grow() {
  ++capacity_log2_;
  index_.assign(size_t{1} << capacity_log2_, kEmpty);
  const size_t mask = index_.size() - 1;
  for (size_t k = 0; k < keys_.size(); ++k) {
    size_t i = SlotFor(keys_[k], capacity_log2_);
    while (index_[i] != kEmpty) i = (i + 1) & mask;
    index_[i] = static_cast<int32_t>(k);
  }
}

void GradientSum::Scale(float factor) {
  for (float& g : grads_) g *= factor;
}

}  // namespace tessera::ps
