// Helpers for the io/ tests only: a fresh temporary directory per test, files written
// plainly or gzip-compressed with zlib, and where the shared sample data lives.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::io::testing {

// A new empty directory under the test temp dir, distinct for every call.
inline std::string MakeTempDir() {
  std::string templ = ::testing::TempDir();
  if (templ.empty() || templ.back() != '/') templ += '/';
  templ += "tessera_io_XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const char* dir = mkdtemp(buf.data());
  EXPECT_NE(dir, nullptr) << "mkdtemp " << templ;
  return dir ? std::string(dir) : ::testing::TempDir();
}

inline void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << "writing " << path;
}

// One complete gzip member holding `text`.
inline std::string GzipBytes(std::string_view text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The shared folder (DESIGN.md data): $TESSERA_SHARED_DIR, else ../shared beside the
// source root, else /work/shared.
inline std::string SharedDir() {
  if (const char* env = std::getenv("TESSERA_SHARED_DIR")) return env;
  std::string file = __FILE__;  // <root>/io/io_test_util.h
  std::string root = file.substr(0, file.rfind('/'));
  root = root.substr(0, root.rfind('/'));
  const std::string beside = root + "/../shared";
  struct stat st;
  if (stat(beside.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return beside;
  return "/work/shared";
}

inline bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace tessera::io::testing
