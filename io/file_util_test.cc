#include "io/file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "io/io_test_util.h"

namespace tessera::io {
namespace {

using testing::MakeTempDir;

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

TEST(FileUtilTest, WriteFileAtomicallyReplacesContents) {
  const std::string path = MakeTempDir() + "/f";
  ASSERT_TRUE(WriteFileAtomically(path, "first version").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  StatusOr<std::string> read = ReadFileToString(path, 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "second");
}

TEST(FileUtilTest, UncommittedWriterLeavesNothingBehind) {
  const std::string dir = MakeTempDir();
  {
    StatusOr<AtomicFileWriter> writer = AtomicFileWriter::Create(dir + "/f");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->Append("partial").ok());
    EXPECT_FALSE(Exists(dir + "/f"));
  }
  EXPECT_FALSE(Exists(dir + "/f"));
  EXPECT_FALSE(Exists(dir + "/f.tmp-" + std::to_string(getpid())));
}

TEST(FileUtilTest, CreateInMissingDirectoryNamesThePath) {
  const std::string path = MakeTempDir() + "/no/such/dir/f";
  Status s = WriteFileAtomically(path, "x");
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
}

TEST(FileUtilTest, ReadRefusesFilesOverTheLimit) {
  const std::string path = MakeTempDir() + "/f";
  ASSERT_TRUE(WriteFileAtomically(path, "0123456789").ok());
  EXPECT_EQ(ReadFileToString(path, 9).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(ReadFileToString(path, 10).ok());
}

TEST(FileUtilTest, CreateDirectoriesMakesParentsAndAcceptsExisting) {
  const std::string dir = MakeTempDir() + "/a/b/c";
  ASSERT_TRUE(CreateDirectories(dir).ok());
  EXPECT_TRUE(Exists(dir));
  EXPECT_TRUE(CreateDirectories(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/file", "x").ok());
  EXPECT_FALSE(CreateDirectories(dir + "/file").ok());
}

}  // namespace
}  // namespace tessera::io
