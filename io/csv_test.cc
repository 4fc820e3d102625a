#include "io/csv.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/hash.h"

namespace tessera::io {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

pb::CsvSchema Schema(const std::string& text) {
  pb::CsvSchema schema;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &schema)) << text;
  return schema;
}

// label, price (dense, log1p), city (categorical), id (ignored), tags (multi-hot), age.
const char kSchema[] =
    "column { name: 'label' role: LABEL } "
    "column { name: 'price' role: DENSE log1p: true } "
    "column { name: 'city' role: CATEGORICAL } "
    "column { name: 'id' } "
    "column { name: 'tags' role: MULTI_HOT separator: ';' } "
    "column { name: 'age' role: DENSE }";

CsvParser MakeParser(const std::string& schema_text, LabelKind kind = LabelKind::kBinary) {
  StatusOr<CsvOptions> options = CsvOptionsFromConfig(Schema(schema_text), kind);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return CsvParser(options.ok() ? *options : CsvOptions());
}

TEST(CsvOptionsTest, CountsFieldsAndDenseInColumnOrder) {
  StatusOr<CsvOptions> options = CsvOptionsFromConfig(Schema(kSchema), LabelKind::kBinary);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->num_fields, 2);
  EXPECT_EQ(options->num_dense, 2);
  EXPECT_EQ(options->field_names, (std::vector<std::string>{"city", "tags"}));
  EXPECT_EQ(options->delimiter, ',');
}

TEST(CsvOptionsTest, ATabDelimiterMayBeWrittenEitherWay) {
  for (const char* tab : {"delimiter: '\\t'", "delimiter: '\\\\t'"}) {
    StatusOr<CsvOptions> options = CsvOptionsFromConfig(
        Schema(std::string(tab) + " column { role: LABEL } column { role: DENSE }"),
        LabelKind::kBinary);
    ASSERT_TRUE(options.ok()) << tab << ": " << options.status().ToString();
    EXPECT_EQ(options->delimiter, '\t') << tab;
  }
}

TEST(CsvOptionsTest, RejectsBadSchemasNamingTheField) {
  struct Case {
    const char* schema;
    const char* message;
  };
  const Case cases[] = {
      {"delimiter: ';;' column { role: LABEL } column { role: DENSE }",
       "data.csv.delimiter must be one character"},
      {"", "data.csv.column: describe every column"},
      {"column { role: DENSE }", "data.csv.column: exactly one column must be the LABEL, found 0"},
      {"column { role: LABEL } column { role: LABEL } column { role: DENSE }",
       "data.csv.column: exactly one column must be the LABEL, found 2"},
      {"column { role: LABEL } column { role: DENSE } column { role: MULTI_HOT separator: '' }",
       "data.csv.column[2].separator must not be empty"},
      {"column { role: LABEL } column { role: MULTI_HOT separator: ',' }",
       "data.csv.column[1].separator ',' must not hold the delimiter"},
      {"column { role: LABEL } column { role: CATEGORICAL log1p: true }",
       "data.csv.column[1].log1p: only a DENSE column takes log1p"},
      {"column { role: LABEL } column { role: IGNORE }", "data.csv.column: no DENSE"},
  };
  for (const Case& c : cases) {
    StatusOr<CsvOptions> options = CsvOptionsFromConfig(Schema(c.schema), LabelKind::kBinary);
    ASSERT_FALSE(options.ok()) << c.schema;
    EXPECT_EQ(options.status().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(options.status().message(), StartsWith(c.message)) << c.schema;
  }
}

TEST(CsvParserTest, ParsesEveryRole) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1,3,paris,77,a;b;;c,42", &batch).ok());
  ASSERT_EQ(batch.size(), 1);
  EXPECT_EQ(batch.num_fields, 2);
  EXPECT_EQ(batch.num_dense, 2);
  EXPECT_EQ(batch.labels[0], 1.0f);
  EXPECT_EQ(batch.dense, (std::vector<float>{std::log1p(3.0f), 42.0f}));
  EXPECT_EQ(batch.keys, (std::vector<uint64_t>{FeatureId(0, "paris"), FeatureId(1, "a"),
                                               FeatureId(1, "b"), FeatureId(1, "c")}));
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 1, 4}));
  EXPECT_TRUE(batch.values.empty());
}

TEST(CsvParserTest, EmptyValuesAreZeroOrNoFeature) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("0,,,,,", &batch).ok());
  EXPECT_EQ(batch.dense, (std::vector<float>{0.0f, 0.0f}));
  EXPECT_TRUE(batch.keys.empty());
  EXPECT_EQ(batch.offsets, (std::vector<int32_t>{0, 0, 0}));
}

TEST(CsvParserTest, Log1pClampsNegativesToZero) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("0,-5,x,,,-5", &batch).ok());
  EXPECT_EQ(batch.dense, (std::vector<float>{0.0f, -5.0f}));
}

TEST(CsvParserTest, QuotedFieldsMayHoldTheDelimiterAndQuotes) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1,\"2\",\"new york, \"\"ny\"\"\",,\"x;y\",1", &batch).ok());
  EXPECT_EQ(batch.keys, (std::vector<uint64_t>{FeatureId(0, "new york, \"ny\""), FeatureId(1, "x"),
                                               FeatureId(1, "y")}));
  EXPECT_EQ(batch.dense[0], std::log1p(2.0f));
}

TEST(CsvParserTest, ReportsAnUnclosedQuote) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  EXPECT_THAT(parser.ParseLine("1,2,\"paris,,,", &batch).message(),
              HasSubstr("field 3: a quote is not closed"));
  EXPECT_THAT(parser.ParseLine("1,2,\"paris\"x,,,", &batch).message(),
              HasSubstr("field 3: text after its closing quote"));
}

TEST(CsvParserTest, ReportsTheColumnCount) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  Status s = parser.ParseLine("1,2,paris", &batch);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("expected 6 fields separated by ',', found 3"));
}

TEST(CsvParserTest, ABadNumberNamesItsColumnAndAppendsNothing) {
  CsvParser parser = MakeParser(kSchema);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("1,1,a,,b,1", &batch).ok());
  Status dense = parser.ParseLine("1,1,a,,b,old", &batch);
  EXPECT_THAT(dense.message(), HasSubstr("column[5] 'age': value 'old' is not a number"));
  Status label = parser.ParseLine("yes,1,a,,b,1", &batch);
  EXPECT_THAT(label.message(), HasSubstr("column[0] 'label': label 'yes' is not a number"));
  EXPECT_EQ(batch.size(), 1);
  EXPECT_EQ(batch.keys.size(), 2u);
  EXPECT_EQ(batch.dense.size(), 2u);
  EXPECT_EQ(batch.offsets.size(), 3u);
}

TEST(CsvParserTest, AnUnnamedColumnIsNamedByItsIndex) {
  CsvParser parser = MakeParser("column { role: LABEL } column { role: DENSE }");
  Batch batch;
  EXPECT_THAT(parser.ParseLine("1,x", &batch).message(), HasSubstr("column[1]: value 'x'"));
}

TEST(CsvParserTest, ValueLabelsForMseModels) {
  CsvParser parser = MakeParser(kSchema, LabelKind::kValue);
  Batch batch;
  ASSERT_TRUE(parser.ParseLine("3.5,1,a,,b,1", &batch).ok());
  EXPECT_EQ(batch.labels[0], 3.5f);
  CsvParser binary = MakeParser(kSchema);
  EXPECT_THAT(binary.ParseLine("3.5,1,a,,b,1", &batch).message(), HasSubstr("is not 0 or 1"));
}

TEST(CsvParserTest, SkipsTheFirstLineOnlyWithAHeader) {
  EXPECT_FALSE(MakeParser(kSchema).SkipsFirstLineOfFile());
  EXPECT_TRUE(MakeParser(std::string("header: true ") + kSchema).SkipsFirstLineOfFile());
}

}  // namespace
}  // namespace tessera::io
