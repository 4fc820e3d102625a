#include "io/chunk.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "io/posix_file.h"

namespace tessera::io {
namespace {

// Plain files are scanned in reads of this size.
constexpr size_t kScanBytes = size_t{1} << 20;

// Cuts one plain file into chunks, counting lines as it goes.
class PlainFilePlanner {
 public:
  PlainFilePlanner(const std::string& path, int64_t chunk_bytes, std::vector<ChunkSpec>* out)
      : path_(path), chunk_bytes_(chunk_bytes), out_(out) {}

  Status Run(PosixFile* file) {
    std::unique_ptr<char[]> buf(new char[kScanBytes]);
    int64_t block_start = 0;
    while (true) {
      size_t n = 0;
      RETURN_IF_ERROR(file->Read(buf.get(), kScanBytes, &n));
      if (n == 0) break;
      ScanBlock(buf.get(), block_start, n);
      block_start += static_cast<int64_t>(n);
    }
    if (chunk_start_ < block_start) EmitChunk(block_start);
    return Status::OK();
  }

 private:
  // The chunk ends at the first '\n' at or after this offset.
  int64_t CutTarget() const { return chunk_start_ + chunk_bytes_ - 1; }

  void ScanBlock(const char* data, int64_t block_start, size_t n) {
    const char* end = data + n;
    const char* p = data;
    while (p < end) {
      const int64_t target = CutTarget() - block_start;
      if (target >= static_cast<int64_t>(n)) {  // no cut in this block: just count lines
        lines_ += std::count(p, end, '\n');
        return;
      }
      // The target may lie in an earlier block that had no '\n' after it.
      const char* from = data + std::max<int64_t>(target, p - data);
      lines_ += std::count(p, from, '\n');
      const char* newline = static_cast<const char*>(std::memchr(from, '\n', end - from));
      if (newline == nullptr) return;
      ++lines_;
      p = newline + 1;
      EmitChunk(block_start + (p - data));
    }
  }

  // Closes the current chunk at byte `end`; the next one starts there.
  void EmitChunk(int64_t end) {
    out_->push_back(ChunkSpec{path_, chunk_start_, end - chunk_start_, first_line_});
    chunk_start_ = end;
    first_line_ = lines_ + 1;
  }

  const std::string& path_;
  const int64_t chunk_bytes_;
  std::vector<ChunkSpec>* out_;
  int64_t chunk_start_ = 0;
  int64_t first_line_ = 1;
  int64_t lines_ = 0;  // '\n' seen so far
};

}  // namespace

StatusOr<bool> IsGzipFile(const std::string& path) {
  ASSIGN_OR_RETURN(PosixFile file, PosixFile::OpenForRead(path));
  return StartsWithGzipMagic(&file);
}

StatusOr<std::vector<ChunkSpec>> PlanChunks(const std::vector<std::string>& files,
                                            int64_t chunk_bytes) {
  if (chunk_bytes <= 0) {
    return Status::InvalidArgument("chunk_bytes must be positive, got " +
                                   std::to_string(chunk_bytes));
  }
  std::vector<ChunkSpec> chunks;
  for (const std::string& path : files) {
    ASSIGN_OR_RETURN(PosixFile file, PosixFile::OpenForRead(path));
    ASSIGN_OR_RETURN(bool gzip, StartsWithGzipMagic(&file));
    if (gzip) {
      chunks.push_back(ChunkSpec{path, 0, -1, 1});
      continue;
    }
    RETURN_IF_ERROR(PlainFilePlanner(path, chunk_bytes, &chunks).Run(&file));
  }
  return chunks;
}

}  // namespace tessera::io
