// Chunk planning: cuts the input files of a job into byte ranges of whole lines, the
// units of work the scheduler hands to workers (DESIGN.md §6, §7). Plain pure
// functions over the file system; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::io {

// A range of whole lines of one file. A plain-text chunk starts at the beginning of a
// line and ends just after a '\n' (or at the end of the file). A gzip file cannot be
// entered in the middle, so it is always one chunk {offset 0, length -1}.
struct ChunkSpec {
  std::string path;
  int64_t offset = 0;      // byte offset of the chunk's first line
  int64_t length = -1;     // bytes in the chunk; -1 = to the end of the file
  int64_t first_line = 1;  // 1-based line number of the first line in the file
};

// Plans the chunks of `files`, in order. Each plain file is cut at the first line end
// at or after every `chunk_bytes` bytes (so chunks hold at least chunk_bytes bytes,
// except a file's last), and its lines are counted so that each chunk knows its first
// line number (which costs one sequential read of every plain file). A file whose
// first bytes are the gzip magic (1f 8b, whatever its name) is one chunk. An empty
// file gives no chunks.
// Errors: InvalidArgument when chunk_bytes <= 0; NotFound for a missing file; IOError
// for any other failure to open or read, naming the file.
StatusOr<std::vector<ChunkSpec>> PlanChunks(const std::vector<std::string>& files,
                                            int64_t chunk_bytes);

// True when `path` starts with the gzip magic bytes. Errors as for PlanChunks.
StatusOr<bool> IsGzipFile(const std::string& path);

}  // namespace tessera::io
