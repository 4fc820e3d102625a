#include "ps/dense_store.h"

#include <algorithm>
#include <string>
#include <utility>

namespace tessera::ps {

DenseStore::DenseStore(int64_t total_floats, int block_floats, std::vector<uint64_t> owned_blocks,
                       std::span<const float> initial, OptimizerOptions optimizer)
    : total_floats_(total_floats), block_floats_(block_floats), optimizer_(optimizer) {
  CHECK_GE(block_floats, 1);
  CHECK_EQ(static_cast<int64_t>(initial.size()), total_floats);
  Status valid = optimizer_.Validate();
  CHECK(valid.ok()) << "dense optimizer: " << valid.ToString();
  std::sort(owned_blocks.begin(), owned_blocks.end());
  owned_blocks.erase(std::unique(owned_blocks.begin(), owned_blocks.end()), owned_blocks.end());
  blocks_.reserve(owned_blocks.size());
  for (uint64_t id : owned_blocks) {
    CHECK_LT(static_cast<int64_t>(id), num_blocks()) << "dense block out of range";
    auto begin = initial.begin() + static_cast<int64_t>(id) * block_floats_;
    Block block{id, std::vector<float>(begin, begin + BlockFloats(id)), {}};
    block.state.resize(optimizer_.StateFloats(BlockFloats(id)));
    InitOptimizerState(optimizer_, BlockFloats(id), block.weights.data(), block.state.data());
    blocks_.push_back(std::move(block));
  }
}

int64_t DenseStore::num_blocks() const {
  return (total_floats_ + block_floats_ - 1) / block_floats_;
}

int DenseStore::BlockFloats(uint64_t block) const {
  if (block >= static_cast<uint64_t>(num_blocks())) return 0;
  int64_t begin = static_cast<int64_t>(block) * block_floats_;
  return static_cast<int>(std::min<int64_t>(block_floats_, total_floats_ - begin));
}

bool DenseStore::Owns(uint64_t block) const { return Find(block) != nullptr; }

const DenseStore::Block* DenseStore::Find(uint64_t id) const {
  auto it = std::lower_bound(blocks_.begin(), blocks_.end(), id,
                             [](const Block& b, uint64_t v) { return b.id < v; });
  return it != blocks_.end() && it->id == id ? &*it : nullptr;
}

DenseStore::Block* DenseStore::Find(uint64_t id) {
  return const_cast<Block*>(std::as_const(*this).Find(id));
}

Status DenseStore::CheckRequest(std::span<const uint64_t> block_ids, size_t floats,
                                const char* what) const {
  size_t expected = 0;
  for (uint64_t id : block_ids) {
    if (!Owns(id)) {
      return Status::InvalidArgument(std::string(what) + " of dense block " + std::to_string(id) +
                                     ", which this server does not own");
    }
    expected += BlockFloats(id);
  }
  if (floats != expected) {
    return Status::InvalidArgument(std::string(what) + " of " + std::to_string(block_ids.size()) +
                                   " dense blocks carries " + std::to_string(floats) +
                                   " floats, not " + std::to_string(expected));
  }
  return Status::OK();
}

Status DenseStore::Pull(std::span<const uint64_t> block_ids, std::span<float> out) const {
  RETURN_IF_ERROR(CheckRequest(block_ids, out.size(), "pull"));
  float* dst = out.data();
  for (uint64_t id : block_ids) {
    const Block* block = Find(id);
    dst = std::copy(block->weights.begin(), block->weights.end(), dst);
  }
  return Status::OK();
}

Status DenseStore::ApplyGradients(std::span<const uint64_t> block_ids, std::span<const float> grads,
                                  int64_t step) {
  RETURN_IF_ERROR(CheckRequest(block_ids, grads.size(), "push"));
  if (block_ids.empty()) return Status::OK();
  const PreparedStep prepared = PrepareStep(optimizer_, step);
  const float* grad = grads.data();
  for (uint64_t id : block_ids) {
    Block* block = Find(id);
    const int n = static_cast<int>(block->weights.size());
    ApplyUpdate(prepared, n, block->weights.data(), block->state.data(), grad);
    grad += n;
  }
  return Status::OK();
}

void DenseStore::Export(std::vector<uint64_t>* block_ids, std::vector<float>* weights,
                        std::vector<float>* state) const {
  block_ids->clear();
  weights->clear();
  if (state != nullptr) state->clear();
  for (const Block& block : blocks_) {
    block_ids->push_back(block.id);
    weights->insert(weights->end(), block.weights.begin(), block.weights.end());
    if (state != nullptr) state->insert(state->end(), block.state.begin(), block.state.end());
  }
}

Status DenseStore::Import(std::span<const uint64_t> block_ids, std::span<const float> weights,
                         std::span<const float> state) {
  RETURN_IF_ERROR(CheckRequest(block_ids, weights.size(), "import"));
  if (!state.empty() && state.size() != weights.size() * StateFloatsPerWeight()) {
    return Status::InvalidArgument("dense import: " + std::to_string(state.size()) +
                                   " state floats for " + std::to_string(weights.size()) +
                                   " weights");
  }
  const float* src = weights.data();
  const float* state_src = state.data();
  for (uint64_t id : block_ids) {
    Block* block = Find(id);
    std::copy(src, src + block->weights.size(), block->weights.begin());
    src += block->weights.size();
    if (state.empty()) {
      InitOptimizerState(optimizer_, static_cast<int>(block->weights.size()),
                         block->weights.data(), block->state.data());
    } else {
      std::copy(state_src, state_src + block->state.size(), block->state.begin());
      state_src += block->state.size();
    }
  }
  return Status::OK();
}

size_t DenseStore::MemoryBytes() const {
  size_t bytes = blocks_.capacity() * sizeof(Block);
  for (const Block& block : blocks_) {
    bytes += (block.weights.capacity() + block.state.capacity()) * sizeof(float);
  }
  return bytes;
}

}  // namespace tessera::ps
