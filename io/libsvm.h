// Parser for the libsvm / svmlight text format:
//   label idx[:value] idx[:value] ...        (spaces or tabs between tokens)
// Every feature falls in one multi-hot sparse field (field 0) weighted by its value;
// there are no dense features. Keeps scratch buffers: one parser per reader (not
// thread-safe).
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
//   label       ParseLabel(kind): 0/1 (and -1 -> 0) for kBinary, any number for kValue.
//   idx         a non-negative integer; key IndexFeatureId(0, idx).
//   value       the key's weight in batch->values, 1 when ":value" is absent.
// A line with no features is an example with an empty bag. "#" starts a comment that
// runs to the end of the line (svmlight's convention).
class LibsvmParser : public LineParser {
 public:
  explicit LibsvmParser(LabelKind label_kind) : label_kind_(label_kind) {}

  // Sets batch->num_fields = 1 and num_dense = 0 and writes a value for every key.
  Status ParseLine(std::string_view line, Batch* batch) override;

 private:
  LabelKind label_kind_;
  std::vector<uint64_t> keys_;  // of the line being parsed
  std::vector<float> values_;
};

}  // namespace tessera::io
