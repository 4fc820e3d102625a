// Splitting a MovieLens-style ratings file ("user item rating timestamp", separated by
// tabs/spaces or "::", as u.data and ratings.dat) into a training and a test file of
// the same format, lines copied verbatim. What `tessera split` runs. A pure function
// over the file system; thread-safe for distinct output paths.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace tessera::io {

struct SplitOptions {
  enum class Mode {
    // Line i (0-based, blank lines included) goes to test when
    // UniformFromKey(seed, kSplitStream, i, 0) < test_fraction (common/hash.h, a
    // splitmix64 mix of the four): the same seed gives the same split on any machine,
    // and each line's fate does not depend on the others.
    kRandom,
    // Per user, the latest positive (rating >= positive_threshold; among equal
    // timestamps the larger item id) goes to test, the rest to train. A user with
    // fewer than 2 positives keeps every line in train. Needs the timestamp and
    // integer item ids.
    kLeaveLastOut,
  };
  Mode mode = Mode::kRandom;
  double test_fraction = 0.2;       // kRandom, in [0, 1]
  uint64_t seed = 1;                // kRandom
  float positive_threshold = 4.0f;  // kLeaveLastOut
  // kLeaveLastOut: when not empty, the training lines that are positives are also
  // written here (implicit-feedback training on positives and sampled negatives,
  // while the whole training file remains the history of what users have seen).
  std::string train_positives_path;
};

struct SplitCounts {
  int64_t train_lines = 0;
  int64_t train_positive_lines = 0;  // written to train_positives_path
  int64_t test_lines = 0;
  int64_t users = 0;  // distinct users seen
};

// The stream of UniformFromKey that kRandom draws from.
inline constexpr uint64_t kSplitStream = 0x73706c6974;  // "split"

// Reads `ratings` (plain or gzip) and writes `train_path` and `test_path` (each
// atomically: complete or absent). Blank lines are dropped. A malformed line is an
// error naming "file:line: reason", and nothing is written.
StatusOr<SplitCounts> SplitRatings(const std::string& ratings, const std::string& train_path,
                                   const std::string& test_path, const SplitOptions& options);

}  // namespace tessera::io
