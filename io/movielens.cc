#include "io/movielens.h"

#include <glog/logging.h>

#include "common/hash.h"
#include "io/line_reader.h"
#include "io/text_fields.h"

namespace tessera::io {
namespace {

constexpr int kGenreFlags = 19;  // u.item's genre columns (u.genre lists them)

}  // namespace

int AgeBucket(uint64_t age) {
  if (age < 18) return 1;
  if (age < 25) return 18;
  if (age < 35) return 25;
  if (age < 45) return 35;
  if (age < 50) return 45;
  if (age < 56) return 50;
  return 56;
}

StatusOr<std::shared_ptr<const MovieLensTables>> MovieLensTables::Load(
    const pb::MovieLensConfig& config) {
  auto tables = std::make_shared<MovieLensTables>();
  tables->has_users_ = !config.users().empty();
  tables->has_items_ = !config.items().empty();
  if (tables->has_users_) RETURN_IF_ERROR(tables->ReadSideFile(config.users(), true));
  if (tables->has_items_) RETURN_IF_ERROR(tables->ReadSideFile(config.items(), false));
  return std::shared_ptr<const MovieLensTables>(std::move(tables));
}

Status MovieLensTables::ReadSideFile(const std::string& path, bool users) {
  ChunkSpec whole;
  whole.path = path;
  StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(whole);
  if (!reader.ok()) {
    return reader.status().WithContext(users ? "data.movielens.users" : "data.movielens.items");
  }
  LineReader& lines = **reader;
  std::string_view line;
  while (lines.Next(&line)) {
    Status added = lines.line_status();
    if (added.ok() && !line.empty()) added = users ? AddUserLine(line) : AddItemLine(line);
    if (!added.ok()) return added.WithContext(path + ":" + std::to_string(lines.line_number()));
  }
  return lines.status();
}

Status MovieLensTables::AddUserLine(std::string_view line) {
  std::vector<std::string_view> f;
  const bool dat = line.find("::") != std::string_view::npos;
  SplitOn(line, dat ? "::" : "|", &f);
  if (f.size() != 5) {
    return Status::InvalidArgument(
        "expected 5 fields (user|age|gender|occupation|zip or user::gender::age::occupation::"
        "zip), found " +
        std::to_string(f.size()));
  }
  const std::string_view id = f[0], age_text = dat ? f[2] : f[1], gender = dat ? f[1] : f[2];
  if (id.empty()) return Status::InvalidArgument("the user id is empty");
  uint64_t age = 0;
  RETURN_IF_ERROR(ParseIndex(age_text, "age", &age));
  UserKeys keys;
  keys.age = FeatureId(1, std::to_string(AgeBucket(age)));
  keys.gender = FeatureId(2, gender);
  keys.occupation = FeatureId(3, f[3]);
  if (!users_.emplace(FeatureId(0, id), keys).second) {
    return Status::InvalidArgument("user " + QuoteValue(id) + " is listed twice");
  }
  return Status::OK();
}

Status MovieLensTables::AddItemLine(std::string_view line) {
  std::vector<std::string_view> f;
  const bool dat = line.find("::") != std::string_view::npos;
  SplitOn(line, dat ? "::" : "|", &f);
  const size_t expected = dat ? 3 : 5 + kGenreFlags;
  if (f.size() < expected) {
    return Status::InvalidArgument(
        "expected " + std::to_string(expected) + " fields (" +
        (dat ? "item::title::genre|genre" : "item|title|date|video date|url|19 genre flags") +
        "), found " + std::to_string(f.size()));
  }
  if (f[0].empty()) return Status::InvalidArgument("the item id is empty");
  const uint32_t genre_field = static_cast<uint32_t>(user_fields() + 1);
  std::vector<uint64_t> genres;
  if (dat) {
    std::vector<std::string_view> names;
    SplitOn(f.back(), "|", &names);
    for (std::string_view name : names) {
      if (!name.empty()) genres.push_back(FeatureId(genre_field, name));
    }
  } else {
    // The flags are the last 19 fields (a title holding '|' only shifts the middle).
    const size_t first_flag = f.size() - kGenreFlags;
    for (int g = 0; g < kGenreFlags; ++g) {
      const std::string_view flag = f[first_flag + g];
      if (flag != "0" && flag != "1") {
        return Status::InvalidArgument("genre flag " + std::to_string(g) + " " + QuoteValue(flag) +
                                       " is not 0 or 1");
      }
      if (flag == "1") genres.push_back(FeatureId(genre_field, std::to_string(g)));
    }
  }
  const uint64_t id_key = FeatureId(static_cast<uint32_t>(user_fields()), f[0]);
  if (!item_genres_.emplace(id_key, std::move(genres)).second) {
    return Status::InvalidArgument("item " + QuoteValue(f[0]) + " is listed twice");
  }
  return Status::OK();
}

std::vector<std::string> MovieLensTables::field_names() const {
  std::vector<std::string> names = {"user"};
  if (has_users_) names.insert(names.end(), {"age", "gender", "occupation"});
  names.push_back("item");
  if (has_items_) names.push_back("genres");
  return names;
}

const MovieLensTables::UserKeys* MovieLensTables::FindUser(uint64_t id_key) const {
  auto it = users_.find(id_key);
  return it == users_.end() ? nullptr : &it->second;
}

const std::vector<uint64_t>* MovieLensTables::FindItemGenres(uint64_t id_key) const {
  auto it = item_genres_.find(id_key);
  return it == item_genres_.end() ? nullptr : &it->second;
}

MovieLensParser::MovieLensParser(std::shared_ptr<const MovieLensTables> tables,
                                 float positive_threshold)
    : tables_(std::move(tables)), positive_threshold_(positive_threshold) {
  CHECK(tables_ != nullptr);
}

Status MovieLensParser::ParseLine(std::string_view line, Batch* batch) {
  const MovieLensTables& t = *tables_;
  CHECK(batch->size() == 0 || (batch->num_fields == t.num_fields() && batch->num_dense == 0))
      << "a MovieLens example appended to a batch of another shape";
  SplitRatingLine(line, &fields_);
  if (fields_.size() != 3 && fields_.size() != 4) {
    return Status::InvalidArgument(
        "expected user, item, rating and an optional timestamp, "
        "found " +
        std::to_string(fields_.size()) + " fields");
  }
  if (fields_[0].empty()) return Status::InvalidArgument("the user id is empty");
  if (fields_[1].empty()) return Status::InvalidArgument("the item id is empty");
  float rating = 0.0f;
  RETURN_IF_ERROR(ParseNumber(fields_[2], "rating", &rating));
  if (fields_.size() == 4) {
    uint64_t timestamp = 0;
    RETURN_IF_ERROR(ParseIndex(fields_[3], "timestamp", &timestamp));
  }
  const uint64_t user = FeatureId(0, fields_[0]);
  const uint64_t item = FeatureId(static_cast<uint32_t>(t.user_fields()), fields_[1]);

  batch->num_fields = t.num_fields();
  batch->num_dense = 0;
  if (batch->offsets.empty()) batch->offsets.push_back(0);
  batch->labels.push_back(positive_threshold_ > 0 ? (rating >= positive_threshold_ ? 1.0f : 0.0f)
                                                  : rating);
  auto close_bag = [batch] { batch->offsets.push_back(static_cast<int32_t>(batch->keys.size())); };
  batch->keys.push_back(user);
  close_bag();
  if (t.has_users()) {
    const MovieLensTables::UserKeys* side = t.FindUser(user);
    for (uint64_t MovieLensTables::UserKeys::*key :
         {&MovieLensTables::UserKeys::age, &MovieLensTables::UserKeys::gender,
          &MovieLensTables::UserKeys::occupation}) {
      if (side != nullptr) batch->keys.push_back(side->*key);
      close_bag();
    }
  }
  batch->keys.push_back(item);
  close_bag();
  if (t.has_items()) {
    const std::vector<uint64_t>* genres = t.FindItemGenres(item);
    if (genres != nullptr) batch->keys.insert(batch->keys.end(), genres->begin(), genres->end());
    close_bag();
  }
  return Status::OK();
}

}  // namespace tessera::io
