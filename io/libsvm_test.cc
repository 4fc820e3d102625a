#include "io/libsvm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "common/hash.h"

namespace tessera::io {
namespace {

using ::testing::HasSubstr;

TEST(LibsvmParserTest, ParsesLabelKeysAndValuesIntoOneField) {
  LibsvmParser parser(LabelKind::kBinary);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1 3:0.5 17:2 40", &batch).ok());
  ASSERT_EQ(batch.size(), 1);
  EXPECT_EQ(batch.num_fields, 1);
  EXPECT_EQ(batch.num_dense, 0);
  EXPECT_EQ(batch.labels[0], 1.0f);
  EXPECT_EQ(batch.keys,
            (std::vector<uint64_t>{FeatureId(0, "3"), FeatureId(0, "17"), FeatureId(0, "40")}));
  EXPECT_EQ(batch.values, (std::vector<float>{0.5f, 2.0f, 1.0f}));
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 3}));
}

TEST(LibsvmParserTest, KeysDependOnTheIndexNotItsSpelling) {
  LibsvmParser parser(LabelKind::kBinary);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("0 007:1", &batch).ok());
  EXPECT_EQ(batch.keys[0], IndexFeatureId(0, 7));
  EXPECT_EQ(batch.keys[0], FeatureId(0, "7"));
}

TEST(LibsvmParserTest, MinusOneIsTheNegativeLabelOfBinaryData) {
  LibsvmParser parser(LabelKind::kBinary);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("-1 1:1", &batch).ok());
  ASSERT_TRUE(parser.ParseLine("+1\t2:1", &batch).ok());
  EXPECT_EQ(batch.labels, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LibsvmParserTest, BinaryDataRejectsOtherLabels) {
  LibsvmParser parser(LabelKind::kBinary);
  Batch batch;
  Status s = parser.ParseLine("2.5 1:1", &batch);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("label '2.5' is not 0 or 1"));
}

TEST(LibsvmParserTest, ValueLabelsAreAnyNumber) {
  LibsvmParser parser(LabelKind::kValue);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("-3.25 1:1", &batch).ok());
  EXPECT_EQ(batch.labels[0], -3.25f);
}

TEST(LibsvmParserTest, ALineWithoutFeaturesIsAnEmptyBag) {
  LibsvmParser parser(LabelKind::kBinary);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1", &batch).ok());
  ASSERT_TRUE(parser.ParseLine("0 5:1 # a comment 6:1", &batch).ok());
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(batch.values.size(), batch.keys.size());
}

TEST(LibsvmParserTest, ABadFeatureNamesItselfAndAppendsNothing) {
  LibsvmParser parser(LabelKind::kBinary);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1 1:1", &batch).ok());
  Status index = parser.ParseLine("1 2:1 x:1", &batch);
  EXPECT_THAT(index.message(), HasSubstr("feature index 'x' is not a non-negative integer"));
  Status value = parser.ParseLine("1 2:1 9:abc", &batch);
  EXPECT_THAT(value.message(), HasSubstr("feature 9: value 'abc' is not a number"));
  Status label = parser.ParseLine("", &batch);
  EXPECT_THAT(label.message(), HasSubstr("label '' is not a number"));
  EXPECT_EQ(batch.size(), 1);
  EXPECT_EQ(batch.keys.size(), 1u);
  EXPECT_EQ(batch.values.size(), 1u);
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 1}));
}

}  // namespace
}  // namespace tessera::io
