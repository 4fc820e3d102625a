// ShardedTable: a server's sparse table cut by slot into shards, worked on by the
// server's slot-owning threads (DESIGN.md §5, ps/shard_threads.h). Shard t holds the
// keys whose slot s = SlotOf(key) has (s / num_servers) mod shards == t (the slots a
// server owns are s mod num_servers == its index). In a call each shard is claimed
// by one thread, which scans the request for its keys, so a pull or an update of one
// request runs on all cores at once without a lock. Threads > 1 get
// kShardsPerThread shards each, so that a thread the OS does not schedule in time
// holds up little.
//
// Results do not depend on the number of shards, bit for bit: a row's initial values
// are a function of its key, each key's gradients are summed in the order given, and
// the optimizer updates every row on its own. Export's output is sorted by key, as
// SparseTable's. With one shard every call goes straight to one SparseTable.
//
// Thread-safety: one thread (the server's network thread) calls every method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "ps/gradient_sum.h"
#include "ps/shard_threads.h"
#include "ps/sparse_table.h"

namespace tessera::ps {

// One sparse gradient: keys and keys.size() x dim values, row-major.
struct SparseGradient {
  std::span<const uint64_t> keys;
  std::span<const float> grads;
};

class ShardedTable {
 public:
  static constexpr int kShardsPerThread = 4;

  // `options` must be valid (SparseTableOptions::Validate); threads >= 1; the slot
  // layout is the cluster's (cluster.slot_bits, number of servers).
  ShardedTable(const SparseTableOptions& options, int threads, int slot_bits, int num_servers);

  // As SparseTable::Pull and Peek (out is keys.size() x dim).
  void Pull(std::span<const uint64_t> keys, std::span<float> out);
  void Peek(std::span<const uint64_t> keys, std::span<float> out);

  // One optimizer step (`step` as in SparseTable::ApplyGradients) on the keys of
  // `gradients`, each key's gradient being the sum of its values over the list, in
  // list order, times `scale`. A key may appear in any number of the gradients.
  void ApplySum(std::span<const SparseGradient> gradients, float scale, int64_t step);

  // As SparseTable::Export and Import: rows sorted by key, whatever the shards.
  void Export(std::vector<uint64_t>* keys, std::vector<float>* weights,
              std::vector<float>* state = nullptr,
              SparseTable::Rows which = SparseTable::Rows::kAll);
  Status Import(std::span<const uint64_t> keys, std::span<const float> weights,
                std::span<const float> state = {});

  // As SparseTable's: every shard's change bits cleared; rows changed in all shards.
  void ClearChanged();
  size_t changed_rows() const;

  int dim() const { return dim_; }
  int state_floats() const { return state_floats_; }
  int threads() const { return threads_.threads(); }
  int shards() const { return static_cast<int>(shards_.size()); }
  // Rows over all shards.
  size_t size() const;
  // Heap bytes of every shard's table.
  size_t MemoryBytes() const;

 private:
  // A shard's table and the scratch its thread works in.
  struct Shard {
    explicit Shard(const SparseTableOptions& options) : table(options) {}
    SparseTable table;
    std::vector<uint64_t> keys;       // the request's keys this shard owns
    std::vector<uint32_t> positions;  // their positions in the request
    std::vector<float> rows;          // their rows
    GradientSum sum;
    std::vector<uint64_t> export_keys;
    std::vector<float> export_weights, export_state;
  };

  int ShardOf(uint64_t key) const;
  // Pull (insert) or Peek.
  void ReadRows(std::span<const uint64_t> keys, std::span<float> out, bool insert);
  // Fills shard's keys and positions with the keys of `keys` it owns.
  void Gather(int shard, std::span<const uint64_t> keys);
  // Copies shard's rows to their positions in out.
  void Scatter(const Shard& shard, std::span<float> out) const;
  // Merges the shards' sorted exports into one sorted export.
  void MergeExports(std::vector<uint64_t>* keys, std::vector<float>* weights,
                    std::vector<float>* state) const;

  const int dim_;
  const int state_floats_;
  const int slot_bits_;
  const int num_servers_;
  std::vector<std::unique_ptr<Shard>> shards_;
  ShardThreads threads_;
};

}  // namespace tessera::ps
