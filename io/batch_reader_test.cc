#include "io/batch_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/hash.h"
#include "io/chunk.h"
#include "io/criteo.h"
#include "io/csv.h"
#include "io/io_test_util.h"
#include "proto/config.pb.h"

namespace tessera::io {
namespace {

using testing::GzipBytes;
using testing::MakeTempDir;
using testing::WriteFile;

// A valid Criteo line whose label is i % 2 and whose C1 is "u<i % 5>".
std::string CriteoLine(int i) {
  std::string line = std::to_string(i % 2);
  for (int d = 0; d < 13; ++d) line += "\t" + std::to_string(i + d);
  line += "\tu" + std::to_string(i % 5);
  for (int f = 1; f < 26; ++f) line += "\tc" + std::to_string(f);
  return line;
}

std::string CriteoText(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) text += CriteoLine(i) + "\n";
  return text;
}

// Reads a whole chunk; returns the batch sizes, or the first error.
StatusOr<std::vector<int64_t>> BatchSizes(BatchReader* reader) {
  std::vector<int64_t> sizes;
  Batch batch;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->NextBatch(&batch));
    if (!more) break;
    sizes.push_back(batch.size());
  }
  EXPECT_EQ(batch.size(), 0);
  return sizes;
}

TEST(BatchReaderTest, ReadsBatchesOfUpToBExamplesThenStops) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", CriteoText(25));
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.txt", 0, -1, 1}, &parser, 10);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto sizes = BatchSizes(reader->get());
  ASSERT_TRUE(sizes.ok()) << sizes.status().ToString();
  EXPECT_EQ(*sizes, (std::vector<int64_t>{10, 10, 5}));
  EXPECT_EQ((*reader)->examples(), 25);
  EXPECT_EQ((*reader)->bad_lines(), 0);
}

TEST(BatchReaderTest, BatchesComeDeduplicated) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", CriteoText(10));
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.txt", 0, -1, 1}, &parser, 10);
  ASSERT_TRUE(reader.ok());
  Batch batch;
  ASSERT_TRUE((*reader)->NextBatch(&batch).value());
  EXPECT_EQ(batch.unique_keys.size(), 5u + 25u);  // five C1 values, one value per other field
  ASSERT_EQ(batch.rows.size(), batch.keys.size());
  for (size_t i = 0; i < batch.keys.size(); ++i) {
    EXPECT_EQ(batch.unique_keys[batch.rows[i]], batch.keys[i]);
  }
}

TEST(BatchReaderTest, SkipsAndReportsAMalformedLineWithItsFileLine) {
  // The chunk starts at line 3 of the file; its third line (file line 5) is bad.
  const std::string dir = MakeTempDir();
  const std::string head = CriteoLine(0) + "\n" + CriteoLine(1) + "\n";
  std::string bad = CriteoLine(4);
  bad.replace(0, 1, "x");
  WriteFile(dir + "/a.txt",
            head + CriteoLine(2) + "\n" + CriteoLine(3) + "\n" + bad + "\n" + CriteoLine(5) + "\n");
  CriteoParser parser;
  auto reader = BatchReader::Open(
      ChunkSpec{dir + "/a.txt", static_cast<int64_t>(head.size()), -1, 3}, &parser, 100);
  ASSERT_TRUE(reader.ok());
  auto sizes = BatchSizes(reader->get());
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, std::vector<int64_t>{3});
  EXPECT_EQ((*reader)->examples(), 3);
  EXPECT_EQ((*reader)->bad_lines(), 1);
  EXPECT_EQ((*reader)->bad_line_messages(),
            std::vector<std::string>{dir + "/a.txt:5: label 'x' is not 0 or 1"});
}

TEST(BatchReaderTest, CountsEveryBadLineButKeepsTheFirstFewMessages) {
  const std::string dir = MakeTempDir();
  std::string text;
  for (int i = 0; i < 30; ++i) text += (i % 2 ? CriteoLine(i) : "short line") + "\n";
  WriteFile(dir + "/a.txt", text);
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.txt", 0, -1, 1}, &parser, 4);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(BatchSizes(reader->get()).ok());
  EXPECT_EQ((*reader)->examples(), 15);
  EXPECT_EQ((*reader)->bad_lines(), 15);
  ASSERT_EQ((*reader)->bad_line_messages().size(),
            static_cast<size_t>(BatchReader::kMaxReportedBadLines));
  EXPECT_EQ((*reader)->bad_line_messages()[1],
            dir + "/a.txt:3: expected 40 tab-separated fields, found 1");
}

TEST(BatchReaderTest, ATooLongLineIsABadLine) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt",
            CriteoLine(0) + "\n" + std::string((1 << 20) + 1, '1') + "\n" + CriteoLine(1) + "\r\n");
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.txt", 0, -1, 1}, &parser, 100);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(BatchSizes(reader->get()).ok());
  EXPECT_EQ((*reader)->examples(), 2);
  EXPECT_EQ((*reader)->bad_lines(), 1);
  EXPECT_EQ((*reader)->bad_line_messages(),
            std::vector<std::string>{dir + "/a.txt:2: line is longer than 1048576 bytes"});
}

TEST(BatchReaderTest, ReadsGzipWithMissingFieldsAndNegativeIntegers) {
  // label 0, I1 = -1, I2 = -2, I3 missing, I4..I13 = 5, C1 missing, C2..C26 = "c".
  std::string line = "0\t-1\t-2\t";
  for (int d = 3; d < 13; ++d) line += "\t5";
  line += "\t";
  for (int f = 1; f < 26; ++f) line += "\tc";
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.gz", GzipBytes(CriteoText(3) + line + "\r\n"));
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.gz", 0, -1, 1}, &parser, 100);
  ASSERT_TRUE(reader.ok());
  Batch batch;
  ASSERT_TRUE((*reader)->NextBatch(&batch).value());
  EXPECT_EQ((*reader)->bad_lines(), 0);
  ASSERT_EQ(batch.size(), 4);
  const float* dense = &batch.dense[3 * 13];
  EXPECT_EQ(dense[0], 0.0f);
  EXPECT_EQ(dense[1], 0.0f);
  EXPECT_EQ(dense[2], 0.0f);
  EXPECT_EQ(dense[3], static_cast<float>(std::log1p(5.0)));
  EXPECT_EQ(batch.keys[3 * 26 + 0], FeatureId(0, ""));
  EXPECT_EQ(batch.keys[3 * 26 + 25], FeatureId(25, "c"));
}

TEST(BatchReaderTest, ACorruptGzipIsAnErrorNotABadLine) {
  const std::string dir = MakeTempDir();
  std::string gz = GzipBytes(CriteoText(2000));
  WriteFile(dir + "/a.gz", gz.substr(0, gz.size() - 100));
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.gz", 0, -1, 1}, &parser, 256);
  ASSERT_TRUE(reader.ok());
  auto sizes = BatchSizes(reader->get());
  ASSERT_FALSE(sizes.ok());
  EXPECT_EQ(sizes.status().code(), Status::Code::kCorruption);
  EXPECT_EQ((*reader)->bad_lines(), 0);
}

// The real Criteo sample (DESIGN.md data), when the shared folder has it.
TEST(BatchReaderTest, ReadsTheCriteoSampleWithoutABadLine) {
  const std::string dir = testing::SharedDir() + "/data/criteo-sample";
  const std::string plain = dir + "/toy_train.first-10000.txt";
  const std::string gz = dir + "/toy_train.part-0.txt.gz";
  if (!testing::FileExists(plain) || !testing::FileExists(gz)) {
    GTEST_SKIP() << "no Criteo sample in " << dir;
  }
  struct Expected {
    std::string path;
    int64_t lines, positives;
  };
  for (const Expected& e : {Expected{plain, 10000, 2531}, Expected{gz, 34285, 8599}}) {
    SCOPED_TRACE(e.path);
    auto chunks = PlanChunks({e.path}, 512 << 10);
    ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
    int64_t examples = 0, positives = 0, next_line = 1;
    CriteoParser parser;
    for (const ChunkSpec& chunk : *chunks) {
      EXPECT_EQ(chunk.first_line, next_line);
      auto reader = BatchReader::Open(chunk, &parser, 1024);
      ASSERT_TRUE(reader.ok()) << reader.status().ToString();
      Batch batch;
      while ((*reader)->NextBatch(&batch).value()) {
        for (float label : batch.labels) positives += label == 1.0f;
      }
      EXPECT_EQ((*reader)->bad_lines(), 0);
      examples += (*reader)->examples();
      next_line += (*reader)->examples() + (*reader)->bad_lines();
    }
    EXPECT_EQ(examples, e.lines);
    EXPECT_EQ(positives, e.positives);
  }
}

// A CSV parser whose format has a header line: label, one categorical column.
CsvParser HeaderCsvParser() {
  pb::CsvSchema schema;
  schema.set_header(true);
  schema.add_column()->set_role(pb::CsvColumn::LABEL);
  schema.add_column()->set_role(pb::CsvColumn::CATEGORICAL);
  StatusOr<CsvOptions> options = CsvOptionsFromConfig(schema, LabelKind::kBinary);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return CsvParser(*options);
}

std::string CsvWithHeader(int lines) {
  std::string text = "label,city\n";
  for (int i = 0; i < lines; ++i) text += std::to_string(i % 2) + ",c" + std::to_string(i) + "\n";
  return text;
}

TEST(BatchReaderTest, SkipsAHeaderOnlyInTheChunkAtTheStartOfTheFile) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.csv", CsvWithHeader(3000));
  auto chunks = PlanChunks({dir + "/a.csv"}, 4096);
  ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
  ASSERT_GT(chunks->size(), 2u);
  int64_t examples = 0;
  for (const ChunkSpec& chunk : *chunks) {
    CsvParser parser = HeaderCsvParser();
    auto reader = BatchReader::Open(chunk, &parser, 100);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ASSERT_TRUE(BatchSizes(reader->get()).ok());
    EXPECT_EQ((*reader)->bad_lines(), 0) << chunk.offset;
    examples += (*reader)->examples();
  }
  EXPECT_EQ(examples, 3000);
}

TEST(BatchReaderTest, SkipsTheHeaderOfAGzipFile) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.csv.gz", GzipBytes(CsvWithHeader(10) + "x,bad\n"));
  CsvParser parser = HeaderCsvParser();
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.csv.gz", 0, -1, 1}, &parser, 100);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE(BatchSizes(reader->get()).ok());
  EXPECT_EQ((*reader)->examples(), 10);
  ASSERT_EQ((*reader)->bad_lines(), 1);
  // The header still counts as line 1 of the file.
  EXPECT_EQ((*reader)->bad_line_messages()[0].substr(0, (dir + "/a.csv.gz:12:").size()),
            dir + "/a.csv.gz:12:");
}

TEST(BatchReaderTest, KeepsTheFirstLineWhenTheFormatHasNoHeader) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", CriteoText(7));
  CriteoParser parser;
  auto reader = BatchReader::Open(ChunkSpec{dir + "/a.txt", 0, -1, 1}, &parser, 100);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(BatchSizes(reader->get()).ok());
  EXPECT_EQ((*reader)->examples(), 7);
}

}  // namespace
}  // namespace tessera::io
