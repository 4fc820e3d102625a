#include "io/libsvm.h"

#include <glog/logging.h>

#include <string>

namespace tessera::io {
namespace {

// The part of `line` before a '#' comment.
std::string_view WithoutComment(std::string_view line) {
  const size_t hash = line.find('#');
  return hash == std::string_view::npos ? line : line.substr(0, hash);
}

}  // namespace

Status LibsvmParser::ParseLine(std::string_view line, Batch* batch) {
  CHECK(batch->size() == 0 || (batch->num_fields == 1 && batch->num_dense == 0))
      << "a libsvm example appended to a batch of another shape";
  std::string_view rest = WithoutComment(line);
  float label = 0.0f;
  RETURN_IF_ERROR(ParseLabel(NextToken(&rest), label_kind_, &label));
  keys_.clear();
  values_.clear();
  for (std::string_view token = NextToken(&rest); !token.empty(); token = NextToken(&rest)) {
    const size_t colon = token.find(':');
    uint64_t index = 0;
    float value = 1.0f;
    RETURN_IF_ERROR(ParseIndex(token.substr(0, colon), "feature index", &index));
    if (colon != std::string_view::npos) {
      Status parsed = ParseNumber(token.substr(colon + 1), "value", &value);
      if (!parsed.ok()) return parsed.WithContext("feature " + std::to_string(index));
    }
    keys_.push_back(IndexFeatureId(0, index));
    values_.push_back(value);
  }
  batch->num_fields = 1;
  batch->num_dense = 0;
  if (batch->offsets.empty()) batch->offsets.push_back(0);
  batch->labels.push_back(label);
  batch->keys.insert(batch->keys.end(), keys_.begin(), keys_.end());
  batch->values.insert(batch->values.end(), values_.begin(), values_.end());
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  return Status::OK();
}

}  // namespace tessera::io
