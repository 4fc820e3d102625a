#include "ps/sparse_table.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <utility>

#include "common/hash.h"

namespace tessera::ps {
namespace {

constexpr int kMaxDim = 1 << 16;
constexpr int kInitialCapacityLog2 = 4;
constexpr size_t kMaxPageBytes = size_t{1} << 20;
constexpr int kMaxPageRowsLog2 = 16;
// Slabs double from 1 page up to this many, so that a small table stays small.
constexpr size_t kMaxSlabPages = 16;
constexpr size_t kCacheLine = 64;

int PageRowsLog2(int row_floats) {
  int log2 = 0;
  while (log2 < kMaxPageRowsLog2 &&
         (size_t{2} << log2) * row_floats * sizeof(float) <= kMaxPageBytes) {
    ++log2;
  }
  return log2;
}

// At most 80% full: short linear probes, 15 bytes of map a row on average.
bool OverLoad(size_t size, size_t capacity) { return size * 5 > capacity * 4; }

}  // namespace

Status SparseTableOptions::Validate() const {
  if (dim < 1 || dim > kMaxDim) {
    return Status::InvalidArgument("sparse table " + std::to_string(table_id) + ": dim " +
                                   std::to_string(dim) + " is not in [1, " +
                                   std::to_string(kMaxDim) + "]");
  }
  Status s = optimizer.Validate();
  if (s.ok()) s = ValidateColumnInit(init, dim);
  if (!s.ok()) return s.WithContext("sparse table " + std::to_string(table_id));
  return Status::OK();
}

SparseTable::SparseTable(SparseTableOptions options)
    : options_(std::move(options)),
      state_floats_(options_.optimizer.StateFloats(options_.dim)),
      row_floats_(options_.dim + state_floats_),
      page_rows_log2_(PageRowsLog2(row_floats_)),
      page_row_mask_((1u << page_rows_log2_) - 1),
      slots_(EmptySlots(kInitialCapacityLog2)),
      capacity_log2_(kInitialCapacityLog2),
      capacity_(size_t{1} << kInitialCapacityLog2) {
  Status valid = options_.Validate();
  CHECK(valid.ok()) << valid.ToString();
}

size_t SparseTable::HomeSlot(uint64_t key) const {
  // The high bits of the mix: independent of SlotOf's low bits, which are equal for
  // every key a server owns.
  return static_cast<size_t>(Mix64(key) >> (64 - capacity_log2_));
}

LargeArray<SparseTable::Slot> SparseTable::EmptySlots(int log2) {
  const size_t n = size_t{1} << log2;
  LargeArray<Slot> slots = AllocateLargeArray<Slot>(n);
  std::fill(slots.get(), slots.get() + n, Slot{0, kNoRow});
  return slots;
}

size_t SparseTable::FindSlot(uint64_t key) const {
  const size_t mask = capacity_ - 1;
  size_t i = HomeSlot(key);
  while (slots_[i].row != kNoRow && slots_[i].key != key) i = (i + 1) & mask;
  return i;
}

uint32_t SparseTable::FindRow(uint64_t key) const { return slots_[FindSlot(key)].row; }

uint32_t SparseTable::FindOrCreate(uint64_t key) {
  bool appended = false;
  const uint32_t row = FindOrAppend(key, &appended);
  if (appended) {
    float* data = RowData(row);
    FillInitialRow(options_.init, options_.seed, options_.table_id, key,
                   std::span<float>(data, options_.dim));
    InitOptimizerState(options_.optimizer, options_.dim, data, data + options_.dim);
  }
  return row;
}

uint32_t SparseTable::FindOrAppend(uint64_t key, bool* appended) {
  size_t i = FindSlot(key);
  *appended = slots_[i].row == kNoRow;
  if (!*appended) return slots_[i].row;
  if (OverLoad(size_ + 1, capacity_)) {
    GrowMap();
    i = FindSlot(key);
  }
  slots_[i] = Slot{key, AppendRow()};
  MarkChanged(slots_[i].row);
  return slots_[i].row;
}

uint32_t SparseTable::AppendRow() {
  CHECK_LT(size_, size_t{kNoRow}) << "sparse table " << options_.table_id
                                  << " is full: 2^32 - 1 rows";
  const uint32_t row = static_cast<uint32_t>(size_);
  if ((row & page_row_mask_) == 0) pages_.push_back(NewPage());
  if ((row & 63) == 0) changed_.push_back(0);
  ++size_;
  return row;
}

float* SparseTable::NewPage() {
  if (slab_cut_ == slab_pages_) {
    slab_pages_ = std::min(kMaxSlabPages, size_t{1} << slabs_.size());
    slabs_.push_back(AllocateLargeArray<float>(slab_pages_ * PageFloats()));
    slab_cut_ = 0;
  }
  return slabs_.back().get() + slab_cut_++ * PageFloats();
}

void SparseTable::GrowMap() {
  LargeArray<Slot> old = EmptySlots(capacity_log2_ + 1);
  old.swap(slots_);
  const size_t old_capacity = capacity_;
  ++capacity_log2_;
  capacity_ = size_t{1} << capacity_log2_;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].row != kNoRow) slots_[FindSlot(old[i].key)] = old[i];
  }
}

void SparseTable::ResolveRows(std::span<const uint64_t> keys, size_t row_bytes) {
  // Keys of a request land on random slots and rows: a miss to memory each. Asking
  // for the slot kLookAhead keys early, and for every cache line of each row as soon
  // as the row is known, lets those misses overlap instead of queueing one after
  // another.
  constexpr size_t kLookAhead = 8;
  rows_.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i + kLookAhead < keys.size()) __builtin_prefetch(&slots_[HomeSlot(keys[i + kLookAhead])]);
    rows_[i] = FindOrCreate(keys[i]);
    const char* row = reinterpret_cast<const char*>(RowData(rows_[i]));
    const uintptr_t first = reinterpret_cast<uintptr_t>(row) / kCacheLine;
    const uintptr_t last = (reinterpret_cast<uintptr_t>(row) + row_bytes - 1) / kCacheLine;
    for (uintptr_t line = first; line <= last; ++line) {
      __builtin_prefetch(reinterpret_cast<const void*>(line * kCacheLine));
    }
  }
}

void SparseTable::Pull(std::span<const uint64_t> keys, std::span<float> out) {
  const int dim = options_.dim;
  CHECK_EQ(out.size(), keys.size() * dim);
  ResolveRows(keys, dim * sizeof(float));
  for (size_t i = 0; i < keys.size(); ++i) {
    std::memcpy(out.data() + i * dim, RowData(rows_[i]), dim * sizeof(float));
  }
}

void SparseTable::Peek(std::span<const uint64_t> keys, std::span<float> out) const {
  const int dim = options_.dim;
  CHECK_EQ(out.size(), keys.size() * dim);
  for (size_t i = 0; i < keys.size(); ++i) {
    std::span<float> dst = out.subspan(i * dim, dim);
    uint32_t row = FindRow(keys[i]);
    if (row == kNoRow) {
      FillInitialRow(options_.init, options_.seed, options_.table_id, keys[i], dst);
    } else {
      std::memcpy(dst.data(), RowData(row), dim * sizeof(float));
    }
  }
}

void SparseTable::ApplyGradients(std::span<const uint64_t> keys, std::span<const float> grads,
                                 int64_t step) {
  const int dim = options_.dim;
  CHECK_EQ(grads.size(), keys.size() * dim);
  if (keys.empty()) return;
  const PreparedStep prepared = PrepareStep(options_.optimizer, step);
  ResolveRows(keys, row_floats_ * sizeof(float));
  for (size_t i = 0; i < keys.size(); ++i) {
    float* row = RowData(rows_[i]);
    ApplyUpdate(prepared, dim, row, row + dim, grads.data() + i * dim);
    MarkChanged(rows_[i]);
  }
}

bool SparseTable::RowsRepeat() {
  in_request_.resize((size_ + 63) / 64, 0);
  bool repeat = false;
  for (uint32_t r : rows_) {
    uint64_t& word = in_request_[r >> 6];
    const uint64_t bit = uint64_t{1} << (r & 63);
    repeat |= (word & bit) != 0;
    word |= bit;
  }
  for (uint32_t r : rows_) in_request_[r >> 6] = 0;  // all clear again
  return repeat;
}

bool SparseTable::ApplyDistinctGradients(std::span<const uint64_t> keys,
                                         std::span<const float> grads, float scale,
                                         int64_t step) {
  const int dim = options_.dim;
  CHECK_EQ(grads.size(), keys.size() * dim);
  if (keys.empty()) return true;
  ResolveRows(keys, row_floats_ * sizeof(float));
  if (RowsRepeat()) return false;
  const PreparedStep prepared = PrepareStep(options_.optimizer, step);
  row_grad_.resize(dim);
  float* g = row_grad_.data();
  for (size_t i = 0; i < keys.size(); ++i) {
    const float* in = grads.data() + i * dim;
    // As GradientSum: the sum starts from +0.0f (so -0.0f becomes +0.0f), then Scale.
    for (int j = 0; j < dim; ++j) g[j] = (0.0f + in[j]) * scale;
    float* row = RowData(rows_[i]);
    ApplyUpdate(prepared, dim, row, row + dim, g);
    MarkChanged(rows_[i]);
  }
  return true;
}

void SparseTable::Export(std::vector<uint64_t>* keys, std::vector<float>* weights,
                         std::vector<float>* state, Rows which) const {
  const bool changed_only = which == Rows::kChanged;
  std::vector<std::pair<uint64_t, uint32_t>> rows;
  rows.reserve(changed_only ? changed_rows() : size_);
  for (size_t i = 0; i < capacity_; ++i) {
    const Slot s = slots_[i];  // a copy: a packed field cannot bind to a reference
    if (s.row != kNoRow && (!changed_only || IsChanged(s.row))) rows.emplace_back(s.key, s.row);
  }
  std::sort(rows.begin(), rows.end());
  const int dim = options_.dim;
  keys->resize(rows.size());
  weights->resize(rows.size() * dim);
  for (size_t i = 0; i < rows.size(); ++i) {
    (*keys)[i] = rows[i].first;
    std::memcpy(weights->data() + i * dim, RowData(rows[i].second), dim * sizeof(float));
  }
  if (state == nullptr) return;
  state->resize(rows.size() * state_floats_);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(state->data() + i * state_floats_, RowData(rows[i].second) + dim,
                state_floats_ * sizeof(float));
  }
}

Status SparseTable::Import(std::span<const uint64_t> keys, std::span<const float> weights,
                           std::span<const float> state) {
  const int dim = options_.dim;
  if (!state.empty() && state.size() != keys.size() * state_floats_) {
    return Status::InvalidArgument("import into sparse table " + std::to_string(options_.table_id) +
                                   ": " + std::to_string(state.size()) + " state floats for " +
                                   std::to_string(keys.size()) + " keys");
  }
  if (weights.size() != keys.size() * dim) {
    return Status::InvalidArgument("import into sparse table " + std::to_string(options_.table_id) +
                                   ": " + std::to_string(weights.size()) + " weights for " +
                                   std::to_string(keys.size()) + " keys of dim " +
                                   std::to_string(dim));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    bool appended = false;  // every value is set below: no initial values needed
    const uint32_t index = FindOrAppend(keys[i], &appended);
    MarkChanged(index);
    float* row = RowData(index);
    std::memcpy(row, weights.data() + i * dim, dim * sizeof(float));
    if (state.empty()) {
      InitOptimizerState(options_.optimizer, dim, row, row + dim);
    } else {
      std::memcpy(row + dim, state.data() + i * state_floats_, state_floats_ * sizeof(float));
    }
  }
  return Status::OK();
}

void SparseTable::ClearChanged() { std::fill(changed_.begin(), changed_.end(), uint64_t{0}); }

size_t SparseTable::changed_rows() const {
  size_t count = 0;
  for (uint64_t word : changed_) count += static_cast<size_t>(std::popcount(word));
  return count;
}

size_t SparseTable::MemoryBytes() const {
  size_t page_bytes = PageFloats() * sizeof(float);
  // Pages cut, not whole slabs: a slab's uncut pages are never touched.
  return capacity_ * sizeof(Slot) + pages_.size() * page_bytes +
         pages_.capacity() * sizeof(pages_[0]) + slabs_.capacity() * sizeof(slabs_[0]) +
         options_.init.capacity() * sizeof(ColumnInit) +
         rows_.capacity() * sizeof(uint32_t) + changed_.capacity() * sizeof(uint64_t) +
         in_request_.capacity() * sizeof(uint64_t) + row_grad_.capacity() * sizeof(float);
}

}  // namespace tessera::ps
