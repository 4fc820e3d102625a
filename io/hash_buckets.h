// Folds each sparse field's keys into a fixed number of rows (data.hash_buckets): the
// "hashing trick" with a bounded table. A value's key (already a hash of field and
// value for every format) is taken modulo the bucket count within its field, so a
// field never has more than `buckets` rows, however many values the data brings, and
// values of different fields never share one. It bounds a server's memory on open-
// ended ids, and reproduces the encoding of trainers that hash into a fixed table
// (the PyTorch reference trainer uses 2^20 buckets per field by default).
//
// Applied by wrapping a format's parser (io/format.h does it), so training,
// validation, predict, export and recommend all read the same keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/hash.h"
#include "io/line_parser.h"

namespace tessera::io {

// The largest bucket count: the field index goes above bit 40 of the folded key.
inline constexpr int64_t kMaxHashBuckets = int64_t{1} << 40;

// The folded key of `key` in sparse field `field`, for 1 <= buckets <= kMaxHashBuckets.
// Mixed (a bijection) so folded keys spread over servers and table slots as raw
// hashes do; distinct (field, bucket) pairs give distinct keys.
inline uint64_t FoldKey(uint64_t key, int field, uint64_t buckets) {
  return Mix64((static_cast<uint64_t>(field) << 40) | (key % buckets));
}

// A LineParser that folds the keys of every example its inner parser appends.
class HashBucketParser final : public LineParser {
 public:
  HashBucketParser(std::unique_ptr<LineParser> inner, int64_t buckets)
      : inner_(std::move(inner)), buckets_(static_cast<uint64_t>(buckets)) {}

  Status ParseLine(std::string_view line, Batch* batch) override;
  bool SkipsFirstLineOfFile() const override { return inner_->SkipsFirstLineOfFile(); }

 private:
  std::unique_ptr<LineParser> inner_;
  uint64_t buckets_;
};

}  // namespace tessera::io
