// A file opened read-only through POSIX, for the readers (chunk planning and line
// reading). Owns its descriptor and closes it on destruction; move-only. Errors name
// the file. Not thread-safe (Read moves the shared file offset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace tessera::io {

class PosixFile {
 public:
  // NotFound when the file does not exist, IOError for any other failure.
  static StatusOr<PosixFile> OpenForRead(const std::string& path);

  PosixFile(PosixFile&& other) noexcept;
  PosixFile& operator=(PosixFile&& other) noexcept;
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;
  ~PosixFile();

  // Reads up to `n` bytes at the current offset; sets *read to 0 at the end of the file.
  Status Read(char* buf, size_t n, size_t* read);
  // Reads up to `n` bytes at `offset`, leaving the current offset alone.
  Status ReadAt(int64_t offset, char* buf, size_t n, size_t* read);
  Status Seek(int64_t offset);

  // Gives up ownership of the descriptor (for zlib's gzdopen, which closes it).
  int Release();
  const std::string& path() const { return path_; }

 private:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
};

// True when the file's first two bytes are the gzip magic 1f 8b. Does not move the
// file offset.
StatusOr<bool> StartsWithGzipMagic(PosixFile* file);

// "<path>: <strerror(err)>" as NotFound for ENOENT, else IOError.
Status ErrnoStatus(const std::string& path, int err);

}  // namespace tessera::io
