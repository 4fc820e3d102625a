#include "io/item_catalog.h"

#include <cstring>

#include <glog/logging.h>

#include "common/hash.h"

namespace tessera::io {
namespace {

uint64_t FloatBits(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

float WeightOf(const Batch& batch, int32_t i) {
  return batch.values.empty() ? 1.0f : batch.values[i];
}

}  // namespace

ItemCatalog::ItemCatalog(int user_fields) : user_fields_(user_fields) {
  CHECK_GE(user_fields_, 1);
}

int64_t ItemCatalog::BagBegin(int32_t item, int f) const {
  const int64_t bag = item_first_bag_[item] + f;
  return bag == 0 ? 0 : bag_ends_[bag - 1];
}

uint64_t ItemCatalog::ContentHash(const Batch& batch, int64_t b) const {
  const int32_t* offsets = batch.offsets.data() + b * batch.num_fields;
  uint64_t h = 0x6974656d73ULL;
  for (int f = user_fields_; f < batch.num_fields; ++f) {
    h = Mix64(h ^ static_cast<uint64_t>(offsets[f + 1] - offsets[f]));
    for (int32_t i = offsets[f]; i < offsets[f + 1]; ++i) {
      h = Mix64(h ^ batch.keys[i]);
      h = Mix64(h ^ FloatBits(WeightOf(batch, i)));
    }
  }
  return h;
}

bool ItemCatalog::SameContent(const Batch& batch, int64_t b, int32_t item) const {
  const int32_t* offsets = batch.offsets.data() + b * batch.num_fields;
  for (int f = user_fields_; f < batch.num_fields; ++f) {
    const int64_t begin = BagBegin(item, f - user_fields_);
    if (BagEnd(item, f - user_fields_) - begin != offsets[f + 1] - offsets[f]) return false;
    for (int32_t i = offsets[f]; i < offsets[f + 1]; ++i) {
      const int64_t j = begin + (i - offsets[f]);
      if (keys_[j] != batch.keys[i] || values_[j] != WeightOf(batch, i)) return false;
    }
  }
  return true;
}

int32_t ItemCatalog::Find(const Batch& batch, int64_t b) const {
  if (batch.num_fields - user_fields_ != item_fields_) return -1;
  auto it = by_hash_.find(ContentHash(batch, b));
  if (it == by_hash_.end()) return -1;
  for (int32_t item : it->second) {
    if (SameContent(batch, b, item)) return item;
  }
  return -1;
}

int32_t ItemCatalog::Add(const Batch& batch, int64_t b) {
  CHECK_GT(batch.num_fields, user_fields_) << "no item fields";
  if (item_fields_ < 0) item_fields_ = batch.num_fields - user_fields_;
  CHECK_EQ(item_fields_, batch.num_fields - user_fields_);
  std::vector<int32_t>& same_hash = by_hash_[ContentHash(batch, b)];
  for (int32_t item : same_hash) {
    if (SameContent(batch, b, item)) return item;
  }
  const int32_t item = static_cast<int32_t>(item_first_bag_.size());
  item_first_bag_.push_back(static_cast<int64_t>(bag_ends_.size()));
  const int32_t* offsets = batch.offsets.data() + b * batch.num_fields;
  for (int f = user_fields_; f < batch.num_fields; ++f) {
    for (int32_t i = offsets[f]; i < offsets[f + 1]; ++i) {
      keys_.push_back(batch.keys[i]);
      values_.push_back(WeightOf(batch, i));
      weighted_ |= values_.back() != 1.0f;
    }
    bag_ends_.push_back(static_cast<int64_t>(keys_.size()));
  }
  same_hash.push_back(item);
  return item;
}

void ItemCatalog::AppendPair(const Batch& source, int64_t b, int32_t item, float label,
                             Batch* out) const {
  CHECK_EQ(source.num_fields, user_fields_ + item_fields_);
  CHECK_EQ(out->num_fields, source.num_fields);
  CHECK_EQ(out->num_dense, source.num_dense);
  const bool weighted = !source.values.empty() || weighted_ || !out->values.empty();
  if (weighted && out->values.empty()) out->values.assign(out->keys.size(), 1.0f);
  out->labels.push_back(label);
  for (int d = 0; d < source.num_dense; ++d) {
    // Copy by value: `out` may be `source`, whose buffer push_back may move.
    const float x = source.dense[b * source.num_dense + d];
    out->dense.push_back(x);
  }
  const int64_t first = b * source.num_fields;
  for (int f = 0; f < user_fields_; ++f) {
    const int32_t begin = source.offsets[first + f], end = source.offsets[first + f + 1];
    for (int32_t i = begin; i < end; ++i) {
      const uint64_t key = source.keys[i];
      const float w = WeightOf(source, i);
      out->keys.push_back(key);
      if (weighted) out->values.push_back(w);
    }
    out->offsets.push_back(static_cast<int32_t>(out->keys.size()));
  }
  for (int f = 0; f < item_fields_; ++f) {
    for (int64_t j = BagBegin(item, f); j < BagEnd(item, f); ++j) {
      out->keys.push_back(keys_[j]);
      if (weighted) out->values.push_back(values_[j]);
    }
    out->offsets.push_back(static_cast<int32_t>(out->keys.size()));
  }
}

}  // namespace tessera::io
