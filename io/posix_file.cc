#include "io/posix_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tessera::io {

Status ErrnoStatus(const std::string& path, int err) {
  std::string message = path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(std::move(message));
  return Status::IOError(std::move(message));
}

StatusOr<bool> StartsWithGzipMagic(PosixFile* file) {
  unsigned char magic[2] = {0, 0};
  size_t n = 0;
  RETURN_IF_ERROR(file->ReadAt(0, reinterpret_cast<char*>(magic), 2, &n));
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

StatusOr<PosixFile> PosixFile::OpenForRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(path, errno);
  return PosixFile(path, fd);
}

PosixFile::PosixFile(PosixFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

PosixFile& PosixFile::operator=(PosixFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

PosixFile::~PosixFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status PosixFile::Read(char* buf, size_t n, size_t* read) {
  while (true) {
    ssize_t got = ::read(fd_, buf, n);
    if (got >= 0) {
      *read = static_cast<size_t>(got);
      return Status::OK();
    }
    if (errno != EINTR) return ErrnoStatus(path_, errno);
  }
}

Status PosixFile::ReadAt(int64_t offset, char* buf, size_t n, size_t* read) {
  while (true) {
    ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(offset));
    if (got >= 0) {
      *read = static_cast<size_t>(got);
      return Status::OK();
    }
    if (errno != EINTR) return ErrnoStatus(path_, errno);
  }
}

Status PosixFile::Seek(int64_t offset) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) return ErrnoStatus(path_, errno);
  return Status::OK();
}

int PosixFile::Release() { return std::exchange(fd_, -1); }

}  // namespace tessera::io
