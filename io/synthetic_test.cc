#include "io/synthetic.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_util.h"
#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::MakeTempDir;

constexpr int64_t kLines = 20000;

std::string ReadAll(const std::string& path) {
  StatusOr<std::string> s = ReadFileToString(path, uint64_t{1} << 30);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::string();
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

SyntheticOptions SmallOptions(uint64_t seed) {
  SyntheticOptions options;
  options.train_lines = kLines;
  options.validation_lines = kLines;
  options.seed = seed;
  return options;
}

// One dataset shared by the tests that only read it.
class SyntheticDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    report_ = new SyntheticReport;
    Status s = GenerateCriteoDataset(SmallOptions(7), *dir_ + "/train.tsv",
                                     *dir_ + "/validation.tsv", report_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete report_;
  }
  static std::string* dir_;
  static SyntheticReport* report_;
};
std::string* SyntheticDataTest::dir_ = nullptr;
SyntheticReport* SyntheticDataTest::report_ = nullptr;

TEST_F(SyntheticDataTest, EveryLineIsCriteoFormat) {
  const std::string text = ReadAll(*dir_ + "/train.tsv");
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::vector<std::string_view> lines =
      Split(std::string_view(text).substr(0, text.size() - 1), '\n');
  ASSERT_EQ(static_cast<int64_t>(lines.size()), kLines);
  for (std::string_view line : lines) {
    std::vector<std::string_view> fields = Split(line, '\t');
    ASSERT_EQ(fields.size(), 40u) << line;
    ASSERT_TRUE(fields[0] == "0" || fields[0] == "1") << line;
    for (int i = 1; i <= 13; ++i) {
      std::string_view v = fields[i];
      if (!v.empty() && v[0] == '-') v.remove_prefix(1);
      for (char c : v) ASSERT_TRUE(c >= '0' && c <= '9') << line;
    }
    for (int i = 14; i < 40; ++i) {
      ASSERT_TRUE(fields[i].empty() || fields[i].size() == 8) << line;
      for (char c : fields[i])
        ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << line;
    }
  }
}

TEST_F(SyntheticDataTest, CtrAndTeacherAucAreInRange) {
  EXPECT_EQ(report_->train_lines, kLines);
  EXPECT_EQ(report_->validation_lines, kLines);
  const double train_ctr = static_cast<double>(report_->train_positives) / kLines;
  const double validation_ctr = static_cast<double>(report_->validation_positives) / kLines;
  EXPECT_GT(train_ctr, 0.20);
  EXPECT_LT(train_ctr, 0.30);
  EXPECT_GT(validation_ctr, 0.20);
  EXPECT_LT(validation_ctr, 0.30);
  EXPECT_GT(report_->teacher_validation_auc, 0.79);
  EXPECT_LT(report_->teacher_validation_auc, 0.87);
  EXPECT_GE(report_->seconds, 0.0);
}

// Column statistics of a file: distinct values and missing counts per column.
struct ColumnStats {
  std::vector<std::set<std::string>> distinct = std::vector<std::set<std::string>>(40);
  std::vector<int64_t> missing = std::vector<int64_t>(40, 0);
  int64_t negative_i2 = 0;
};

ColumnStats Stats(const std::string& text) {
  ColumnStats stats;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string_view> fields = Split(line, '\t');
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty()) ++stats.missing[i];
      stats.distinct[i].emplace(fields[i]);
    }
    if (!fields[2].empty() && fields[2][0] == '-') ++stats.negative_i2;
  }
  return stats;
}

TEST_F(SyntheticDataTest, FieldsHaveCriteoLikeCardinalityAndMissingRates) {
  const ColumnStats stats = Stats(ReadAll(*dir_ + "/train.tsv"));
  const int c1 = 14;                                      // column of C1
  EXPECT_LE(stats.distinct[c1 + 8].size(), 3u);           // C9: 3 values
  EXPECT_LE(stats.distinct[c1 + 19].size(), 5u);          // C20: 4 values and missing
  EXPECT_GT(stats.distinct[c1 + 2].size(), 2000u);        // C3: 10^6 values, Zipf
  EXPECT_LT(stats.distinct[c1 + 2].size(), kLines / 2u);  // ... yet popular ids repeat
  EXPECT_EQ(stats.missing[c1], 0);                        // C1 is never missing
  EXPECT_GT(stats.missing[c1 + 21], kLines * 70 / 100);   // C22: 76% missing
  EXPECT_LT(stats.missing[c1 + 21], kLines * 82 / 100);
  EXPECT_GT(stats.missing[1], kLines * 40 / 100);  // I1: 45% missing
  EXPECT_EQ(stats.missing[2], 0);                  // I2 never missing...
  EXPECT_GT(stats.negative_i2, 0);                 // ... and sometimes negative
  EXPECT_GT(stats.distinct[5].size(), 1000u);      // I5: a heavy tail
}

TEST_F(SyntheticDataTest, TrainAndValidationAreDifferentStreams) {
  const std::string train = ReadAll(*dir_ + "/train.tsv");
  const std::string validation = ReadAll(*dir_ + "/validation.tsv");
  EXPECT_NE(train, validation);
  EXPECT_NE(train.substr(0, train.find('\n')), validation.substr(0, validation.find('\n')));
}

TEST(SyntheticTest, SameOptionsGiveIdenticalBytesAndSeedsDiffer) {
  const std::string dir = MakeTempDir();
  SyntheticOptions options = SmallOptions(11);
  options.validation_lines = 0;
  SyntheticReport report;
  ASSERT_TRUE(GenerateCriteoDataset(options, dir + "/a.tsv", "", &report).ok());
  ASSERT_TRUE(GenerateCriteoDataset(options, dir + "/b.tsv", "", &report).ok());
  options.seed = 12;
  ASSERT_TRUE(GenerateCriteoDataset(options, dir + "/c.tsv", "", &report).ok());
  const std::string a = ReadAll(dir + "/a.tsv");
  EXPECT_EQ(a.size(), ReadAll(dir + "/b.tsv").size());
  EXPECT_TRUE(a == ReadAll(dir + "/b.tsv"));
  EXPECT_FALSE(a == ReadAll(dir + "/c.tsv"));
}

TEST(SyntheticTest, NoValidationLinesWritesNoValidationFile) {
  const std::string dir = MakeTempDir();
  SyntheticOptions options = SmallOptions(1);
  options.train_lines = 100;
  options.validation_lines = 0;
  std::vector<int64_t> progress;
  options.progress = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 100);
    progress.push_back(done);
  };
  SyntheticReport report;
  ASSERT_TRUE(GenerateCriteoDataset(options, dir + "/t.tsv", dir + "/v.tsv", &report).ok());
  EXPECT_EQ(access((dir + "/v.tsv").c_str(), F_OK), -1);
  EXPECT_EQ(report.validation_lines, 0);
  EXPECT_EQ(report.teacher_validation_auc, 0.0);
  EXPECT_EQ(progress, std::vector<int64_t>({100}));
}

TEST(SyntheticTest, UnwritablePathIsIOErrorNamingIt) {
  const std::string path = MakeTempDir() + "/missing-dir/train.tsv";
  SyntheticOptions options = SmallOptions(1);
  options.train_lines = 10;
  options.validation_lines = 0;
  SyntheticReport report;
  Status s = GenerateCriteoDataset(options, path, "", &report);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
}

TEST(SyntheticTest, BadOptionsAreInvalidArgument) {
  const std::string dir = MakeTempDir();
  SyntheticReport report;
  SyntheticOptions negative = SmallOptions(1);
  negative.train_lines = -1;
  EXPECT_EQ(GenerateCriteoDataset(negative, dir + "/t", dir + "/v", &report).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(GenerateCriteoDataset(SmallOptions(1), dir + "/t", "", &report).code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::io
