#include "ps/sharded_table.h"

#include <cstring>
#include <string>

#include "common/hash.h"

namespace tessera::ps {

ShardedTable::ShardedTable(const SparseTableOptions& options, int threads, int slot_bits,
                           int num_servers)
    : dim_(options.dim),
      state_floats_(options.optimizer.StateFloats(options.dim)),
      slot_bits_(slot_bits),
      num_servers_(num_servers),
      threads_(threads) {
  CHECK_GE(num_servers, 1);
  const int shards = threads == 1 ? 1 : threads * kShardsPerThread;
  for (int t = 0; t < shards; ++t) shards_.push_back(std::make_unique<Shard>(options));
}

int ShardedTable::ShardOf(uint64_t key) const {
  return static_cast<int>((SlotOf(key, slot_bits_) / num_servers_) % shards_.size());
}

void ShardedTable::Gather(int shard, std::span<const uint64_t> keys) {
  Shard& s = *shards_[shard];
  s.keys.clear();
  s.positions.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (ShardOf(keys[i]) != shard) continue;
    s.keys.push_back(keys[i]);
    s.positions.push_back(static_cast<uint32_t>(i));
  }
  s.rows.resize(s.keys.size() * dim_);
}

void ShardedTable::Scatter(const Shard& shard, std::span<float> out) const {
  for (size_t i = 0; i < shard.positions.size(); ++i) {
    std::memcpy(out.data() + size_t{shard.positions[i]} * dim_, shard.rows.data() + i * dim_,
                dim_ * sizeof(float));
  }
}

void ShardedTable::Pull(std::span<const uint64_t> keys, std::span<float> out) {
  ReadRows(keys, out, /*insert=*/true);
}

void ShardedTable::Peek(std::span<const uint64_t> keys, std::span<float> out) {
  ReadRows(keys, out, /*insert=*/false);
}

void ShardedTable::ReadRows(std::span<const uint64_t> keys, std::span<float> out, bool insert) {
  CHECK_EQ(out.size(), keys.size() * dim_);
  auto read = [insert](SparseTable& table, std::span<const uint64_t> k, std::span<float> o) {
    insert ? table.Pull(k, o) : table.Peek(k, o);
  };
  if (shards_.size() == 1) return read(shards_[0]->table, keys, out);
  threads_.RunShards(shards(), [&](int t) {
    Gather(t, keys);
    read(shards_[t]->table, shards_[t]->keys, shards_[t]->rows);
    Scatter(*shards_[t], out);
  });
}

void ShardedTable::ApplySum(std::span<const SparseGradient> gradients, float scale, int64_t step) {
  size_t total = 0;
  for (const SparseGradient& g : gradients) {
    CHECK_EQ(g.grads.size(), g.keys.size() * dim_);
    total += g.keys.size();
  }
  // One gradient on one shard (one worker's push): nothing to sum, so no copy of it,
  // unless a key repeats in it.
  if (shards_.size() == 1 && gradients.size() == 1 &&
      shards_[0]->table.ApplyDistinctGradients(gradients[0].keys, gradients[0].grads, scale,
                                               step)) {
    return;
  }
  threads_.RunShards(shards(), [&](int t) {
    Shard& s = *shards_[t];
    s.sum.Reset(dim_, total / shards_.size());
    for (const SparseGradient& g : gradients) {
      for (size_t i = 0; i < g.keys.size(); ++i) {
        if (shards_.size() == 1 || ShardOf(g.keys[i]) == t) {
          s.sum.Add(g.keys[i], g.grads.data() + i * dim_);
        }
      }
    }
    s.sum.Scale(scale);
    s.table.ApplyGradients(s.sum.keys(), s.sum.grads(), step);
  });
}

void ShardedTable::Export(std::vector<uint64_t>* keys, std::vector<float>* weights,
                          std::vector<float>* state, SparseTable::Rows which) {
  if (shards_.size() == 1) return shards_[0]->table.Export(keys, weights, state, which);
  threads_.RunShards(shards(), [&](int t) {
    Shard& s = *shards_[t];
    s.table.Export(&s.export_keys, &s.export_weights, state ? &s.export_state : nullptr, which);
  });
  MergeExports(keys, weights, state);
  for (auto& s : shards_) {
    s->export_keys = {};
    s->export_weights = {};
    s->export_state = {};
  }
}

void ShardedTable::MergeExports(std::vector<uint64_t>* keys, std::vector<float>* weights,
                                std::vector<float>* state) const {
  size_t rows = 0;
  for (const auto& s : shards_) rows += s->export_keys.size();
  keys->resize(rows);
  weights->resize(rows * dim_);
  if (state != nullptr) state->resize(rows * state_floats_);
  std::vector<size_t> next(shards_.size(), 0);
  for (size_t r = 0; r < rows; ++r) {
    // The shard whose next key is smallest (shards hold disjoint keys).
    int best = -1;
    for (size_t t = 0; t < shards_.size(); ++t) {
      if (next[t] == shards_[t]->export_keys.size()) continue;
      if (best < 0 || shards_[t]->export_keys[next[t]] < shards_[best]->export_keys[next[best]]) {
        best = static_cast<int>(t);
      }
    }
    const Shard& s = *shards_[best];
    const size_t i = next[best]++;
    (*keys)[r] = s.export_keys[i];
    std::memcpy(weights->data() + r * dim_, s.export_weights.data() + i * dim_,
                dim_ * sizeof(float));
    if (state != nullptr) {
      std::memcpy(state->data() + r * state_floats_, s.export_state.data() + i * state_floats_,
                  state_floats_ * sizeof(float));
    }
  }
}

void ShardedTable::ClearChanged() {
  for (auto& s : shards_) s->table.ClearChanged();
}

size_t ShardedTable::changed_rows() const {
  size_t rows = 0;
  for (const auto& s : shards_) rows += s->table.changed_rows();
  return rows;
}

Status ShardedTable::Import(std::span<const uint64_t> keys, std::span<const float> weights,
                            std::span<const float> state) {
  if (shards_.size() == 1) return shards_[0]->table.Import(keys, weights, state);
  if (weights.size() != keys.size() * dim_ ||
      (!state.empty() && state.size() != keys.size() * state_floats_)) {
    // The same checks as SparseTable::Import, with its messages.
    return shards_[0]->table.Import(keys, weights, state);
  }
  std::vector<Status> results(shards_.size());
  threads_.RunShards(shards(), [&](int t) {
    Shard& s = *shards_[t];
    Gather(t, keys);
    std::vector<float> shard_weights, shard_state;
    shard_weights.reserve(s.keys.size() * dim_);
    for (uint32_t i : s.positions) {
      auto row = weights.subspan(size_t{i} * dim_, dim_);
      shard_weights.insert(shard_weights.end(), row.begin(), row.end());
      if (state.empty()) continue;
      auto row_state = state.subspan(size_t{i} * state_floats_, state_floats_);
      shard_state.insert(shard_state.end(), row_state.begin(), row_state.end());
    }
    results[t] = s.table.Import(s.keys, shard_weights, shard_state);
  });
  for (const Status& r : results) RETURN_IF_ERROR(r);
  return Status::OK();
}

size_t ShardedTable::size() const {
  size_t rows = 0;
  for (const auto& s : shards_) rows += s->table.size();
  return rows;
}

size_t ShardedTable::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& s : shards_) bytes += s->table.MemoryBytes();
  return bytes;
}

}  // namespace tessera::ps
