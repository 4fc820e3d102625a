// Reads the lines of one chunk (a byte range of a plain file, or a whole gzip file)
// with large buffered reads, handing out views into its own buffer. Owns the file;
// one reader per thread (not thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "io/chunk.h"

namespace tessera::io {

class LineReader {
 public:
  // Lines longer than this are reported, not returned (a sign of a wrong file).
  static constexpr int64_t kDefaultMaxLineBytes = int64_t{1} << 20;

  // Opens `chunk`. A plain chunk must start at a line start and end after a '\n' or at
  // the end of the file (as PlanChunks makes them); a gzip file (recognised by its magic
  // bytes) must be one whole chunk {offset 0, length -1}; concatenated gzip members are
  // read as one stream. Errors: NotFound or IOError naming the file; InvalidArgument for
  // a malformed spec.
  static StatusOr<std::unique_ptr<LineReader>> Open(const ChunkSpec& chunk,
                                                    int64_t max_line_bytes = kDefaultMaxLineBytes);

  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets *line to the next line without its '\n' (and a '\r' before it); a last line
  // without a '\n' is still a line. The view is valid until the next call. Returns
  // false at the end of the chunk or on a read error (see status()).
  // When the line is longer than max_line_bytes, returns true with an empty *line and
  // a non-OK line_status(); the reader goes on with the line after it.
  bool Next(std::string_view* line);

  // OK, or InvalidArgument when the line just returned was too long to hand out.
  const Status& line_status() const { return line_status_; }
  // The 1-based line number in the file of the line just returned.
  int64_t line_number() const { return line_number_; }
  // OK, or why reading stopped early: IOError, or Corruption for a truncated or
  // corrupt gzip file; both name the file.
  const Status& status() const { return status_; }
  const std::string& path() const { return path_; }

  // Where the bytes come from (plain range or gzip stream); defined in the .cc.
  class Source;

 private:
  LineReader(std::string path, std::unique_ptr<Source> source, int64_t first_line,
             int64_t max_line_bytes);

  // Reads more bytes after [begin_, end_), moving them to the buffer's front first.
  // Returns false at the end of the input or on error.
  bool Fill();
  // Hands out buffer_[begin_, line_end) as the next line; the one after starts at `next`.
  bool TakeLine(size_t line_end, size_t next, std::string_view* line);
  // Counts a line too long to hold and drops it, up to and including its '\n'.
  bool SkipLongLine(std::string_view* line);
  // Returns the line just counted as too long (empty, with a non-OK line_status_).
  bool ReportLongLine(std::string_view* line);

  std::string path_;
  std::unique_ptr<Source> source_;
  int64_t max_line_bytes_;
  // Room for a longest line, its "\r\n", and a full read after it; left uninitialised
  // so that untouched pages of a short chunk cost nothing.
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  bool at_eof_ = false;
  int64_t line_number_;  // of the line last returned
  Status line_status_;
  Status status_;
};

}  // namespace tessera::io
