// The interface between the readers and a data format: turns one text line into one
// example appended to a Batch. CriteoParser implements it; other formats (libsvm,
// schema CSV) plug into BatchReader the same way. An implementation may keep scratch
// state, so one parser serves one reader at a time (not thread-safe).
#pragma once

#include <string_view>

#include "common/status.h"
#include "io/batch.h"

namespace tessera::io {

class LineParser {
 public:
  virtual ~LineParser() = default;

  // Appends exactly one example parsed from `line` (without its '\n') to `batch`,
  // or appends nothing and returns InvalidArgument saying what is wrong with the line
  // (the caller adds the file and line number).
  virtual Status ParseLine(std::string_view line, Batch* batch) = 0;
};

}  // namespace tessera::io
