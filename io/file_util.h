// Whole-file writes that are atomic, and bounded whole-file reads, for the files
// Tessera writes itself (model shards, manifests, generated data). A reader never sees
// a half-written file under the final name: bytes go to "<path>.tmp-<pid>", which is
// renamed over `path` on Commit(). Errors name the file. An AtomicFileWriter is
// move-only and not thread-safe; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera::io {

class AtomicFileWriter {
 public:
  // Whether Commit() makes the file durable (fsync of the file, then of its
  // directory, around the rename) or only atomic (a crash may lose the file, but
  // never shows a partial one). Model files want durable; regenerable data need not pay.
  enum class Durability { kDurable, kAtomicOnly };

  // Opens the temporary file next to `path`. IOError (or NotFound when the directory
  // is missing) names the path.
  static StatusOr<AtomicFileWriter> Create(const std::string& path,
                                           Durability durability = Durability::kDurable);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  // Removes the temporary file when Commit() did not succeed.
  ~AtomicFileWriter();

  // Writes all of `data` (retrying short writes).
  Status Append(std::string_view data);
  // Closes the file and renames it to its final name. Call at most once.
  Status Commit();

  const std::string& path() const { return path_; }

 private:
  AtomicFileWriter(std::string path, std::string temp_path, int fd, Durability durability)
      : path_(std::move(path)),
        temp_path_(std::move(temp_path)),
        fd_(fd),
        durability_(durability) {}
  void Abandon();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  Durability durability_ = Durability::kDurable;
};

// Create(path), Append(contents), Commit() with Durability::kDurable.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// The whole file. A file larger than `max_bytes` is refused (InvalidArgument naming it)
// before anything is allocated; NotFound when it does not exist.
StatusOr<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes);

// mkdir -p: creates `dir` and its missing parents; an existing directory is fine.
Status CreateDirectories(const std::string& dir);

}  // namespace tessera::io
