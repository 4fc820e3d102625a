#include "io/model_file.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <queue>

#include "io/checkpoint_chain.h"
#include "io/file_util.h"
#include "io/row_encoding.h"

namespace tessera::io {

// The arrays are written and read as raw bytes.
static_assert(std::endian::native == std::endian::little, "shard files are little-endian");

namespace {

constexpr size_t kPreambleBytes = sizeof(kShardMagic) + 2 * sizeof(uint32_t);
constexpr size_t kTrailerBytes = sizeof(uint64_t);
constexpr int kMaxSparseDim = 1 << 16;
constexpr uint64_t kMaxShardBytes = uint64_t{1} << 40;
constexpr uint64_t kMaxManifestBytes = uint64_t{64} << 20;

uint64_t NumDenseBlocks(int64_t dense_size, int block_floats) {
  if (dense_size <= 0 || block_floats <= 0) return 0;
  return static_cast<uint64_t>((dense_size + block_floats - 1) / block_floats);
}

// ---- Writing ----

Status CheckShard(const std::string& path, const ShardContents& shard) {
  auto invalid = [&](const std::string& what) {
    return Status::InvalidArgument("shard " + path + ": " + what);
  };
  if (shard.sparse_dim < 0 || shard.sparse_dim > kMaxSparseDim) return invalid("bad sparse_dim");
  if (!pb::SparseEncoding_IsValid(shard.encoding)) return invalid("unknown sparse encoding");
  if (shard.weights.size() != shard.keys.size() * static_cast<size_t>(shard.sparse_dim)) {
    return invalid("weights are not keys x sparse_dim floats");
  }
  if (shard.dense_size < 0 || (shard.dense_size > 0 && shard.dense_block_floats <= 0)) {
    return invalid("bad dense_size or dense_block_floats");
  }
  if (shard.encoding == pb::SPARSE_INT8) {
    for (size_t i = 0; i < shard.weights.size(); ++i) {
      if (!std::isfinite(shard.weights[i])) {
        return invalid("row of key " + std::to_string(shard.keys[i / shard.sparse_dim]) +
                       " is not finite: int8 cannot encode it");
      }
    }
  }
  const uint64_t blocks = NumDenseBlocks(shard.dense_size, shard.dense_block_floats);
  int64_t dense_floats = 0;
  for (uint64_t b : shard.block_ids) {
    if (b >= blocks) return invalid("dense block " + std::to_string(b) + " out of range");
    dense_floats += DenseBlockFloats(shard.dense_size, shard.dense_block_floats, b);
  }
  if (static_cast<size_t>(dense_floats) != shard.dense_values.size()) {
    return invalid("dense_values do not hold the blocks' floats");
  }
  return Status::OK();
}

// Indices of `ids` in ascending id order; InvalidArgument naming `what` on a repeat.
StatusOr<std::vector<size_t>> AscendingOrder(const std::vector<uint64_t>& ids,
                                             const std::string& what) {
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (!std::is_sorted(ids.begin(), ids.end())) {
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  }
  for (size_t i = 1; i < order.size(); ++i) {
    if (ids[order[i]] == ids[order[i - 1]]) {
      return Status::InvalidArgument(what + " " + std::to_string(ids[order[i]]) + " repeats");
    }
  }
  return order;
}

template <typename T>
void AppendRaw(std::string* out, const T* data, size_t count) {
  out->append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

void AppendSparse(const ShardContents& shard, const std::vector<size_t>& order, std::string* out) {
  for (size_t i : order) AppendRaw(out, &shard.keys[i], 1);
  AppendEncodedRows(shard.encoding, shard.sparse_dim, shard.weights, order, out);
}

void AppendDense(const ShardContents& shard, const std::vector<size_t>& order, std::string* out) {
  // Where each block's floats start in dense_values (which follow block_ids' order).
  std::vector<size_t> start(shard.block_ids.size());
  size_t offset = 0;
  for (size_t i = 0; i < shard.block_ids.size(); ++i) {
    start[i] = offset;
    offset += DenseBlockFloats(shard.dense_size, shard.dense_block_floats, shard.block_ids[i]);
  }
  for (size_t i : order) AppendRaw(out, &shard.block_ids[i], 1);
  for (size_t i : order) {
    const int64_t n =
        DenseBlockFloats(shard.dense_size, shard.dense_block_floats, shard.block_ids[i]);
    AppendRaw(out, shard.dense_values.data() + start[i], static_cast<size_t>(n));
  }
}

std::string SerializeHeader(const ShardContents& shard) {
  pb::ShardHeader header;
  header.set_server_index(shard.server_index);
  header.set_num_servers(shard.num_servers);
  header.set_sparse_dim(shard.sparse_dim);
  header.set_sparse_rows(shard.keys.size());
  header.set_dense_block_floats(shard.dense_block_floats);
  header.set_dense_blocks(shard.block_ids.size());
  header.set_dense_size(shard.dense_size);
  if (shard.encoding != pb::SPARSE_FP32) header.set_sparse_encoding(shard.encoding);
  return header.SerializeAsString();
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// ---- Reading ----

// A shard file read and checked, with what the manifest records about it.
struct ParsedShard {
  ShardContents contents;
  uint64_t bytes = 0;
  uint64_t xxh64 = 0;
};

// Reads fixed-size arrays off the front of a byte range whose length was checked.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  std::string_view Take(size_t bytes) {
    std::string_view taken = bytes_.substr(0, bytes);
    bytes_.remove_prefix(bytes);
    return taken;
  }
  template <typename T>
  void Read(size_t count, std::vector<T>* out) {
    out->resize(count);
    std::memcpy(out->data(), bytes_.data(), count * sizeof(T));
    bytes_.remove_prefix(count * sizeof(T));
  }
  std::string_view rest() const { return bytes_; }

 private:
  std::string_view bytes_;
};

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t LoadU64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// a * b + c, or false on overflow.
bool MulAdd(uint64_t a, uint64_t b, uint64_t c, uint64_t* out) {
  uint64_t product;
  return !__builtin_mul_overflow(a, b, &product) && !__builtin_add_overflow(product, c, out);
}

Status CheckHeader(const pb::ShardHeader& h) {
  if (h.num_servers() < 1 || h.server_index() < 0 || h.server_index() >= h.num_servers()) {
    return Status::Corruption("server " + std::to_string(h.server_index()) + " of " +
                              std::to_string(h.num_servers()) + " in the header");
  }
  if (h.sparse_dim() < 0 || h.sparse_dim() > kMaxSparseDim) {
    return Status::Corruption("sparse_dim " + std::to_string(h.sparse_dim()) + " in the header");
  }
  if (h.dense_size() < 0 || (h.dense_size() > 0 && h.dense_block_floats() <= 0) ||
      h.dense_blocks() > NumDenseBlocks(h.dense_size(), h.dense_block_floats())) {
    return Status::Corruption("dense_size " + std::to_string(h.dense_size()) + ", " +
                              std::to_string(h.dense_blocks()) + " blocks of " +
                              std::to_string(h.dense_block_floats()) + " in the header");
  }
  return Status::OK();
}

// Parses the preamble and the header; leaves `*body` at the sparse keys.
Status ParsePreamble(std::string_view file, pb::ShardHeader* header, std::string_view* body) {
  if (file.size() < kPreambleBytes + kTrailerBytes) {
    return Status::Corruption("truncated: only " + std::to_string(file.size()) + " bytes");
  }
  if (std::memcmp(file.data(), kShardMagic, sizeof(kShardMagic)) != 0) {
    return Status::Corruption("not a shard file (wrong magic)");
  }
  const uint32_t version = LoadU32(file.data() + sizeof(kShardMagic));
  if (version != kShardFormatVersion && version != kShardFormatVersionEncoded) {
    return Status::Corruption("unknown format version " + std::to_string(version) +
                              " (this build reads versions " + std::to_string(kShardFormatVersion) +
                              " and " + std::to_string(kShardFormatVersionEncoded) + ")");
  }
  const uint32_t header_bytes = LoadU32(file.data() + sizeof(kShardMagic) + sizeof(uint32_t));
  if (header_bytes > file.size() - kPreambleBytes - kTrailerBytes) {
    return Status::Corruption("truncated: header of " + std::to_string(header_bytes) +
                              " bytes does not fit in the file");
  }
  if (!header->ParseFromArray(file.data() + kPreambleBytes, static_cast<int>(header_bytes))) {
    return Status::Corruption("unreadable shard header");
  }
  RETURN_IF_ERROR(CheckHeader(*header));
  if (version == kShardFormatVersion && header->sparse_encoding() != pb::SPARSE_FP32) {
    return Status::Corruption("format version 1 with a sparse encoding in the header");
  }
  *body = file.substr(kPreambleBytes + header_bytes);
  return Status::OK();
}

// Block ids must be known to size the dense values; everything is checked against the
// bytes present before any allocation.
Status ParseArrays(const pb::ShardHeader& h, std::string_view body, ShardContents* shard) {
  const uint64_t rows = h.sparse_rows(), blocks = h.dense_blocks();
  const uint64_t row_bytes =
      sizeof(uint64_t) + EncodedRowBytes(h.sparse_encoding(), h.sparse_dim());
  uint64_t fixed_bytes = 0;
  if (!MulAdd(rows, row_bytes, kTrailerBytes, &fixed_bytes) ||
      !MulAdd(blocks, sizeof(uint64_t), fixed_bytes, &fixed_bytes) || fixed_bytes > body.size()) {
    return Status::Corruption("truncated: the header promises " + std::to_string(rows) +
                              " rows and " + std::to_string(blocks) + " dense blocks");
  }
  Cursor cursor(body);
  cursor.Read(rows, &shard->keys);
  RETURN_IF_ERROR(DecodeRows(h.sparse_encoding(), h.sparse_dim(), rows,
                             cursor.Take(rows * (row_bytes - sizeof(uint64_t))), &shard->weights));
  cursor.Read(blocks, &shard->block_ids);
  uint64_t dense_floats = 0;
  const uint64_t limit = NumDenseBlocks(h.dense_size(), h.dense_block_floats());
  for (uint64_t b : shard->block_ids) {
    if (b >= limit)
      return Status::Corruption("dense block id " + std::to_string(b) + " out of range");
    dense_floats += DenseBlockFloats(h.dense_size(), h.dense_block_floats(), b);
  }
  const uint64_t left = cursor.rest().size() - kTrailerBytes;
  if (dense_floats * sizeof(float) != left) {
    return Status::Corruption(left < dense_floats * sizeof(float)
                                  ? "truncated: dense values are cut short"
                                  : std::to_string(left - dense_floats * sizeof(float)) +
                                        " bytes too many before the checksum");
  }
  cursor.Read(dense_floats, &shard->dense_values);
  return Status::OK();
}

Status CheckAscending(const std::vector<uint64_t>& ids, const char* what) {
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) return Status::Corruption(std::string(what) + " not ascending");
  }
  return Status::OK();
}

StatusOr<ParsedShard> ParseShard(std::string_view file) {
  pb::ShardHeader header;
  std::string_view body;
  RETURN_IF_ERROR(ParsePreamble(file, &header, &body));
  ParsedShard parsed;
  RETURN_IF_ERROR(ParseArrays(header, body, &parsed.contents));
  const uint64_t stored = LoadU64(file.data() + file.size() - kTrailerBytes);
  const uint64_t computed = XXH64(file.data(), file.size() - kTrailerBytes, 0);
  if (stored != computed) {
    return Status::Corruption("checksum mismatch: the file says " + Xxh64Hex(stored) +
                              ", its bytes hash to " + Xxh64Hex(computed));
  }
  RETURN_IF_ERROR(CheckAscending(parsed.contents.keys, "sparse keys"));
  RETURN_IF_ERROR(CheckAscending(parsed.contents.block_ids, "dense block ids"));
  ShardContents& c = parsed.contents;
  c.server_index = header.server_index();
  c.num_servers = header.num_servers();
  c.sparse_dim = header.sparse_dim();
  c.dense_block_floats = header.dense_block_floats();
  c.dense_size = header.dense_size();
  c.encoding = header.sparse_encoding();
  parsed.bytes = file.size();
  parsed.xxh64 = computed;
  return parsed;
}

StatusOr<ParsedShard> ReadShardFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string file, ReadFileToString(path, kMaxShardBytes));
  StatusOr<ParsedShard> parsed = ParseShard(file);
  if (!parsed.ok()) return parsed.status().WithContext("shard " + path);
  return parsed;
}

}  // namespace

int64_t DenseBlockFloats(int64_t dense_size, int block_floats, uint64_t block) {
  const int64_t begin = static_cast<int64_t>(block) * block_floats;
  return std::max<int64_t>(0, std::min<int64_t>(block_floats, dense_size - begin));
}

std::string Xxh64Hex(uint64_t hash) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

Status WriteShard(const std::string& path, const ShardContents& shard, pb::ShardFileInfo* info) {
  RETURN_IF_ERROR(CheckShard(path, shard));
  ASSIGN_OR_RETURN(std::vector<size_t> row_order, AscendingOrder(shard.keys, "sparse key"));
  ASSIGN_OR_RETURN(std::vector<size_t> block_order, AscendingOrder(shard.block_ids, "dense block"));
  const std::string header = SerializeHeader(shard);
  std::string file;
  file.reserve(kPreambleBytes + header.size() + shard.keys.size() * 8 + shard.weights.size() * 4 +
               shard.block_ids.size() * 8 + shard.dense_values.size() * 4 + kTrailerBytes);
  file.append(kShardMagic, sizeof(kShardMagic));
  const uint32_t version =
      shard.encoding == pb::SPARSE_FP32 ? kShardFormatVersion : kShardFormatVersionEncoded;
  const uint32_t preamble[2] = {version, static_cast<uint32_t>(header.size())};
  AppendRaw(&file, preamble, 2);
  file += header;
  AppendSparse(shard, row_order, &file);
  AppendDense(shard, block_order, &file);
  const uint64_t hash = XXH64(file.data(), file.size(), 0);
  AppendRaw(&file, &hash, 1);
  RETURN_IF_ERROR(CreateDirectories(DirectoryOf(path)));
  RETURN_IF_ERROR(WriteFileAtomically(path, file));
  info->set_file(BaseName(path));
  info->set_bytes(file.size());
  info->set_xxh64(Xxh64Hex(hash));
  info->set_sparse_rows(shard.keys.size());
  info->set_dense_blocks(shard.block_ids.size());
  return Status::OK();
}

StatusOr<ShardContents> ReadShard(const std::string& path) {
  ASSIGN_OR_RETURN(ParsedShard parsed, ReadShardFile(path));
  return std::move(parsed.contents);
}

namespace {

Status CheckListed(const std::string& path, const ParsedShard& parsed,
                   const pb::ShardFileInfo& info) {
  if (parsed.bytes != info.bytes() || Xxh64Hex(parsed.xxh64) != info.xxh64()) {
    return Status::Corruption(path + ": " + std::to_string(parsed.bytes) + " bytes, xxh64 " +
                              Xxh64Hex(parsed.xxh64) + "; the MANIFEST says " +
                              std::to_string(info.bytes()) + " bytes, xxh64 " + info.xxh64());
  }
  return Status::OK();
}

}  // namespace

Status VerifyShardFile(const std::string& path, const pb::ShardFileInfo& info) {
  ASSIGN_OR_RETURN(ParsedShard parsed, ReadShardFile(path));
  return CheckListed(path, parsed, info);
}

StatusOr<ShardContents> ReadListedShard(const std::string& dir, const pb::ShardFileInfo& info) {
  if (info.file().empty() || info.file().find('/') != std::string::npos) {
    return Status::Corruption(dir + "/MANIFEST lists a bad file name '" + info.file() + "'");
  }
  const std::string path = dir + "/" + info.file();
  ASSIGN_OR_RETURN(ParsedShard parsed, ReadShardFile(path));
  RETURN_IF_ERROR(CheckListed(path, parsed, info));
  return std::move(parsed.contents);
}

// ---- Manifest ----

namespace {

// Keeps the first error of a text-format parse, with its position.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error_.empty()) return;
    error_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " +
             message;
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

Status WriteManifest(const std::string& dir, const pb::ModelManifest& manifest) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(manifest, &text)) {
    return Status::Internal("cannot print the manifest of " + dir);
  }
  RETURN_IF_ERROR(CreateDirectories(dir));
  return WriteFileAtomically(dir + "/" + kManifestName, text);
}

StatusOr<pb::ModelManifest> ReadManifest(const std::string& dir) {
  const std::string path = dir + "/" + kManifestName;
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxManifestBytes));
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  pb::ModelManifest manifest;
  if (!parser.ParseFromString(text, &manifest)) {
    return Status::Corruption(path + ": " + errors.error());
  }
  return manifest;
}

// ---- Loading a model ----

namespace {

Status CheckAgainstManifest(const std::string& path, const pb::ShardFileInfo& info,
                            const pb::ModelManifest& manifest, const ParsedShard& shard) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("shard " + path + ": " + what);
  };
  if (shard.bytes != info.bytes()) {
    return corrupt(std::to_string(shard.bytes) + " bytes, MANIFEST says " +
                   std::to_string(info.bytes()));
  }
  if (Xxh64Hex(shard.xxh64) != info.xxh64()) {
    return corrupt("xxh64 " + Xxh64Hex(shard.xxh64) + ", MANIFEST says " + info.xxh64());
  }
  const ShardContents& c = shard.contents;
  if (c.sparse_dim != manifest.sparse_dim() || c.dense_size != manifest.dense_size() ||
      c.num_servers != manifest.shards_size()) {
    return corrupt("sparse_dim, dense_size or server count differs from MANIFEST");
  }
  return Status::OK();
}

// Reads every shard the manifest lists, in manifest order.
StatusOr<std::vector<ShardContents>> ReadShards(const std::string& dir,
                                                const pb::ModelManifest& manifest) {
  std::vector<ShardContents> shards;
  std::vector<bool> seen(manifest.shards_size(), false);
  for (const pb::ShardFileInfo& info : manifest.shards()) {
    if (info.file().empty() || info.file().find('/') != std::string::npos) {
      return Status::Corruption(dir + "/MANIFEST: shard file name '" + info.file() +
                                "' is not a plain file name");
    }
    const std::string path = dir + "/" + info.file();
    ASSIGN_OR_RETURN(ParsedShard parsed, ReadShardFile(path));
    RETURN_IF_ERROR(CheckAgainstManifest(path, info, manifest, parsed));
    const int index = parsed.contents.server_index;
    if (seen[index]) return Status::Corruption("shard " + path + ": server index repeats");
    seen[index] = true;
    shards.push_back(std::move(parsed.contents));
  }
  return shards;
}

// One sorted key array and its rows from the shards' sorted arrays (a k-way merge).
Status MergeSparse(const std::vector<ShardContents>& shards, int dim, std::vector<uint64_t>* keys,
                   std::vector<float>* weights) {
  size_t total = 0;
  for (const ShardContents& s : shards) total += s.keys.size();
  keys->reserve(total);
  weights->reserve(total * dim);
  using Head = std::pair<uint64_t, size_t>;  // (key, shard)
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  std::vector<size_t> next(shards.size(), 0);
  for (size_t s = 0; s < shards.size(); ++s) {
    if (!shards[s].keys.empty()) heads.emplace(shards[s].keys[0], s);
  }
  while (!heads.empty()) {
    auto [key, s] = heads.top();
    heads.pop();
    if (!keys->empty() && keys->back() == key) {
      return Status::Corruption("sparse key " + std::to_string(key) + " is in two shards");
    }
    keys->push_back(key);
    const float* row = shards[s].weights.data() + next[s] * dim;
    weights->insert(weights->end(), row, row + dim);
    if (++next[s] < shards[s].keys.size()) heads.emplace(shards[s].keys[next[s]], s);
  }
  return Status::OK();
}

// The dense model from the shards' blocks: each block exactly once.
Status MergeDense(const std::vector<ShardContents>& shards, int64_t dense_size,
                  std::vector<float>* dense) {
  const int block_floats = shards.empty() ? 0 : shards[0].dense_block_floats;
  std::vector<bool> present(NumDenseBlocks(dense_size, block_floats), false);
  dense->assign(static_cast<size_t>(dense_size), 0.0f);
  for (const ShardContents& s : shards) {
    if (s.dense_block_floats != block_floats && dense_size > 0) {
      return Status::Corruption("shards disagree on dense_block_floats");
    }
    const float* values = s.dense_values.data();
    for (uint64_t b : s.block_ids) {
      if (present[b]) return Status::Corruption("dense block " + std::to_string(b) + " twice");
      present[b] = true;
      const int64_t n = DenseBlockFloats(dense_size, block_floats, b);
      std::copy(values, values + n, dense->begin() + static_cast<int64_t>(b) * block_floats);
      values += n;
    }
  }
  for (size_t b = 0; b < present.size(); ++b) {
    if (!present[b]) return Status::Corruption("dense block " + std::to_string(b) + " missing");
  }
  return Status::OK();
}

}  // namespace

const float* LoadedModel::FindSparseRow(uint64_t key) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
  if (it == keys_.end() || *it != key) return nullptr;
  return weights_.data() + (it - keys_.begin()) * sparse_dim_;
}

StatusOr<LoadedModel> LoadModel(const std::string& dir) {
  LoadedModel model;
  ASSIGN_OR_RETURN(std::vector<ChainLink> chain, ReadChain(dir));
  model.manifest_ = chain.back().manifest;
  model.sparse_dim_ = model.manifest_.sparse_dim();
  // Newest link first: its dense blocks are the model's, and an older link's row of a
  // key a newer link holds is stale.
  std::vector<ShardContents> rows;
  StaleRowFilter stale;
  for (size_t l = chain.size(); l-- > 0;) {
    const ChainLink& link = chain[l];
    stale.StartLink(/*older_links_follow=*/l > 0);
    if (link.manifest.shards_size() < 1) {
      return Status::Corruption(link.dir + "/MANIFEST lists no shard files");
    }
    ASSIGN_OR_RETURN(std::vector<ShardContents> shards, ReadShards(link.dir, link.manifest));
    if (l + 1 == chain.size()) {
      Status merged = MergeDense(shards, link.manifest.dense_size(), &model.dense_);
      if (!merged.ok()) return merged.WithContext("model " + link.dir);
    }
    for (ShardContents& shard : shards) {
      stale.Drop(&shard);
      shard.dense_values = {};
      rows.push_back(std::move(shard));
    }
  }
  Status merged = MergeSparse(rows, model.sparse_dim_, &model.keys_, &model.weights_);
  if (!merged.ok()) return merged.WithContext("model " + dir);
  return model;
}

}  // namespace tessera::io
