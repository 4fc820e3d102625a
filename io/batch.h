// A parsed batch of examples, as the worker builds it from data lines.
// Owns its buffers; reused across batches (Clear keeps capacity). Not thread-safe.
// Sparse features are bags per (example, field) in CSR form so that multi-hot
// fields fit the same shape as one-hot ones.
#pragma once

#include <cstdint>
#include <vector>

namespace tessera::io {

struct Batch {
  int num_fields = 0;  // F sparse fields per example
  int num_dense = 0;   // D dense features per example

  std::vector<float> labels;     // [B]
  std::vector<float> dense;      // [B x D] row-major
  std::vector<int32_t> offsets;  // [B*F + 1]; bag (b, f) is keys[offsets[b*F+f] .. offsets[b*F+f+1])
  std::vector<uint64_t> keys;    // feature ids, all bags concatenated
  // Per-key weights, parallel to keys (libsvm/libffm values); empty when every key
  // weighs 1. A parser that writes a weight writes one for every key of the batch
  // (Clear empties it, so a batch is weighted or not as a whole).
  std::vector<float> values;

  // Filled by Deduplicate():
  std::vector<uint64_t> unique_keys;  // distinct keys in order of first appearance
  std::vector<int32_t> rows;          // [keys.size()]: index of keys[i] in unique_keys

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  // Empties the batch, keeping capacity; offsets becomes {0}.
  void Clear();
  // Computes unique_keys and rows. Deterministic: depends only on the keys' order.
  // O(keys) with an open-addressing table kept between calls (no allocation once warm).
  void Deduplicate();

 private:
  // Scratch for Deduplicate: index into unique_keys per table slot, -1 when empty.
  std::vector<int32_t> dedup_table_;
};

}  // namespace tessera::io
