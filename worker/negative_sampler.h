// Negative sampling for implicit feedback (positive-only interaction logs): after
// the examples of a batch, appends `count` negatives per positive example, each
// pairing that example's user fields with the item fields of an item drawn from the
// items this sampler has seen so far. The model then learns to score a user's items
// above random (uniform) or popular (popularity-weighted) ones, as two-tower
// retrieval models are trained.
//
// Items are those of an io::ItemCatalog (the content of the item fields, side
// features included) holding every item seen in training batches; the popularity
// list holds one entry per occurrence, capped at kMaxOccurrences by reservoir sampling so memory stays
// bounded on endless streams. A draw that hits the positive's own item is retried up
// to kMaxRetries times, then skipped (an accidental positive would teach the wrong
// thing; a missing negative only slightly lowers the ratio).
//
// Deterministic: the draws depend only on the seed and the batches seen, in order.
// Not thread-safe: one sampler per worker.
#pragma once

#include <cstdint>
#include <vector>

#include "io/batch.h"
#include "io/item_catalog.h"

namespace tessera::worker {

struct NegativeSamplingOptions {
  enum class Kind { kUniform, kPopularity };
  int count = 0;        // negatives per positive; 0 disables sampling
  Kind kind = Kind::kUniform;
  int user_fields = 1;  // fields [0, user_fields) are the user's
  uint64_t seed = 0;
};

class NegativeSampler {
 public:
  static constexpr int kMaxRetries = 3;
  static constexpr int64_t kMaxOccurrences = int64_t{1} << 22;

  explicit NegativeSampler(NegativeSamplingOptions options);

  // Records the items of `batch`, then appends the negatives of its positive
  // examples (label > 0.5) and deduplicates the batch again. A batch without
  // positives, or a sampler with count 0, leaves the batch as it was.
  void Augment(io::Batch* batch);

  int64_t distinct_items() const { return catalog_.size(); }
  int64_t negatives_added() const { return negatives_added_; }

 private:
  int32_t Draw();
  uint64_t NextRandom();

  NegativeSamplingOptions options_;
  uint64_t rng_state_;
  io::ItemCatalog catalog_;
  std::vector<int32_t> occurrences_;  // item per occurrence (a reservoir once full)
  int64_t occurrences_seen_ = 0;
  int64_t negatives_added_ = 0;
  std::vector<int32_t> batch_items_;  // scratch: the item of each original example
};

}  // namespace tessera::worker
