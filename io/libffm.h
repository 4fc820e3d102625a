// Parser for the libffm text format:
//   label field:idx:value field:idx:value ...   (spaces or tabs between tokens)
// with field in [0, num_fields): one multi-hot sparse field per libffm field, each key
// weighted by its value; no dense features. Keeps scratch buffers: one parser per
// reader (not thread-safe).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "io/batch.h"
#include "io/line_parser.h"
#include "io/text_fields.h"

namespace tessera::io {

// How one line becomes one example:
//   label         ParseLabel(kind).
//   field:idx:value  key IndexFeatureId(field, idx) in bag `field`, weight `value`.
// Features may come in any field order and a field may repeat (a multi-hot bag) or be
// absent (an empty bag); within a bag keys keep their order on the line.
class LibffmParser : public LineParser {
 public:
  // num_fields >= 1 (DataFormat checks data.libffm_fields).
  LibffmParser(int num_fields, LabelKind label_kind);

  // Sets batch->num_fields = num_fields and num_dense = 0; writes a value for every key.
  Status ParseLine(std::string_view line, Batch* batch) override;

 private:
  struct Feature {
    int field;
    uint64_t key;
    float value;
  };
  Status ParseFeature(std::string_view token, Feature* feature) const;

  int num_fields_;
  LabelKind label_kind_;
  std::vector<Feature> features_;   // of the line being parsed
  std::vector<int32_t> bag_sizes_;  // [num_fields]
};

}  // namespace tessera::io
