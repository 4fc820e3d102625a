#include "ps/fresh_row.h"

#include <gtest/gtest.h>

#include <vector>

namespace tessera::ps {
namespace {

SparseTableOptions Options(OptimizerOptions::Kind kind) {
  SparseTableOptions o;
  o.dim = 4;
  o.seed = 11;
  o.table_id = 2;
  o.optimizer.kind = kind;
  o.optimizer.learning_rate = 0.1f;
  o.init = {{0, 1, ColumnInit::Kind::kZero, 0.0f}, {1, 4, ColumnInit::Kind::kNormal, 0.01f}};
  return o;
}

// Reads rows back from a real table, as a checkpoint holds them.
struct Exported {
  std::vector<uint64_t> keys;
  std::vector<float> weights, state;
};
Exported ExportOf(const SparseTable& table) {
  Exported e;
  table.Export(&e.keys, &e.weights, &e.state);
  return e;
}

TEST(FreshRowCheckTest, APulledButNeverUpdatedRowIsFreshAnUpdatedOneIsNot) {
  for (auto kind : {OptimizerOptions::Kind::kSgd, OptimizerOptions::Kind::kAdagrad,
                    OptimizerOptions::Kind::kAdam, OptimizerOptions::Kind::kFtrl}) {
    SparseTable table(Options(kind));
    const std::vector<uint64_t> pulled = {5, 9};
    std::vector<float> out(8);
    table.Pull(pulled, out);
    const std::vector<uint64_t> pushed = {9};
    table.ApplyGradients(pushed, std::vector<float>{0.5f, -0.5f, 0.25f, 1.0f}, 1);
    Exported e = ExportOf(table);
    ASSERT_EQ(e.keys, (std::vector<uint64_t>{5, 9}));
    FreshRowCheck check(Options(kind));
    const size_t sf = e.state.size() / 2;
    auto state = [&](size_t r) { return std::span<const float>(e.state).subspan(r * sf, sf); };
    auto weights = [&](size_t r) { return std::span<const float>(e.weights).subspan(r * 4, 4); };
    EXPECT_TRUE(check.IsFresh(5, weights(0), state(0))) << static_cast<int>(kind);
    EXPECT_FALSE(check.IsFresh(9, weights(1), state(1))) << static_cast<int>(kind);
    // Without state (a model directory) the weights decide.
    EXPECT_TRUE(check.IsFresh(5, weights(0), {}));
    EXPECT_FALSE(check.IsFresh(9, weights(1), {}));
    // Row 5's weights are not key 9's initial value.
    EXPECT_FALSE(check.IsFresh(9, weights(0), {}));
  }
}

TEST(FreshRowCheckTest, AZeroGradientLeavesAnAdamRowFresh) {
  SparseTable table(Options(OptimizerOptions::Kind::kAdam));
  const std::vector<uint64_t> keys = {3};
  table.ApplyGradients(keys, std::vector<float>(4, 0.0f), 1);
  Exported e = ExportOf(table);
  FreshRowCheck check(Options(OptimizerOptions::Kind::kAdam));
  EXPECT_TRUE(check.IsFresh(3, e.weights, e.state));
}

}  // namespace
}  // namespace tessera::ps
