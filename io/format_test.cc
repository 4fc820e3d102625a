#include "io/format.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "io/hash_buckets.h"
#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

pb::DataConfig Config(const std::string& text) {
  pb::DataConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

std::unique_ptr<DataFormat> MustCreate(const std::string& text,
                                       LabelKind labels = LabelKind::kBinary) {
  StatusOr<std::unique_ptr<DataFormat>> format = DataFormat::Create(Config(text), labels);
  EXPECT_TRUE(format.ok()) << text << ": " << format.status().ToString();
  return format.ok() ? std::move(*format) : nullptr;
}

// Parses `line` with a fresh parser of `format`; returns the batch.
Batch ParseOne(const DataFormat& format, const std::string& line) {
  Batch batch;
  Status s = format.NewParser()->ParseLine(line, &batch);
  EXPECT_TRUE(s.ok()) << line << ": " << s.ToString();
  return batch;
}

TEST(DataFormatTest, CriteoIsTheDefault) {
  auto format = MustCreate("");
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->layout().num_fields, 26);
  EXPECT_EQ(format->layout().num_dense, 13);
  EXPECT_EQ(format->layout().field_names.front(), "C1");
  EXPECT_EQ(format->layout().field_names.back(), "C26");
  EXPECT_FALSE(format->layout().value_labels);
  std::string line = "1";
  for (int i = 0; i < 13; ++i) line += "\t1";
  for (int i = 0; i < 26; ++i) line += "\tab";
  EXPECT_EQ(ParseOne(*format, line).keys.size(), 26u);
}

TEST(DataFormatTest, LibsvmIsOneWeightedField) {
  auto format = MustCreate("format: LIBSVM");
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->layout().num_fields, 1);
  EXPECT_EQ(format->layout().num_dense, 0);
  Batch batch = ParseOne(*format, "1 4:0.5");
  EXPECT_EQ(batch.values, (std::vector<float>{0.5f}));
}

TEST(DataFormatTest, TheLabelKindReachesTheParser) {
  auto binary = MustCreate("format: LIBSVM");
  auto value = MustCreate("format: LIBSVM", LabelKind::kValue);
  ASSERT_NE(binary, nullptr);
  ASSERT_NE(value, nullptr);
  Batch batch;
  EXPECT_FALSE(binary->NewParser()->ParseLine("4.5 1:1", &batch).ok());
  EXPECT_TRUE(value->NewParser()->ParseLine("4.5 1:1", &batch).ok());
  EXPECT_TRUE(value->layout().value_labels);
  EXPECT_FALSE(binary->layout().value_labels);
}

TEST(DataFormatTest, LibffmNeedsItsFieldCount) {
  StatusOr<std::unique_ptr<DataFormat>> missing = DataFormat::Create(Config("format: LIBFFM"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), StartsWith("data.libffm_fields must be at least 1"));
  auto format = MustCreate("format: LIBFFM libffm_fields: 3");
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->layout().num_fields, 3);
  EXPECT_EQ(format->layout().field_names, (std::vector<std::string>{"field0", "field1", "field2"}));
  EXPECT_EQ(ParseOne(*format, "1 2:7:1").offsets, (std::vector<int32_t>{0, 0, 0, 1}));
}

TEST(DataFormatTest, CsvTakesItsLayoutFromTheSchema) {
  auto format = MustCreate(
      "format: CSV csv { delimiter: '\\t' column { role: LABEL } "
      "column { name: 'a' role: CATEGORICAL } column { role: DENSE } "
      "column { name: 'b' role: MULTI_HOT } }");
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->layout().num_fields, 2);
  EXPECT_EQ(format->layout().num_dense, 1);
  EXPECT_EQ(format->layout().field_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ParseOne(*format, "0\tx\t2\ty|z").keys.size(), 3u);
}

TEST(DataFormatTest, CsvSchemaErrorsNameTheField) {
  StatusOr<std::unique_ptr<DataFormat>> none = DataFormat::Create(Config("format: CSV"));
  EXPECT_THAT(none.status().message(), StartsWith("data.csv:"));
  StatusOr<std::unique_ptr<DataFormat>> bad = DataFormat::Create(Config(
      "format: CSV csv { column { role: LABEL } column { role: MULTI_HOT separator: '' } }"));
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), StartsWith("data.csv.column[1].separator"));
}

// One Criteo line whose categorical field f holds "<prefix><f>".
std::string CriteoLine(const std::string& prefix) {
  std::string line = "0";
  for (int i = 0; i < 13; ++i) line += "\t1";
  for (int f = 0; f < 26; ++f) line += "\t" + prefix + std::to_string(f);
  return line;
}

TEST(DataFormatTest, HashBucketsFoldEachFieldsKeysIntoThatManyRows) {
  auto plain = MustCreate("");
  auto folded = MustCreate("hash_buckets: 4");
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(folded, nullptr);
  std::vector<std::set<uint64_t>> per_field(26);
  std::set<uint64_t> all;
  for (int v = 0; v < 200; ++v) {
    const std::string line = CriteoLine("v" + std::to_string(v) + "x");
    Batch raw = ParseOne(*plain, line);
    Batch batch = ParseOne(*folded, line);
    ASSERT_EQ(batch.keys.size(), 26u);
    EXPECT_EQ(batch.offsets, raw.offsets);
    EXPECT_EQ(batch.dense, raw.dense);
    for (int f = 0; f < 26; ++f) {
      EXPECT_EQ(batch.keys[f], FoldKey(raw.keys[f], f, 4)) << "field " << f;
      per_field[f].insert(batch.keys[f]);
      all.insert(batch.keys[f]);
    }
  }
  // 200 values per field share 4 rows each, and no two fields share a row.
  for (int f = 0; f < 26; ++f) EXPECT_EQ(per_field[f].size(), 4u) << "field " << f;
  EXPECT_EQ(all.size(), 26u * 4);
}

TEST(DataFormatTest, HashBucketsFoldMultiHotBagsByTheirFieldAndKeepTheHeader) {
  const std::string schema =
      "csv { delimiter: ',' header: true column { role: LABEL } "
      "column { role: MULTI_HOT } column { role: CATEGORICAL } }";
  auto plain = MustCreate("format: CSV " + schema);
  auto folded = MustCreate("format: CSV hash_buckets: 1000 " + schema);
  ASSERT_NE(folded, nullptr);
  EXPECT_TRUE(folded->NewParser()->SkipsFirstLineOfFile());
  Batch raw = ParseOne(*plain, "1,a|b|c,d");
  Batch batch = ParseOne(*folded, "1,a|b|c,d");
  ASSERT_EQ(batch.keys.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(batch.keys[i], FoldKey(raw.keys[i], 0, 1000));
  EXPECT_EQ(batch.keys[3], FoldKey(raw.keys[3], 1, 1000));
}

TEST(DataFormatTest, HashBucketsOutOfRangeNameTheField) {
  for (const char* text : {"hash_buckets: -1", "hash_buckets: 1099511627777"}) {
    StatusOr<std::unique_ptr<DataFormat>> bad = DataFormat::Create(Config(text));
    EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument) << text;
    EXPECT_THAT(bad.status().message(), StartsWith("data.hash_buckets must be between 0"));
  }
  EXPECT_NE(MustCreate("hash_buckets: 1099511627776"), nullptr);
}

TEST(DataFormatTest, MovieLensRatingsAreValuesFromOneToFive) {
  auto format = MustCreate("format: MOVIELENS");
  ASSERT_NE(format, nullptr);
  const FeatureLayout& layout = format->layout();
  EXPECT_EQ(layout.num_fields, 2);
  EXPECT_EQ(layout.user_fields, 1);
  EXPECT_TRUE(layout.value_labels);
  EXPECT_EQ(layout.min_label, 1.0f);
  EXPECT_EQ(layout.max_label, 5.0f);
}

TEST(DataFormatTest, MovieLensWithAThresholdIsBinary) {
  auto format = MustCreate("format: MOVIELENS movielens { positive_threshold: 4 }");
  ASSERT_NE(format, nullptr);
  EXPECT_FALSE(format->layout().value_labels);
  EXPECT_EQ(format->layout().max_label, 0.0f);
  EXPECT_EQ(ParseOne(*format, "1\t2\t4").labels[0], 1.0f);
  StatusOr<std::unique_ptr<DataFormat>> negative =
      DataFormat::Create(Config("format: MOVIELENS movielens { positive_threshold: -1 }"));
  EXPECT_THAT(negative.status().message(), StartsWith("data.movielens.positive_threshold"));
}

TEST(DataFormatTest, MovieLensSideFilesSetTheUserFields) {
  const std::string dir = testing::MakeTempDir();
  testing::WriteFile(dir + "/u.user", "1|24|M|technician|85711\n");
  auto format = MustCreate("format: MOVIELENS movielens { users: '" + dir + "/u.user' }");
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->layout().user_fields, 4);
  EXPECT_EQ(format->layout().num_fields, 5);
  EXPECT_EQ(format->layout().field_names.size(), 5u);
}

TEST(DataFormatTest, ParsersFromOneFormatWorkOnDifferentThreads) {
  const std::string dir = testing::MakeTempDir();
  testing::WriteFile(dir + "/u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n");
  auto format = MustCreate("format: MOVIELENS movielens { users: '" + dir + "/u.user' }");
  ASSERT_NE(format, nullptr);
  std::vector<size_t> keys(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<LineParser> parser = format->NewParser();
      Batch batch;
      for (int i = 0; i < 1000; ++i) {
        if (!parser->ParseLine(std::to_string(1 + i % 2) + "\t5\t3", &batch).ok()) return;
      }
      keys[t] = batch.keys.size();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(keys, (std::vector<size_t>(4, 1000 * 5)));
}

}  // namespace
}  // namespace tessera::io
