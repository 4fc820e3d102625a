#include "worker/negative_sampler.h"

#include <glog/logging.h>

#include "common/hash.h"

namespace tessera::worker {

NegativeSampler::NegativeSampler(NegativeSamplingOptions options)
    : options_(options),
      rng_state_(Mix64(options.seed ^ 0x6e6567617469766bULL)),
      catalog_(options.user_fields) {
  CHECK_GE(options_.count, 0);
  CHECK_GE(options_.user_fields, 1);
}

uint64_t NegativeSampler::NextRandom() { return SplitMix64Next(&rng_state_); }

int32_t NegativeSampler::Draw() {
  if (options_.kind == NegativeSamplingOptions::Kind::kUniform) {
    return static_cast<int32_t>(NextRandom() % static_cast<uint64_t>(catalog_.size()));
  }
  return occurrences_[NextRandom() % occurrences_.size()];
}

void NegativeSampler::Augment(io::Batch* batch) {
  if (options_.count == 0) return;
  CHECK_LT(options_.user_fields, batch->num_fields) << "no item fields to sample";
  const int64_t n = batch->size();
  batch_items_.resize(n);
  for (int64_t b = 0; b < n; ++b) {
    batch_items_[b] = catalog_.Add(*batch, b);
    ++occurrences_seen_;
    if (static_cast<int64_t>(occurrences_.size()) < kMaxOccurrences) {
      occurrences_.push_back(batch_items_[b]);
    } else {
      const uint64_t j = NextRandom() % static_cast<uint64_t>(occurrences_seen_);
      if (j < static_cast<uint64_t>(kMaxOccurrences)) occurrences_[j] = batch_items_[b];
    }
  }
  bool added = false;
  for (int64_t b = 0; b < n; ++b) {
    if (!(batch->labels[b] > 0.5f)) continue;
    for (int c = 0; c < options_.count; ++c) {
      for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
        const int32_t item = Draw();
        if (item == batch_items_[b]) continue;
        catalog_.AppendPair(*batch, b, item, /*label=*/0.0f, batch);
        ++negatives_added_;
        added = true;
        break;
      }
    }
  }
  if (added) batch->Deduplicate();
}

}  // namespace tessera::worker
