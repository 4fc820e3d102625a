#include "io/movielens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/hash.h"
#include "io/batch_reader.h"
#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::FileExists;
using ::testing::HasSubstr;
using testing::MakeTempDir;
using testing::SharedDir;
using testing::WriteFile;

// Two ml-100k users and items (u.user, u.item; the second title holds a Latin-1 byte).
const char kUUser[] = "1|24|M|technician|85711\n2|53|F|other|94043\n";
const char kUItem[] =
    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Caf\xe9 (1995)|01-Jan-1995||http://y|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n";
// The same in ml-1m's .dat spelling (users.dat gives the age bucket code).
const char kUsersDat[] = "1::M::18::17::85711\n2::F::50::0::94043\n";
const char kMoviesDat[] = "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Heat::Crime\n";

std::shared_ptr<const MovieLensTables> Load(const std::string& users, const std::string& items) {
  const std::string dir = MakeTempDir();
  pb::MovieLensConfig config;
  if (!users.empty()) {
    WriteFile(dir + "/users", users);
    config.set_users(dir + "/users");
  }
  if (!items.empty()) {
    WriteFile(dir + "/items", items);
    config.set_items(dir + "/items");
  }
  StatusOr<std::shared_ptr<const MovieLensTables>> tables = MovieLensTables::Load(config);
  EXPECT_TRUE(tables.ok()) << tables.status().ToString();
  return tables.ok() ? *tables : nullptr;
}

Status LoadError(const std::string& users, const std::string& items) {
  const std::string dir = MakeTempDir();
  pb::MovieLensConfig config;
  WriteFile(dir + "/u.user", users);
  WriteFile(dir + "/u.item", items);
  if (!users.empty()) config.set_users(dir + "/u.user");
  if (!items.empty()) config.set_items(dir + "/u.item");
  return MovieLensTables::Load(config).status();
}

TEST(AgeBucketTest, MapsAgesToTheMl1mBucketsAndCodesToThemselves) {
  EXPECT_EQ(AgeBucket(7), 1);
  EXPECT_EQ(AgeBucket(17), 1);
  EXPECT_EQ(AgeBucket(18), 18);
  EXPECT_EQ(AgeBucket(24), 18);
  EXPECT_EQ(AgeBucket(25), 25);
  EXPECT_EQ(AgeBucket(44), 35);
  EXPECT_EQ(AgeBucket(49), 45);
  EXPECT_EQ(AgeBucket(55), 50);
  EXPECT_EQ(AgeBucket(73), 56);
  for (int code : {1, 18, 25, 35, 45, 50, 56}) EXPECT_EQ(AgeBucket(code), code);
}

TEST(MovieLensParserTest, RatingsAloneGiveUserAndItemFields) {
  auto tables = Load("", "");
  ASSERT_NE(tables, nullptr);
  EXPECT_EQ(tables->num_fields(), 2);
  EXPECT_EQ(tables->user_fields(), 1);
  MovieLensParser parser(tables, 0);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("196\t242\t3\t881250949", &batch).ok());
  ASSERT_TRUE(parser.ParseLine("1::1193::5::978300760", &batch).ok());
  ASSERT_TRUE(parser.ParseLine("7 8  4", &batch).ok());  // spaces, no timestamp
  EXPECT_EQ(batch.num_fields, 2);
  EXPECT_EQ(batch.num_dense, 0);
  EXPECT_EQ(batch.labels, (std::vector<float>{3, 5, 4}));
  EXPECT_EQ(batch.keys,
            (std::vector<uint64_t>{FeatureId(0, "196"), FeatureId(1, "242"), FeatureId(0, "1"),
                                   FeatureId(1, "1193"), FeatureId(0, "7"), FeatureId(1, "8")}));
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(MovieLensParserTest, AThresholdMakesBinaryLabels) {
  MovieLensParser parser(Load("", ""), 4);
  Batch batch;
  for (const char* line : {"1\t1\t3\t0", "1\t2\t4\t0", "1\t3\t5\t0"}) {
    ASSERT_TRUE(parser.ParseLine(line, &batch).ok());
  }
  EXPECT_EQ(batch.labels, (std::vector<float>{0, 1, 1}));
}

TEST(MovieLensParserTest, Ml100kSideFilesAddUserAndItemFields) {
  auto tables = Load(kUUser, kUItem);
  ASSERT_NE(tables, nullptr);
  EXPECT_EQ(tables->user_fields(), 4);
  EXPECT_EQ(tables->num_fields(), 6);
  EXPECT_EQ(tables->field_names(),
            (std::vector<std::string>{"user", "age", "gender", "occupation", "item", "genres"}));
  MovieLensParser parser(tables, 0);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1\t1\t5\t874965758", &batch).ok());
  EXPECT_EQ(batch.keys,
            (std::vector<uint64_t>{FeatureId(0, "1"), FeatureId(1, "18"), FeatureId(2, "M"),
                                   FeatureId(3, "technician"), FeatureId(4, "1"), FeatureId(5, "3"),
                                   FeatureId(5, "4"), FeatureId(5, "5")}));
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 8}));
}

TEST(MovieLensParserTest, Ml1mSideFilesUseTheAgeCodeAndGenreNames) {
  MovieLensParser parser(Load(kUsersDat, kMoviesDat), 0);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("2::1::4::978300760", &batch).ok());
  EXPECT_EQ(batch.keys,
            (std::vector<uint64_t>{FeatureId(0, "2"), FeatureId(1, "50"), FeatureId(2, "F"),
                                   FeatureId(3, "0"), FeatureId(4, "1"), FeatureId(5, "Animation"),
                                   FeatureId(5, "Children's"), FeatureId(5, "Comedy")}));
}

TEST(MovieLensParserTest, UnknownUsersAndItemsGetEmptySideBags) {
  MovieLensParser parser(Load(kUUser, kUItem), 0);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("99\t98\t2\t0", &batch).ok());
  EXPECT_EQ(batch.keys, (std::vector<uint64_t>{FeatureId(0, "99"), FeatureId(4, "98")}));
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 1, 1, 1, 1, 2, 2}));
}

TEST(MovieLensParserTest, ReportsMalformedRatingLines) {
  MovieLensParser parser(Load("", ""), 0);
  Batch batch;
  EXPECT_THAT(parser.ParseLine("1\t2", &batch).message(), HasSubstr("found 2 fields"));
  EXPECT_THAT(parser.ParseLine("1\t2\tgood\t0", &batch).message(),
              HasSubstr("rating 'good' is not a number"));
  EXPECT_THAT(parser.ParseLine("1\t2\t3\tyesterday", &batch).message(),
              HasSubstr("timestamp 'yesterday'"));
  EXPECT_THAT(parser.ParseLine("::2::3::0", &batch).message(), HasSubstr("user id is empty"));
  EXPECT_EQ(batch.size(), 0);
}

TEST(MovieLensTablesTest, SideFileErrorsNameFileAndLine) {
  Status age = LoadError("1|24|M|technician|85711\n2|old|F|other|94043\n", "");
  EXPECT_EQ(age.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(age.message(), HasSubstr("/u.user:2: age 'old'"));
  Status fields = LoadError("1|24|M\n", "");
  EXPECT_THAT(fields.message(), HasSubstr("/u.user:1: expected 5 fields"));
  Status twice = LoadError("1|24|M|a|1\n1|25|M|a|1\n", "");
  EXPECT_THAT(twice.message(), HasSubstr("/u.user:2: user '1' is listed twice"));
  Status flag = LoadError("", "1|T|d||u|0|0|0|2|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
  EXPECT_THAT(flag.message(), HasSubstr("/u.item:1: genre flag 3 '2' is not 0 or 1"));
}

TEST(MovieLensTablesTest, AMissingSideFileNamesTheConfigField) {
  pb::MovieLensConfig config;
  config.set_users("/nonexistent/u.user");
  Status s = MovieLensTables::Load(config).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("data.movielens.users"));
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/u.user"));
}

// The real ml-100k files, when the shared data folder is there.
TEST(MovieLensParserTest, ParsesEveryLineOfMl100k) {
  const std::string dir = SharedDir() + "/data/movielens-100k";
  if (!FileExists(dir + "/u.data")) GTEST_SKIP() << dir << " is absent";
  pb::MovieLensConfig config;
  config.set_users(dir + "/u.user");
  config.set_items(dir + "/u.item");
  StatusOr<std::shared_ptr<const MovieLensTables>> tables = MovieLensTables::Load(config);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  MovieLensParser parser(*tables, 0);
  auto reader = BatchReader::Open(ChunkSpec{dir + "/u.data", 0, -1, 1}, &parser, 4096);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Batch batch;
  int64_t empty_side_bags = 0;
  while (true) {
    StatusOr<bool> more = (*reader)->NextBatch(&batch);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    for (int64_t b = 0; b < batch.size(); ++b) {
      for (int f : {1, 2, 3, 5}) {
        const int64_t bag = b * 6 + f;
        empty_side_bags += batch.offsets[bag + 1] == batch.offsets[bag];
      }
      EXPECT_GE(batch.labels[b], 1.0f);
      EXPECT_LE(batch.labels[b], 5.0f);
    }
  }
  EXPECT_EQ((*reader)->examples(), 100000);
  EXPECT_EQ((*reader)->bad_lines(), 0);
  EXPECT_EQ(empty_side_bags, 0);  // every user and item is in u.user / u.item
}

}  // namespace
}  // namespace tessera::io
