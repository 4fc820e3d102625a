#include "io/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::FileExists;
using ::testing::HasSubstr;
using testing::MakeTempDir;
using testing::WriteFile;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// 1000 lines "user \t item \t rating \t time".
std::string ManyRatings() {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += std::to_string(i % 37) + "\t" + std::to_string(i) + "\t" + std::to_string(1 + i % 5) +
            "\t" + std::to_string(880000000 + i) + "\n";
  }
  return text;
}

struct Split {
  StatusOr<SplitCounts> counts;
  std::string train, test;
};

Split SplitText(const std::string& ratings, const SplitOptions& options) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/ratings", ratings);
  Split s{SplitRatings(dir + "/ratings", dir + "/train", dir + "/test", options), "", ""};
  s.train = Read(dir + "/train");
  s.test = Read(dir + "/test");
  return s;
}

int Lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(SplitRatingsTest, RandomKeepsEveryLineOnceAndTheFraction) {
  SplitOptions options;
  options.test_fraction = 0.2;
  options.seed = 7;
  Split s = SplitText(ManyRatings(), options);
  ASSERT_TRUE(s.counts.ok()) << s.counts.status().ToString();
  EXPECT_EQ(s.counts->train_lines + s.counts->test_lines, 1000);
  EXPECT_EQ(Lines(s.train), s.counts->train_lines);
  EXPECT_EQ(Lines(s.test), s.counts->test_lines);
  EXPECT_NEAR(s.counts->test_lines, 200, 45);
  EXPECT_EQ(s.counts->users, 37);
}

TEST(SplitRatingsTest, RandomIsAFunctionOfTheSeed) {
  SplitOptions options;
  options.seed = 7;
  Split a = SplitText(ManyRatings(), options);
  Split b = SplitText(ManyRatings(), options);
  options.seed = 8;
  Split c = SplitText(ManyRatings(), options);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.test, c.test);
}

TEST(SplitRatingsTest, LeaveLastOutTakesEachUsersLatestPositive) {
  const std::string ratings =
      "1\t10\t5\t100\n"
      "1\t11\t4\t300\n"  // user 1's latest positive
      "1\t12\t2\t400\n"  // later, but not a positive
      "2::20::5::100\n"
      "2::21::5::200\n"  // tie at 200: the larger item id wins
      "2::22::4::200\n"
      "3\t30\t5\t100\n"  // one positive only: stays in train
      "3\t31\t1\t200\n";
  SplitOptions options;
  options.mode = SplitOptions::Mode::kLeaveLastOut;
  options.positive_threshold = 4;
  Split s = SplitText(ratings, options);
  ASSERT_TRUE(s.counts.ok()) << s.counts.status().ToString();
  EXPECT_EQ(s.test, "1\t11\t4\t300\n2::22::4::200\n");
  EXPECT_EQ(s.counts->train_lines, 6);
  EXPECT_EQ(s.counts->test_lines, 2);
  EXPECT_EQ(s.counts->users, 3);
}

TEST(SplitRatingsTest, LeaveLastOutWritesTheTrainingPositivesApart) {
  const std::string ratings =
      "1\t10\t5\t100\n"
      "1\t11\t4\t300\n"  // test
      "1\t12\t2\t400\n"
      "1\t13\t4\t50\n";
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/ratings", ratings);
  SplitOptions options;
  options.mode = SplitOptions::Mode::kLeaveLastOut;
  options.train_positives_path = dir + "/train_positive";
  StatusOr<SplitCounts> counts =
      SplitRatings(dir + "/ratings", dir + "/train", dir + "/test", options);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->train_positive_lines, 2);
  EXPECT_EQ(Read(dir + "/train_positive"), "1\t10\t5\t100\n1\t13\t4\t50\n");
  EXPECT_EQ(Read(dir + "/test"), "1\t11\t4\t300\n");
}

TEST(SplitRatingsTest, ABadLineIsAnErrorNamingFileAndLineAndWritesNothing) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/ratings", "1\t2\t3\t4\n1\t2\tthree\t4\n");
  StatusOr<SplitCounts> counts =
      SplitRatings(dir + "/ratings", dir + "/train", dir + "/test", SplitOptions());
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(counts.status().message(), HasSubstr(dir + "/ratings:2: rating 'three'"));
  EXPECT_FALSE(FileExists(dir + "/train"));
  EXPECT_FALSE(FileExists(dir + "/test"));
}

TEST(SplitRatingsTest, LeaveLastOutNeedsTimestamps) {
  SplitOptions options;
  options.mode = SplitOptions::Mode::kLeaveLastOut;
  Split s = SplitText("1\t2\t5\n", options);
  ASSERT_FALSE(s.counts.ok());
  EXPECT_THAT(s.counts.status().message(), HasSubstr(":1: expected user, item, rating and "
                                                     "timestamp, found 3 fields"));
}

TEST(SplitRatingsTest, RejectsAFractionOutsideZeroToOne) {
  SplitOptions options;
  options.test_fraction = 1.5;
  EXPECT_FALSE(SplitText(ManyRatings(), options).counts.ok());
}

}  // namespace
}  // namespace tessera::io
