#include "io/libffm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "common/hash.h"

namespace tessera::io {
namespace {

using ::testing::HasSubstr;

TEST(LibffmParserTest, PutsEachFeatureInItsFieldsWeightedBag) {
  LibffmParser parser(3, LabelKind::kBinary);
  Batch batch;
  // Field 2 before field 0, field 1 absent, field 0 twice.
  ASSERT_TRUE(parser.ParseLine("1 2:5:0.5 0:1:1 0:9:3", &batch).ok());
  EXPECT_EQ(batch.num_fields, 3);
  EXPECT_EQ(batch.num_dense, 0);
  EXPECT_EQ(batch.labels[0], 1.0f);
  EXPECT_EQ(batch.keys,
            (std::vector<uint64_t>{FeatureId(0, "1"), FeatureId(0, "9"), FeatureId(2, "5")}));
  EXPECT_EQ(batch.values, (std::vector<float>{1.0f, 3.0f, 0.5f}));
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 2, 2, 3}));
}

TEST(LibffmParserTest, OffsetsContinueAcrossExamples) {
  LibffmParser parser(2, LabelKind::kBinary);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("0 0:1:1 1:1:1", &batch).ok());
  ASSERT_TRUE(parser.ParseLine("-1 1:2:1", &batch).ok());
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 1, 2, 2, 3}));
  EXPECT_EQ(batch.labels, (std::vector<float>{0.0f, 0.0f}));
}

TEST(LibffmParserTest, RejectsAFieldOutOfRangeNamingTheLimit) {
  LibffmParser parser(2, LabelKind::kBinary);
  Batch batch;
  Status s = parser.ParseLine("1 2:1:1", &batch);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("field 2 is not below 2 (data.libffm_fields)"));
  EXPECT_EQ(batch.size(), 0);
}

TEST(LibffmParserTest, RejectsMalformedFeatures) {
  LibffmParser parser(2, LabelKind::kBinary);
  Batch batch;
  EXPECT_THAT(parser.ParseLine("1 0:1", &batch).message(),
              HasSubstr("feature '0:1' is not field:index:value"));
  EXPECT_THAT(parser.ParseLine("1 0:1:x", &batch).message(),
              HasSubstr("feature 0:1: value 'x' is not a number"));
  EXPECT_THAT(parser.ParseLine("1 a:1:1", &batch).message(), HasSubstr("field 'a'"));
  EXPECT_EQ(batch.size(), 0);
  EXPECT_TRUE(batch.keys.empty());
}

}  // namespace
}  // namespace tessera::io
