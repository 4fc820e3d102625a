// DenseStore: the dense parameters one server owns (DESIGN.md §4), as fixed-size
// blocks of the job's dense vector. Block b covers floats
// [b * block_floats, min((b + 1) * block_floats, total)); the last block may be short.
// Each block holds its weights and its own optimizer state.
//
// Block ids in requests come from the network, so unknown ids and wrong sizes are
// InvalidArgument, never a crash.
// Thread-safety: none. One thread owns a store; const methods may run concurrently
// with each other only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "ps/optimizer.h"

namespace tessera::ps {

class DenseStore {
 public:
  // Keeps the blocks `owned_blocks` of a dense vector of `total_floats`, cut every
  // `block_floats`, starting from their part of `initial` (the whole vector, size
  // total_floats). Requires block_floats >= 1, owned ids < num_blocks(), a valid
  // `optimizer` (the job config checks it first).
  DenseStore(int64_t total_floats, int block_floats, std::vector<uint64_t> owned_blocks,
             std::span<const float> initial, OptimizerOptions optimizer);

  // Copies the weights of `block_ids`, concatenated in that order, into out.
  // InvalidArgument when an id is not owned here or out is not their total size.
  Status Pull(std::span<const uint64_t> block_ids, std::span<float> out) const;

  // Applies one optimizer step to `block_ids` with their gradients concatenated in
  // `grads`; `step` is the 1-based update count, this one included. Nothing changes
  // when an id is not owned here or grads is not their total size (InvalidArgument).
  Status ApplyGradients(std::span<const uint64_t> block_ids, std::span<const float> grads,
                        int64_t step);

  // Floats in block b of the whole vector (the last one may be short); 0 when b is
  // past the end. Says nothing of ownership: see Owns().
  int BlockFloats(uint64_t block) const;
  bool Owns(uint64_t block) const;
  // Blocks the whole vector has.
  int64_t num_blocks() const;

  // The owned blocks' ids in increasing order and their weights concatenated; with
  // `state`, their optimizer state concatenated too (checkpoints). Replaces the
  // vectors' contents.
  void Export(std::vector<uint64_t>* block_ids, std::vector<float>* weights,
              std::vector<float>* state = nullptr) const;

  // Sets the weights of `block_ids` (concatenated in `weights`); without `state` those
  // blocks get the fresh optimizer state of those weights, with it exactly that state.
  // InvalidArgument, changing nothing, when an id is not owned here or the sizes disagree.
  Status Import(std::span<const uint64_t> block_ids, std::span<const float> weights,
                std::span<const float> state = {});

  // Optimizer state floats per weight float (0, 1 or 2).
  int StateFloatsPerWeight() const { return optimizer_.StateFloats(1); }

  // Every heap byte the store holds.
  size_t MemoryBytes() const;

 private:
  struct Block {
    uint64_t id;
    std::vector<float> weights;
    std::vector<float> state;  // optimizer state, StateFloats(weights.size())
  };

  // The owned block with this id, or nullptr.
  const Block* Find(uint64_t id) const;
  Block* Find(uint64_t id);
  // OK when every id is owned and their sizes add up to `floats`; `what` names the
  // request in the error.
  Status CheckRequest(std::span<const uint64_t> block_ids, size_t floats, const char* what) const;

  const int64_t total_floats_;
  const int block_floats_;
  const OptimizerOptions optimizer_;
  std::vector<Block> blocks_;  // sorted by id
};

}  // namespace tessera::ps
