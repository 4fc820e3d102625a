#include "io/line_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::GzipBytes;
using testing::MakeTempDir;
using testing::WriteFile;

struct ReadResult {
  std::vector<std::string> lines;  // "<number>:<text>", or "<number>:!" for a too-long line
  Status status;
};

ReadResult ReadAll(const ChunkSpec& chunk,
                   int64_t max_line_bytes = LineReader::kDefaultMaxLineBytes) {
  ReadResult result;
  auto reader = LineReader::Open(chunk, max_line_bytes);
  if (!reader.ok()) {
    result.status = reader.status();
    return result;
  }
  std::string_view line;
  while ((*reader)->Next(&line)) {
    std::string text = (*reader)->line_status().ok() ? std::string(line) : "!";
    result.lines.push_back(std::to_string((*reader)->line_number()) + ":" + text);
  }
  result.status = (*reader)->status();
  return result;
}

ReadResult ReadFile(const std::string& path, std::string_view contents,
                    int64_t max_line_bytes = LineReader::kDefaultMaxLineBytes) {
  WriteFile(path, contents);
  return ReadAll(ChunkSpec{path, 0, -1, 1}, max_line_bytes);
}

using Lines = std::vector<std::string>;

TEST(LineReaderTest, SplitsLinesAndKeepsEmptyOnes) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadFile(dir + "/a.txt", "alpha\n\nbeta\n");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.lines, (Lines{"1:alpha", "2:", "3:beta"}));
}

TEST(LineReaderTest, StripsCarriageReturnsOfCrlfLines) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadFile(dir + "/a.txt", "alpha\r\nbe\rta\r\n\r\n");
  EXPECT_EQ(r.lines, (Lines{"1:alpha", "2:be\rta", "3:"}));
}

TEST(LineReaderTest, ALastLineWithoutNewlineIsALine) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadFile(dir + "/a.txt", "alpha\nomega\r");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.lines, (Lines{"1:alpha", "2:omega"}));
}

TEST(LineReaderTest, AnEmptyFileHasNoLines) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadFile(dir + "/a.txt", "");
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(r.lines.empty());
}

TEST(LineReaderTest, ReadsOnlyItsByteRangeAndNumbersFromItsFirstLine) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", "l1\nl2\nl3\nl4\nl5\n");
  ReadResult r = ReadAll(ChunkSpec{dir + "/a.txt", 6, 6, 3});
  EXPECT_EQ(r.lines, (Lines{"3:l3", "4:l4"}));
  r = ReadAll(ChunkSpec{dir + "/a.txt", 9, -1, 4});
  EXPECT_EQ(r.lines, (Lines{"4:l4", "5:l5"}));
}

TEST(LineReaderTest, ReadsLinesLongerThanOneRead) {
  // Lines that straddle the reader's 1 MiB reads come back whole.
  const std::string dir = MakeTempDir();
  std::string contents;
  Lines expected;
  for (int i = 0; i < 40; ++i) {
    std::string line(100000 + i * 1000, static_cast<char>('a' + i % 26));
    contents += line + "\n";
    expected.push_back(std::to_string(i + 1) + ":" + line);
  }
  ReadResult r = ReadFile(dir + "/a.txt", contents);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.lines, expected);
}

TEST(LineReaderTest, ReportsATooLongLineAndGoesOn) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadFile(dir + "/a.txt",
                          "0123456789\n"    // exactly the limit
                          "0123456789\r\n"  // the limit and a CR
                          "0123456789A\n"   // one byte over
                          "after\n" +
                              std::string(3 << 20, 'x') +  // over, and longer than the buffer
                              "\nlast\n" + std::string(50, 'y'),  // over, at the end, no '\n'
                          /*max_line_bytes=*/10);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.lines,
            (Lines{"1:0123456789", "2:0123456789", "3:!", "4:after", "5:!", "6:last", "7:!"}));
}

TEST(LineReaderTest, TheDefaultLimitIsOneMebibyte) {
  const std::string dir = MakeTempDir();
  ReadResult r =
      ReadFile(dir + "/a.txt", std::string(1 << 20, 'a') + "\n" + std::string((1 << 20) + 1, 'b'));
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].size(), (1u << 20) + 2);
  EXPECT_EQ(r.lines[1], "2:!");
}

TEST(LineReaderTest, ReadsGzip) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadFile(dir + "/a.gz", GzipBytes("alpha\r\nbeta\ngamma"));
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.lines, (Lines{"1:alpha", "2:beta", "3:gamma"}));
}

TEST(LineReaderTest, ReadsMultiMemberGzipAsOneStream) {
  const std::string dir = MakeTempDir();
  ReadResult r =
      ReadFile(dir + "/a.gz", GzipBytes("alpha\nbe") + GzipBytes("ta\n") + GzipBytes("gamma\n"));
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.lines, (Lines{"1:alpha", "2:beta", "3:gamma"}));
}

// Text that compresses poorly, so that damage lands in the middle of the stream.
std::string NoisyText() {
  std::string text;
  uint64_t x = 12345;
  for (int line = 0; line < 2000; ++line) {
    for (int i = 0; i < 60; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      text += static_cast<char>('a' + (x >> 59));
    }
    text += '\n';
  }
  return text;
}

TEST(LineReaderTest, ATruncatedGzipIsCorruptionNamingTheFile) {
  const std::string dir = MakeTempDir();
  std::string gz = GzipBytes(NoisyText());
  ReadResult r = ReadFile(dir + "/cut.gz", gz.substr(0, gz.size() / 2));
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption) << r.status.ToString();
  EXPECT_NE(r.status.message().find(dir + "/cut.gz"), std::string::npos);
  EXPECT_LT(r.lines.size(), 2000u);
}

TEST(LineReaderTest, ACorruptGzipIsCorruptionNamingTheFile) {
  const std::string dir = MakeTempDir();
  std::string gz = GzipBytes(NoisyText());
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 64; ++i) gz[i] = static_cast<char>(~gz[i]);
  ReadResult r = ReadFile(dir + "/bad.gz", gz);
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption) << r.status.ToString();
  EXPECT_NE(r.status.message().find(dir + "/bad.gz"), std::string::npos);
}

TEST(LineReaderTest, AGzipFileCannotBeEnteredInTheMiddle) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.gz", GzipBytes("alpha\nbeta\n"));
  ReadResult r = ReadAll(ChunkSpec{dir + "/a.gz", 5, -1, 2});
  EXPECT_EQ(r.status.code(), Status::Code::kInvalidArgument);
}

TEST(LineReaderTest, AMissingFileIsNotFoundAndNamed) {
  const std::string dir = MakeTempDir();
  ReadResult r = ReadAll(ChunkSpec{dir + "/nope.txt", 0, -1, 1});
  EXPECT_EQ(r.status.code(), Status::Code::kNotFound);
  EXPECT_NE(r.status.message().find(dir + "/nope.txt"), std::string::npos);
}

TEST(LineReaderTest, RejectsAMalformedSpec) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", "a\n");
  EXPECT_EQ(ReadAll(ChunkSpec{dir + "/a.txt", -1, -1, 1}).status.code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ReadAll(ChunkSpec{dir + "/a.txt", 0, -1, 0}).status.code(),
            Status::Code::kInvalidArgument);
}

// The gzip part of the Criteo sample begins with the same 10,000 lines as the plain
// file, when the shared folder has them.
TEST(LineReaderTest, TheGzipSampleStartsWithThePlainSample) {
  const std::string dir = testing::SharedDir() + "/data/criteo-sample";
  const std::string plain = dir + "/toy_train.first-10000.txt";
  const std::string gz = dir + "/toy_train.part-0.txt.gz";
  if (!testing::FileExists(plain) || !testing::FileExists(gz)) {
    GTEST_SKIP() << "no Criteo sample in " << dir;
  }
  auto plain_reader = LineReader::Open(ChunkSpec{plain, 0, -1, 1});
  auto gz_reader = LineReader::Open(ChunkSpec{gz, 0, -1, 1});
  ASSERT_TRUE(plain_reader.ok() && gz_reader.ok());
  std::string_view a, b;
  int64_t lines = 0;
  while ((*plain_reader)->Next(&a)) {
    ASSERT_TRUE((*gz_reader)->Next(&b));
    ASSERT_EQ(a, b) << "line " << (*plain_reader)->line_number();
    ++lines;
  }
  EXPECT_EQ(lines, 10000);
  while ((*gz_reader)->Next(&b)) ++lines;
  EXPECT_TRUE((*gz_reader)->status().ok()) << (*gz_reader)->status().ToString();
  EXPECT_EQ(lines, 34285);
}

}  // namespace
}  // namespace tessera::io
