#include "worker/negative_sampler.h"

#include <cstring>

#include <glog/logging.h>

#include "common/hash.h"

namespace tessera::worker {
namespace {

uint64_t FloatBits(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

}  // namespace

NegativeSampler::NegativeSampler(NegativeSamplingOptions options)
    : options_(options), rng_state_(Mix64(options.seed ^ 0x6e6567617469766bULL)) {
  CHECK_GE(options_.count, 0);
  CHECK_GE(options_.user_fields, 1);
}

uint64_t NegativeSampler::NextRandom() {
  rng_state_ += 0x9e3779b97f4a7c15ULL;  // splitmix64
  return Mix64(rng_state_);
}

int32_t NegativeSampler::Record(const io::Batch& batch, int64_t b) {
  const int f_count = batch.num_fields;
  const bool weighted = !batch.values.empty();
  const int32_t* offsets = batch.offsets.data() + b * f_count;
  const int32_t begin = offsets[options_.user_fields];
  const int32_t end = offsets[f_count];
  uint64_t h = 0x7461626c65ULL;
  for (int f = options_.user_fields; f < f_count; ++f) {
    h = Mix64(h ^ static_cast<uint64_t>(offsets[f + 1] - offsets[f]));
    for (int32_t i = offsets[f]; i < offsets[f + 1]; ++i) {
      h = Mix64(h ^ batch.keys[i]);
      if (weighted) h = Mix64(h ^ FloatBits(batch.values[i]));
    }
  }
  std::vector<int32_t>& same_hash = by_hash_[h];
  for (int32_t item : same_hash) {
    // Compare the content: equal hashes of different items must stay different items.
    const int64_t first_bag = item_offsets_[item];
    const int64_t key_begin = first_bag == 0 ? 0 : item_bag_ends_[first_bag - 1];
    bool equal = item_bag_ends_[first_bag + f_count - options_.user_fields - 1] - key_begin ==
                 end - begin;
    for (int f = options_.user_fields; equal && f < f_count; ++f) {
      const int64_t bag = first_bag + f - options_.user_fields;
      const int64_t bag_begin = bag == 0 ? 0 : item_bag_ends_[bag - 1];
      equal = item_bag_ends_[bag] - bag_begin == offsets[f + 1] - offsets[f];
    }
    for (int32_t i = begin; equal && i < end; ++i) {
      equal = item_keys_[key_begin + (i - begin)] == batch.keys[i] &&
              (!weighted || item_values_[key_begin + (i - begin)] == batch.values[i]);
    }
    if (equal) return item;
  }
  const int32_t item = static_cast<int32_t>(item_offsets_.size());
  item_offsets_.push_back(static_cast<int64_t>(item_bag_ends_.size()));
  for (int f = options_.user_fields; f < f_count; ++f) {
    for (int32_t i = offsets[f]; i < offsets[f + 1]; ++i) {
      item_keys_.push_back(batch.keys[i]);
      item_values_.push_back(weighted ? batch.values[i] : 1.0f);
    }
    item_bag_ends_.push_back(static_cast<int64_t>(item_keys_.size()));
  }
  same_hash.push_back(item);
  return item;
}

int32_t NegativeSampler::Draw() {
  if (options_.kind == NegativeSamplingOptions::Kind::kUniform) {
    return static_cast<int32_t>(NextRandom() % item_offsets_.size());
  }
  return occurrences_[NextRandom() % occurrences_.size()];
}

void NegativeSampler::AppendNegative(io::Batch* batch, int64_t b, int32_t item) {
  const int f_count = batch->num_fields;
  const bool weighted = !batch->values.empty();
  batch->labels.push_back(0.0f);
  for (int d = 0; d < batch->num_dense; ++d) {
    batch->dense.push_back(batch->dense[b * batch->num_dense + d]);
  }
  for (int f = 0; f < options_.user_fields; ++f) {
    const int32_t begin = batch->offsets[b * f_count + f];
    const int32_t end = batch->offsets[b * f_count + f + 1];
    for (int32_t i = begin; i < end; ++i) {
      batch->keys.push_back(batch->keys[i]);
      if (weighted) batch->values.push_back(batch->values[i]);
    }
    batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  }
  const int64_t first_bag = item_offsets_[item];
  for (int f = options_.user_fields; f < f_count; ++f) {
    const int64_t bag = first_bag + f - options_.user_fields;
    const int64_t bag_begin = bag == 0 ? 0 : item_bag_ends_[bag - 1];
    for (int64_t i = bag_begin; i < item_bag_ends_[bag]; ++i) {
      batch->keys.push_back(item_keys_[i]);
      if (weighted) batch->values.push_back(item_values_[i]);
    }
    batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  }
  ++negatives_added_;
}

void NegativeSampler::Augment(io::Batch* batch) {
  if (options_.count == 0) return;
  CHECK_LT(options_.user_fields, batch->num_fields) << "no item fields to sample";
  const int64_t n = batch->size();
  batch_items_.resize(n);
  for (int64_t b = 0; b < n; ++b) {
    batch_items_[b] = Record(*batch, b);
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
        AppendNegative(batch, b, item);
        added = true;
        break;
      }
    }
  }
  if (added) batch->Deduplicate();
}

}  // namespace tessera::worker
