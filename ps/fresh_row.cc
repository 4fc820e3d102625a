#include "ps/fresh_row.h"

#include <cstring>

#include "ps/optimizer.h"
#include "ps/row_init.h"

namespace tessera::ps {

namespace {

bool SameBits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

FreshRowCheck::FreshRowCheck(SparseTableOptions options)
    : options_(std::move(options)),
      fresh_weights_(options_.dim),
      fresh_state_(options_.optimizer.StateFloats(options_.dim)) {}

bool FreshRowCheck::IsFresh(uint64_t key, std::span<const float> weights,
                            std::span<const float> state) {
  FillInitialRow(options_.init, options_.seed, options_.table_id, key, fresh_weights_);
  if (!SameBits(weights, fresh_weights_)) return false;
  if (state.empty()) return true;
  InitOptimizerState(options_.optimizer, options_.dim, fresh_weights_.data(), fresh_state_.data());
  return SameBits(state, fresh_state_);
}

}  // namespace tessera::ps
