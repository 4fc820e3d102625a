#include "io/chunk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ostream>
#include <string>
#include <vector>

#include "io/io_test_util.h"
#include "io/line_reader.h"

namespace tessera::io {
namespace {

using testing::GzipBytes;
using testing::MakeTempDir;
using testing::WriteFile;

// Lines of varied, deterministic lengths, each ending in '\n'.
std::string VariedText(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    text += "line" + std::to_string(i) + std::string((i * 37) % 91, 'x') + "\n";
  }
  return text;
}

struct NumberedLine {
  int64_t number;
  std::string text;
  bool operator==(const NumberedLine&) const = default;
};

void PrintTo(const NumberedLine& line, std::ostream* os) {
  *os << line.number << ": \"" << line.text.substr(0, 40) << "\" (" << line.text.size()
      << " bytes)";
}

std::vector<NumberedLine> SplitLines(const std::string& text) {
  std::vector<NumberedLine> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back({static_cast<int64_t>(lines.size()) + 1, text.substr(start, end - start)});
    start = end + 1;
  }
  return lines;
}

std::vector<NumberedLine> ReadChunks(const std::vector<ChunkSpec>& chunks) {
  std::vector<NumberedLine> lines;
  for (const ChunkSpec& chunk : chunks) {
    auto reader = LineReader::Open(chunk, /*max_line_bytes=*/8 << 20);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return lines;
    std::string_view line;
    while ((*reader)->Next(&line)) lines.push_back({(*reader)->line_number(), std::string(line)});
    EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status().ToString();
  }
  return lines;
}

// Chunks of one file: contiguous, covering it, each at least chunk_bytes but the last,
// each starting at a line start; read back they give every line once, rightly numbered.
void ExpectChunksCoverFile(const std::string& path, const std::string& text, int64_t chunk_bytes) {
  SCOPED_TRACE("chunk_bytes " + std::to_string(chunk_bytes));
  auto chunks = PlanChunks({path}, chunk_bytes);
  ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
  int64_t expected_offset = 0;
  for (size_t i = 0; i < chunks->size(); ++i) {
    const ChunkSpec& c = (*chunks)[i];
    EXPECT_EQ(c.path, path);
    EXPECT_EQ(c.offset, expected_offset);
    EXPECT_GT(c.length, 0);
    if (i + 1 < chunks->size()) {
      EXPECT_GE(c.length, chunk_bytes);
    }
    EXPECT_TRUE(c.offset == 0 || text[c.offset - 1] == '\n');
    expected_offset += c.length;
  }
  EXPECT_EQ(expected_offset, static_cast<int64_t>(text.size()));
  EXPECT_EQ(ReadChunks(*chunks), SplitLines(text));
}

TEST(PlanChunksTest, ChunksCoverEveryLineOnceWithTheirLineNumbers) {
  const std::string dir = MakeTempDir();
  const std::string text = VariedText(500);
  WriteFile(dir + "/data.txt", text);
  for (int64_t chunk_bytes : {1, 7, 100, 1000, 4096, 1 << 30}) {
    ExpectChunksCoverFile(dir + "/data.txt", text, chunk_bytes);
  }
}

TEST(PlanChunksTest, ChunkBytesLargerThanTheFileGiveOneChunk) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", "a\nb\n");
  auto chunks = PlanChunks({dir + "/a.txt"}, 1000);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 1u);
  EXPECT_EQ((*chunks)[0].offset, 0);
  EXPECT_EQ((*chunks)[0].length, 4);
  EXPECT_EQ((*chunks)[0].first_line, 1);
}

TEST(PlanChunksTest, ALastLineWithoutNewlineIsInTheLastChunk) {
  const std::string dir = MakeTempDir();
  const std::string text = VariedText(50) + "tail without newline";
  WriteFile(dir + "/data.txt", text);
  ExpectChunksCoverFile(dir + "/data.txt", text, 64);
}

TEST(PlanChunksTest, CutsAcrossLargeReadsAndVeryLongLines) {
  // Over 3 MiB, so the planner's 1 MiB reads split lines; one line of 1.5 MiB holds
  // several cut targets and crosses a read boundary.
  const std::string dir = MakeTempDir();
  std::string text = VariedText(20000);
  text.insert(text.size() / 3, std::string(3 << 19, 'L') + "\n");
  WriteFile(dir + "/big.txt", text);
  for (int64_t chunk_bytes : {1000, 250000, (1 << 20) - 1, (1 << 20) + 1}) {
    ExpectChunksCoverFile(dir + "/big.txt", text, chunk_bytes);
  }
}

TEST(PlanChunksTest, GzipIsRecognisedByItsMagicNotItsName) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/compressed.txt", GzipBytes(VariedText(100)));
  WriteFile(dir + "/plain.gz", VariedText(100));
  auto chunks = PlanChunks({dir + "/compressed.txt", dir + "/plain.gz"}, 100);
  ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
  ASSERT_GT(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].path, dir + "/compressed.txt");
  EXPECT_EQ((*chunks)[0].offset, 0);
  EXPECT_EQ((*chunks)[0].length, -1);
  EXPECT_EQ((*chunks)[0].first_line, 1);
  for (size_t i = 1; i < chunks->size(); ++i) {
    EXPECT_EQ((*chunks)[i].path, dir + "/plain.gz");
    EXPECT_GT((*chunks)[i].length, 0);
  }
}

TEST(PlanChunksTest, FilesAreChunkedInOrderAndEmptyFilesGiveNoChunks) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.txt", "1\n2\n3\n");
  WriteFile(dir + "/empty.txt", "");
  WriteFile(dir + "/b.txt", "4\n5\n");
  auto chunks = PlanChunks({dir + "/a.txt", dir + "/empty.txt", dir + "/b.txt"}, 4);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_EQ((*chunks)[0].path, dir + "/a.txt");
  EXPECT_EQ((*chunks)[1].path, dir + "/a.txt");
  EXPECT_EQ((*chunks)[1].first_line, 3);
  EXPECT_EQ((*chunks)[2].path, dir + "/b.txt");
  EXPECT_EQ((*chunks)[2].first_line, 1);
}

TEST(PlanChunksTest, AMissingFileIsNotFoundAndNamed) {
  const std::string dir = MakeTempDir();
  auto chunks = PlanChunks({dir + "/nope.txt"}, 100);
  ASSERT_FALSE(chunks.ok());
  EXPECT_EQ(chunks.status().code(), Status::Code::kNotFound);
  EXPECT_NE(chunks.status().message().find(dir + "/nope.txt"), std::string::npos);
}

TEST(PlanChunksTest, ADirectoryIsAnIOErrorNamingIt) {
  const std::string dir = MakeTempDir();
  auto chunks = PlanChunks({dir}, 100);
  ASSERT_FALSE(chunks.ok());
  EXPECT_EQ(chunks.status().code(), Status::Code::kIOError);
  EXPECT_NE(chunks.status().message().find(dir), std::string::npos);
}

TEST(PlanChunksTest, ChunkBytesMustBePositive) {
  auto chunks = PlanChunks({}, 0);
  EXPECT_EQ(chunks.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::io
