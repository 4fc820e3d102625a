// Helpers for the io/ tests (and the checkpoint tests of scheduler/): a fresh temporary
// directory per test, files written plainly or gzip-compressed with zlib, where the
// shared sample data lives, and small checkpoints, full or incremental, on disk.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "io/checkpoint_chain.h"
#include "io/model_file.h"

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

// ---- Checkpoints ----

inline constexpr int kLinkDim = 2;          // sparse floats a row
inline constexpr int kLinkStateFloats = 2;  // optimizer state floats a row

// A row's weights in a link written as `version` (0: the full checkpoint); its state
// is all `version` (0: a row no update touched).
inline std::vector<float> RowOf(uint64_t key, int version) {
  return {static_cast<float>(key) + 0.5f * version, -static_cast<float>(version)};
}

// Writes checkpoint `root`/`name`: the rows of `keys` (as of `version`) spread over
// `servers` servers by key, with their state files; dense 6 floats in blocks of 4 (all
// `version`); on top of `base` ("" for a full checkpoint); global_step 10 x version.
inline void WriteLink(const std::string& root, const std::string& name, const std::string& base,
                      int version, const std::vector<uint64_t>& keys, int servers = 2) {
  const std::string dir = root + "/" + name;
  pb::ModelManifest manifest;
  manifest.set_format_version(kManifestFormatVersion);
  manifest.set_sparse_dim(kLinkDim);
  manifest.set_dense_size(6);
  manifest.set_is_checkpoint(true);
  manifest.set_global_step(10 * version);
  for (int s = 0; s < servers; ++s) {
    ShardContents shard, state;
    shard.server_index = state.server_index = s;
    shard.num_servers = state.num_servers = servers;
    shard.sparse_dim = kLinkDim;
    state.sparse_dim = kLinkStateFloats;
    shard.dense_block_floats = 4;
    shard.dense_size = 6;
    for (uint64_t k : keys) {
      if (k % servers != static_cast<uint64_t>(s)) continue;
      shard.keys.push_back(k);
      const std::vector<float> row = RowOf(k, version);
      shard.weights.insert(shard.weights.end(), row.begin(), row.end());
      state.weights.insert(state.weights.end(), kLinkStateFloats, static_cast<float>(version));
    }
    state.keys = shard.keys;
    for (uint64_t b = s; b < 2; b += servers) {
      shard.block_ids.push_back(b);
      shard.dense_values.insert(shard.dense_values.end(), DenseBlockFloats(6, 4, b),
                                static_cast<float>(version));
    }
    const std::string n = std::to_string(s);
    ASSERT_TRUE(WriteShard(dir + "/shard-" + n + ".tsr", shard, manifest.add_shards()).ok());
    ASSERT_TRUE(WriteShard(dir + "/state-" + n + ".tsr", state, manifest.add_state_shards()).ok());
  }
  if (!base.empty()) {
    ASSERT_TRUE(SetBase(root, base, &manifest).ok());
  }
  ASSERT_TRUE(WriteManifest(dir, manifest).ok());
}

}  // namespace tessera::io::testing
