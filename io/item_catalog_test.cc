#include "io/item_catalog.h"

#include <gtest/gtest.h>

namespace tessera::io {
namespace {

// Fields: user | item, genres. One dense feature.
void Add(Batch* batch, uint64_t user, uint64_t item, std::vector<uint64_t> genres,
         float dense = 0.0f) {
  batch->labels.push_back(1);
  batch->dense.push_back(dense);
  batch->keys.push_back(user);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  batch->keys.push_back(item);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  for (uint64_t g : genres) batch->keys.push_back(g);
  batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
}

Batch Empty() {
  Batch b;
  b.num_fields = 3;
  b.num_dense = 1;
  b.Clear();
  return b;
}

TEST(ItemCatalogTest, OneEntryPerDistinctContent) {
  ItemCatalog catalog(1);
  Batch batch = Empty();
  Add(&batch, 1, 10, {100, 101});
  Add(&batch, 2, 10, {100, 101});  // same item, another user
  Add(&batch, 3, 10, {100});       // same id, other side features: another item
  Add(&batch, 4, 11, {});
  EXPECT_EQ(catalog.Add(batch, 0), 0);
  EXPECT_EQ(catalog.Add(batch, 1), 0);
  EXPECT_EQ(catalog.Add(batch, 2), 1);
  EXPECT_EQ(catalog.Add(batch, 3), 2);
  EXPECT_EQ(catalog.size(), 3);
  Batch probe = Empty();
  Add(&probe, 9, 11, {});
  Add(&probe, 9, 12, {});
  EXPECT_EQ(catalog.Find(probe, 0), 2);
  EXPECT_EQ(catalog.Find(probe, 1), -1);
}

TEST(ItemCatalogTest, AppendPairJoinsAUserWithAnItem) {
  ItemCatalog catalog(1);
  Batch items = Empty();
  Add(&items, 1, 10, {100, 101});
  catalog.Add(items, 0);
  Batch users = Empty();
  Add(&users, 7, 99, {}, 0.25f);
  Batch out = Empty();
  catalog.AppendPair(users, 0, 0, 0.0f, &out);
  ASSERT_EQ(out.size(), 1);
  EXPECT_EQ(out.labels[0], 0.0f);
  EXPECT_EQ(out.dense[0], 0.25f);
  EXPECT_EQ(out.keys, (std::vector<uint64_t>{7, 10, 100, 101}));
  EXPECT_EQ(out.offsets, (std::vector<int32_t>{0, 1, 2, 4}));
  EXPECT_TRUE(out.values.empty());
  // Appending into the source batch itself.
  catalog.AppendPair(users, 0, 0, 1.0f, &users);
  ASSERT_EQ(users.size(), 2);
  EXPECT_EQ(users.keys, (std::vector<uint64_t>{7, 99, 7, 10, 100, 101}));
}

TEST(ItemCatalogTest, WeightsTravelWithTheItem) {
  ItemCatalog catalog(1);
  Batch items = Empty();
  Add(&items, 1, 10, {100});
  items.values = {1.0f, 1.0f, 0.5f};
  catalog.Add(items, 0);
  Batch users = Empty();
  Add(&users, 7, 99, {});  // unweighted
  Batch out = Empty();
  Add(&out, 5, 6, {});  // an earlier unweighted example in out: weights 1 are filled in
  catalog.AppendPair(users, 0, 0, 0.0f, &out);
  EXPECT_EQ(out.values, (std::vector<float>{1, 1, 1, 1, 0.5f}));
  // The same item with other weights is another item.
  Batch other = Empty();
  Add(&other, 1, 10, {100});
  EXPECT_EQ(catalog.Find(other, 0), -1);
}

}  // namespace
}  // namespace tessera::io
