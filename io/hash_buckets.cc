#include "io/hash_buckets.h"

namespace tessera::io {

Status HashBucketParser::ParseLine(std::string_view line, Batch* batch) {
  const int64_t before = batch->size();
  RETURN_IF_ERROR(inner_->ParseLine(line, batch));
  if (batch->size() == before) return Status::OK();
  // The example just appended: its F bags are the last F entries of offsets.
  const int fields = batch->num_fields;
  const size_t first_bag = static_cast<size_t>(before) * fields;
  for (int f = 0; f < fields; ++f) {
    const int32_t end = batch->offsets[first_bag + f + 1];
    for (int32_t i = batch->offsets[first_bag + f]; i < end; ++i) {
      batch->keys[i] = FoldKey(batch->keys[i], f, buckets_);
    }
  }
  return Status::OK();
}

}  // namespace tessera::io
