#include "ps/gradient_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tessera::ps {
namespace {

TEST(GradientSumTest, SumsEachKeyInTheOrderAddedFromPositiveZero) {
  GradientSum sum;
  sum.Reset(2, 4);
  const float a[] = {1e8f, -0.0f}, b[] = {1.0f, -0.0f}, c[] = {-1e8f, 2.0f};
  sum.Add(7, a);
  sum.Add(9, b);
  sum.Add(7, b);
  sum.Add(7, c);
  ASSERT_EQ(sum.keys().size(), 2u);
  EXPECT_EQ(sum.keys()[0], 7u);  // order of first appearance
  EXPECT_EQ(sum.keys()[1], 9u);
  // ((0 + 1e8) + 1) + -1e8 in float is 0: the order of the additions is kept.
  EXPECT_EQ(sum.grads()[0], ((0.0f + 1e8f) + 1.0f) + -1e8f);
  EXPECT_EQ(sum.grads()[1], 2.0f);
  EXPECT_EQ(sum.grads()[2], 1.0f);
  EXPECT_FALSE(std::signbit(sum.grads()[3]));  // 0.0f + -0.0f
}

TEST(GradientSumTest, GrowsPastTheExpectedKeysAndResetEmptiesIt) {
  GradientSum sum;
  sum.Reset(1, 2);
  for (uint64_t k = 0; k < 1000; ++k) {
    const float g = static_cast<float>(k);
    sum.Add(k * 7919, &g);
    sum.Add(k * 7919, &g);
  }
  ASSERT_EQ(sum.keys().size(), 1000u);
  for (uint64_t k = 0; k < 1000; ++k) {
    EXPECT_EQ(sum.keys()[k], k * 7919);
    EXPECT_EQ(sum.grads()[k], 2.0f * k);
  }
  sum.Scale(0.5f);
  EXPECT_EQ(sum.grads()[10], 10.0f);
  sum.Reset(1, 2);
  EXPECT_TRUE(sum.keys().empty());
  const float one = 1.0f;
  sum.Add(5, &one);
  EXPECT_EQ(sum.grads()[0], 1.0f);
}

}  // namespace
}  // namespace tessera::ps
