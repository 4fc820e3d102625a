// The interface between the readers and a data format: turns one text line into one
// example appended to a Batch. CriteoParser, LibsvmParser, LibffmParser, CsvParser and
// MovieLensParser implement it; io/format.h picks one from the job config. An
// implementation may keep scratch state, so one parser serves one reader at a time
// (not thread-safe).
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

  // Whether the first line of every file is a header, not an example: BatchReader then
  // skips it in the chunk that starts at the file's first byte (a gzip file is one such
  // chunk). Formats without headers keep the default.
  virtual bool SkipsFirstLineOfFile() const { return false; }
};

}  // namespace tessera::io
