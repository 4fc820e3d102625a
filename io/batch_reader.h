// Reads batches of examples from one chunk: lines from a LineReader, turned into
// examples by a LineParser (so any text format plugs in). Malformed lines are counted,
// skipped and reported with "path:line: reason"; read errors stop the reader.
// Owns its LineReader; borrows the parser, which must outlive it. Not thread-safe:
// one reader belongs to one thread (the worker's reader thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/batch.h"
#include "io/chunk.h"
#include "io/line_parser.h"
#include "io/line_reader.h"

namespace tessera::io {

class BatchReader {
 public:
  // The first this many bad lines of a reader go to LOG(WARNING) and bad_line_messages();
  // later ones are only counted.
  static constexpr int kMaxReportedBadLines = 10;

  // Opens `chunk` (errors as LineReader::Open). batch_size >= 1 is the most examples
  // per batch. When the parser's format has a header line and the chunk starts at
  // the file's first byte, that line is skipped (neither an example nor a bad line).
  static StatusOr<std::unique_ptr<BatchReader>> Open(const ChunkSpec& chunk, LineParser* parser,
                                                     int batch_size);

  // Clears *batch and fills it with up to batch_size examples, then deduplicates its
  // keys. Returns true when the batch holds at least one example, false once the chunk
  // is done (the batch is then empty). A read error (I/O, corrupt gzip) is returned as
  // a Status; the reader is then done.
  StatusOr<bool> NextBatch(Batch* batch);

  // Examples parsed so far.
  int64_t examples() const { return examples_; }
  // Malformed (or overlong) lines skipped so far.
  int64_t bad_lines() const { return bad_lines_; }
  // "path:line: reason" for the first kMaxReportedBadLines bad lines.
  const std::vector<std::string>& bad_line_messages() const { return bad_line_messages_; }

 private:
  BatchReader(std::unique_ptr<LineReader> lines, LineParser* parser, int batch_size,
              bool skip_first_line)
      : lines_(std::move(lines)),
        parser_(parser),
        batch_size_(batch_size),
        skip_first_line_(skip_first_line) {}

  void CountBadLine(const Status& why);

  std::unique_ptr<LineReader> lines_;
  LineParser* parser_;
  int batch_size_;
  bool skip_first_line_;  // a header line still to skip (LineParser::SkipsFirstLineOfFile)
  int64_t examples_ = 0;
  int64_t bad_lines_ = 0;
  std::vector<std::string> bad_line_messages_;
};

}  // namespace tessera::io
