#include "serve/recommender.h"

#include <algorithm>

#include <glog/logging.h>

#include "model/input.h"
#include "worker/batch_view.h"  // header-only: where io::Batch meets model::BatchView

namespace tessera::serve {
namespace {

bool Excluded(std::span<const int32_t> exclude, int32_t item) {
  return std::binary_search(exclude.begin(), exclude.end(), item);
}

// True when a is listed before b.
bool Before(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

}  // namespace

Recommender::Recommender(model::Model* model, RowLookup rows, std::span<const float> dense,
                         const io::ItemCatalog* catalog, int batch_size)
    : model_(model),
      rows_(std::move(rows)),
      dense_(dense),
      catalog_(catalog),
      batch_size_(batch_size) {
  CHECK_GE(batch_size_, 1);
}

void Recommender::ScoreAll(const io::Batch& users, int64_t b, std::vector<float>* scores) {
  const int64_t n = catalog_->size();
  scores->resize(n);
  const int dim = model_->sparse_dim();
  for (int64_t first = 0; first < n; first += batch_size_) {
    const int64_t last = std::min<int64_t>(n, first + batch_size_);
    batch_.num_fields = users.num_fields;
    batch_.num_dense = users.num_dense;
    batch_.Clear();
    for (int64_t i = first; i < last; ++i) {
      catalog_->AppendPair(users, b, static_cast<int32_t>(i), /*label=*/0.0f, &batch_);
    }
    batch_.Deduplicate();
    row_values_.resize(batch_.unique_keys.size() * dim);
    rows_(batch_.unique_keys, row_values_);
    predictions_.resize(batch_.size());
    model_->Predict(worker::ViewOf(batch_), model::ParamsView{row_values_, dense_}, predictions_);
    std::copy(predictions_.begin(), predictions_.end(), scores->begin() + first);
  }
}

std::vector<ScoredItem> Recommender::TopK(const io::Batch& users, int64_t b,
                                          std::span<const int32_t> exclude, int k) {
  std::vector<float> scores;
  ScoreAll(users, b, &scores);
  return BestOf(scores, exclude, k);
}

std::vector<ScoredItem> BestOf(std::span<const float> scores, std::span<const int32_t> exclude,
                               int k) {
  std::vector<ScoredItem> all;
  all.reserve(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!Excluded(exclude, static_cast<int32_t>(i))) {
      all.push_back({static_cast<int32_t>(i), scores[i]});
    }
  }
  const size_t keep = std::min(all.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), Before);
  all.resize(keep);
  return all;
}

int64_t RankOf(std::span<const float> scores, int32_t item, std::span<const int32_t> exclude) {
  const ScoredItem target{item, scores[item]};
  int64_t rank = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const int32_t other = static_cast<int32_t>(i);
    if (other == item || Excluded(exclude, other)) continue;
    rank += Before({other, scores[i]}, target);
  }
  return rank;
}

}  // namespace tessera::serve
