// Top-K recommendation from a trained model without a cluster: scores every item
// of an io::ItemCatalog for one user by running the model's Predict on
// "this user with item i" examples, in batches. Works for every model kind (MF and
// two-tower as well as the CTR models); for retrieval at large catalogue sizes a
// user-vector / item-vector index would be the next step (not built).
//
// Ranking order: higher score first; equal scores by lower catalogue index (the
// order items were first seen), so results are deterministic.
// Not thread-safe: one Recommender per thread (the model holds scratch).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "io/batch.h"
#include "io/item_catalog.h"
#include "model/model.h"

namespace tessera::serve {

// Fills rows [keys.size() x sparse_dim] with the trained rows of `keys` (whatever the
// caller's policy for keys the model never stored).
using RowLookup = std::function<void(std::span<const uint64_t> keys, std::span<float> rows)>;

struct ScoredItem {
  int32_t item = 0;  // catalogue index
  float score = 0.0f;
};

class Recommender {
 public:
  // Borrows everything; `dense` are the model's dense parameters.
  Recommender(model::Model* model, RowLookup rows, std::span<const float> dense,
              const io::ItemCatalog* catalog, int batch_size = 4096);

  // The score of every catalogue item for the user of example b of `users` (its
  // user fields and dense features) into scores [catalog size].
  void ScoreAll(const io::Batch& users, int64_t b, std::vector<float>* scores);

  // The best k items for that user, best first, skipping `exclude` (catalogue indices,
  // ascending).
  std::vector<ScoredItem> TopK(const io::Batch& users, int64_t b,
                               std::span<const int32_t> exclude, int k);

 private:
  model::Model* model_;
  RowLookup rows_;
  std::span<const float> dense_;
  const io::ItemCatalog* catalog_;
  int batch_size_;
  io::Batch batch_;
  std::vector<float> row_values_;
  std::vector<float> predictions_;
};

// The best k of `scores`, best first, skipping `exclude` (ascending indices).
std::vector<ScoredItem> BestOf(std::span<const float> scores, std::span<const int32_t> exclude,
                               int k);

// The 0-based rank of `item` in the ranking order among the indices of `scores` not in
// `exclude` (ascending; `item` itself is never excluded): how many of them would be
// listed before it.
int64_t RankOf(std::span<const float> scores, int32_t item, std::span<const int32_t> exclude);

}  // namespace tessera::serve
