#include "io/line_reader.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "io/posix_file.h"

namespace tessera::io {
namespace {

// Bytes asked of the source per read, beyond room for one whole line.
constexpr size_t kReadBytes = size_t{1} << 20;
// zlib's internal input buffer for gzip files.
constexpr unsigned kGzipBufferBytes = 256u << 10;

}  // namespace

class LineReader::Source {
 public:
  virtual ~Source() = default;
  // Reads up to `n` bytes; *read == 0 means the end of the input.
  virtual Status Read(char* buf, size_t n, size_t* read) = 0;
};

namespace {

// The byte range [offset, offset + length) of a plain file; length -1 = to the end.
class PlainSource : public LineReader::Source {
 public:
  PlainSource(PosixFile file, int64_t length) : file_(std::move(file)), remaining_(length) {}

  Status Read(char* buf, size_t n, size_t* read) override {
    if (remaining_ >= 0) n = static_cast<size_t>(std::min<int64_t>(n, remaining_));
    *read = 0;
    if (n == 0) return Status::OK();
    RETURN_IF_ERROR(file_.Read(buf, n, read));
    if (remaining_ >= 0) remaining_ -= static_cast<int64_t>(*read);
    return Status::OK();
  }

 private:
  PosixFile file_;
  int64_t remaining_;  // -1: unlimited
};

// A whole gzip file, all its members, through zlib's gzread.
class GzipSource : public LineReader::Source {
 public:
  GzipSource(std::string path, gzFile file) : path_(std::move(path)), file_(file) {}
  ~GzipSource() override { gzclose(file_); }

  Status Read(char* buf, size_t n, size_t* read) override {
    *read = 0;
    const int got = gzread(file_, buf, static_cast<unsigned>(std::min<size_t>(n, INT_MAX)));
    int err = Z_OK;
    const char* message = gzerror(file_, &err);
    if (got < 0) {
      if (err == Z_ERRNO) return Status::IOError(path_ + ": " + std::strerror(errno));
      return Status::Corruption(path_ + ": corrupt gzip data (" + message + ")");
    }
    // gzread returns what it could decompress; Z_BUF_ERROR at the end of the input
    // means the file stopped in the middle of a gzip member.
    if (got == 0 && err == Z_BUF_ERROR) {
      return Status::Corruption(path_ + ": gzip data ends early (truncated file?)");
    }
    *read = static_cast<size_t>(got);
    return Status::OK();
  }

 private:
  std::string path_;
  gzFile file_;
};

Status CheckSpec(const ChunkSpec& chunk, int64_t max_line_bytes) {
  if (chunk.offset < 0 || chunk.length < -1 || chunk.first_line < 1) {
    return Status::InvalidArgument(
        chunk.path + ": bad chunk (offset " + std::to_string(chunk.offset) + ", length " +
        std::to_string(chunk.length) + ", first line " + std::to_string(chunk.first_line) + ")");
  }
  if (max_line_bytes < 1) return Status::InvalidArgument("max_line_bytes must be positive");
  return Status::OK();
}

StatusOr<std::unique_ptr<LineReader::Source>> OpenGzip(const ChunkSpec& chunk, PosixFile file) {
  if (chunk.offset != 0 || chunk.length != -1) {
    return Status::InvalidArgument(chunk.path +
                                   ": a gzip file can only be read whole (offset 0, length -1)");
  }
  const int fd = file.Release();
  gzFile gz = gzdopen(fd, "rb");
  if (gz == nullptr) {
    ::close(fd);
    return Status::IOError(chunk.path + ": cannot open as gzip");
  }
  gzbuffer(gz, kGzipBufferBytes);
  return std::unique_ptr<LineReader::Source>(new GzipSource(chunk.path, gz));
}

}  // namespace

StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const ChunkSpec& chunk,
                                                       int64_t max_line_bytes) {
  RETURN_IF_ERROR(CheckSpec(chunk, max_line_bytes));
  ASSIGN_OR_RETURN(PosixFile file, PosixFile::OpenForRead(chunk.path));
  ASSIGN_OR_RETURN(bool gzip, StartsWithGzipMagic(&file));
  std::unique_ptr<Source> source;
  if (gzip) {
    ASSIGN_OR_RETURN(source, OpenGzip(chunk, std::move(file)));
  } else {
    RETURN_IF_ERROR(file.Seek(chunk.offset));
    source = std::make_unique<PlainSource>(std::move(file), chunk.length);
  }
  return std::unique_ptr<LineReader>(
      new LineReader(chunk.path, std::move(source), chunk.first_line, max_line_bytes));
}

LineReader::LineReader(std::string path, std::unique_ptr<Source> source, int64_t first_line,
                       int64_t max_line_bytes)
    : path_(std::move(path)),
      source_(std::move(source)),
      max_line_bytes_(max_line_bytes),
      buffer_(new char[static_cast<size_t>(max_line_bytes) + 2 + kReadBytes]),
      capacity_(static_cast<size_t>(max_line_bytes) + 2 + kReadBytes),
      line_number_(first_line - 1) {}

LineReader::~LineReader() = default;

bool LineReader::Next(std::string_view* line) {
  line_status_ = Status::OK();
  if (!status_.ok()) return false;
  size_t scan_from = begin_;
  while (true) {
    const char* data = buffer_.get();
    const char* newline =
        static_cast<const char*>(std::memchr(data + scan_from, '\n', end_ - scan_from));
    if (newline != nullptr) return TakeLine(newline - data, newline - data + 1, line);
    if (end_ - begin_ > static_cast<size_t>(max_line_bytes_) + 1) return SkipLongLine(line);
    if (at_eof_) return begin_ < end_ && TakeLine(end_, end_, line);
    const size_t scanned = end_ - begin_;
    if (!Fill()) return false;
    scan_from = begin_ + scanned;
  }
}

bool LineReader::TakeLine(size_t line_end, size_t next, std::string_view* line) {
  std::string_view text(buffer_.get() + begin_, line_end - begin_);
  begin_ = next;
  ++line_number_;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.size() > static_cast<size_t>(max_line_bytes_)) return ReportLongLine(line);
  *line = text;
  return true;
}

bool LineReader::SkipLongLine(std::string_view* line) {
  ++line_number_;
  while (true) {
    begin_ = end_ = 0;  // drop what we have of the line
    if (!Fill()) return false;
    if (at_eof_) break;
    const char* newline = static_cast<const char*>(std::memchr(buffer_.get(), '\n', end_));
    if (newline != nullptr) {
      begin_ = newline + 1 - buffer_.get();
      break;
    }
  }
  return ReportLongLine(line);
}

bool LineReader::ReportLongLine(std::string_view* line) {
  line_status_ =
      Status::InvalidArgument("line is longer than " + std::to_string(max_line_bytes_) + " bytes");
  *line = {};
  return true;
}

bool LineReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t n = 0;
  status_ = source_->Read(buffer_.get() + end_, capacity_ - end_, &n);
  if (!status_.ok()) return false;
  end_ += n;
  if (n == 0) at_eof_ = true;
  return true;
}

}  // namespace tessera::io
