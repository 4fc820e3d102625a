// The distinct items of a stream of examples, for negative sampling and for
// ranking every item for a user. An item is the content of an example's item
// fields [user_fields, F): their bags' keys and weights (side features included),
// so two examples about the same movie with the same genres are one item.
// AppendPair builds the example "this user with that item" from a user example and
// a catalogue item.
//
// Memory: the keys and weights of each distinct item once, plus a hash index.
// Not thread-safe to mutate; a const catalogue may be read from any thread.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "io/batch.h"

namespace tessera::io {

class ItemCatalog {
 public:
  // Fields [0, user_fields) are the user's; user_fields >= 1.
  explicit ItemCatalog(int user_fields);

  int user_fields() const { return user_fields_; }
  int64_t size() const { return static_cast<int64_t>(item_first_bag_.size()); }

  // The index of example b's item, adding it when new. Every example added must have
  // the same number of fields, more than user_fields.
  int32_t Add(const Batch& batch, int64_t b);

  // The index of example b's item, or -1 when the catalogue does not hold it.
  int32_t Find(const Batch& batch, int64_t b) const;

  // Appends to `out` one example with `label`: the user fields and dense features of
  // example b of `source`, and item `item`'s bags. `out` may be `source` itself. `out`
  // gets weights when `source` has them or item `item` has any weight other than 1
  // (earlier examples of `out` are then given weight 1). Does not deduplicate.
  void AppendPair(const Batch& source, int64_t b, int32_t item, float label, Batch* out) const;

 private:
  uint64_t ContentHash(const Batch& batch, int64_t b) const;
  bool SameContent(const Batch& batch, int64_t b, int32_t item) const;
  // Keys [begin, end) of item `item`'s bag `f` (0-based among the item fields).
  int64_t BagBegin(int32_t item, int f) const;
  int64_t BagEnd(int32_t item, int f) const { return bag_ends_[item_first_bag_[item] + f]; }

  int user_fields_;
  int item_fields_ = -1;  // fixed by the first Add
  std::vector<int64_t> item_first_bag_;  // item -> its first entry of bag_ends_
  std::vector<int64_t> bag_ends_;        // end of each bag in keys_ / values_
  std::vector<uint64_t> keys_;
  std::vector<float> values_;
  bool weighted_ = false;  // some item has a weight other than 1
  std::unordered_map<uint64_t, std::vector<int32_t>> by_hash_;
};

}  // namespace tessera::io
