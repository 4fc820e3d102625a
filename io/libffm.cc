#include "io/libffm.h"

#include <glog/logging.h>

#include <algorithm>
#include <string>

namespace tessera::io {

LibffmParser::LibffmParser(int num_fields, LabelKind label_kind)
    : num_fields_(num_fields), label_kind_(label_kind), bag_sizes_(num_fields) {
  CHECK_GE(num_fields, 1);
}

Status LibffmParser::ParseFeature(std::string_view token, Feature* feature) const {
  const size_t first = token.find(':');
  const size_t second = first == std::string_view::npos ? first : token.find(':', first + 1);
  if (second == std::string_view::npos) {
    return Status::InvalidArgument("feature " + QuoteValue(token) + " is not field:index:value");
  }
  uint64_t field = 0, index = 0;
  RETURN_IF_ERROR(ParseIndex(token.substr(0, first), "field", &field));
  if (field >= static_cast<uint64_t>(num_fields_)) {
    return Status::InvalidArgument("field " + std::to_string(field) + " is not below " +
                                   std::to_string(num_fields_) + " (data.libffm_fields)");
  }
  RETURN_IF_ERROR(ParseIndex(token.substr(first + 1, second - first - 1), "feature index", &index));
  Status parsed = ParseNumber(token.substr(second + 1), "value", &feature->value);
  if (!parsed.ok()) {
    return parsed.WithContext("feature " + std::to_string(field) + ":" + std::to_string(index));
  }
  feature->field = static_cast<int>(field);
  feature->key = IndexFeatureId(static_cast<uint32_t>(field), index);
  return Status::OK();
}

Status LibffmParser::ParseLine(std::string_view line, Batch* batch) {
  CHECK(batch->size() == 0 || (batch->num_fields == num_fields_ && batch->num_dense == 0))
      << "a libffm example appended to a batch of another shape";
  std::string_view rest = line;
  float label = 0.0f;
  RETURN_IF_ERROR(ParseLabel(NextToken(&rest), label_kind_, &label));
  features_.clear();
  for (std::string_view token = NextToken(&rest); !token.empty(); token = NextToken(&rest)) {
    Feature feature;
    RETURN_IF_ERROR(ParseFeature(token, &feature));
    features_.push_back(feature);
  }
  // Bags in field order; a stable sort keeps each bag's keys in line order.
  std::stable_sort(features_.begin(), features_.end(),
                   [](const Feature& a, const Feature& b) { return a.field < b.field; });
  std::fill(bag_sizes_.begin(), bag_sizes_.end(), 0);
  for (const Feature& f : features_) ++bag_sizes_[f.field];

  batch->num_fields = num_fields_;
  batch->num_dense = 0;
  if (batch->offsets.empty()) batch->offsets.push_back(0);
  batch->labels.push_back(label);
  for (const Feature& f : features_) {
    batch->keys.push_back(f.key);
    batch->values.push_back(f.value);
  }
  int32_t end = batch->offsets.back();
  for (int field = 0; field < num_fields_; ++field) {
    end += bag_sizes_[field];
    batch->offsets.push_back(end);
  }
  return Status::OK();
}

}  // namespace tessera::io
