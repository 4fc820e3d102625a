#include "ps/sharded_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "common/hash.h"

namespace tessera::ps {
namespace {

constexpr int kSlotBits = 14;

SparseTableOptions Options(OptimizerOptions::Kind kind, float l1 = 0.0f) {
  SparseTableOptions o;
  o.table_id = 3;
  o.dim = 5;
  o.seed = 77;
  o.optimizer.kind = kind;
  o.optimizer.learning_rate = 0.05f;
  o.optimizer.initial_accumulator = 0.1f;
  o.optimizer.l1 = l1;
  o.init = {{0, 5, ColumnInit::Kind::kNormal, 0.1f}};
  return o;
}

// Random keys from a pool of `pool` (so that lists overlap and repeat keys) and random
// gradients, some of them -0.0f (whose sum with +0.0f must come out as +0.0f).
struct Gradients {
  std::vector<std::vector<uint64_t>> keys;
  std::vector<std::vector<float>> grads;
  std::vector<SparseGradient> views() const {
    std::vector<SparseGradient> v;
    for (size_t i = 0; i < keys.size(); ++i) v.push_back({keys[i], grads[i]});
    return v;
  }
};

Gradients RandomGradients(int lists, int keys_per_list, uint64_t pool, int dim, uint64_t* rng) {
  Gradients g;
  for (int l = 0; l < lists; ++l) {
    g.keys.emplace_back();
    g.grads.emplace_back();
    for (int i = 0; i < keys_per_list; ++i) {
      g.keys.back().push_back(Mix64(SplitMix64Next(rng) % pool + 1));
      for (int j = 0; j < dim; ++j) {
        uint64_t r = SplitMix64Next(rng);
        g.grads.back().push_back(r % 7 == 0 ? -0.0f : static_cast<float>(r % 2001) * 1e-3f - 1.0f);
      }
    }
  }
  return g;
}

// What the server computed before it had shards: one map over all lists, each key's
// sum from 0.0f in list order, times scale, then one SparseTable update.
void ApplyLikeOneTable(SparseTable* table, const Gradients& g, float scale, int64_t step) {
  const int dim = table->dim();
  std::unordered_map<uint64_t, size_t> index;
  std::vector<uint64_t> keys;
  std::vector<float> sums;
  for (size_t l = 0; l < g.keys.size(); ++l) {
    for (size_t i = 0; i < g.keys[l].size(); ++i) {
      auto [it, inserted] = index.emplace(g.keys[l][i], keys.size());
      if (inserted) {
        keys.push_back(g.keys[l][i]);
        sums.resize(sums.size() + dim, 0.0f);
      }
      for (int j = 0; j < dim; ++j) sums[it->second * dim + j] += g.grads[l][i * dim + j];
    }
  }
  for (float& s : sums) s *= scale;
  table->ApplyGradients(keys, sums, step);
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void ExpectSameRows(SparseTable& one, ShardedTable& sharded) {
  std::vector<uint64_t> keys_a, keys_b;
  std::vector<float> weights_a, weights_b, state_a, state_b;
  one.Export(&keys_a, &weights_a, &state_a);
  sharded.Export(&keys_b, &weights_b, &state_b);
  EXPECT_EQ(keys_a, keys_b);
  EXPECT_TRUE(SameBits(weights_a, weights_b));
  EXPECT_TRUE(SameBits(state_a, state_b));
}

TEST(ShardedTableTest, AnyNumberOfThreadsGivesTheRowsOfOneTableBitForBit) {
  for (auto kind : {OptimizerOptions::Kind::kAdam, OptimizerOptions::Kind::kAdagrad,
                    OptimizerOptions::Kind::kFtrl}) {
    for (int threads : {1, 2, 3}) {
      SparseTable one(Options(kind, 0.001f));
      ShardedTable sharded(Options(kind, 0.001f), threads, kSlotBits, /*num_servers=*/2);
      uint64_t rng = 5;
      for (int64_t step = 1; step <= 6; ++step) {
        Gradients g = RandomGradients(3, 700, 3000, 5, &rng);
        const float scale = 1.0f / 3.0f;
        ApplyLikeOneTable(&one, g, scale, step);
        sharded.ApplySum(g.views(), scale, step);
        // A pull between steps, of known and new keys, in the request's order.
        std::vector<uint64_t> keys = RandomGradients(1, 900, 4000, 5, &rng).keys[0];
        std::vector<float> a(keys.size() * 5), b(keys.size() * 5);
        one.Pull(keys, a);
        sharded.Pull(keys, b);
        EXPECT_TRUE(SameBits(a, b)) << "threads " << threads << " step " << step;
      }
      EXPECT_EQ(one.size(), sharded.size());
      ExpectSameRows(one, sharded);
    }
  }
}

// Incremental checkpoints through the shards: after ClearChanged, Export(kChanged) of
// any number of shards holds exactly the rows one table reports changed.
TEST(ShardedTableTest, ChangedRowsOverShardsAreThoseOfOneTable) {
  for (int threads : {1, 3}) {
    SparseTable one(Options(OptimizerOptions::Kind::kAdam));
    ShardedTable sharded(Options(OptimizerOptions::Kind::kAdam), threads, kSlotBits, 2);
    uint64_t rng = 9;
    Gradients first = RandomGradients(2, 800, 5000, 5, &rng);
    ApplyLikeOneTable(&one, first, 0.5f, 1);
    sharded.ApplySum(first.views(), 0.5f, 1);
    one.ClearChanged();
    sharded.ClearChanged();
    EXPECT_EQ(sharded.changed_rows(), 0u);
    Gradients second = RandomGradients(1, 50, 5000, 5, &rng);
    ApplyLikeOneTable(&one, second, 1.0f, 2);
    sharded.ApplySum(second.views(), 1.0f, 2);
    std::vector<uint64_t> keys_a, keys_b;
    std::vector<float> weights_a, weights_b, state_a, state_b;
    one.Export(&keys_a, &weights_a, &state_a, SparseTable::Rows::kChanged);
    sharded.Export(&keys_b, &weights_b, &state_b, SparseTable::Rows::kChanged);
    EXPECT_EQ(sharded.changed_rows(), one.changed_rows()) << threads;
    EXPECT_GT(keys_a.size(), 0u);
    EXPECT_LT(keys_a.size(), one.size());
    EXPECT_EQ(keys_a, keys_b) << threads;
    EXPECT_TRUE(SameBits(weights_a, weights_b));
    EXPECT_TRUE(SameBits(state_a, state_b));
  }
}

TEST(ShardedTableTest, ANegativeZeroGradientSumsToPositiveZero) {
  // Adam keeps the sign of a zero in its moment: the sum must start from +0.0f, also
  // on one thread, where a single push skips the sum (ApplyDistinctGradients).
  for (int threads : {1, 2}) {
    ShardedTable sharded(Options(OptimizerOptions::Kind::kAdam), threads, kSlotBits, 1);
    std::vector<uint64_t> keys = {Mix64(1), Mix64(2)};
    std::vector<float> grads(10, -0.0f);
    const SparseGradient g{keys, grads};
    sharded.ApplySum(std::span(&g, 1), 1.0f, 1);
    std::vector<uint64_t> out_keys;
    std::vector<float> weights, state;
    sharded.Export(&out_keys, &weights, &state);
    ASSERT_EQ(state.size(), 20u);
    for (float m : state) EXPECT_FALSE(std::signbit(m)) << threads;
  }
}

// One push on one thread goes around the sum unless a key repeats in it: either way
// the rows are those of the sum, bit for bit.
TEST(ShardedTableTest, OneGradientWithAndWithoutRepeatedKeysGivesTheSumsRows) {
  for (auto kind : {OptimizerOptions::Kind::kSgd, OptimizerOptions::Kind::kAdam,
                    OptimizerOptions::Kind::kAdagrad, OptimizerOptions::Kind::kFtrl}) {
    for (uint64_t pool : {uint64_t{500}, uint64_t{1} << 40}) {  // repeats; (nearly) none
      SparseTable one(Options(kind));
      ShardedTable sharded(Options(kind), 1, kSlotBits, 1);
      uint64_t rng = 11;
      for (int64_t step = 1; step <= 4; ++step) {
        Gradients g = RandomGradients(1, 400, pool, 5, &rng);
        const float scale = step % 2 ? 1.0f : 0.5f;
        ApplyLikeOneTable(&one, g, scale, step);
        sharded.ApplySum(g.views(), scale, step);
      }
      ExpectSameRows(one, sharded);
      EXPECT_EQ(one.changed_rows(), sharded.changed_rows());
    }
  }
}

TEST(ShardedTableTest, OneGradientsNegativeZeroSumsToPositiveZeroInFtrlState) {
  // FTRL's z of a zero weight starts at -0.0f and keeps the sign of a zero gradient
  // added to it: the one place the sum's +0.0f start shows.
  SparseTableOptions options = Options(OptimizerOptions::Kind::kFtrl);
  options.init = {{0, 2, ColumnInit::Kind::kNormal, 0.1f}};  // columns 2-4 start at 0
  SparseTable one(options);
  ShardedTable sharded(options, 1, kSlotBits, 1);
  Gradients g;
  g.keys = {{Mix64(1), Mix64(2)}};
  g.grads = {std::vector<float>(10, -0.0f)};
  ApplyLikeOneTable(&one, g, 1.0f, 1);
  sharded.ApplySum(g.views(), 1.0f, 1);
  ExpectSameRows(one, sharded);
}

TEST(ShardedTableTest, PeekInsertsNothingAndReadsTheInitialValues) {
  SparseTable one(Options(OptimizerOptions::Kind::kAdam));
  ShardedTable sharded(Options(OptimizerOptions::Kind::kAdam), 3, kSlotBits, 1);
  uint64_t rng = 9;
  std::vector<uint64_t> keys = RandomGradients(1, 500, 100000, 5, &rng).keys[0];
  std::vector<float> a(keys.size() * 5), b(keys.size() * 5);
  one.Peek(keys, a);
  sharded.Peek(keys, b);
  EXPECT_TRUE(SameBits(a, b));
  EXPECT_EQ(sharded.size(), 0u);
}

TEST(ShardedTableTest, ImportIntoOtherShardCountsExportsTheSameRows) {
  ShardedTable three(Options(OptimizerOptions::Kind::kAdam), 3, kSlotBits, 1);
  uint64_t rng = 11;
  Gradients g = RandomGradients(2, 1000, 5000, 5, &rng);
  three.ApplySum(g.views(), 0.5f, 1);
  std::vector<uint64_t> keys;
  std::vector<float> weights, state;
  three.Export(&keys, &weights, &state);
  for (int threads : {1, 2}) {
    ShardedTable other(Options(OptimizerOptions::Kind::kAdam), threads, kSlotBits, 1);
    ASSERT_TRUE(other.Import(keys, weights, state).ok());
    std::vector<uint64_t> keys_b;
    std::vector<float> weights_b, state_b;
    other.Export(&keys_b, &weights_b, &state_b);
    EXPECT_EQ(keys, keys_b);
    EXPECT_TRUE(SameBits(weights, weights_b));
    EXPECT_TRUE(SameBits(state, state_b));
  }
}

TEST(ShardedTableTest, ImportOfMismatchedSizesIsAnError) {
  ShardedTable sharded(Options(OptimizerOptions::Kind::kAdam), 2, kSlotBits, 1);
  std::vector<uint64_t> keys = {1, 2};
  std::vector<float> weights(9);  // 10 expected
  EXPECT_EQ(sharded.Import(keys, weights).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(sharded.size(), 0u);
}

}  // namespace
}  // namespace tessera::ps
