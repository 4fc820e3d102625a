#include "io/criteo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/hash.h"

namespace tessera::io {
namespace {

// A Criteo line from its parts; fields are joined with tabs.
std::string JoinFields(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += '\t';
    line += fields[i];
  }
  return line;
}

std::vector<std::string> GoodFields() {
  std::vector<std::string> fields = {"1"};
  for (int i = 0; i < 13; ++i) fields.push_back(std::to_string(i * 10));
  for (int f = 0; f < 26; ++f) fields.push_back("c" + std::to_string(f));
  return fields;
}

TEST(CriteoParserTest, ParsesLabelDenseAndKeys) {
  CriteoParser parser;
  Batch batch;
  batch.Clear();
  ASSERT_TRUE(parser.ParseLine(JoinFields(GoodFields()), &batch).ok());
  ASSERT_EQ(batch.size(), 1);
  EXPECT_EQ(batch.num_fields, 26);
  EXPECT_EQ(batch.num_dense, 13);
  EXPECT_EQ(batch.labels[0], 1.0f);
  ASSERT_EQ(batch.dense.size(), 13u);
  for (int i = 0; i < 13; ++i) {
    EXPECT_EQ(batch.dense[i], static_cast<float>(std::log1p(i * 10.0))) << "I" << i + 1;
  }
  ASSERT_EQ(batch.keys.size(), 26u);
  ASSERT_EQ(batch.offsets.size(), 27u);
  for (int f = 0; f < 26; ++f) {
    EXPECT_EQ(batch.keys[f], FeatureId(f, "c" + std::to_string(f)));
    EXPECT_EQ(batch.offsets[f + 1], f + 1);
  }
}

TEST(CriteoParserTest, MissingValuesAreZeroAndTheEmptyStringOfTheirField) {
  std::vector<std::string> fields = GoodFields();
  fields[0] = "0";
  fields[3] = "";            // I3
  fields[1 + 13] = "";       // C1
  fields[1 + 13 + 25] = "";  // C26, the last field of the line
  CriteoParser parser;
  Batch batch;
  ASSERT_TRUE(parser.ParseLine(JoinFields(fields), &batch).ok());
  EXPECT_EQ(batch.labels[0], 0.0f);
  EXPECT_EQ(batch.dense[2], 0.0f);
  EXPECT_EQ(batch.keys[0], FeatureId(0, ""));
  EXPECT_EQ(batch.keys[25], FeatureId(25, ""));
  EXPECT_NE(batch.keys[0], batch.keys[25]);  // each field's missing value is its own key
}

TEST(CriteoParserTest, NegativeIntegersGiveZero) {
  std::vector<std::string> fields = GoodFields();
  fields[2] = "-1";
  fields[3] = "-2";
  CriteoParser parser;
  Batch batch;
  ASSERT_TRUE(parser.ParseLine(JoinFields(fields), &batch).ok());
  EXPECT_EQ(batch.dense[1], 0.0f);
  EXPECT_EQ(batch.dense[2], 0.0f);
}

TEST(CriteoParserTest, AcceptsATrailingCarriageReturn) {
  std::vector<std::string> fields = GoodFields();
  CriteoParser parser;
  Batch batch;
  ASSERT_TRUE(parser.ParseLine(JoinFields(fields) + "\r", &batch).ok());
  EXPECT_EQ(batch.keys[25], FeatureId(25, "c25"));
}

TEST(CriteoParserTest, ReportsTheFieldCount) {
  std::vector<std::string> fields = GoodFields();
  fields.pop_back();
  CriteoParser parser;
  Batch batch;
  Status st = parser.ParseLine(JoinFields(fields), &batch);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "expected 40 tab-separated fields, found 39");
  fields = GoodFields();
  fields.push_back("extra");
  EXPECT_EQ(parser.ParseLine(JoinFields(fields), &batch).message(),
            "expected 40 tab-separated fields, found 41");
  EXPECT_EQ(parser.ParseLine("", &batch).message(), "expected 40 tab-separated fields, found 1");
  EXPECT_EQ(batch.size(), 0);
}

TEST(CriteoParserTest, ReportsABadLabel) {
  std::vector<std::string> fields = GoodFields();
  CriteoParser parser;
  Batch batch;
  fields[0] = "x";
  EXPECT_EQ(parser.ParseLine(JoinFields(fields), &batch).message(), "label 'x' is not 0 or 1");
  fields[0] = "2";
  EXPECT_EQ(parser.ParseLine(JoinFields(fields), &batch).message(), "label '2' is not 0 or 1");
  fields[0] = "";
  EXPECT_FALSE(parser.ParseLine(JoinFields(fields), &batch).ok());
}

TEST(CriteoParserTest, ReportsABadInteger) {
  std::vector<std::string> fields = GoodFields();
  CriteoParser parser;
  Batch batch;
  fields[3] = "abc";
  EXPECT_EQ(parser.ParseLine(JoinFields(fields), &batch).message(), "I3 'abc' is not an integer");
  fields[3] = "12x";
  EXPECT_EQ(parser.ParseLine(JoinFields(fields), &batch).message(), "I3 '12x' is not an integer");
  fields[3] = "1.5";
  EXPECT_FALSE(parser.ParseLine(JoinFields(fields), &batch).ok());
  fields[3] = "99999999999999999999";
  EXPECT_EQ(parser.ParseLine(JoinFields(fields), &batch).message(),
            "I3 '99999999999999999999' is out of the 64-bit integer range");
}

TEST(CriteoParserTest, QuotesAtMostAShortPrefixOfABadValue) {
  std::vector<std::string> fields = GoodFields();
  fields[13] = std::string(10000, 'z');  // I13
  CriteoParser parser;
  Batch batch;
  Status st = parser.ParseLine(JoinFields(fields), &batch);
  EXPECT_EQ(st.message(), "I13 '" + std::string(40, 'z') + "...' is not an integer");
}

TEST(CriteoParserTest, ABadLineAppendsNothing) {
  CriteoParser parser;
  Batch batch;
  batch.Clear();
  ASSERT_TRUE(parser.ParseLine(JoinFields(GoodFields()), &batch).ok());
  std::vector<std::string> fields = GoodFields();
  fields[13] = "bad";  // the last integer: everything before it parsed fine
  EXPECT_FALSE(parser.ParseLine(JoinFields(fields), &batch).ok());
  EXPECT_EQ(batch.size(), 1);
  EXPECT_EQ(batch.dense.size(), 13u);
  EXPECT_EQ(batch.keys.size(), 26u);
  EXPECT_EQ(batch.offsets.size(), 27u);
}

TEST(CriteoParserTest, AppendsExamplesWithContinuingOffsets) {
  CriteoParser parser;
  Batch batch;
  batch.Clear();
  ASSERT_TRUE(parser.ParseLine(JoinFields(GoodFields()), &batch).ok());
  ASSERT_TRUE(parser.ParseLine(JoinFields(GoodFields()), &batch).ok());
  EXPECT_EQ(batch.size(), 2);
  ASSERT_EQ(batch.offsets.size(), 53u);
  EXPECT_EQ(batch.offsets.back(), 52);
  EXPECT_EQ(batch.keys[26], batch.keys[0]);
}

}  // namespace
}  // namespace tessera::io
