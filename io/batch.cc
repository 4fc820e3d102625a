#include "io/batch.h"

#include "common/hash.h"

namespace tessera::io {

void Batch::Clear() {
  labels.clear();
  dense.clear();
  offsets.assign(1, 0);
  keys.clear();
  values.clear();
  unique_keys.clear();
  rows.clear();
}

void Batch::Deduplicate() {
  unique_keys.clear();
  rows.resize(keys.size());
  // A load factor of at most 1/2 keeps linear probes short.
  size_t capacity = 16;
  while (capacity < 2 * keys.size()) capacity *= 2;
  dedup_table_.assign(capacity, -1);
  const uint64_t mask = capacity - 1;
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t key = keys[i];
    // Mix64 spreads keys that are not hashes already (small integers in tests).
    uint64_t slot = Mix64(key) & mask;
    while (dedup_table_[slot] >= 0 && unique_keys[dedup_table_[slot]] != key) {
      slot = (slot + 1) & mask;
    }
    if (dedup_table_[slot] < 0) {
      dedup_table_[slot] = static_cast<int32_t>(unique_keys.size());
      unique_keys.push_back(key);
    }
    rows[i] = dedup_table_[slot];
  }
}

}  // namespace tessera::io
