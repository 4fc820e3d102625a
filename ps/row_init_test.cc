#include "ps/row_init.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/hash.h"

namespace tessera::ps {
namespace {

using Kind = ColumnInit::Kind;

TEST(RowInitTest, NormalColumnsFollowNormalFromKeyAndTheRestAreZero) {
  std::vector<ColumnInit> init = {{0, 1, Kind::kZero, 0.0f}, {1, 4, Kind::kNormal, 0.5f}};
  std::vector<float> row(5, 7.0f);
  FillInitialRow(init, /*seed=*/11, /*table_id=*/3, /*key=*/42, row);
  EXPECT_EQ(row[0], 0.0f);
  for (int col = 1; col < 4; ++col) {
    EXPECT_EQ(row[col], static_cast<float>(NormalFromKey(11, 3, 42, col) * 0.5f)) << col;
    EXPECT_NE(row[col], 0.0f);
  }
  EXPECT_EQ(row[4], 0.0f);  // no range covers it
}

TEST(RowInitTest, DependsOnSeedTableAndKey) {
  std::vector<ColumnInit> init = {{0, 2, Kind::kNormal, 1.0f}};
  auto fill = [&](uint64_t seed, uint32_t table, uint64_t key) {
    std::vector<float> row(2);
    FillInitialRow(init, seed, table, key, row);
    return row;
  };
  EXPECT_EQ(fill(1, 0, 5), fill(1, 0, 5));
  EXPECT_NE(fill(1, 0, 5), fill(2, 0, 5));
  EXPECT_NE(fill(1, 0, 5), fill(1, 1, 5));
  EXPECT_NE(fill(1, 0, 5), fill(1, 0, 6));
}

TEST(RowInitTest, ValidateRejectsBadRanges) {
  std::vector<ColumnInit> good = {{0, 1, Kind::kZero, 0.0f}, {1, 3, Kind::kNormal, 0.01f}};
  EXPECT_TRUE(ValidateColumnInit(good, 3).ok());
  EXPECT_FALSE(ValidateColumnInit(good, 2).ok());  // past the row
  std::vector<ColumnInit> empty = {{1, 1, Kind::kZero, 0.0f}};
  EXPECT_FALSE(ValidateColumnInit(empty, 3).ok());
  std::vector<ColumnInit> negative = {{-1, 1, Kind::kZero, 0.0f}};
  EXPECT_FALSE(ValidateColumnInit(negative, 3).ok());
  std::vector<ColumnInit> overlap = {{0, 2, Kind::kZero, 0.0f}, {1, 3, Kind::kNormal, 0.1f}};
  Status s = ValidateColumnInit(overlap, 3);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("overlaps"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tessera::ps
