#include "io/split.h"

#include <optional>

#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/hash.h"
#include "io/file_util.h"
#include "io/line_reader.h"
#include "io/text_fields.h"

namespace tessera::io {
namespace {

constexpr size_t kFlushBytes = size_t{1} << 20;

struct Rating {
  uint64_t user_key = 0;  // FeatureId(0, user id text)
  uint64_t item = 0;      // leave-last-out only
  uint64_t timestamp = 0;
  float rating = 0.0f;
};

Status ParseRating(std::string_view line, bool leave_last_out,
                   std::vector<std::string_view>* fields, Rating* r) {
  SplitRatingLine(line, fields);
  const std::vector<std::string_view>& f = *fields;
  if (f.size() != 4 && !(f.size() == 3 && !leave_last_out)) {
    return Status::InvalidArgument("expected user, item, rating" +
                                   std::string(leave_last_out ? " and timestamp" : " [timestamp]") +
                                   ", found " + std::to_string(f.size()) + " fields");
  }
  if (f[0].empty()) return Status::InvalidArgument("the user id is empty");
  r->user_key = FeatureId(0, f[0]);
  RETURN_IF_ERROR(ParseNumber(f[2], "rating", &r->rating));
  if (!leave_last_out) return Status::OK();
  RETURN_IF_ERROR(ParseIndex(f[1], "item", &r->item));
  return ParseIndex(f[3], "timestamp", &r->timestamp);
}

// Calls visit(line, line_number) for every non-blank line of `path`; a visit error
// or a read error comes back as "path:line: reason".
template <typename Visit>
Status ForEachLine(const std::string& path, Visit visit) {
  ChunkSpec whole;
  whole.path = path;
  ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lines, LineReader::Open(whole));
  std::string_view line;
  while (lines->Next(&line)) {
    Status s = lines->line_status();
    if (s.ok() && !line.empty()) s = visit(line, lines->line_number());
    if (!s.ok()) return s.WithContext(path + ":" + std::to_string(lines->line_number()));
  }
  return lines->status();
}

// A buffered output file, complete or absent.
class Output {
 public:
  static StatusOr<Output> Create(const std::string& path) {
    ASSIGN_OR_RETURN(AtomicFileWriter writer,
                     AtomicFileWriter::Create(path, AtomicFileWriter::Durability::kAtomicOnly));
    return Output(std::move(writer));
  }
  Status Add(std::string_view line) {
    buffer_.append(line);
    buffer_.push_back('\n');
    ++lines_;
    if (buffer_.size() < kFlushBytes) return Status::OK();
    Status s = writer_.Append(buffer_);
    buffer_.clear();
    return s;
  }
  Status Commit() {
    RETURN_IF_ERROR(writer_.Append(buffer_));
    return writer_.Commit();
  }
  int64_t lines() const { return lines_; }

 private:
  explicit Output(AtomicFileWriter writer) : writer_(std::move(writer)) {}
  AtomicFileWriter writer_;
  std::string buffer_;
  int64_t lines_ = 0;
};

// Per user: how many positives, and the line of the latest one.
struct LatestPositive {
  int64_t positives = 0;
  uint64_t timestamp = 0;
  uint64_t item = 0;
  int64_t line_number = 0;
};

StatusOr<std::unordered_map<uint64_t, LatestPositive>> FindLatestPositives(
    const std::string& ratings, float threshold) {
  std::unordered_map<uint64_t, LatestPositive> latest;
  std::vector<std::string_view> fields;
  RETURN_IF_ERROR(ForEachLine(ratings, [&](std::string_view line, int64_t number) {
    Rating r;
    RETURN_IF_ERROR(ParseRating(line, true, &fields, &r));
    LatestPositive& l = latest[r.user_key];
    if (r.rating < threshold) return Status::OK();
    if (l.positives++ == 0 || r.timestamp > l.timestamp ||
        (r.timestamp == l.timestamp && r.item > l.item)) {
      l.timestamp = r.timestamp;
      l.item = r.item;
      l.line_number = number;
    }
    return Status::OK();
  }));
  return latest;
}

}  // namespace

StatusOr<SplitCounts> SplitRatings(const std::string& ratings, const std::string& train_path,
                                   const std::string& test_path, const SplitOptions& options) {
  if (!(options.test_fraction >= 0 && options.test_fraction <= 1)) {
    return Status::InvalidArgument("the test fraction must be in [0, 1], got " +
                                   std::to_string(options.test_fraction));
  }
  const bool leave_last_out = options.mode == SplitOptions::Mode::kLeaveLastOut;
  std::unordered_map<uint64_t, LatestPositive> latest;
  if (leave_last_out) {
    ASSIGN_OR_RETURN(latest, FindLatestPositives(ratings, options.positive_threshold));
  }
  ASSIGN_OR_RETURN(Output train, Output::Create(train_path));
  ASSIGN_OR_RETURN(Output test, Output::Create(test_path));
  std::optional<Output> positives;
  if (leave_last_out && !options.train_positives_path.empty()) {
    ASSIGN_OR_RETURN(Output p, Output::Create(options.train_positives_path));
    positives.emplace(std::move(p));
  }
  std::unordered_set<uint64_t> users;
  std::vector<std::string_view> fields;
  RETURN_IF_ERROR(ForEachLine(ratings, [&](std::string_view line, int64_t number) {
    Rating r;
    RETURN_IF_ERROR(ParseRating(line, leave_last_out, &fields, &r));
    users.insert(r.user_key);
    bool to_test = false;
    if (leave_last_out) {
      auto l = latest.find(r.user_key);  // absent only if the file changed meanwhile
      to_test = l != latest.end() && l->second.positives >= 2 && l->second.line_number == number;
    } else {
      to_test = UniformFromKey(options.seed, kSplitStream, static_cast<uint64_t>(number - 1), 0) <
                options.test_fraction;
    }
    if (to_test) return test.Add(line);
    if (positives && r.rating >= options.positive_threshold) RETURN_IF_ERROR(positives->Add(line));
    return train.Add(line);
  }));
  RETURN_IF_ERROR(train.Commit());
  RETURN_IF_ERROR(test.Commit());
  if (positives) RETURN_IF_ERROR(positives->Commit());
  SplitCounts counts;
  counts.train_lines = train.lines();
  counts.test_lines = test.lines();
  counts.train_positive_lines = positives ? positives->lines() : 0;
  counts.users = static_cast<int64_t>(users.size());
  return counts;
}

}  // namespace tessera::io
