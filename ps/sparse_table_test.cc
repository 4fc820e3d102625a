#include "ps/sparse_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "common/hash.h"

namespace tessera::ps {
namespace {

using Kind = OptimizerOptions::Kind;

// An FM-like row: [w | v(dim-1)], w zero, v normal.
SparseTableOptions Options(int dim, Kind kind, float lr = 0.1f) {
  SparseTableOptions o;
  o.table_id = 2;
  o.dim = dim;
  o.seed = 1234;
  o.optimizer.kind = kind;
  o.optimizer.learning_rate = lr;
  o.optimizer.initial_accumulator = 0.1f;
  o.init = {{0, 1, ColumnInit::Kind::kZero, 0.0f}};
  if (dim > 1) o.init.push_back({1, dim, ColumnInit::Kind::kNormal, 0.01f});
  return o;
}

std::vector<float> Peek(const SparseTable& table, uint64_t key) {
  std::vector<float> row(table.dim());
  table.Peek(std::span<const uint64_t>(&key, 1), row);
  return row;
}

std::vector<float> Pull(SparseTable& table, std::span<const uint64_t> keys) {
  std::vector<float> rows(keys.size() * table.dim());
  table.Pull(keys, rows);
  return rows;
}

std::vector<uint64_t> Keys(uint64_t n) {
  std::vector<uint64_t> keys(n);
  for (uint64_t i = 0; i < n; ++i) keys[i] = Mix64(i + 1);
  return keys;
}

TEST(SparseTableTest, FreshRowIsAPureFunctionOfSeedTableAndKey) {
  std::vector<uint64_t> keys = Keys(2000);
  SparseTable forward(Options(5, Kind::kAdam));
  SparseTable backward(Options(5, Kind::kAdam));
  Pull(forward, keys);
  std::vector<uint64_t> reversed(keys.rbegin(), keys.rend());
  Pull(backward, std::span<const uint64_t>(reversed).subspan(0, 1000));
  Pull(backward, Keys(3000));  // other rows in between move the rest elsewhere
  std::vector<uint64_t> keys_a, keys_b;
  std::vector<float> weights_a, weights_b;
  forward.Export(&keys_a, &weights_a);
  backward.Export(&keys_b, &weights_b);
  ASSERT_EQ(keys_b.size(), 3000u);
  for (size_t i = 0; i < keys_a.size(); ++i) {
    auto it = std::lower_bound(keys_b.begin(), keys_b.end(), keys_a[i]);
    ASSERT_TRUE(it != keys_b.end() && *it == keys_a[i]);
    size_t j = it - keys_b.begin();
    for (int c = 0; c < 5; ++c) ASSERT_EQ(weights_a[i * 5 + c], weights_b[j * 5 + c]);
  }
  // And it is the documented function.
  std::vector<float> row = Peek(forward, keys[7]);
  EXPECT_EQ(row[0], 0.0f);
  EXPECT_EQ(row[3], static_cast<float>(NormalFromKey(1234, 2, keys[7], 3) * 0.01f));
}

TEST(SparseTableTest, PullCreatesRowsAndPeekDoesNot) {
  SparseTable table(Options(4, Kind::kSgd));
  std::vector<uint64_t> keys = {5, 6, 7};
  std::vector<float> peeked(12);
  table.Peek(keys, peeked);
  EXPECT_EQ(table.size(), 0u);
  std::vector<float> pulled = Pull(table, keys);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(peeked, pulled);
  Pull(table, keys);
  EXPECT_EQ(table.size(), 3u);  // pulling again creates nothing
}

TEST(SparseTableTest, PeekReadsStoredRows) {
  SparseTable table(Options(2, Kind::kSgd, 0.5f));
  std::vector<uint64_t> key = {9};
  std::vector<float> grad = {1.0f, 0.0f};
  table.ApplyGradients(key, grad, 1);
  EXPECT_EQ(Peek(table, 9)[0], -0.5f);
}

TEST(SparseTableTest, ApplyGradientsTouchesOnlyTheGivenRows) {
  SparseTable table(Options(3, Kind::kSgd, 0.5f));
  std::vector<uint64_t> keys = Keys(10);
  std::vector<float> before = Pull(table, keys);
  std::vector<uint64_t> touched = {keys[3], keys[7]};
  std::vector<float> grads = {1, 2, 3, -1, -2, -3};
  table.ApplyGradients(touched, grads, 1);
  std::vector<float> after = Pull(table, keys);
  for (int i = 0; i < 10; ++i) {
    for (int c = 0; c < 3; ++c) {
      float expected = before[i * 3 + c];
      if (i == 3) expected -= 0.5f * grads[c];
      if (i == 7) expected -= 0.5f * grads[3 + c];
      EXPECT_FLOAT_EQ(after[i * 3 + c], expected) << "row " << i << " column " << c;
    }
  }
}

TEST(SparseTableTest, ApplyGradientsCreatesMissingRows) {
  SparseTable table(Options(3, Kind::kSgd, 0.5f));
  std::vector<uint64_t> key = {77};
  std::vector<float> initial = Peek(table, 77);
  std::vector<float> grad = {1, 1, 1};
  table.ApplyGradients(key, grad, 1);
  EXPECT_EQ(table.size(), 1u);
  std::vector<float> row = Peek(table, 77);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(row[c], initial[c] - 0.5f);
}

TEST(SparseTableTest, OptimizerStateIsPerRowAndLazy) {
  // Adam: a row first touched at step 2 gets step 2's bias correction on fresh
  // moments, whatever other rows did at step 1 (torch.optim.SparseAdam).
  SparseTableOptions options = Options(1, Kind::kAdam, 0.01f);
  SparseTable table(options);
  std::vector<uint64_t> a = {1}, b = {2};
  std::vector<float> g = {0.5f};
  table.ApplyGradients(a, g, 1);
  table.ApplyGradients(b, g, 2);
  float w = 0.0f;
  std::vector<float> state(2, 0.0f);
  ApplyUpdate(PrepareStep(options.optimizer, 2), 1, &w, state.data(), g.data());
  EXPECT_EQ(Peek(table, 2)[0], w);
  EXPECT_NE(Peek(table, 1)[0], w);
}

TEST(SparseTableTest, ExtremeKeysAreOrdinaryKeys) {
  SparseTable table(Options(1, Kind::kSgd, 1.0f));
  std::vector<uint64_t> keys = {0, std::numeric_limits<uint64_t>::max()};
  std::vector<float> grads = {1.0f, 2.0f};
  table.ApplyGradients(keys, grads, 1);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(Peek(table, 0)[0], -1.0f);
  EXPECT_EQ(Peek(table, std::numeric_limits<uint64_t>::max())[0], -2.0f);
}

TEST(SparseTableTest, GrowthToAMillionRowsKeepsEveryValue) {
  const uint64_t n = 1'000'000;
  SparseTable table(Options(2, Kind::kSgd));
  std::vector<uint64_t> keys(n);
  std::vector<float> weights(2 * n);
  for (uint64_t i = 0; i < n; ++i) {
    keys[i] = i * 7919;  // structured keys: the map must mix them
    weights[2 * i] = static_cast<float>(i);
    weights[2 * i + 1] = -static_cast<float>(i);
  }
  ASSERT_TRUE(table.Import(keys, weights).ok());
  ASSERT_EQ(table.size(), n);
  std::vector<float> read(2 * n);
  table.Peek(keys, read);
  EXPECT_EQ(read, weights);
  EXPECT_EQ(table.size(), n);
}

TEST(SparseTableTest, ExportIsSortedByKeyWithItsRows) {
  SparseTable table(Options(3, Kind::kAdagrad));
  std::vector<uint64_t> keys = Keys(5000);
  std::vector<float> pulled = Pull(table, keys);
  std::vector<uint64_t> exported_keys;
  std::vector<float> exported;
  table.Export(&exported_keys, &exported);
  ASSERT_EQ(exported_keys.size(), keys.size());
  EXPECT_TRUE(std::is_sorted(exported_keys.begin(), exported_keys.end()));
  for (size_t i = 0; i < exported_keys.size(); ++i) {
    std::vector<float> row = Peek(table, exported_keys[i]);
    ASSERT_TRUE(std::equal(row.begin(), row.end(), exported.begin() + i * 3)) << i;
  }
}

TEST(SparseTableTest, ImportSetsWeightsWithFreshOptimizerState) {
  SparseTableOptions options = Options(2, Kind::kAdagrad, 0.1f);
  SparseTable trained(options);
  std::vector<uint64_t> key = {3};
  std::vector<float> grad = {1.0f, -1.0f};
  for (int step = 1; step <= 3; ++step) trained.ApplyGradients(key, grad, step);
  std::vector<float> weights = {0.25f, 0.5f};
  ASSERT_TRUE(trained.Import(key, weights).ok());
  EXPECT_EQ(Peek(trained, 3), weights);
  // One more step must match a fresh row (accumulator back at initial_accumulator).
  trained.ApplyGradients(key, grad, 4);
  std::vector<float> state(2);
  InitOptimizerState(options.optimizer, 2, weights.data(), state.data());
  ApplyUpdate(PrepareStep(options.optimizer, 1), 2, weights.data(), state.data(), grad.data());
  EXPECT_EQ(Peek(trained, 3), weights);
}

TEST(SparseTableTest, ExportAndImportWithStateContinueTrainingExactly) {
  SparseTableOptions options = Options(3, Kind::kAdam, 0.05f);
  SparseTable original(options);
  std::vector<uint64_t> keys = {7, 9};
  std::vector<float> grads = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f};
  for (int step = 1; step <= 3; ++step) original.ApplyGradients(keys, grads, step);
  std::vector<uint64_t> exported_keys;
  std::vector<float> weights, state;
  original.Export(&exported_keys, &weights, &state);
  ASSERT_EQ(state.size(), exported_keys.size() * original.state_floats());
  SparseTable copy(options);
  ASSERT_TRUE(copy.Import(exported_keys, weights, state).ok());
  // A fourth step on both: identical only if the Adam moments came across.
  original.ApplyGradients(keys, grads, 4);
  copy.ApplyGradients(keys, grads, 4);
  EXPECT_EQ(Pull(copy, keys), Pull(original, keys));
  EXPECT_FALSE(copy.Import(exported_keys, weights, std::vector<float>(5)).ok());
}

TEST(SparseTableTest, ImportRejectsMismatchedSizes) {
  SparseTable table(Options(2, Kind::kSgd));
  std::vector<uint64_t> keys = {1, 2};
  std::vector<float> weights(3);
  EXPECT_EQ(table.Import(keys, weights).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(table.size(), 0u);
}

TEST(SparseTableTest, MemoryPerRowIsCloseToThePayload) {
  const uint64_t n = 1'000'000;
  const int dim = 16;
  SparseTable table(Options(dim, Kind::kAdam));
  std::vector<uint64_t> keys = Keys(n);
  std::vector<float> weights(n * dim, 0.5f);
  ASSERT_TRUE(table.Import(keys, weights).ok());
  const double payload = static_cast<double>(n) * dim * 3 * sizeof(float);  // w, m, v
  const double bytes = static_cast<double>(table.MemoryBytes());
  EXPECT_GE(bytes, payload);
  EXPECT_LT(bytes, 1.2 * payload) << bytes / n << " bytes per row";
}

TEST(SparseTableTest, ValidateRejectsBadOptions) {
  EXPECT_TRUE(Options(4, Kind::kAdam).Validate().ok());
  SparseTableOptions zero_dim = Options(1, Kind::kSgd);
  zero_dim.dim = 0;
  EXPECT_NE(zero_dim.Validate().message().find("dim"), std::string::npos);
  SparseTableOptions bad_lr = Options(4, Kind::kSgd, -1.0f);
  EXPECT_NE(bad_lr.Validate().message().find("learning_rate"), std::string::npos);
  SparseTableOptions bad_init = Options(4, Kind::kSgd);
  bad_init.init.push_back({3, 5, ColumnInit::Kind::kZero, 0.0f});
  EXPECT_FALSE(bad_init.Validate().ok());
}

// FTRL with L1 and a warm-up: the schedule and z, n must both come across.
SparseTableOptions FtrlOptions(int dim) {
  SparseTableOptions o = Options(dim, Kind::kFtrl, 0.05f);
  o.optimizer.l1 = 0.01f;
  o.optimizer.l2 = 0.1f;
  o.optimizer.ftrl_beta = 1.0f;
  o.optimizer.warmup_steps = 5;
  return o;
}

TEST(SparseTableTest, FtrlFreshRowStartsFromItsInitialValueWithMatchingState) {
  SparseTable table(FtrlOptions(4));
  std::vector<uint64_t> key = {11};
  std::vector<float> initial = Peek(table, 11);
  ASSERT_NE(initial[2], 0.0f);  // a normal column
  EXPECT_EQ(Pull(table, key), initial);
  std::vector<uint64_t> keys;
  std::vector<float> weights, state;
  table.Export(&keys, &weights, &state);
  ASSERT_EQ(state.size(), 8u);  // z[4] then n[4]
  for (int c = 0; c < 4; ++c) {
    EXPECT_FLOAT_EQ(state[c], -(1.0f / 0.05f) * initial[c]) << c;
    EXPECT_EQ(state[4 + c], 0.0f) << c;
  }
}

TEST(SparseTableTest, FtrlExportAndImportWithStateContinueTrainingExactly) {
  SparseTableOptions options = FtrlOptions(3);
  SparseTable original(options);
  std::vector<uint64_t> keys = {7, 9, 12};
  std::vector<float> grads = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.0f, 0.001f, -0.002f};
  for (int step = 1; step <= 3; ++step) original.ApplyGradients(keys, grads, step);
  std::vector<uint64_t> exported_keys;
  std::vector<float> weights, state;
  original.Export(&exported_keys, &weights, &state);
  ASSERT_EQ(state.size(), exported_keys.size() * 6);
  SparseTable copy(options);
  ASSERT_TRUE(copy.Import(exported_keys, weights, state).ok());
  std::vector<uint64_t> keys2;
  std::vector<float> weights2, state2;
  copy.Export(&keys2, &weights2, &state2);
  EXPECT_EQ(state2, state);
  // Steps 4 and 5 (still warming up) on both: identical only if z and n came across.
  for (int step = 4; step <= 5; ++step) {
    original.ApplyGradients(keys, grads, step);
    copy.ApplyGradients(keys, grads, step);
  }
  EXPECT_EQ(Pull(copy, keys), Pull(original, keys));
  // Without the state the next step differs: the test above tests something.
  SparseTable stateless(options);
  ASSERT_TRUE(stateless.Import(exported_keys, weights).ok());
  stateless.ApplyGradients(keys, grads, 4);
  SparseTable resumed(options);
  ASSERT_TRUE(resumed.Import(exported_keys, weights, state).ok());
  resumed.ApplyGradients(keys, grads, 4);
  EXPECT_NE(Pull(stateless, keys), Pull(resumed, keys));
}

TEST(SparseTableTest, FtrlImportWithoutStateKeepsTheWeights) {
  // A warm start from weights alone: the first step moves from them, as on a fresh row.
  SparseTableOptions options = Options(2, Kind::kFtrl, 0.1f);
  SparseTable table(options);
  std::vector<uint64_t> key = {3};
  std::vector<float> weights = {0.25f, -0.5f};
  ASSERT_TRUE(table.Import(key, weights).ok());
  std::vector<float> grad = {0.5f, 0.5f};
  table.ApplyGradients(key, grad, 1);
  std::vector<float> row = Peek(table, 3);
  // w = w0 - alpha * g / (beta + |g|), beta 1.
  EXPECT_NEAR(row[0], 0.25 - 0.1 * 0.5 / 1.5, 1e-6);
  EXPECT_NEAR(row[1], -0.5 - 0.1 * 0.5 / 1.5, 1e-6);
}

// ---- Change tracking (incremental checkpoints) ----

std::vector<uint64_t> ChangedKeys(const SparseTable& table) {
  std::vector<uint64_t> keys;
  std::vector<float> weights;
  table.Export(&keys, &weights, nullptr, SparseTable::Rows::kChanged);
  return keys;
}

std::vector<uint64_t> Sorted(std::vector<uint64_t> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST(SparseTableTest, ChangedRowsAreThoseUpdatedOrCreatedSinceClearChanged) {
  SparseTable table(Options(3, Kind::kAdam));
  std::vector<uint64_t> old_keys = Keys(500);
  Pull(table, old_keys);
  EXPECT_EQ(table.changed_rows(), 500u);  // created rows count
  table.ClearChanged();
  EXPECT_EQ(table.changed_rows(), 0u);
  EXPECT_TRUE(ChangedKeys(table).empty());
  // Updated rows, and rows a pull creates, count; rows only read (Pull of an existing
  // row, Peek of a missing one) do not.
  std::vector<uint64_t> updated = {old_keys[7], old_keys[300], old_keys[42]};
  std::vector<float> grads(updated.size() * 3, 0.5f);
  table.ApplyGradients(updated, grads, 1);
  std::vector<uint64_t> created = {Mix64(100001), Mix64(100002)};
  Pull(table, created);
  Pull(table, std::span<const uint64_t>(old_keys).first(100));
  Peek(table, Mix64(100003));
  std::vector<uint64_t> expected = updated;
  expected.insert(expected.end(), created.begin(), created.end());
  EXPECT_EQ(ChangedKeys(table), Sorted(expected));
  EXPECT_EQ(table.changed_rows(), 5u);
}

TEST(SparseTableTest, ExportOfChangedRowsHoldsTheirCurrentWeightsAndState) {
  SparseTable table(Options(4, Kind::kAdam));
  std::vector<uint64_t> keys = Keys(3000);  // past one 64-row word and one page
  Pull(table, keys);
  table.ClearChanged();
  std::vector<uint64_t> updated = {keys[2999], keys[0], keys[64], keys[63], keys[1500]};
  std::vector<float> grads(updated.size() * 4);
  for (size_t i = 0; i < grads.size(); ++i) grads[i] = 0.01f * static_cast<float>(i + 1);
  table.ApplyGradients(updated, grads, 1);
  std::vector<uint64_t> all_keys, changed_keys;
  std::vector<float> all_weights, all_state, changed_weights, changed_state;
  table.Export(&all_keys, &all_weights, &all_state);
  table.Export(&changed_keys, &changed_weights, &changed_state, SparseTable::Rows::kChanged);
  ASSERT_EQ(changed_keys, Sorted(updated));
  const size_t sf = table.state_floats();
  for (size_t i = 0; i < changed_keys.size(); ++i) {
    const size_t j =
        std::lower_bound(all_keys.begin(), all_keys.end(), changed_keys[i]) - all_keys.begin();
    for (size_t c = 0; c < 4; ++c) EXPECT_EQ(changed_weights[i * 4 + c], all_weights[j * 4 + c]);
    for (size_t c = 0; c < sf; ++c) EXPECT_EQ(changed_state[i * sf + c], all_state[j * sf + c]);
  }
}

TEST(SparseTableTest, ImportMarksItsRowsChanged) {
  // A server clears the marks after loading a checkpoint; the table itself does not
  // guess which writes a checkpoint already holds.
  SparseTable table(Options(2, Kind::kSgd));
  Pull(table, Keys(10));
  table.ClearChanged();
  std::vector<uint64_t> keys = {Keys(10)[3], 77};
  std::vector<float> weights = {1, 2, 3, 4};
  ASSERT_TRUE(table.Import(keys, weights).ok());
  EXPECT_EQ(ChangedKeys(table), Sorted(keys));
}

}  // namespace
}  // namespace tessera::ps
