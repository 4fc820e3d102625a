// MovieLens ratings as examples: the rating lines of ml-100k (u.data, u1.base: "user
// \t item \t rating \t time") and ml-1m (ratings.dat: "user::item::rating::time"), with
// the optional side features of u.user / users.dat and u.item / movies.dat.
// MovieLensTables is built once, then shared read-only (thread-safe) by every
// MovieLensParser; a parser keeps scratch state (one per reader, not thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "io/batch.h"
#include "io/line_parser.h"
#include "proto/config.pb.h"

namespace tessera::io {

// The sparse fields, in order (user_fields() of them describe the user):
//   0 user id                FeatureId(0, user id text)
//   1 age bucket   (users)   FeatureId(1, bucket): ml-1m's buckets 1 (<18), 18 (18-24),
//                            25 (25-34), 35 (35-44), 45 (45-49), 50 (50-55), 56 (56+),
//                            from u.user's raw age or users.dat's code (the same map)
//   2 gender       (users)   FeatureId(2, "M" / "F")
//   3 occupation   (users)   FeatureId(3, occupation text or code)
//   U item id                FeatureId(U, item id text), U = user_fields()
//   U+1 genres     (items)   multi-hot: FeatureId(U+1, genre flag index 0..18) from
//                            u.item, FeatureId(U+1, genre name) from movies.dat
// Ids match between files as text ("7" is not "007"). A rating whose user or item is
// absent from a given side file gets empty bags for that file's fields.
class MovieLensTables {
 public:
  // Reads the side files that `config` names (either may be empty). Each line is
  // recognised by its separator ("::" for the .dat files, '|' otherwise); blank lines
  // are skipped. Errors name "file:line: reason"; a repeated id is an error.
  static StatusOr<std::shared_ptr<const MovieLensTables>> Load(const pb::MovieLensConfig& config);

  bool has_users() const { return has_users_; }
  bool has_items() const { return has_items_; }
  int user_fields() const { return has_users_ ? 4 : 1; }
  int num_fields() const { return user_fields() + (has_items_ ? 2 : 1); }
  std::vector<std::string> field_names() const;

  struct UserKeys {
    uint64_t age = 0, gender = 0, occupation = 0;
  };
  // The side keys of the user / item whose id key (field 0 / field U) is `id_key`;
  // nullptr when the side file does not list it.
  const UserKeys* FindUser(uint64_t id_key) const;
  const std::vector<uint64_t>* FindItemGenres(uint64_t id_key) const;

 private:
  Status AddUserLine(std::string_view line);
  Status AddItemLine(std::string_view line);
  Status ReadSideFile(const std::string& path, bool users);

  bool has_users_ = false;
  bool has_items_ = false;
  std::unordered_map<uint64_t, UserKeys> users_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> item_genres_;
};

// The age bucket of ml-1m for an age in years (the identity on the bucket codes).
int AgeBucket(uint64_t age);

// One rating line -> one example: "user item rating [timestamp]" separated by tabs or
// spaces, or by "::" (recognised per line). The label is the rating (a number), or with
// positive_threshold > 0, 1 when rating >= positive_threshold and 0 otherwise. The
// timestamp, when present, must be a non-negative integer; it is not a feature.
// No dense features; writes no values.
class MovieLensParser : public LineParser {
 public:
  MovieLensParser(std::shared_ptr<const MovieLensTables> tables, float positive_threshold);

  Status ParseLine(std::string_view line, Batch* batch) override;

 private:
  std::shared_ptr<const MovieLensTables> tables_;
  float positive_threshold_;
  std::vector<std::string_view> fields_;  // of the line being parsed
};

}  // namespace tessera::io
