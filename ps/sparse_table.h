// SparseTable: one large sparse embedding table of a server (DESIGN.md §5), rows of
// `dim` floats keyed by uint64 feature ids, updated by an optimizer at push time.
//
// Values never depend on insertion order or placement: a fresh row starts from
// FillInitialRow(seed, table_id, key), its optimizer state from InitOptimizerState
// (zero; Adagrad: initial_accumulator; FTRL: a function of the initial weights), and
// only ApplyGradients changes it.
//
// Memory (a headline figure): a flat open-addressing map of 12-byte slots {key,
// 32-bit row index}, linear probing, power-of-two capacity, at most 80% full; rows
// live in an arena of fixed-size pages of contiguous [weights | optimizer state]
// floats. Pages, not one vector, so that growth never copies the rows nor needs
// twice their memory for a moment; only the map (12 bytes a slot) is rehashed. Pages
// are cut from slabs of 1, 2, 4, 8, then 16 pages, and the map and slabs of 2 MiB or
// more sit on transparent huge pages (ps/huge_pages.h): fewer TLB misses on random
// rows. A slab's pages not yet cut are address space only (never touched).
// No per-row metadata in the arena; beside it, one bit a row says whether the row
// changed since the last checkpoint (ClearChanged), for incremental checkpoints. At dim
// 16 with Adam (192 payload bytes a row) the whole table is 1.08x to 1.16x its payload,
// depending on where the map is in its doubling.
//
// Thread-safety: none. One thread owns a table (the server's slot-owning thread);
// const methods may run concurrently with each other only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "ps/huge_pages.h"
#include "ps/optimizer.h"
#include "ps/row_init.h"

namespace tessera::ps {

struct SparseTableOptions {
  uint32_t table_id = 0;  // the stream of initial values: tables of one job differ
  int dim = 1;            // weights per row
  OptimizerOptions optimizer;
  uint64_t seed = 0;             // the job seed
  std::vector<ColumnInit> init;  // how a fresh row's weights start; uncovered columns are 0

  // OK, or InvalidArgument naming the bad field.
  Status Validate() const;
};

class SparseTable {
 public:
  // `options` must be valid (Validate(); the job config checks it first).
  explicit SparseTable(SparseTableOptions options);

  SparseTable(const SparseTable&) = delete;
  SparseTable& operator=(const SparseTable&) = delete;

  // Copies the weights of each key into out (row-major, keys.size() x dim), creating
  // missing rows with their initial values. Callers size out (and grads below) from
  // keys; a mismatch is a programmer error (CHECK), so check bytes from the network first.
  void Pull(std::span<const uint64_t> keys, std::span<float> out);

  // Like Pull, but inserts nothing: a missing row reads as its initial value. For
  // read-only evaluation and prediction.
  void Peek(std::span<const uint64_t> keys, std::span<float> out) const;

  // Applies one optimizer step to the rows of `keys` only (lazy: untouched rows keep
  // their weights and state), creating missing rows first. grads is row-major,
  // keys.size() x dim. Keys within one call must be distinct. `step` is the table's
  // 1-based update count, this update included (the learning-rate schedule, Adam's
  // bias correction).
  void ApplyGradients(std::span<const uint64_t> keys, std::span<const float> grads, int64_t step);

  // One step of a single sparse gradient, as ShardedTable::ApplySum would apply it
  // through a GradientSum: each row's gradient is (+0.0f + g) * scale, bit for bit
  // the sum of that one gradient, scaled. Without the sum's copy of the gradient and
  // its hash index: a request's keys are checked for repeats on a bitmap of the rows
  // instead. When a key repeats, applies nothing (missing rows are created, as any
  // path would) and returns false: the caller sums the gradient first.
  bool ApplyDistinctGradients(std::span<const uint64_t> keys, std::span<const float> grads,
                              float scale, int64_t step);

  // Which rows Export copies: all of them, or those changed since ClearChanged().
  enum class Rows { kAll, kChanged };

  // Every row's key and weights (or only the changed rows'), sorted by key: keys gets
  // one key a row, weights dim floats a row. With `state`, also each row's optimizer
  // state (state_floats() a row, for checkpoints). Replaces the vectors' contents.
  void Export(std::vector<uint64_t>* keys, std::vector<float>* weights,
              std::vector<float>* state = nullptr, Rows rows = Rows::kAll) const;

  // Change tracking for incremental checkpoints. A row is "changed" from the moment
  // anything writes it (created by Pull or ApplyGradients, updated by ApplyGradients,
  // set by Import) until ClearChanged(), which a server calls once a checkpoint holding
  // it is written. A created row counts although its values are a function of its key:
  // restoring a checkpoint must give back the same set of rows, which later models and
  // checkpoints list. Costs one bit a row and one OR per written row.
  void ClearChanged();
  // Rows changed since ClearChanged() (a popcount over the bits: O(size() / 64)).
  size_t changed_rows() const;

  // Sets the weights of each key (creating rows as needed). Without `state` those
  // rows get the fresh optimizer state of those weights; with it (keys.size() x state_floats()), exactly
  // that state, so that a checkpoint resumes bit for bit. InvalidArgument when a
  // size disagrees.
  Status Import(std::span<const uint64_t> keys, std::span<const float> weights,
                std::span<const float> state = {});

  // Optimizer state floats per row.
  int state_floats() const { return state_floats_; }

  int dim() const { return options_.dim; }
  const SparseTableOptions& options() const { return options_; }
  // Number of rows.
  size_t size() const { return size_; }
  // Every heap byte the table holds: map slots, row pages and their index.
  size_t MemoryBytes() const;

 private:
  // One map slot: 12 bytes, unpadded, so the map costs 12 bytes / load factor a row.
  struct __attribute__((packed)) Slot {
    uint64_t key;
    uint32_t row;
  };
  static constexpr uint32_t kNoRow = 0xffffffffu;

  // The slot holding key, or the empty slot where it would go.
  size_t FindSlot(uint64_t key) const;
  // The row of key, or kNoRow.
  uint32_t FindRow(uint64_t key) const;
  // The row of key, created with initial values when missing.
  uint32_t FindOrCreate(uint64_t key);
  // The row of key; when missing, appends one with unset values. *appended says which.
  uint32_t FindOrAppend(uint64_t key, bool* appended);
  // Appends a row with unset values to the arena and returns its index.
  uint32_t AppendRow();
  // Doubles the map capacity, reinserting every slot.
  // The slot a key's probe starts at.
  size_t HomeSlot(uint64_t key) const;
  // True when rows_ holds a row twice (rows_ from ResolveRows).
  bool RowsRepeat();
  // Fills rows_ with the row of each key (creating missing rows), prefetching ahead
  // the first `row_bytes` bytes of each row.
  void ResolveRows(std::span<const uint64_t> keys, size_t row_bytes);
  // A fresh map of 2^log2 empty slots.
  static LargeArray<Slot> EmptySlots(int log2);
  // Cuts a new page from the current slab (allocating the next slab when it is used up).
  float* NewPage();
  void GrowMap();
  size_t PageFloats() const { return static_cast<size_t>(row_floats_) << page_rows_log2_; }
  void MarkChanged(uint32_t row) { changed_[row >> 6] |= uint64_t{1} << (row & 63); }
  bool IsChanged(uint32_t row) const { return (changed_[row >> 6] >> (row & 63)) & 1; }
  float* RowData(uint32_t row) {
    return pages_[row >> page_rows_log2_] + size_t{row & page_row_mask_} * row_floats_;
  }
  const float* RowData(uint32_t row) const {
    return pages_[row >> page_rows_log2_] + size_t{row & page_row_mask_} * row_floats_;
  }

  const SparseTableOptions options_;
  const int state_floats_;  // optimizer state per row
  const int row_floats_;    // dim + state_floats_
  // Rows a page holds, a power of two chosen so that a page is at most 1 MiB: the
  // arena's slack stays small and a page never becomes a huge allocation.
  const int page_rows_log2_;
  const uint32_t page_row_mask_;
  std::vector<uint32_t> rows_;  // scratch of Pull / ApplyGradients
  LargeArray<Slot> slots_;      // 2^capacity_log2_ slots
  int capacity_log2_ = 0;
  size_t capacity_ = 0;         // 2^capacity_log2_
  size_t size_ = 0;
  std::vector<float*> pages_;   // cut from slabs_
  std::vector<LargeArray<float>> slabs_;
  size_t slab_pages_ = 0;       // pages the last slab holds
  size_t slab_cut_ = 0;         // of which cut
  std::vector<uint64_t> changed_;  // bit r: row r changed since ClearChanged()
  // Scratch of ApplyDistinctGradients: bit r set while row r is in the request being
  // checked (all clear between calls), and one row's gradient.
  std::vector<uint64_t> in_request_;
  std::vector<float> row_grad_;
};

}  // namespace tessera::ps
